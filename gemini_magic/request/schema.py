"""JSON Schemas from Python types, for structured output (`responseJsonSchema`) and tool parameters.

    json_schema(list[Place])        # the schema that would be sent
    response_format(list[Place])    # {"responseMimeType": "application/json", "responseJsonSchema": ...}
    response_format(Mood)           # {"responseMimeType": "text/x.enum", "responseSchema": {...}}

Annotation → schema (keys in the order the class declares them; the service keeps that order):

    str / int / float / bool        {"type": "string"} / "integer" / "number" / "boolean"
    None                            {"type": "null"}
    datetime / date / time          {"type": "string", "format": "date-time"} / "date" / "time"
    Enum (str or int values)        {"type": "string", "enum": [values]} (or "integer" / "number")
    Literal["a", "b"]               {"type": "string", "enum": ["a", "b"]}; mixed kinds: anyOf of enums
    list[X], Sequence[X]            {"type": "array", "items": X}
    tuple[X, ...]                   {"type": "array", "items": X}
    tuple[X, Y]                     {"type": "array", "prefixItems": [X, Y], "minItems": 2, "maxItems": 2}
    dict[str, X]                    {"type": "object", "additionalProperties": X}
    bare list / dict / Any          {"type": "array"} / {"type": "object"} / {} (any value)
    X | None, Optional[X]           {"anyOf": [X, {"type": "null"}]}
    X | Y, Union[X, Y]              {"anyOf": [X, Y]}
    dataclass                       {"type": "object", "properties": {...}, "required": [fields without
                                    defaults]}; descriptions from field(metadata={"description": ...})
                                    and the class docstring
    TypedDict                       the same; required from total= / Required / NotRequired
    pydantic v2 model               model_json_schema(), with $refs inlined, `const` as a one-value
                                    enum, made-up titles and keywords the service does not accept
                                    (default, pattern, ...) dropped; pydantic still checks them
    Annotated[X, "text"]            X with "description": "text"
    NewType("Id", X)                X
    a recursive record              {"$ref": "#/$defs/Name"} with the record under "$defs"; it must
                                    recur through a field with a default (the service unrolls
                                    cycles only through non-required properties)
    a dict                          taken as a JSON Schema and passed through unchanged

Refused with a SchemaError: sets, bytes, dict keys other than str, bool literals, functions, instances
and anything else. Nullable is written as anyOf with {"type": "null"} (the form pydantic produces and
the service accepts in responseJsonSchema), never OpenAPI's `nullable`.
"""

from __future__ import annotations

import copy
import typing
from typing import Any

from ..errors import SchemaError, SchemaMismatchError
from .typeforms import (DATE_FORMATS, Field, MAPPING_ORIGINS, SET_ORIGINS, NoneType, class_description, is_enum,
                        is_pydantic_model, is_record, is_union, record_fields, sequence_item, type_name,
                        unwrap)

__all__ = ["json_schema", "response_format", "classification_labels", "SchemaError", "SchemaMismatchError"]

_PRIMITIVES = {str: "string", int: "integer", float: "number", bool: "boolean"}

#: The JSON Schema keywords responseJsonSchema accepts (Discovery document, GenerationConfig), plus
#: the service's own propertyOrdering. Everything else in a pydantic schema is dropped.
ACCEPTED_KEYWORDS = frozenset({
    "$id", "$defs", "$ref", "$anchor", "type", "format", "title", "description", "enum", "items",
    "prefixItems", "minItems", "maxItems", "minimum", "maximum", "anyOf", "oneOf", "properties",
    "additionalProperties", "required", "propertyOrdering",
})

_SUPPORTED = ("str, int, float, bool, None, datetime, date, time, an Enum, Literal, list[...], "
              "tuple[...], dict[str, ...], X | None, a Union, a dataclass, a TypedDict, a pydantic "
              "model, or a JSON Schema dict")


