"""Structured output: deterministic answers that fit a JSON Schema, and the service's schema checks.

A generate request asks for structured output with ``generationConfig.responseMimeType`` set to
``application/json`` plus ``responseJsonSchema`` (a JSON Schema subset) or ``responseSchema`` (the
older OpenAPI subset, uppercase type names), never both; ``text/x.enum`` with a string enum schema
asks for a bare label (a classification). The Interactions API says the same with
``response_format: {"type": "text", "mime_type": "application/json", "schema": {...}}``.

The answer (``answer``) is JSON written with a two-space indent, in ``properties`` order (or
``propertyOrdering`` when given), built by these rules so tests can compute it independently:

* strings: the prompt's words (``\\w+`` runs of its last user turn) one per string, in order, cycling
  through the whole document (candidate ``n`` starts at word ``n``); ``minLength`` joins further
  words with spaces, ``maxLength`` cuts; ``format: date`` is 2026-01-01 plus one day per date
  value, ``date-time`` that day at 09:30:00Z, ``time`` 09:30:00 plus one hour per value;
* integers 1, 2, 3, ...; numbers 1.5, 3.0, 4.5, ... (separate counters), moved inside
  ``minimum``/``maximum``; booleans alternate true, false, ...;
* ``enum``: its first value; ``anyOf``/``oneOf``: the first branch that is not ``null``;
  a list of types or ``nullable``: the first type that is not null; ``{}``: a string;
* arrays: three items (``prefixItems`` alone: one each), within ``minItems``/``maxItems``;
* a bare object schema (no properties): the emulator's usual JSON object describing the request;
* objects: every property, required or not, except a non-required one that would re-enter a
  ``$ref`` being expanded (that is how recursion stops); a map (``additionalProperties`` without
  ``properties``) gets three entries keyed by the next words;
* ``$ref``: local references (``#/$defs/Name``, ``#``, any ``#/...`` pointer) resolved.

Streamed, the JSON is cut every ``CHUNK_BYTES`` bytes or a little more, always inside a string or
a number, so clients see real partial JSON. Schemas the service refuses (keywords it does not
accept, unknown types, ``required`` naming a missing property, cycles through required
properties...) are reported as ``(field path, description)`` violations in the service's paths,
``generation_config.response_json_schema.properties[0].value.type`` and the like.
Pure: no I/O; imports nothing of the client.
"""

from __future__ import annotations

import datetime
import json
import re

from .errors import bad_request

CHUNK_BYTES = 32
ARRAY_ITEMS = 3
MAX_DEPTH = 40       # nesting past this means a cycle that never ends
MAX_VALUES = 20_000  # values in one answer past this: refused as too large
FALLBACK_WORD = "emulator"
FIRST_DATE = datetime.date(2026, 1, 1)
JSON_MIME = "application/json"
ENUM_MIME = "text/x.enum"

#: responseJsonSchema's keywords (Discovery document, GenerationConfig.responseJsonSchema).
JSON_KEYWORDS = ("$id", "$defs", "$ref", "$anchor", "type", "format", "title", "description", "enum", "items",
                 "prefixItems", "minItems", "maxItems", "minimum", "maximum", "anyOf", "oneOf", "properties",
                 "additionalProperties", "required", "propertyOrdering")
JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")
#: The fields of the Schema message (responseSchema); camelCase or snake_case, as proto JSON reads them.
OPENAPI_FIELDS = ("type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
                  "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
                  "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum")
OPENAPI_TYPES = ("TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL")
SNAKE_FIELDS = {re.sub(r"([A-Z])", r"_\1", name).lower(): name for name in OPENAPI_FIELDS}
COUNTS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")


class SchemaCycle(Exception):
    """The schema recurs through required properties only (or is too large to write)."""


# -- what a request asks for --------------------------------------------------------------------
def requested(settings: dict) -> tuple[str, object] | None:
    """("json", schema) for responseJsonSchema, ("openapi", schema) for responseSchema, else None."""
    if settings.get("responseJsonSchema") is not None:
        return "json", settings["responseJsonSchema"]
    if settings.get("responseSchema") is not None:
        return "openapi", settings["responseSchema"]
    return None


