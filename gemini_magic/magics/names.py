"""Names the magics bind in the user's namespace (`-o NAME`): what may be bound, and what never is.

An answer never replaces a user's variable: `-o df` is refused when `df` holds the user's DataFrame,
but may replace an earlier result, or (`allowed`) a value these magics bound there before, as
re-running a `--over` cell does.
"""

from __future__ import annotations

import builtins
import keyword
from typing import Any, Callable

from IPython.core.error import UsageError


def check_out_name(name: str | None, namespace: dict, allowed: Callable[[str, Any], bool] | None = None) -> None:
    """UsageError unless `name` is an identifier that hides no built-in and holds nothing but an earlier
    result (or what `allowed(name, value)` accepts)."""
    if name is None:
        return
    if not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(f"-o/--out {name!r} is not a valid Python variable name.")
    if name not in namespace:
        if hasattr(builtins, name):
            raise UsageError(f"-o {name} would hide Python's built-in {name}(); use another name.")
        return
    value = namespace[name]
    if is_result(value) or (allowed is not None and allowed(name, value)):
        return
    raise UsageError(f"-o {name}: the variable {name} already holds a {type(value).__name__}, which an answer "
                     f"would replace. Use another name, or `del {name}` first.")


def is_result(value: Any) -> bool:
    """An earlier answer (or None), which `-o` may replace."""
    return value is None or type(value).__module__.startswith("gemini_magic.")