def json_schema(tp: Any) -> dict:
    """The JSON Schema sent as `responseJsonSchema` for answers of type `tp` (see the module table).

    `tp` is a Python type or type expression (list[Place], dict[str, float], Mood | None, ...) or a
    JSON Schema dict, returned as a copy, unchanged. Returns a new dict each call.
    Raises SchemaError for a type with no JSON form (a set, bytes, a function, an instance, ...).

        >>> json_schema(list[int])
        {'type': 'array', 'items': {'type': 'integer'}}
    """
    if isinstance(tp, dict):
        return copy.deepcopy(tp)
    builder = _Builder()
    schema = builder.build(tp)
    if builder.defs:
        schema = {**schema, "$defs": builder.defs}
    return schema


def object_schema(fields: list[Field]) -> dict:
    """{"type": "object", "properties", "required"} for named fields (a tool's parameters), one
    $defs for all of them. Raises SchemaError as json_schema does."""
    builder = _Builder()
    schema = builder.fields(fields)
    if builder.defs:
        schema["$defs"] = builder.defs
    return schema


def classification_labels(tp: Any) -> list[str] | None:
    """The labels when `tp` is a classification (an Enum or Literal of strings), else None."""
    tp, _ = unwrap(tp)
    if is_enum(tp):
        values = [member.value for member in tp]
    elif typing.get_origin(tp) is typing.Literal:
        values = list(typing.get_args(tp))
    else:
        return None
    if values and all(isinstance(value, str) for value in values):
        return values
    return None


def response_format(tp: Any) -> dict:
    """The generationConfig fields asking for answers of type `tp`.

    A string Enum or Literal gives the classification form {"responseMimeType": "text/x.enum",
    "responseSchema": {"type": "STRING", "enum": [...]}} (the answer is the bare label); anything else
    {"responseMimeType": "application/json", "responseJsonSchema": json_schema(tp)}.
    Raises SchemaError as json_schema does.

        >>> response_format(typing.Literal["positive", "negative"])["responseMimeType"]
        'text/x.enum'
    """
    labels = classification_labels(tp)
    if labels is not None:
        return {"responseMimeType": "text/x.enum", "responseSchema": {"type": "STRING", "enum": labels}}
    return {"responseMimeType": "application/json", "responseJsonSchema": json_schema(tp)}


def with_description(schema: dict, description: str | None) -> dict:
    """`schema` plus a description; a $ref may carry no other keyword, so it stays bare."""
    if not description or "$ref" in schema:
        return schema
    return {**schema, "description": description}