def wanted(settings: dict) -> bool:
    """True when the answer is structured output (a schema with a JSON or enum MIME type).

    A bare object schema (``{"type": "OBJECT"}``, no properties) is not: any object fits it, so the
    emulator's usual JSON object describing the request answers it."""
    found = requested(settings)
    mime = settings.get("responseMimeType")
    if found is None or mime not in (JSON_MIME, ENUM_MIME):
        return False
    root = normalise(found[1]) if found[0] == "openapi" else found[1]
    bare = isinstance(root, dict) and schema_type(root) == "object" and not root.get("properties") and \
        not isinstance(root.get("additionalProperties"), dict) and "$ref" not in root
    return mime == ENUM_MIME or not bare


def answer(settings: dict, prompt: str, candidate: int = 0) -> str | None:
    """The structured answer text for a checked request, or None when no schema was asked for.

    `prompt`: the last user turn's text (its words fill the strings); `candidate`: the candidate's
    index (candidate n starts at the prompt's word n). JSON with a two-space indent, or the bare
    first enum value for text/x.enum.
    """
    if not wanted(settings):
        return None
    kind, schema = requested(settings)
    root = normalise(schema) if kind == "openapi" else schema
    writer = Writer(root, words_of(prompt), candidate)
    if settings.get("responseMimeType") == ENUM_MIME:
        return str(writer.labels(root)[0])
    return json.dumps(writer.value(root), indent=2, ensure_ascii=False)


def words_of(prompt: str) -> list[str]:
    """The words strings are drawn from: runs of letters, digits and underscores, in order."""
    return re.findall(r"\w+", prompt) or [FALLBACK_WORD]


