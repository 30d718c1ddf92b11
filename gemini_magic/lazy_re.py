"""`lazy_compile(pattern, flags=0)`: a regular expression compiled on first use, not at import.

The modules `%load_ext gemini_magic` imports hold a few dozen module-level patterns; compiling them
all cost about 4 ms of the load. A lazy pattern compiles itself when one of its methods is first
read, then keeps that bound method as its own attribute, so later calls cost what a compiled
pattern's do.

    _WORD = lazy_compile(r"\\w+")
    _WORD.findall("two words")    # ['two', 'words']; compiled here
"""

from __future__ import annotations

import re


class lazy_compile:  # noqa: N801 - used like re.compile
    """A `re.Pattern` stand-in compiled on first attribute read (`.sub`, `.search`, `.pattern` ...)."""

    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        value = getattr(re.compile(*self._source), name)
        self.__dict__[name] = value  # found directly from now on
        return value

    def __repr__(self) -> str:
        return f"lazy_compile({self._source[0]!r})"