class _Builder:
    """Builds one schema; records met again while being built (recursion) go to $defs."""

    def __init__(self) -> None:
        self.defs: dict[str, dict] = {}
        self.stack: list[type] = []
        self.names: dict[type, str] = {}
        self.open_refs: list[str] = []  # references back up the stack not yet behind an optional field

    def build(self, tp: Any) -> dict:
        tp, description = unwrap(tp)
        return with_description(self._build(tp), description)

    def _build(self, tp: Any) -> dict:
        if tp is Any:
            return {}
        if tp is None or tp is NoneType:
            return {"type": "null"}
        if _hashable(tp) and tp in _PRIMITIVES:
            return {"type": _PRIMITIVES[tp]}
        if _hashable(tp) and tp in DATE_FORMATS:
            return {"type": "string", "format": DATE_FORMATS[tp]}
        if is_enum(tp):
            return _enum_schema([member.value for member in tp], type_name(tp))
        if is_record(tp):
            return self._record(tp)
        if is_union(tp):
            return self._union(typing.get_args(tp))
        if tp is dict or tp in MAPPING_ORIGINS:
            return {"type": "object"}
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Literal:
            return _literal_schema(args)
        is_sequence, item = sequence_item(tp)
        if is_sequence:
            return {"type": "array"} if item is Any else {"type": "array", "items": self.build(item)}
        if origin is tuple:
            if not args or args == ((),):
                raise SchemaError("An empty tuple has no JSON form; use list[...] or tuple[X, Y].")
            items = [self.build(arg) for arg in args]
            return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
        if origin in MAPPING_ORIGINS:
            key, value = args if len(args) == 2 else (str, Any)
            if unwrap(key)[0] is not str:
                raise SchemaError(f"{type_name(tp)} has {type_name(key)} keys, but JSON object keys are "
                                  "strings; use dict[str, ...].")
            return {"type": "object"} if value is Any else {"type": "object",
                                                           "additionalProperties": self.build(value)}
        raise _unsupported(tp, origin)

    def _union(self, args: tuple) -> dict:
        options = []
        for arg in args:
            schema = self.build(arg)
            if schema not in options:
                options.append(schema)
        return options[0] if len(options) == 1 else {"anyOf": options}

    def _record(self, tp: type) -> dict:
        if tp in self.stack:
            self.open_refs.append(self._name(tp))
            return {"$ref": f"#/$defs/{self._name(tp)}"}
        if is_pydantic_model(tp):
            return _PydanticAdapter(self).adapt(tp.model_json_schema(), tp.__name__)
        self.stack.append(tp)
        try:
            body = with_description(self.fields(record_fields(tp)), class_description(tp))
        finally:
            self.stack.pop()
        if tp in self.names and self.names[tp] in self.open_refs:
            # the service unrolls cycles only through non-required properties (GenerationConfig docs)
            raise SchemaError(f"{tp.__name__} contains itself through required fields only, so an answer "
                              "could never end; give one of those fields a default (for example "
                              "field(default_factory=list) or = None).")
        if tp in self.names:  # it referred to itself: define it once, refer to it everywhere
            self.defs[self.names[tp]] = body
            return {"$ref": f"#/$defs/{self.names[tp]}"}
        return body

    def fields(self, fields: list[Field]) -> dict:
        properties = {}
        for field in fields:
            mark = len(self.open_refs)
            properties[field.name] = with_description(self.build(field.tp), field.description)
            if not field.required:
                del self.open_refs[mark:]  # an optional field lets the recursion stop here
        required = [field.name for field in fields if field.required]
        return {"type": "object", "properties": properties, **({"required": required} if required else {})}

    def _name(self, tp: type) -> str:
        if tp not in self.names:
            self.names[tp] = self.free_name(tp.__name__)
        return self.names[tp]

    def free_name(self, name: str) -> str:
        taken = set(self.defs) | set(self.names.values())
        candidate, number = name, 2
        while candidate in taken:
            candidate, number = f"{name}{number}", number + 1
        return candidate