def normalise(schema):
    """An OpenAPI-subset schema in JSON Schema terms: lowercase types, camelCase field names."""
    if isinstance(schema, list):
        return [normalise(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        key = SNAKE_FIELDS.get(key, key)
        if key == "type" and isinstance(value, str):
            out[key] = value.lower()
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: normalise(sub) for name, sub in value.items()}
        elif key in ("items", "anyOf"):
            out[key] = normalise(value)
        else:
            out[key] = value
    if out.get("type") == "type_unspecified":
        del out["type"]
    return out


# -- the answer -----------------------------------------------------------------------------------
class Writer:
    """Writes the one deterministic value that fits a (JSON Schema form) schema; see the module rules."""

    def __init__(self, root, words: list[str], start: int = 0):
        self.root = root
        self.words = words
        self.word = start
        self.counts = {"integer": 0, "number": 0, "boolean": 0, "date": 0, "time": 0}
        self.expanding: list[str] = []  # $refs being expanded, innermost last
        self.written = 0

    def next_word(self) -> str:
        word = self.words[self.word % len(self.words)]
        self.word += 1
        return word

    def take(self, kind: str) -> int:
        self.counts[kind] += 1
        return self.counts[kind] - 1

    def resolve(self, ref: str):
        return resolve(self.root, ref)

    def labels(self, schema) -> list:
        """The enum values of a classification schema (after $refs and anyOf)."""
        schema = self.resolve(schema["$ref"]) if isinstance(schema, dict) and "$ref" in schema else schema
        return list(schema.get("enum") or [self.next_word()])

    def value(self, schema, depth: int = 0):
        self.written += 1
        if depth > MAX_DEPTH or self.written > MAX_VALUES:
            raise SchemaCycle()
        if schema is True or not isinstance(schema, dict):
            schema = {}
        if "$ref" in schema:
            ref = schema["$ref"]
            self.expanding.append(ref)
            try:
                return self.value(self.resolve(ref), depth + 1)
            finally:
                self.expanding.pop()
        if schema.get("enum"):
            return schema["enum"][0]
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            for branch in branches:
                if not self.is_null(branch):
                    return self.value(branch, depth + 1)
            return None
        kind = schema_type(schema)
        if kind == "null":
            return None
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, depth)
        if kind == "integer":
            return self.integer(schema)
        if kind == "number":
            return self.number(schema)
        if kind == "boolean":
            return self.take("boolean") % 2 == 0
        return self.string(schema)

    def is_null(self, schema) -> bool:
        if isinstance(schema, dict) and "$ref" in schema:
            schema = self.resolve(schema["$ref"])
        return isinstance(schema, dict) and schema_type(schema) == "null"

    def string(self, schema: dict) -> str:
        form = schema.get("format")
        if form in ("date", "date-time"):
            day = FIRST_DATE + datetime.timedelta(days=self.take("date"))
            return day.isoformat() if form == "date" else f"{day.isoformat()}T09:30:00Z"
        if form == "time":
            return f"{(9 + self.take('time')) % 24:02d}:30:00"
        text = self.next_word()
        shortest, longest = count(schema, "minLength"), count(schema, "maxLength")
        while shortest is not None and len(text) < shortest:
            text += " " + self.next_word()
        return text if longest is None else text[:longest]

    def integer(self, schema: dict) -> int:
        step = self.take("integer")
        low, high = bound(schema, "minimum", "ceil"), bound(schema, "maximum", "floor")
        if low is not None and high is not None:
            return low + step % (high - low + 1) if high >= low else low
        if low is not None:
            return low + step
        if high is not None:
            return high - step
        return step + 1

    def number(self, schema: dict) -> float:
        value = (self.take("number") + 1) * 1.5
        low, high = schema.get("minimum"), schema.get("maximum")
        low = float(low) if isinstance(low, (int, float)) else None
        high = float(high) if isinstance(high, (int, float)) else None
        if low is not None and high is not None:
            value = low + (value % (high - low)) if high > low else low
        elif low is not None:
            value = low + value
        elif high is not None:
            value = high - value
        return round(value, 6)

    def array(self, schema: dict, depth: int) -> list:
        prefix = schema.get("prefixItems") or []
        items = schema.get("items")
        open_items = items is not None and items is not False
        size = ARRAY_ITEMS if open_items or not prefix else len(prefix)
        shortest, longest = count(schema, "minItems"), count(schema, "maxItems")
        size = max(size, shortest or 0)
        size = size if longest is None else min(size, longest)
        return [self.value(prefix[index] if index < len(prefix) else items, depth + 1) for index in range(size)]

    def object(self, schema: dict, depth: int) -> dict:
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        order = [name for name in schema.get("propertyOrdering") or () if name in properties]
        order += [name for name in properties if name not in order]
        out = {}
        for name in order:
            if name not in required and self.reenters(properties[name]):
                continue  # the recursion stops at a property that may be left out
            out[name] = self.value(properties[name], depth + 1)
        extra = schema.get("additionalProperties")
        if not properties and isinstance(extra, dict):
            size = ARRAY_ITEMS
            shortest, longest = count(schema, "minProperties"), count(schema, "maxProperties")
            size = max(size, shortest or 0) if longest is None else min(max(size, shortest or 0), longest)
            for _ in range(size):
                key = self.next_word()
                while key in out:
                    key = f"{key}_{len(out) + 1}"
                out[key] = self.value(extra, depth + 1)
        return out

    def reenters(self, schema) -> bool:
        """Does `schema` (without following references) refer to a $ref being expanded?"""
        if isinstance(schema, dict):
            if schema.get("$ref") in self.expanding:
                return True
            return any(self.reenters(value) for key, value in schema.items() if key != "enum")
        if isinstance(schema, list):
            return any(self.reenters(item) for item in schema)
        return False


def schema_type(schema: dict) -> str:
    """The type to write: the first non-null of a list of types, else inferred from the keywords."""
    kind = schema.get("type")
    if isinstance(kind, list):
        named = [item for item in kind if item != "null"]
        return named[0] if named else "null"
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return "string"


def count(schema: dict, name: str) -> int | None:
    """An int64 count (proto JSON may send it as a string); None when absent."""
    value = schema.get(name)
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def bound(schema: dict, name: str, rounding: str) -> int | None:
    value = schema.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    whole = int(value)
    if whole != value:  # a fractional bound: the nearest integer inside it
        whole = whole + 1 if rounding == "ceil" and value > 0 else whole
        whole = whole - 1 if rounding == "floor" and value < 0 else whole
    return whole


