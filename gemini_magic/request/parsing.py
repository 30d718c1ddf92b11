"""JSON answers back into Python values of the type that was asked for, and into table columns.

    parse_answer(list[Place], response.text)   # [Place(name='Huế', ...), ...]
    parse_as(Place, {"name": "Huế", ...})     # Place(name='Huế', ...)
    records(list[Place], places)               # (["name", ...], [["Huế", ...], ...])

Dataclasses and pydantic models are built recursively, enums become members, Literal values are
checked, datetimes are read from ISO strings, an int is accepted where a float is expected (and an
integral float where an int is). The first value that does not fit raises SchemaMismatchError naming
its path ("$[2].rainfall_mm"), the type expected and what was found. Pure: no I/O.
"""

from __future__ import annotations

import datetime
import json
import re
import typing
from typing import Any

from .schema import classification_labels, json_schema
from ..errors import SchemaError, SchemaMismatchError
from .typeforms import (MAPPING_ORIGINS, NoneType, is_dataclass_type, is_enum, is_pydantic_model,
                        is_record, is_typeddict, is_union, record_fields, sequence_item, type_name, unwrap)

__all__ = ["parse_as", "parse_answer", "records"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FENCE_OPEN = re.compile(r"\A```[A-Za-z0-9_-]*[ \t]*\r?\n")
_DATES = {datetime.datetime: datetime.datetime.fromisoformat, datetime.date: datetime.date.fromisoformat,
          datetime.time: datetime.time.fromisoformat}


def parse_as(tp: Any, data: Any, path: str = "$") -> Any:
    """`data` (decoded JSON) as a value of type `tp`: instances, enum members, tuples, datetimes.

    `tp` is any form json_schema accepts; with a JSON Schema dict the data comes back unchanged.
    `path` names `data` in messages. Raises SchemaMismatchError at the first value that does not
    fit, and SchemaError for a type with no JSON form.

        >>> parse_as(list[float], [1, 2.5])
        [1.0, 2.5]
    """
    if isinstance(tp, dict):
        return data
    tp, _ = unwrap(tp)
    if tp is Any:
        return data
    if tp is None or tp is NoneType:
        return data if data is None else _mismatch(path, "null", data)
    if is_union(tp):
        return _parse_union(typing.get_args(tp), data, path)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        for value in args:
            if data == value and type(data) is type(value):
                return value
        return _mismatch(path, type_name(tp), data)
    if data is None:
        return _mismatch(path, type_name(tp), data)
    if tp is str:
        return data if isinstance(data, str) else _mismatch(path, "str", data)
    if tp is bool:
        return data if isinstance(data, bool) else _mismatch(path, "bool", data)
    if tp is int:
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        if isinstance(data, float) and data.is_integer():
            return int(data)
        return _mismatch(path, "int", data)
    if tp is float:
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return float(data)
        return _mismatch(path, "float", data)
    if isinstance(tp, type) and tp in _DATES:
        return _parse_date(tp, data, path)
    if is_enum(tp):
        return _parse_enum(tp, data, path)
    if is_record(tp):
        return _parse_record(tp, data, path)
    is_sequence, item = sequence_item(tp)
    if is_sequence:
        if not isinstance(data, list):
            return _mismatch(path, type_name(tp), data)
        values = [parse_as(item, value, f"{path}[{index}]") for index, value in enumerate(data)]
        return tuple(values) if origin is tuple or tp is tuple else values
    if origin is tuple:
        if not isinstance(data, list) or len(data) != len(args):
            return _mismatch(path, f"{type_name(tp)} (a list of {len(args)} items)", data)
        return tuple(parse_as(arg, value, f"{path}[{index}]")
                     for index, (arg, value) in enumerate(zip(args, data)))
    if tp is dict or tp in MAPPING_ORIGINS or origin in MAPPING_ORIGINS:
        if not isinstance(data, dict):
            return _mismatch(path, type_name(tp), data)
        value_type = args[1] if len(args) == 2 else Any
        return {key: parse_as(value_type, value, child(path, key)) for key, value in data.items()}
    json_schema(tp)  # raises the SchemaError that explains what is wrong with the type
    raise SchemaError(f"{type_name(tp)} cannot be read from JSON.")


def parse_answer(tp: Any, text: str | None, finish_reason: str | None = None) -> Any:
    """The answer `text` (JSON, or a bare label for a classification) parsed as `tp` with parse_as.

    A ```json fence around the JSON is tolerated. `finish_reason` (the candidate's finishReason)
    explains a cut answer: "MAX_TOKENS" says the token limit cut it. Raises SchemaMismatchError when
    the text is empty, is not valid JSON, or does not fit `tp`.
    """
    text = (text or "").strip()
    text = _unfence(text)
    if classification_labels(tp) is not None and not text.startswith('"'):
        return parse_as(tp, text)
    if not text:
        raise SchemaMismatchError(f"The answer is empty, so it holds no {type_name(tp)}"
                                  f"{_stopped(finish_reason)}.", path="$", expected=type_name(tp))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _invalid_json(tp, text, error, finish_reason) from None
    return parse_as(tp, data)


def records(tp: Any, value: Any) -> tuple[list[str], list[list]]:
    """`value` (a list of records of type list[X], or one record of type X) as (columns, rows).

    Columns follow the schema order of X's fields; a nested record's fields become "outer.inner"
    columns; enum members become their values. A list of plain values gives one "value" column, a
    list of dicts the union of their keys in order of appearance. Pure: the caller builds the frame.
    """
    if isinstance(tp, dict):
        item = tp.get("items", {}) if tp.get("type") == "array" else tp
        rows = value if tp.get("type") == "array" else [value]
        if isinstance(item, dict) and item.get("properties"):
            columns = list(item["properties"])
            return columns, _rows(rows, columns)
        return _from_dicts(rows)
    tp, _ = unwrap(tp)
    is_sequence, item = sequence_item(tp)
    rows = list(value) if is_sequence else [value]
    item = _without_none(item if is_sequence else tp)
    if is_record(item):
        columns = _columns(item, "")
        return ([name for name, _ in columns],
                [[_cell(_dig(row, keys)) for _, keys in columns] for row in rows])
    if all(isinstance(row, dict) for row in rows) and rows:
        return _from_dicts(rows)
    return ["value"], [[_cell(row)] for row in rows]


def child(path: str, key: Any) -> str:
    """The JSON path of `key` inside `path`: $.name, $[2], $["odd key"]."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.match(str(key)):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(str(key), ensure_ascii=False)}]"


def describe(data: Any) -> str:
    """What a JSON value is, for messages: the string "lots", the number 3, null, a list of 2 items."""
    if data is None:
        return "null"
    if isinstance(data, bool):
        return "true" if data else "false"
    if isinstance(data, (int, float)):
        return f"the number {data!r}"
    if isinstance(data, str):
        shown = data if len(data) <= 40 else data[:37] + "..."
        return "an empty string" if not data else f"the string {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(data, list):
        return f"a list of {len(data)} item{'' if len(data) == 1 else 's'}"
    if isinstance(data, dict):
        keys = ", ".join(list(data)[:5]) + (", ..." if len(data) > 5 else "")
        return f"an object with keys {keys}" if data else "an empty object"
    return f"a {type(data).__name__}"


def _mismatch(path: str, expected: str, data: Any) -> typing.NoReturn:
    found = describe(data)
    raise SchemaMismatchError(f"At {path} expected {expected} but found {found}.",
                              path=path, expected=expected, found=found)


def _parse_union(args: tuple, data: Any, path: str) -> Any:
    if data is None and any(unwrap(arg)[0] in (None, NoneType) for arg in args):
        return None
    options = [arg for arg in args if unwrap(arg)[0] not in (None, NoneType)]
    if len(options) == 1:
        return parse_as(options[0], data, path)
    for option in options:
        try:
            return parse_as(option, data, path)
        except SchemaMismatchError:
            continue
    return _mismatch(path, " | ".join(type_name(arg) for arg in args), data)


def _parse_date(tp: type, data: Any, path: str) -> Any:
    if isinstance(data, str):
        try:
            value = _DATES[tp](data)
        except ValueError:
            value = None
        if tp is datetime.date and value is None:
            try:  # a full timestamp where a date was asked for still names the date
                value = datetime.datetime.fromisoformat(data).date()
            except ValueError:
                pass
        if value is not None:
            return value
    return _mismatch(path, f"{tp.__name__} (an ISO 8601 string)", data)


def _parse_enum(tp: type, data: Any, path: str) -> Any:
    for member in tp:
        if member.value == data and isinstance(data, bool) == isinstance(member.value, bool):
            return member
    labels = ", ".join(repr(member.value) for member in tp)
    return _mismatch(path, f"{tp.__name__} (one of {labels})", data)


def _parse_record(tp: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        return _mismatch(path, f"{type_name(tp)} (an object)", data)
    if is_pydantic_model(tp):
        return _parse_pydantic(tp, data, path)
    values = {}
    for field in record_fields(tp):
        if field.name in data:
            values[field.name] = parse_as(field.tp, data[field.name], child(path, field.name))
        elif field.required:
            where = child(path, field.name)
            raise SchemaMismatchError(
                f"At {where} expected {type_name(field.tp)} but the field is missing.",
                path=where, expected=type_name(field.tp), found=None)
    if is_typeddict(tp):
        return values
    return tp(**values) if is_dataclass_type(tp) else values


def _parse_pydantic(tp: type, data: Any, path: str) -> Any:
    import pydantic

    try:
        return tp.model_validate(data)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        where = path
        for key in first.get("loc", ()):
            where = child(where, key)
        missing = first.get("type") == "missing"
        found = "nothing (the field is missing)" if missing else describe(first.get("input"))
        problem = first.get("msg", "the value does not fit")
        raise SchemaMismatchError(f"At {where} {problem[:1].lower()}{problem[1:]}: found {found}.",
                                  path=where, expected=problem, found=found) from None


def _invalid_json(tp: Any, text: str, error: json.JSONDecodeError, finish_reason: str | None):
    # an unterminated string, or an error at the very end, means the text stopped mid-value
    cut = error.msg.startswith("Unterminated string") or error.pos >= len(text)
    if finish_reason == "MAX_TOKENS":
        message = (f"The answer is not valid JSON: the token limit cut it at character {len(text)}. Raise "
                   "the maximum output tokens or ask for less.")
    elif cut:
        message = (f"The answer is not valid JSON (cut at character {len(text)}?)"
                   f"{_stopped(finish_reason)}; ask again, or for less.")
    else:
        message = (f"The answer is not valid JSON ({error.msg} at character {error.pos})"
                   f"{_stopped(finish_reason)}; ask again for JSON only.")
    return SchemaMismatchError(message, path="$", expected=type_name(tp), found=describe(text))


def _unfence(text: str) -> str:
    """The text inside a ```json fence; a fence cut short (no closing line) is opened all the same."""
    opened = _FENCE_OPEN.match(text)
    if not opened:
        return text
    text = text[opened.end():].rstrip()
    return text[:-3].rstrip() if text.endswith("```") else text


def _stopped(finish_reason: str | None) -> str:
    if not finish_reason or finish_reason in ("STOP", "FINISH_REASON_UNSPECIFIED"):
        return ""
    if finish_reason == "MAX_TOKENS":
        return " (the token limit cut it)"
    return f" (the answer stopped early: {finish_reason})"


def _without_none(tp: Any) -> Any:
    tp, _ = unwrap(tp)
    if is_union(tp):
        options = [arg for arg in typing.get_args(tp) if unwrap(arg)[0] not in (None, NoneType)]
        if len(options) == 1:
            return unwrap(options[0])[0]
    return tp


def _columns(tp: type, prefix: str) -> list[tuple[str, tuple[str, ...]]]:
    """(column name, keys to reach it) for each leaf field; nested records become dotted columns."""
    out = []
    for field in record_fields(tp):
        inner = _without_none(field.tp)
        if is_record(inner) and inner is not tp:
            out.extend((f"{field.name}.{name}", (field.name, *keys)) for name, keys in _columns(inner, ""))
        else:
            out.append((prefix + field.name, (field.name,)))
    return out


def _dig(row: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if row is None:
            return None
        row = row.get(key) if isinstance(row, dict) else getattr(row, key, None)
    return row


def _cell(value: Any) -> Any:
    import enum

    return value.value if isinstance(value, enum.Enum) else value


def _from_dicts(rows: list) -> tuple[list[str], list[list]]:
    columns: list[str] = []
    for row in rows:
        for key in row if isinstance(row, dict) else ():
            if key not in columns:
                columns.append(key)
    return columns, _rows(rows, columns)


def _rows(rows: list, columns: list[str]) -> list[list]:
    return [[_cell(row.get(c)) if isinstance(row, dict) else None for c in columns] for row in rows]
