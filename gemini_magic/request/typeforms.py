"""What a Python type annotation is: the small questions json_schema, parse_as and records all ask.

Records are dataclasses, TypedDicts and pydantic v2 models; pydantic is recognised by its methods,
so it is never imported here. Nothing in this module does I/O.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import enum
import types
import typing
from typing import Any

from ..errors import SchemaError

NoneType = type(None)

#: Origins read as a JSON array of one item type.
SEQUENCE_ORIGINS = (list, collections.abc.Sequence, collections.abc.MutableSequence, typing.List)
#: Origins read as a JSON object with string keys.
MAPPING_ORIGINS = (dict, collections.abc.Mapping, collections.abc.MutableMapping, typing.Dict)
#: Origins refused with a hint, since JSON has no sets.
SET_ORIGINS = (set, frozenset, collections.abc.Set, collections.abc.MutableSet)

DATE_FORMATS = {datetime.datetime: "date-time", datetime.date: "date", datetime.time: "time"}


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of a record: its key in JSON, its type, whether it must be present, its description."""

    name: str
    tp: Any
    required: bool
    description: str | None = None


def unwrap(tp: Any) -> tuple[Any, str | None]:
    """`tp` without Annotated/Required/NotRequired/NewType, and the first string in Annotated metadata."""
    description = None
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            if description is None:
                description = next((m for m in tp.__metadata__ if isinstance(m, str)), None)
            tp = tp.__origin__
        elif origin in (typing.Required, typing.NotRequired) or _named(origin, "Required", "NotRequired"):
            tp = typing.get_args(tp)[0]
        elif hasattr(tp, "__supertype__"):  # typing.NewType("UserId", int) is read as int
            tp = tp.__supertype__
        else:
            return tp, description


def _required_marker(hint: Any) -> bool | None:
    """True for Required[...], False for NotRequired[...] (also inside Annotated), None otherwise."""
    while True:
        origin = typing.get_origin(hint)
        if origin is typing.Required or _named(origin, "Required"):
            return True
        if origin is typing.NotRequired or _named(origin, "NotRequired"):
            return False
        if origin is typing.Annotated:
            hint = hint.__origin__
            continue
        return None


def _named(origin: Any, *names: str) -> bool:
    # typing_extensions' Required/NotRequired are other objects than typing's on some versions
    return origin is not None and getattr(origin, "_name", None) in names


def is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def is_pydantic_model(tp: Any) -> bool:
    return isinstance(tp, type) and all(
        hasattr(tp, name) for name in ("model_json_schema", "model_validate", "model_fields"))


def is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def is_record(tp: Any) -> bool:
    """True for the types read as a JSON object with named fields."""
    return is_dataclass_type(tp) or is_typeddict(tp) or is_pydantic_model(tp)


def is_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.Enum)


def type_hints(obj: Any, what: str) -> dict[str, Any]:
    """typing.get_type_hints with Annotated kept; a forward reference that cannot resolve is a SchemaError."""
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except Exception as error:  # NameError for a forward reference, TypeError for odd annotations
        raise SchemaError(
            f"The type hints of {what} cannot be read ({type(error).__name__}: {error}); define every "
            "type it names at module level (or in the notebook) before using it.") from error


def record_fields(tp: Any) -> list[Field]:
    """The fields of a dataclass, TypedDict or pydantic model, in the order they were written."""
    if is_dataclass_type(tp):
        hints = type_hints(tp, tp.__name__)
        fields = []
        for field in dataclasses.fields(tp):
            if not field.init:
                continue
            required = (field.default is dataclasses.MISSING
                        and field.default_factory is dataclasses.MISSING)
            inner, annotated = unwrap(hints.get(field.name, Any))
            description = field.metadata.get("description") if field.metadata else None
            fields.append(Field(field.name, inner, required, description or annotated))
        return fields
    if is_typeddict(tp):
        hints = type_hints(tp, tp.__name__)
        required_keys = tp.__required_keys__
        fields = []
        for name, hint in hints.items():
            inner, annotated = unwrap(hint)
            # with string annotations Python 3.11 cannot see Required/NotRequired when it builds
            # __required_keys__, so the resolved hint has the last word
            marker = _required_marker(hint)
            required = name in required_keys if marker is None else marker
            fields.append(Field(name, inner, required, annotated))
        return fields
    if is_pydantic_model(tp):
        return [Field(name, info.annotation, info.is_required(), info.description)
                for name, info in tp.model_fields.items()]
    raise SchemaError(f"{type_name(tp)} is not a record type (a dataclass, TypedDict or pydantic model).")


def class_description(tp: type) -> str | None:
    """A class's own docstring, but not the signature text dataclasses make up when there is none."""
    doc = tp.__dict__.get("__doc__")
    if not doc or not doc.strip():
        return None
    if is_dataclass_type(tp) and doc.startswith(f"{tp.__name__}("):
        return None
    import inspect

    return inspect.cleandoc(doc)


def sequence_item(tp: Any) -> tuple[bool, Any]:
    """(True, item type) when `tp` is read as a JSON array of one item type, else (False, None)."""
    if tp in (list, tuple) or tp in SEQUENCE_ORIGINS:
        return True, Any
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in SEQUENCE_ORIGINS:
        return True, args[0] if args else Any
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return True, args[0]
    return False, None


def type_name(tp: Any) -> str:
    """A short readable name: str, list[Place], dict[str, float], Place | None, Literal['a', 'b']."""
    tp, _ = unwrap(tp)
    if tp is NoneType or tp is None:
        return "None"
    if tp is Any:
        return "any value"
    if tp is Ellipsis:
        return "..."
    if is_union(tp):
        return " | ".join(type_name(arg) for arg in typing.get_args(tp))
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return "Literal[" + ", ".join(repr(arg) for arg in typing.get_args(tp)) + "]"
    if origin is not None:
        name = getattr(origin, "__name__", None) or str(origin).replace("typing.", "")
        args = typing.get_args(tp)
        return f"{name}[{', '.join(type_name(arg) for arg in args)}]" if args else name
    if isinstance(tp, type):
        return tp.__name__
    return repr(tp).replace("typing.", "")
