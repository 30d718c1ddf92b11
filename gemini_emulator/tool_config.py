"""The tools of a request: function declarations, built-in tools and the calling mode, checked.

``tool_set(body)`` reads a GenerateContentRequest's ``tools`` and ``toolConfig``;
``interaction_tool_set(body)`` reads an Interactions request's ``tools`` (``{"type": "function",
name, description, parameters}``, ``{"type": "google_search"}``...) and ``tool_choice``. Both answer
a :class:`ToolSet`, or raise the service's 400 INVALID_ARGUMENT:

* parse-level problems, all reported at once, one line each (as the service does): an unknown field
  (``Invalid JSON payload received. Unknown name "additionalProperties" at
  'tools[0].function_declarations[0].parameters': Cannot find field.``), a type that is not one of
  the OpenAPI ``Type`` enum in ``parameters`` (``Invalid value at '...properties[0].value.type'
  (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), "text"``), a mode that is not a
  ``FunctionCallingConfig.Mode``;
* semantic ones, as ``* GenerateContentRequest.<path>: <description>`` lines: a function name that
  breaks the service's rule (quoted from public bug reports: start with a letter or underscore, then
  letters, digits, ``_ . -``, at most 64), ``parameters`` and ``parametersJsonSchema`` both set, a
  JSON Schema ``type`` that JSON Schema does not know. (The wording of the last two is the
  emulator's: no recording of them was found.)

Schemas are kept as received; ``arguments.py`` reads both forms (OpenAPI types are upper case).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import bad_request

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
NAME_RULE = ("Invalid function name. Must start with a letter or an underscore. Must be alphameric "
             "(a-z, A-Z, 0-9), underscores (_), dots (.) or dashes (-), with a maximum length of 64.")
BUILT_IN = {"googleSearch": "google_search", "googleSearchRetrieval": "google_search",
            "codeExecution": "code_execution", "urlContext": "url_context", "googleMaps": "google_maps",
            "fileSearch": "file_search", "computerUse": "computer_use"}
TOOL_FIELDS = {"functionDeclarations", *BUILT_IN, "mcpServers"}
DECLARATION_FIELDS = {"name", "description", "parameters", "parametersJsonSchema", "response",
                      "responseJsonSchema", "behavior"}
OPENAPI_FIELDS = {"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
                  "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
                  "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum",
                  "maximum"}
OPENAPI_TYPES = {"TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"}
JSON_TYPES = {"string", "number", "integer", "boolean", "array", "object", "null"}
MODES = ("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED")
TYPE_ENUM = "type.googleapis.com/google.ai.generativelanguage.v1beta.Type"
MODE_ENUM = "type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode"
# Interactions API built-in tool types, as generateContent names them.
INTERACTION_BUILT_IN = {"google_search", "code_execution", "url_context", "google_maps", "file_search",
                        "computer_use", "mcp_server"}


@dataclass
class Declaration:
    """One callable function: its name, description and parameter schema (``{}`` when none)."""

    name: str
    description: str = ""
    schema: dict = field(default_factory=dict)


@dataclass
class ToolSet:
    """What a request offers the model: declarations, built-in tools (snake_case) and the mode."""

    declarations: list = field(default_factory=list)
    built_in: list = field(default_factory=list)
    mode: str = "AUTO"
    allowed: list = field(default_factory=list)

    def callable(self) -> list:
        """The declarations the model may call (``allowedFunctionNames`` applies in ANY mode)."""
        if self.mode == "ANY" and self.allowed:
            return [d for d in self.declarations if d.name in self.allowed]
        return list(self.declarations)

    def __bool__(self) -> bool:
        return bool(self.declarations or self.built_in)


def _pick(obj: dict, name: str):
    if name in obj:
        return obj[name]
    return obj.get(re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower())


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


class _Collector:
    """Parse-level problems (reported together) and semantic ones (``* Request.path: text`` lines)."""

    def __init__(self, request_name: str):
        self.request_name = request_name
        self.parse: list[tuple[str, str]] = []
        self.semantic: list[tuple[str, str]] = []

    def unknown(self, key: str, path: str) -> None:
        self.parse.append((path, f'Invalid JSON payload received. Unknown name "{key}" at \'{path}\': '
                                 "Cannot find field."))

    def invalid(self, path: str, type_name: str, value) -> None:
        shown = f'"{value}"' if isinstance(value, str) else repr(value)
        self.parse.append((path, f"Invalid value at '{path}' ({type_name}), {shown}"))

    def finish(self) -> None:
        if self.parse:
            raise bad_request("\n".join(text for _, text in self.parse), self.parse)
        if self.semantic:
            message = "".join(f"* {self.request_name}.{path}: {text}\n" for path, text in self.semantic)
            raise bad_request(message, self.semantic)


def tool_set(body: dict, request_name: str = "GenerateContentRequest") -> ToolSet:
    """The ``tools`` and ``toolConfig`` of a generate request, checked; raises the service's 400."""
    found = ToolSet()
    check = _Collector(request_name)
    tools = _pick(body, "tools") or []
    if not isinstance(tools, list):
        raise bad_request(f"Invalid value at 'tools' (type.googleapis.com/google.ai.generativelanguage.v1beta"
                          f".Tool), {tools!r}")
    for number, tool in enumerate(tools):
        path = f"tools[{number}]"
        if not isinstance(tool, dict):
            check.invalid(path, "type.googleapis.com/google.ai.generativelanguage.v1beta.Tool", tool)
            continue
        for key, value in tool.items():
            name = _camel(key)
            if name not in TOOL_FIELDS:
                check.unknown(key, path)
            elif name in BUILT_IN and BUILT_IN[name] not in found.built_in:
                found.built_in.append(BUILT_IN[name])
            elif name == "functionDeclarations":
                for index, item in enumerate(value or []):
                    declaration = _declaration(item, f"{path}.function_declarations[{index}]", check)
                    if declaration is not None:
                        found.declarations.append(declaration)
    config = _pick(body, "toolConfig") or {}
    calling = _pick(config, "functionCallingConfig") or {} if isinstance(config, dict) else {}
    if isinstance(calling, dict):
        mode = _pick(calling, "mode") or "AUTO"
        if mode not in MODES:
            check.invalid("tool_config.function_calling_config.mode", MODE_ENUM, mode)
        found.mode = "AUTO" if mode in ("MODE_UNSPECIFIED", "VALIDATED") else mode
        found.allowed = [str(name) for name in _pick(calling, "allowedFunctionNames") or []]
    check.finish()
    return found


