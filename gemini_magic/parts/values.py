"""Plain Python values as text: scalars as written, containers as JSON where they fit.

A list, tuple, set or dict is sent as one JSON text part (`indent=2`, non-ASCII kept, objects
without a JSON form written with `str`) unless it holds an object that has a media converter - an
image, a figure, a DataFrame, a Path, bytes, an image-like or table-sized array. Then each element
is converted on its own, in order (a dict's values each after a `key:` text part), so
`[img1, img2]` is two images and `{"before": img1, "after": img2}` is labelled images.
"""

from __future__ import annotations

import json
from typing import Any

from . import registry

PLAIN_SCALARS = (str, int, float, bool, type(None))
CONTAINERS = (list, tuple, set, frozenset, dict)
_PLAIN_NAMES = {"numpy.generic"}


def scalar_part(obj: Any, context) -> dict:
    """str as is; numbers, bools and None as Python writes them."""
    return {"text": obj if isinstance(obj, str) else str(obj)}


def _is_plain(obj: Any, depth: int = 0) -> bool:
    if isinstance(obj, PLAIN_SCALARS) or depth > 50:
        return True
    if isinstance(obj, dict):
        return all(_is_plain(v, depth + 1) for v in obj.values())
    if isinstance(obj, CONTAINERS):
        return all(_is_plain(v, depth + 1) for v in obj)
    if any(registry.type_name(cls) in _PLAIN_NAMES for cls in type(obj).__mro__):
        return True
    if registry.type_name(type(obj)) == "numpy.ndarray":
        from .arrays import is_small_data_array

        return is_small_data_array(obj)
    return registry.find_converter(obj) is None and not hasattr(obj, "__fspath__")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset)):
        try:
            return sorted(obj)
        except TypeError:
            return list(obj)
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy arrays and scalars
        return obj.tolist()
    return str(obj)


def to_json_text(obj: Any) -> str:
    """JSON with indent 2, non-ASCII kept; `repr` when the structure is circular."""
    try:
        return json.dumps(obj, ensure_ascii=False, indent=2, default=_json_default)
    except (ValueError, TypeError):  # circular references, keys json cannot write
        return repr(obj)


def container_part(obj: Any, context) -> list[dict]:
    """JSON text for plain containers; element by element when they hold media."""
    if _is_plain(obj):
        return [{"text": to_json_text(obj)}]
    parts: list[dict] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            parts.append({"text": f"{key}:"})
            parts.extend(context.convert(value))
    else:
        for item in obj:
            parts.extend(context.convert(item))
    return parts


def numpy_scalar_part(obj: Any, context) -> dict:
    return {"text": str(obj)}