class _PydanticAdapter:
    """Makes a pydantic model's schema one the service accepts: $refs inlined (kept only for
    recursion, without siblings), `const` as a one-value enum, unknown keywords dropped."""

    def __init__(self, builder: _Builder) -> None:
        self.builder = builder
        self.renamed: dict[str, str] = {}

    def adapt(self, schema: dict, name: str) -> dict:
        self.source = schema.get("$defs", {})
        root = self.walk(schema, (), name)
        pending = [name for name in self.renamed if self.renamed[name] not in self.builder.defs]
        while pending:  # bodies of recursive definitions, which may refer to further ones
            name = pending.pop()
            self.builder.defs[self.renamed[name]] = {}
            self.builder.defs[self.renamed[name]] = self.walk(self.source[name], (name,), name)
            pending.extend(n for n in self.renamed if self.renamed[n] not in self.builder.defs)
        top = str(schema.get("$ref", ""))[len("#/$defs/"):]
        if top in self.renamed:  # a recursive model: refer to its one definition, as for dataclasses
            return {"$ref": f"#/$defs/{self.renamed[top]}"}
        return root

    def walk(self, node: Any, stack: tuple[str, ...], auto_title: str | None = None) -> Any:
        """`node` adapted; `auto_title` is the title pydantic makes up for it, dropped as noise."""
        if isinstance(node, list):
            return [self.walk(item, stack) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return self.reference(node, stack)
        if "allOf" in node and len(node["allOf"]) == 1:  # older pydantic: a described $ref
            rest = {key: value for key, value in node.items() if key != "allOf"}
            return {**self.walk(node["allOf"][0], stack), **self.walk(rest, stack)}
        out: dict = {}
        for key, value in node.items():
            if key == "const":
                out["enum"] = [value]
            elif key == "title" and value == auto_title:
                continue
            elif key == "properties":
                out[key] = self.properties(value, node.get("required", ()), stack)
            elif key == "$defs":
                continue  # inlined where referred to; recursive ones are collected by the builder
            elif key in ("enum", "required", "propertyOrdering", "title", "description", "format"):
                out[key] = value
            elif key in ACCEPTED_KEYWORDS:
                out[key] = self.walk(value, stack)
            elif key == "allOf":
                raise SchemaError("A pydantic schema with allOf cannot be sent; the service does not "
                                  "accept allOf. Use a single model type for the field.")
        return out

    def properties(self, properties: dict, required: Any, stack: tuple[str, ...]) -> dict:
        out = {}
        for name, sub in properties.items():
            mark = len(self.builder.open_refs)
            out[name] = self.walk(sub, stack, name.replace("_", " ").title())
            if name not in required:
                del self.builder.open_refs[mark:]  # an optional property lets the recursion stop here
        return out

    def reference(self, node: dict, stack: tuple[str, ...]) -> dict:
        ref = node["$ref"]
        if not ref.startswith("#/$defs/") or ref[8:] not in self.source:
            raise SchemaError(f"The pydantic schema refers to {ref!r}, which it does not define.")
        name = ref[8:]
        if name in stack:
            if name not in self.renamed:
                self.renamed[name] = self.builder.free_name(name)
            self.builder.open_refs.append(self.renamed[name])
            return {"$ref": f"#/$defs/{self.renamed[name]}"}
        body = self.walk(self.source[name], (*stack, name), name)
        if name in self.renamed and self.renamed[name] in self.builder.open_refs:
            raise SchemaError(f"{name} contains itself through required fields only, so an answer could "
                              "never end; give one of those fields a default (for example = [] or = None).")
        siblings = self.walk({key: value for key, value in node.items() if key != "$ref"}, stack)
        return {**body, **siblings}


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _enum_schema(values: list, what: str) -> dict:
    if not values:
        raise SchemaError(f"{what} has no members, so no answer could fit it.")
    if all(isinstance(value, str) for value in values):
        return {"type": "string", "enum": list(values)}
    if all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        return {"type": "integer", "enum": list(values)}
    if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
        return {"type": "number", "enum": list(values)}
    raise SchemaError(f"The values of {what} are not all strings or all numbers, and the service accepts "
                      "only enums of one or the other. Give it string values.")


def _literal_schema(values: tuple) -> dict:
    if any(isinstance(value, bool) for value in values):
        raise SchemaError(f"Literal{list(values)} holds booleans, which the service cannot enumerate; "
                          "use bool instead.")
    groups: dict[str, list] = {}
    for value in values:
        if value is None:
            groups.setdefault("null", [])
        elif isinstance(value, (str, int, float)):
            groups.setdefault(type(value).__name__, []).append(value)
        else:
            raise SchemaError(f"Literal value {value!r} has no JSON form; use strings or numbers.")
    options = [{"type": "null"} if kind == "null" else _enum_schema(group, "Literal")
               for kind, group in groups.items()]
    return options[0] if len(options) == 1 else {"anyOf": options}


def _unsupported(tp: Any, origin: Any) -> SchemaError:
    if origin in SET_ORIGINS or tp in (set, frozenset):
        return SchemaError(f"{type_name(tp)} has no JSON form (JSON has no sets); use list[...] instead.")
    if tp in (bytes, bytearray):
        return SchemaError("bytes have no JSON form; use str (for example base64 text) instead.")
    if isinstance(tp, str):
        return SchemaError(f"{tp!r} is a string, not a type; pass the type itself (for example "
                           "list[Place]).")
    if callable(tp) and not isinstance(tp, type):
        return SchemaError(f"{type_name(tp)} is a function, not a type; pass a type such as list[Place], "
                           "or declare it as a tool instead.")
    if not isinstance(tp, type) and typing.get_origin(tp) is None:
        return SchemaError(f"{tp!r} is a value, not a type; pass its type (for example "
                           f"{type(tp).__name__}).")
    return SchemaError(f"{type_name(tp)} cannot be described as JSON; use {_SUPPORTED}.")

