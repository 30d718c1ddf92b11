"""The one deterministic value that fits a JSON Schema, by the rules in ``structured.py``.

``Writer(root, words).value(root)`` writes it; ``normalise`` reads an OpenAPI-subset responseSchema
in JSON Schema terms first; ``resolve`` follows local ``$ref`` pointers. Pure: no I/O.
"""

from __future__ import annotations

import datetime
import re

ARRAY_ITEMS = 3
MAX_DEPTH = 40       # nesting past this means a cycle that never ends
MAX_VALUES = 20_000  # values in one answer past this: refused as too large
FALLBACK_WORD = "emulator"
FIRST_DATE = datetime.date(2026, 1, 1)
#: The fields of the Schema message (responseSchema); camelCase or snake_case, as proto JSON reads them.
OPENAPI_FIELDS = ("type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
                  "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
                  "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum")
SNAKE_FIELDS = {re.sub(r"([A-Z])", r"_\1", name).lower(): name for name in OPENAPI_FIELDS}


class SchemaCycle(Exception):
    """The schema recurs through required properties only (``too_large`` False), or its one answer
    would hold more than MAX_VALUES values (``too_large`` True)."""

    def __init__(self, too_large: bool = False):
        super().__init__("too large" if too_large else "a cycle through required properties")
        self.too_large = too_large


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
            raise SchemaCycle(too_large=depth <= MAX_DEPTH)
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
