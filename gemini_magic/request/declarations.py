"""Kernel functions as tools: the declaration the model sees, and its JSON arguments back as Python values.

    def get_rainfall(city: str, month: int) -> float:
        \"\"\"Average rainfall in millimetres for a city and month.

        Args:
            city: The city's name.
            month: The month, 1-12.
        \"\"\"

    function_declaration(get_rainfall)
    # {"name": "get_rainfall", "description": "Average rainfall in millimetres for a city and month.",
    #  "parametersJsonSchema": {"type": "object", "properties": {
    #      "city": {"type": "string", "description": "The city's name."},
    #      "month": {"type": "integer", "description": "The month, 1-12."}},
    #   "required": ["city", "month"]}}
    call_arguments(get_rainfall, {"city": "Huế", "month": 10.0})   # {"city": "Huế", "month": 10}

Parameters map to schemas as json_schema does (str, int, float, bool, list/dict of those, Literal,
Enum, Optional, dataclasses, TypedDicts, pydantic models, ...). A parameter with a default is not
required; one without a type hint takes the type of its default (str, int, float or bool). Functions,
bound methods, functools.partial (bound arguments are hidden from the model), callable objects and
lambdas (given a name=) are accepted. Pure: nothing is called here.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any, Callable

from .docstrings import parse_docstring
from .parsing import child, parse_as
from .schema import object_schema
from ..errors import SchemaError, SchemaMismatchError
from .typeforms import Field, class_description, type_hints, type_name, unwrap

__all__ = ["function_declaration", "call_arguments", "tool_name"]

#: FunctionDeclaration.name: the Discovery document (rev 20250701) allows "a-z, A-Z, 0-9, or contain
#: underscores and dashes, with a maximum length of 63"; later docs also ask for a letter or an
#: underscore first. Both rules at once.
_VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,62}\Z")
_DEFAULT_TYPES = (bool, int, float, str)


def function_declaration(func: Callable, *, name: str | None = None, description: str | None = None) -> dict:
    """The functionDeclarations entry for `func`: {"name", "description", "parametersJsonSchema"}.

    `name` and `description` override what the function says of itself (a lambda needs `name`).
    The description is the docstring's prose before its sections; parameter descriptions come from
    Annotated[X, "text"] or the docstring's Google, NumPy or Sphinx parameter section.
    Raises SchemaError for a name the service refuses, *args/**kwargs or positional-only parameters,
    a parameter with no type hint and no default, or a hint with no JSON form.
    """
    tool = _Tool.of(func, name)
    return {"name": tool.name,
            "description": tool.description if description is None else description,
            "parametersJsonSchema": object_schema(tool.fields)}


def tool_name(func: Callable) -> str:
    """The name `func` is declared under (its __name__, checked). Raises SchemaError as
    function_declaration does."""
    return _Tool.of(func, None).name


def call_arguments(func: Callable, arguments: dict | None) -> dict:
    """The model's JSON `arguments` for `func` converted to its annotated types, as keyword arguments.

    Enum parameters get members, dataclass and pydantic parameters instances, an integral 10.0 an
    int. Raises SchemaMismatchError for an argument that does not fit (its path is "$.name"), a
    missing required argument or one `func` does not take; SchemaError as function_declaration does.

        >>> call_arguments(get_rainfall, {"city": "Huế", "month": 10})
        {'city': 'Huế', 'month': 10}
    """
    tool = _Tool.of(func, None, check_name=False)
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise SchemaMismatchError(f"The arguments for {tool.label} are not an object: {arguments!r}.",
                                  path="$", expected="an object of arguments", found=repr(arguments))
    known = [field.name for field in tool.fields]
    unknown = [key for key in arguments if key not in known]
    if unknown:
        names = ", ".join(repr(key) for key in unknown)
        raise SchemaMismatchError(
            f"{tool.label} takes no argument{'s' if len(unknown) > 1 else ''} named {names}; it takes "
            f"{', '.join(known) or 'no arguments'}.", path=child("$", unknown[0]),
            expected="a parameter of the function", found=names)
    values = {}
    for field in tool.fields:
        where = child("$", field.name)
        if field.name in arguments:
            values[field.name] = parse_as(field.tp, arguments[field.name], where)
        elif field.required:
            raise SchemaMismatchError(
                f"The call to {tool.label} lacks the required argument {field.name!r} "
                f"({type_name(field.tp)}).", path=where, expected=type_name(field.tp), found=None)
    return values


class _Tool:
    """What a callable offers the model: a checked name, a description and its parameters."""

    def __init__(self, name: str, label: str, description: str, fields: list[Field]) -> None:
        self.name, self.label, self.description, self.fields = name, label, description, fields

    @classmethod
    def of(cls, func: Callable, name: str | None, check_name: bool = True) -> _Tool:
        if not callable(func):
            raise SchemaError(f"{func!r} is not callable; a tool must be a function.")
        base, bound = _unwrap_partial(func)
        own_name = getattr(base, "__name__", None) or type(base).__name__
        name, label = name or own_name, f"{name or own_name}()"
        if check_name:
            _check_name(name)
        try:
            signature = inspect.signature(func)
        except (TypeError, ValueError) as error:
            raise SchemaError(f"The signature of {label} cannot be read ({error}); wrap it in a def with "
                              "typed parameters.") from error
        source = _hint_source(base)
        hints = type_hints(source, label) if source is not None else {}
        summary, documented = parse_docstring(_doc_source(base))
        fields = []
        for parameter in signature.parameters.values():
            if parameter.name in bound:
                continue
            _check_kind(parameter, label)
            tp, annotated = unwrap(_parameter_type(parameter, hints, label))
            fields.append(Field(parameter.name, tp, parameter.default is inspect.Parameter.empty,
                                annotated or documented.get(parameter.name)))
        return cls(name, label, summary, fields)


def _unwrap_partial(func: Any) -> tuple[Any, set[str]]:
    """The function under any functools.partial layers, and the keywords they already bind."""
    bound: set[str] = set()
    while isinstance(func, functools.partial):
        bound |= set(func.keywords)
        func = func.func
    return func, bound


def _hint_source(base: Any) -> Any:
    """Where the parameters' type hints live (None for builtins, which have none)."""
    if inspect.isclass(base):
        return base.__init__ if inspect.isfunction(base.__init__) else None
    if inspect.ismethod(base):
        return inspect.unwrap(base.__func__)
    if inspect.isfunction(base):
        return inspect.unwrap(base)
    call = getattr(type(base), "__call__", None)
    return call if inspect.isfunction(call) else None


def _doc_source(base: Any) -> str | None:
    if inspect.isclass(base):
        return class_description(base)
    if not (inspect.isfunction(base) or inspect.ismethod(base)):
        call_doc = inspect.getdoc(getattr(type(base), "__call__", None))
        return call_doc or inspect.getdoc(type(base))
    return inspect.getdoc(base)


def _check_name(name: str) -> None:
    if name == "<lambda>":
        raise SchemaError("A lambda has no name the model could call; define the tool with def, or give "
                          "it one: function_declaration(func, name='get_rainfall').")
    if not _VALID_NAME.match(name):
        raise SchemaError(f"{name!r} cannot be a tool name: the service accepts 1 to 63 ASCII letters, "
                          "digits, underscores and dashes, starting with a letter or underscore. Rename "
                          "the function or pass name=.")


def _check_kind(parameter: inspect.Parameter, label: str) -> None:
    if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
        raise SchemaError(f"{label} takes *{parameter.name}, but the model can only pass named "
                          "arguments; give it named, typed parameters instead.")
    if parameter.kind is inspect.Parameter.VAR_KEYWORD:
        raise SchemaError(f"{label} takes **{parameter.name}, which declares no parameters the model "
                          "could fill; give it named, typed parameters instead.")
    if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
        raise SchemaError(f"{label} has the positional-only parameter {parameter.name!r}, but the model "
                          "passes arguments by name; wrap it in a def with named parameters.")


def _parameter_type(parameter: inspect.Parameter, hints: dict, label: str) -> Any:
    if parameter.name in hints:
        return hints[parameter.name]
    if parameter.annotation is not inspect.Parameter.empty and not isinstance(parameter.annotation, str):
        return parameter.annotation
    default = parameter.default
    if default is not inspect.Parameter.empty and type(default) in _DEFAULT_TYPES:
        return type(default)
    raise SchemaError(f"The parameter {parameter.name!r} of {label} has no type hint, so the model would "
                      f"not know what to pass; annotate it (for example {parameter.name}: str).")
