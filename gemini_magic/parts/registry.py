"""Which converter handles an object: a table keyed by type or by type NAME, searched along the MRO.

Keys by name (`"pandas.DataFrame"`, `"PIL.Image.Image"`) are compared with
`f"{cls.__module__}.{cls.__qualname__}"` for each class of `type(obj).__mro__`, the way IPython's
formatters do `for_type_by_name`: a library is never imported to test an object, and a converter
module imports its library only when it runs, that is when such an object exists. Note that the
name is where the class says it lives: pandas 3 reports `pandas.DataFrame`, pandas 2
`pandas.core.frame.DataFrame` (the built-in tables register both).

At each class of the MRO a converter registered for the type object wins over one registered by
name; the first class that has a converter decides. Registering a key again replaces it.
"""

from __future__ import annotations

from typing import Any, Callable

Converter = Callable[[Any, Any], "dict | list[dict]"]

_by_type: dict[type, Converter] = {}
_by_name: dict[str, Converter] = {}


def type_name(cls: type) -> str:
    """`pandas.DataFrame`-style name of a class: module and qualified name."""
    return f"{cls.__module__}.{cls.__qualname__}"


def register_converter(type_or_name: type | str, func: Converter | None = None):
    """Teach `to_part` a new kind of object: `func(obj, context)` returns a part or a list of parts.

        >>> from gemini_magic.parts import register_converter, to_part
        >>> class Celsius(float): pass
        >>> _ = register_converter(Celsius, lambda obj, ctx: {"text": f"{float(obj)} °C"})
        >>> to_part(Celsius(21.5))
        {'text': '21.5 °C'}

    `type_or_name` is a class or its "module.QualName" string (so the module need not be imported).
    `context.convert(other)` converts a nested object; `context.note(text)` reports a change.
    Without `func`, returns a decorator. Returns `func`.
    """
    if func is None:
        return lambda f: register_converter(type_or_name, f)
    if not callable(func):
        raise TypeError(f"A converter must be callable as func(obj, context), not {func!r}.")
    if isinstance(type_or_name, str):
        _by_name[type_or_name] = func
    elif isinstance(type_or_name, type):
        _by_type[type_or_name] = func
    else:
        raise TypeError(f"Register a converter for a class or a 'module.QualName' string, not {type_or_name!r}.")
    return func


def unregister_converter(type_or_name: type | str) -> Converter | None:
    """Remove a converter; returns it (None if there was none)."""
    if isinstance(type_or_name, str):
        return _by_name.pop(type_or_name, None)
    return _by_type.pop(type_or_name, None)


def find_converter(obj: Any) -> Converter | None:
    """The converter for `obj`, searching `type(obj).__mro__` by type, then by name."""
    for cls in type(obj).__mro__:
        func = _by_type.get(cls)
        if func is None and _by_name:
            func = _by_name.get(type_name(cls))
        if func is not None:
            return func
    return None


def snapshot() -> tuple[dict, dict]:
    """A copy of the tables (tests restore it with `restore`)."""
    return dict(_by_type), dict(_by_name)


def restore(saved: tuple[dict, dict]) -> None:
    _by_type.clear()
    _by_type.update(saved[0])
    _by_name.clear()
    _by_name.update(saved[1])