def _declaration(item, path: str, check: _Collector) -> Declaration | None:
    if not isinstance(item, dict):
        check.invalid(path, "type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionDeclaration",
                      item)
        return None
    for key in item:
        if _camel(key) not in DECLARATION_FIELDS:
            check.unknown(key, path)
    name = item.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        check.semantic.append((f"{path}.name", NAME_RULE))
    parameters = _pick(item, "parameters")
    json_schema = _pick(item, "parametersJsonSchema")
    if parameters is not None and json_schema is not None:
        check.semantic.append((path, "parameters and parameters_json_schema cannot both be set."))
    if parameters is not None:
        _openapi_schema(parameters, f"{path}.parameters", check)
    if json_schema is not None:
        _json_schema(json_schema, f"{path}.parameters_json_schema", check)
    schema = json_schema if json_schema is not None else parameters
    return Declaration(str(name or ""), str(item.get("description") or ""),
                       schema if isinstance(schema, dict) else {})


def _openapi_schema(schema, path: str, check: _Collector) -> None:
    """The OpenAPI-subset ``Schema`` message: known fields only, ``type`` from the Type enum."""
    if not isinstance(schema, dict):
        check.invalid(path, "type.googleapis.com/google.ai.generativelanguage.v1beta.Schema", schema)
        return
    for key in schema:
        if _camel(key) not in OPENAPI_FIELDS:
            check.unknown(key, path)
    kind = schema.get("type")
    if kind is not None and (not isinstance(kind, str) or kind.upper() not in OPENAPI_TYPES):
        check.invalid(f"{path}.type", TYPE_ENUM, kind)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for index, value in enumerate(properties.values()):
            _openapi_schema(value, f"{path}.properties[{index}].value", check)
    if schema.get("items") is not None:
        _openapi_schema(schema["items"], f"{path}.items", check)
    for index, option in enumerate(_pick(schema, "anyOf") or []):
        _openapi_schema(option, f"{path}.any_of[{index}]", check)


def _json_schema(schema, path: str, check: _Collector) -> None:
    """JSON Schema (a free-form value on the wire): only unknown ``type`` names are refused."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        check.semantic.append((path, f"Invalid JSON Schema: expected an object or a boolean, got {schema!r}."))
        return
    kinds = schema.get("type")
    for kind in kinds if isinstance(kinds, list) else [] if kinds is None else [kinds]:
        if kind not in JSON_TYPES:
            check.semantic.append((path, f'Invalid JSON Schema: type "{kind}" is not one of string, number, '
                                         "integer, boolean, array, object, null."))
    children = list((schema.get("properties") or {}).values()) if isinstance(schema.get("properties"), dict) \
        else []
    children += [schema[key] for key in ("items", "additionalProperties") if isinstance(schema.get(key), dict)]
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        children += [item for item in schema.get(key) or [] if isinstance(item, dict)]
    children += [item for item in (schema.get("$defs") or {}).values() if isinstance(item, dict)]
    for child in children:
        _json_schema(child, path, check)


def interaction_tool_set(body: dict) -> ToolSet:
    """An Interactions request's ``tools`` and ``tool_choice`` (top level or in generation_config)."""
    found = ToolSet()
    check = _Collector("CreateInteractionRequest")
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise bad_request("tools must be a list of tools ({type: function, name, ...}, {type: google_search}...).")
    for number, tool in enumerate(tools):
        path = f"tools[{number}]"
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind == "function":
            name = tool.get("name")
            if not isinstance(name, str) or not NAME.match(name):
                check.semantic.append((f"{path}.name", NAME_RULE))
            if tool.get("parameters") is not None:
                _json_schema(tool["parameters"], f"{path}.parameters", check)
            schema = tool.get("parameters")
            found.declarations.append(Declaration(str(name or ""), str(tool.get("description") or ""),
                                                  schema if isinstance(schema, dict) else {}))
        elif kind in INTERACTION_BUILT_IN:
            if kind not in found.built_in:
                found.built_in.append(kind)
        else:
            check.invalid(f"{path}.type", "tool type", kind)
    config = body.get("generation_config") if isinstance(body.get("generation_config"), dict) else {}
    choice = body.get("tool_choice", config.get("tool_choice"))
    if isinstance(choice, dict):
        allowed = choice.get("allowed_tools") or {}
        found.mode = str(allowed.get("mode") or "auto").upper()
        found.allowed = [str(name) for name in allowed.get("tools") or []]
    elif choice is not None:
        found.mode = str(choice).upper()
    if found.mode not in MODES:
        check.invalid("tool_choice", "tool choice", choice)
    found.mode = "AUTO" if found.mode in ("MODE_UNSPECIFIED", "VALIDATED") else found.mode
    check.finish()
    return found

