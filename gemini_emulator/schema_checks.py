"""The service's checks of a response schema: ``schema_violations`` lists what it refuses.

responseSchema (the Schema message) is parsed first, so an unknown field or type name is refused at
once with the parser's message ("Invalid JSON payload received. Unknown name ... Cannot find
field."); then both forms are checked for what the service refuses: responseJsonSchema keywords
outside its list, unknown types, ``required`` or ``propertyOrdering`` naming a missing property,
unresolvable or decorated ``$ref``s, impossible counts and bounds, cycles through required
properties. Paths follow the service's: ``properties[0].value``, ``any_of[1]``, ``items``.
"""

from __future__ import annotations

import json
import re

from .errors import bad_request
from .schema_values import (FALLBACK_WORD, MAX_VALUES, OPENAPI_FIELDS, SNAKE_FIELDS, SchemaCycle, Writer, count,
                            normalise, resolve, schema_type)

JSON_MIME = "application/json"
ENUM_MIME = "text/x.enum"
#: responseJsonSchema's keywords (Discovery document, GenerationConfig.responseJsonSchema).
JSON_KEYWORDS = ("$id", "$defs", "$ref", "$anchor", "type", "format", "title", "description", "enum", "items",
                 "prefixItems", "minItems", "maxItems", "minimum", "maximum", "anyOf", "oneOf", "properties",
                 "additionalProperties", "required", "propertyOrdering")
JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")
OPENAPI_TYPES = ("TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL")
COUNTS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")


def schema_violations(kind: str, schema, field: str, mime: str) -> list[tuple[str, str]]:
    """Violations (field path, description) of one schema: `kind` "json" (responseJsonSchema) or
    "openapi" (responseSchema) at `field`, asked for with `mime`. Raises ApiError (400) for a
    responseSchema the parser refuses."""
    if kind == "openapi":
        _parse_openapi(schema, field)
        schema = normalise(schema)
        violations = _OpenApiChecker(field).walk(schema, field)
    else:
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
    except SchemaCycle as cycle:
        if cycle.too_large:
            return [(field, f"an answer to this schema would hold more than {MAX_VALUES:,} values; nest fewer "
                            "arrays or bound them with maxItems.")]
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