def resolve(root, ref: str):
    """The sub-schema a local reference (``#``, ``#/$defs/Name``, any ``#/a/b`` pointer) names."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise KeyError(ref)
    node = root
    for token in [t for t in ref[1:].split("/") if t]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(ref)
    return node


# -- streaming ------------------------------------------------------------------------------------
def chunks(text: str, size: int = CHUNK_BYTES) -> list[str]:
    """`text` cut every `size` UTF-8 bytes or a little later, each cut inside a string or a number
    (never inside an escape or a character); ``"".join(chunks(text)) == text``."""
    inside = _inside_positions(text)
    pieces, start, start_byte, position_byte = [], 0, 0, 0
    for index, char in enumerate(text):
        if index > start and position_byte - start_byte >= size and inside[index]:
            pieces.append(text[start:index])
            start, start_byte = index, position_byte
        position_byte += len(char.encode("utf-8"))
    pieces.append(text[start:])
    return [piece for piece in pieces if piece] or [text]


def _inside_positions(text: str) -> list[bool]:
    """inside[i]: a cut before character i falls strictly inside a JSON string or number."""
    inside = [False] * (len(text) + 1)
    index = 0
    while index < len(text):
        char = text[index]
        if char == '"':
            start = index + 1
            index = start
            while index < len(text) and text[index] != '"':
                index += 2 if text[index] == "\\" else 1
            for position in range(start + 1, min(index, len(text))):
                inside[position] = text[position - 1] != "\\" or _escaped_backslash(text, position - 1)
            index += 1
        elif char in "-0123456789":
            start = index
            while index < len(text) and text[index] in "-+.eE0123456789":
                index += 1
            for position in range(start + 1, index):
                inside[position] = True
        else:
            index += 1
    return inside


def _escaped_backslash(text: str, position: int) -> bool:
    """Is the backslash at `position` itself escaped (the second of a pair)?"""
    run = 0
    while position - run >= 0 and text[position - run] == "\\":
        run += 1
    return run % 2 == 0


# -- the service's checks -------------------------------------------------------------------------
def check(settings: dict, where: str = "generation_config.", names: dict | None = None) -> list[tuple[str, str]]:
    """Violations (field path, description) of the structured-output settings, for a 400.

    `where` prefixes the field paths; `names` may rename the fields in them ({"json":
    "response_format.schema", "mime": "response_format.mime_type"} for the Interactions API).
    Malformed responseSchema fields (unknown names, unknown type names) are refused at once, as the
    service refuses them while parsing: raises ApiError (400 INVALID_ARGUMENT).
    """
    names = {"json": where + "response_json_schema", "openapi": where + "response_schema",
             "mime": where + "response_mime_type", **(names or {})}
    has_json = settings.get("responseJsonSchema") is not None
    has_openapi = settings.get("responseSchema") is not None
    if not has_json and not has_openapi:
        return []
    mime = settings.get("responseMimeType")
    if has_json and has_openapi:
        return [(names["openapi"], "response_schema and response_json_schema cannot both be set; "
                                            "send only one of them.")]
    field = names["json"] if has_json else names["openapi"]
    if mime not in (JSON_MIME, ENUM_MIME):
        return [(names["mime"], f"a response schema needs response_mime_type "
                                               f"\"{JSON_MIME}\" (or \"{ENUM_MIME}\" for an enum); "
                                               f"got \"{mime or 'text/plain'}\".")]
    if has_openapi:
        _parse_openapi(settings["responseSchema"], field)
        schema = normalise(settings["responseSchema"])
        violations = _OpenApiChecker(field).walk(schema, field)
    else:
        schema = settings["responseJsonSchema"]
        violations = _JsonChecker(schema).walk(schema, field) if schema is not False else [
            (field, "the schema false allows no value; give a schema that some answer can fit.")]
    if violations:
        return violations
    if mime == ENUM_MIME:
        target = resolve(schema, schema["$ref"]) if isinstance(schema, dict) and "$ref" in schema else schema
        values = target.get("enum") if isinstance(target, dict) else None
        if schema_type(target if isinstance(target, dict) else {}) != "string" or not values:
            return [(field, f"response_mime_type \"{ENUM_MIME}\" needs a schema of type STRING with an enum "
                            "of the labels; use application/json for other schemas.")]
        return []
    try:
        Writer(schema, [FALLBACK_WORD]).value(schema)
    except SchemaCycle:
        return [(field, "the schema refers to itself through required properties only, so no answer could "
                        "end; make one property on the cycle optional (leave it out of required).")]
    return []


def _parse_openapi(schema, path: str) -> None:
    """The parse-level checks of a Schema message: raise at the first unknown name or type."""
    if not isinstance(schema, dict):
        shown = json.dumps(schema)[:60]
        message = f"Invalid value at '{path}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Schema), {shown}"
        raise bad_request(message, [(path, message)])
    for key, value in schema.items():
        if key not in OPENAPI_FIELDS and key not in SNAKE_FIELDS:
            message = f'Invalid JSON payload received. Unknown name "{key}" at \'{path}\': Cannot find field.'
            raise bad_request(message, [(path, message)])
        name = SNAKE_FIELDS.get(key, key)
        snake = re.sub(r"([A-Z])", r"_\1", name).lower()
        if name == "type" and (not isinstance(value, str) or value.upper() not in OPENAPI_TYPES):
            message = (f"Invalid value at '{path}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta"
                       f".Type), {json.dumps(value)}")
            raise bad_request(message, [(f"{path}.type", message)])
        if name == "properties":
            if not isinstance(value, dict):
                raise bad_request(f"Invalid value at '{path}.properties', {json.dumps(value)[:60]}")
            for index, sub in enumerate(value.values()):
                _parse_openapi(sub, f"{path}.properties[{index}].value")
        elif name == "items":
            _parse_openapi(value, f"{path}.items")
        elif name == "anyOf":
            if not isinstance(value, list):
                raise bad_request(f"Invalid value at '{path}.any_of', {json.dumps(value)[:60]}")
            for index, sub in enumerate(value):
                _parse_openapi(sub, f"{path}.any_of[{index}]")
        elif name in ("enum", "required", "propertyOrdering"):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                message = f"Invalid value at '{path}.{snake}' (TYPE_STRING), {json.dumps(value)[:60]}"
                raise bad_request(message, [(f"{path}.{snake}", message)])


class _Checks:
    """What both schema forms check once parsed: required and propertyOrdering name properties,
    counts and bounds are ordered."""

    def common(self, schema: dict, path: str) -> list[tuple[str, str]]:
        found = []
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        for key, text in (("required", "required"), ("propertyOrdering", "property_ordering")):
            names = schema.get(key)
            if names is None:
                continue
            if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
                found.append((f"{path}.{text}", f"{key} must be a list of property names."))
                continue
            for index, name in enumerate(names):
                if name not in properties:
                    found.append((f"{path}.{text}[{index}]", f"property \"{name}\" is named in {key} but not "
                                                              "defined in properties; define it or remove it."))
        for key in COUNTS:
            if key in schema and (isinstance(schema[key], bool) or count(schema, key) is None
                                  or count(schema, key) < 0):
                found.append((f"{path}.{_snake(key)}", f"{key} must be a non-negative integer."))
        for low, high in (("minItems", "maxItems"), ("minLength", "maxLength"), ("minProperties", "maxProperties")):
            if count(schema, low) is not None and count(schema, high) is not None and \
                    count(schema, low) > count(schema, high):
                found.append((f"{path}.{_snake(low)}", f"{low} is larger than {high}, so no value could fit."))
        for key in ("minimum", "maximum"):
            if key in schema and (isinstance(schema[key], bool) or not isinstance(schema[key], (int, float))):
                found.append((f"{path}.{key}", f"{key} must be a number."))
        low, high = schema.get("minimum"), schema.get("maximum")
        if isinstance(low, (int, float)) and isinstance(high, (int, float)) and low > high:
            found.append((f"{path}.minimum", "minimum is larger than maximum, so no number could fit."))
        return found


class _OpenApiChecker(_Checks):
    """responseSchema, after parsing: the checks common to both forms, all the way down."""

    def __init__(self, field: str):
        self.field = field

    def walk(self, schema: dict, path: str) -> list[tuple[str, str]]:
        found = self.common(schema, path)
        if schema.get("enum") == []:
            found.append((f"{path}.enum", "enum must list at least one value."))
        for index, sub in enumerate((schema.get("properties") or {}).values()):
            found += self.walk(sub, f"{path}.properties[{index}].value")
        if isinstance(schema.get("items"), dict):
            found += self.walk(schema["items"], f"{path}.items")
        for index, sub in enumerate(schema.get("anyOf") or []):
            found += self.walk(sub, f"{path}.any_of[{index}]")
        return found


class _JsonChecker(_Checks):
    """responseJsonSchema: only the accepted keywords, known types, resolvable local references."""

    def __init__(self, root):
        self.root = root

    def walk(self, schema, path: str, label: str = "") -> list[tuple[str, str]]:
        """Violations in `schema` at `path`; `label` ("property \"name\": ") starts their descriptions."""
        if isinstance(schema, bool):
            return []  # true: any value; false: none (as additionalProperties or items)
        if not isinstance(schema, dict):
            return [(path, f"a schema must be a JSON object, not {json.dumps(schema)[:40]}.")]
        found = []
        for key in schema:
            if key not in JSON_KEYWORDS:
                found.append((f"{path}.{key}", f"{label}\"{key}\" is not supported in a response schema; remove it "
                                               f"(supported: {', '.join(JSON_KEYWORDS)})."))
        if "$ref" in schema:
            found += self.reference(schema, path)
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
        for item in kinds:
            if item not in JSON_TYPES:
                found.append((f"{path}.type", f"{label}unknown type {json.dumps(item)}; use one of "
                                              f"{', '.join(JSON_TYPES)}."))
        found += self.common(schema, path)
        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list) or not values or not all(
                    isinstance(value, (str, int, float)) and not isinstance(value, bool) for value in values):
                found.append((f"{path}.enum", "enum must be a non-empty list of strings or numbers."))
        if "format" in schema and not isinstance(schema["format"], str):
            found.append((f"{path}.format", "format must be a string such as \"date-time\"."))
        properties = schema.get("properties")
        if properties is not None:
            if not isinstance(properties, dict):
                found.append((f"{path}.properties", "properties must map property names to schemas."))
            else:
                for index, (name, sub) in enumerate(properties.items()):
                    found += self.walk(sub, f"{path}.properties[{index}].value", f"property {json.dumps(name)}: ")
        for key, text in (("items", "items"), ("additionalProperties", "additional_properties")):
            if key in schema:
                found += self.walk(schema[key], f"{path}.{text}")
        for key, text in (("prefixItems", "prefix_items"), ("anyOf", "any_of"), ("oneOf", "one_of")):
            if key in schema:
                branches = schema[key]
                if not isinstance(branches, list) or not branches:
                    found.append((f"{path}.{text}", f"{key} must be a non-empty list of schemas."))
                    continue
                for index, sub in enumerate(branches):
                    found += self.walk(sub, f"{path}.{text}[{index}]")
        definitions = schema.get("$defs")
        if definitions is not None:
            if not isinstance(definitions, dict):
                found.append((f"{path}.$defs", "$defs must map names to schemas."))
            else:
                for name, sub in definitions.items():
                    found += self.walk(sub, f"{path}.$defs[{json.dumps(name)}]")
        return found

    def reference(self, schema: dict, path: str) -> list[tuple[str, str]]:
        found = []
        others = [key for key in schema if not key.startswith("$")]
        if others:
            found.append((path, f"a $ref may have no sibling keywords except $-prefixed ones, but has "
                                f"{', '.join(others)}; move them into the referenced schema."))
        ref = schema["$ref"]
        try:
            resolve(self.root, ref)
        except KeyError:
            found.append((f"{path}.$ref", f"{json.dumps(ref)} does not name a schema in this document; refer "
                                          "to one under $defs as \"#/$defs/Name\"."))
        return found


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", r"_\1", name).lower()


# -- the Interactions API -------------------------------------------------------------------------
def interaction_settings(body: dict) -> dict:
    """generationConfig-style settings from an interaction's ``response_format`` (and the older
    top-level ``response_mime_type``): responseMimeType and responseJsonSchema when a schema is given.

    Forms read: {"type": "text", "mime_type": ..., "schema": {...}}, a list of such entries (the
    text one is used), and the legacy response_mime_type + response_format holding the schema.
    """
    form = body.get("response_format")
    mime = body.get("response_mime_type")
    if isinstance(form, list):
        form = next((item for item in form if isinstance(item, dict) and item.get("type") == "text"), None)
    settings: dict = {}
    if isinstance(form, dict) and (form.get("type") == "text" or "mime_type" in form or "schema" in form):
        mime = form.get("mime_type") or mime
        if form.get("schema") is not None:
            settings["responseJsonSchema"] = form["schema"]
    elif isinstance(form, dict) and form:
        settings["responseJsonSchema"] = form  # legacy: the schema itself, with response_mime_type
    if mime:
        settings["responseMimeType"] = mime
    return settings
