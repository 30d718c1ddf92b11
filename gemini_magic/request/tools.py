"""The `tools=` a user passes, as the request's `tools` and `toolConfig`, and the kernel functions behind them.

    def get_rainfall(city: str, month: int) -> float: ...

    found = tool_set([get_rainfall, "google_search"])
    found.tools        # [{"functionDeclarations": [{"name": "get_rainfall", ...}]}, {"googleSearch": {}}]
    found.functions    # {"get_rainfall": get_rainfall}: what the automatic calling loop may run
    tool_config("any", allowed=[get_rainfall])
    # {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_rainfall"]}}

Items of `tools=`: a callable (declared by request/declarations.py), a built-in tool's name
("google_search", "url_context", "code_execution", "google_maps"), or a wire dict (a Tool such as
`{"functionDeclarations": [...]}` or `{"googleSearch": {}}`, or one FunctionDeclaration
`{"name", ...}`), sent as given. Every function goes into one `functionDeclarations` entry, first.

Modes: "auto" (the model decides; the default, nothing sent), "any" (it must call), "none" (it must
not), "manual" (AUTO on the wire, but the calls are returned instead of run). Pure: nothing is called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import SchemaError, SettingsError
from .declarations import function_declaration

__all__ = ["BUILTIN_TOOLS", "TOOL_MODES", "ToolSet", "tool_set", "tool_config", "interaction_tools"]

#: Built-in tools by name: the generateContent Tool and the Interactions API tool type.
BUILTIN_TOOLS = {
    "google_search": ({"googleSearch": {}}, "google_search"),
    "url_context": ({"urlContext": {}}, "url_context"),
    "code_execution": ({"codeExecution": {}}, "code_execution"),
    "google_maps": ({"googleMaps": {}}, "google_maps"),
}
TOOL_MODES = ("auto", "any", "none", "manual")


@dataclass
class ToolSet:
    """What `tools=` asked for: `tools` (the request's list), `functions` (name → kernel callable, in
    order), `declarations` (the function declarations sent), `builtins` (names of the built-in tools),
    `wire` (the Tool dicts given, as they are)."""

    tools: list = field(default_factory=list)
    functions: dict = field(default_factory=dict)
    declarations: list = field(default_factory=list)
    builtins: list = field(default_factory=list)
    wire: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.tools)


def tool_set(tools: Any) -> ToolSet:
    """Sort `tools=` (a list, or one item, or a ToolSet: returned as it is) into the request's `tools` and the callables to run.

    Raises SettingsError for an unknown built-in name, an item of another kind, or two functions of
    the same name; SchemaError when a function cannot be declared (see function_declaration)."""
    if tools is None:
        return ToolSet()
    if isinstance(tools, ToolSet):
        return tools  # sorted (and its functions declared) once already, earlier in this call
    items = list(tools) if isinstance(tools, (list, tuple)) else [tools]
    found = ToolSet()
    wire: list = []
    for item in items:
        if isinstance(item, str):
            key = item.strip().lower().replace("-", "_")
            if key not in BUILTIN_TOOLS:
                raise SettingsError(f"There is no built-in tool named {item!r}; use one of "
                                    f"{', '.join(BUILTIN_TOOLS)}, or pass a function.")
            if key not in found.builtins:
                found.builtins.append(key)
                wire.append(dict(BUILTIN_TOOLS[key][0]))
        elif isinstance(item, dict):
            if "name" in item and "type" not in item and "functionDeclarations" not in item:
                _add(found, item, None)  # one FunctionDeclaration
            else:
                wire.append(item)
                found.wire.append(item)
        elif callable(item):
            _add(found, function_declaration(item), item)
        else:
            raise SettingsError(f"A tool must be a function, a built-in tool's name or a Tool dict; got "
                                f"{type(item).__name__}.")
    found.tools = ([{"functionDeclarations": list(found.declarations)}] if found.declarations else []) + wire
    return found


def _add(found: ToolSet, declaration: dict, func: Callable | None) -> None:
    name = declaration.get("name")
    if any(d.get("name") == name for d in found.declarations):
        raise SettingsError(f"Two tools are named {name!r}; the model could not tell them apart. Rename one "
                            "(or pass only one).")
    found.declarations.append(declaration)
    if func is not None:
        found.functions[name] = func


def check_mode(mode: str | None) -> str:
    """A tool mode, lower case ("auto" for None). Raises SettingsError for another word."""
    word = "auto" if mode is None else str(mode).strip().lower()
    if word not in TOOL_MODES:
        raise SettingsError(f"tool_mode must be one of {', '.join(TOOL_MODES)}; got {mode!r}.")
    return word


def tool_config(mode: str | None = "auto", allowed: Any = None) -> dict | None:
    """The request's `toolConfig` for a mode and the functions the model may call (names or
    callables; the service takes them in ANY mode only). None when nothing needs sending (auto or
    manual with no list). Raises SettingsError for an unknown mode or a list outside ANY mode."""
    word = check_mode(mode)
    names = [_name(item) for item in allowed] if allowed else []
    if names and word != "any":
        raise SettingsError(f"allowed functions apply in tool mode 'any' only (the service refuses them in "
                            f"{word!r}); pass tool_mode='any' or leave them out.")
    if word in ("auto", "manual") and not names:
        return None
    config: dict[str, Any] = {"mode": "AUTO" if word == "manual" else word.upper()}
    if names:
        config["allowedFunctionNames"] = names
    return {"functionCallingConfig": config}


def _name(item: Any) -> str:
    if isinstance(item, str):
        return item
    if callable(item):
        return function_declaration(item)["name"]
    raise SchemaError(f"An allowed function must be a name or a function; got {type(item).__name__}.")


def interaction_tools(found: ToolSet) -> list:
    """The same tools for the Interactions API: `{"type": "function", "name", "description",
    "parameters"}` per function, `{"type": "google_search"}` ... per built-in, then the wire dicts
    given (which must be in that API's form already) as they are."""
    converted = [{"type": "function", "name": d["name"], "description": d.get("description", ""),
                  "parameters": d.get("parametersJsonSchema") or d.get("parameters") or {"type": "object"}}
                 for d in found.declarations]
    converted += [{"type": BUILTIN_TOOLS[name][1]} for name in found.builtins]
    return converted + list(found.wire)
