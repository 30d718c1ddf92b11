"""Kernel functions as tool declarations (parametersJsonSchema from hints, defaults and docstrings),
and the model's JSON arguments back as the annotated Python values."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
from typing import Annotated, Literal, Optional, TypedDict

import pytest
from schema_checks import keywords, validate

from gemini_magic.request.declarations import call_arguments, function_declaration, tool_name
from gemini_magic.request.docstrings import parse_docstring
from gemini_magic.request.schema import ACCEPTED_KEYWORDS, SchemaError, SchemaMismatchError


class Unit(enum.Enum):
    MM = "mm"
    INCH = "inch"


@dataclasses.dataclass
class Where:
    city: str
    country: str = "VN"


@dataclasses.dataclass
class Folder:
    name: str
    subfolders: list[Folder] = dataclasses.field(default_factory=list)


class Span(TypedDict):
    start: datetime.date
    days: int


def get_rainfall(city: str, month: int) -> float:
    """Average rainfall in millimetres for a city and month."""
    return 0.0


def _schema(func) -> dict:
    return function_declaration(func)["parametersJsonSchema"]


def _param(annotation, default=dataclasses.MISSING) -> dict:
    """The schema of parameter `x` of a function annotated with `annotation`."""
    def func(x): ...
    func.__annotations__ = {"x": annotation}
    if default is not dataclasses.MISSING:
        func.__defaults__ = (default,)
    return _schema(func)


def test_the_declaration_of_a_simple_function():
    assert function_declaration(get_rainfall) == {
        "name": "get_rainfall",
        "description": "Average rainfall in millimetres for a city and month.",
        "parametersJsonSchema": {"type": "object",
                                 "properties": {"city": {"type": "string"}, "month": {"type": "integer"}},
                                 "required": ["city", "month"]}}
    assert tool_name(get_rainfall) == "get_rainfall"


WHERE = {"type": "object", "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
         "required": ["city"]}


@pytest.mark.parametrize("annotation, expected", [
    (str, {"type": "string"}),
    (int, {"type": "integer"}),
    (float, {"type": "number"}),
    (bool, {"type": "boolean"}),
    (list[str], {"type": "array", "items": {"type": "string"}}),
    (list[float], {"type": "array", "items": {"type": "number"}}),
    (dict[str, int], {"type": "object", "additionalProperties": {"type": "integer"}}),
    (dict[str, bool], {"type": "object", "additionalProperties": {"type": "boolean"}}),
    (Literal["mm", "inch"], {"type": "string", "enum": ["mm", "inch"]}),
    (Unit, {"type": "string", "enum": ["mm", "inch"]}),
    (Optional[int], {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
    (Unit | None, {"anyOf": [{"type": "string", "enum": ["mm", "inch"]}, {"type": "null"}]}),
    (Where, WHERE),
    (list[Where], {"type": "array", "items": WHERE}),
    (Span, {"type": "object", "properties": {"start": {"type": "string", "format": "date"},
                                             "days": {"type": "integer"}}, "required": ["start", "days"]}),
    (datetime.datetime, {"type": "string", "format": "date-time"}),
    (Annotated[str, "The city's name."], {"type": "string", "description": "The city's name."}),
])
def test_each_supported_annotation_gives_the_hand_written_schema(annotation, expected):
    schema = _param(annotation)
    assert schema == {"type": "object", "properties": {"x": expected}, "required": ["x"]}
    assert keywords(schema) <= ACCEPTED_KEYWORDS


def test_a_recursive_dataclass_parameter_is_defined_once_at_the_root():
    def tidy(folder: Folder) -> None:
        """Tidy a folder."""

    assert _schema(tidy) == {
        "type": "object", "properties": {"folder": {"$ref": "#/$defs/Folder"}}, "required": ["folder"],
        "$defs": {"Folder": {"type": "object",
                             "properties": {"name": {"type": "string"},
                                            "subfolders": {"type": "array", "items": {"$ref": "#/$defs/Folder"}}},
                             "required": ["name"]}}}
    arguments = {"folder": {"name": "a", "subfolders": [{"name": "b"}]}}
    validate(_schema(tidy), arguments)
    assert call_arguments(tidy, arguments) == {"folder": Folder("a", [Folder("b")])}


def test_defaults_are_not_required_and_an_untyped_default_gives_the_type():
    def search(query: str, limit: int = 10, exact=False, unit: Unit = Unit.MM, note: str | None = None):
        """Search."""

    schema = _schema(search)
    assert schema["required"] == ["query"]
    assert schema["properties"]["exact"] == {"type": "boolean"}
    assert list(schema["properties"]) == ["query", "limit", "exact", "unit", "note"]


def test_a_function_without_parameters_or_docstring():
    def now(): ...

    assert function_declaration(now) == {"name": "now", "description": "",
                                         "parametersJsonSchema": {"type": "object", "properties": {}}}


def test_google_style_docstring():
    def get_rainfall(city: str, month: int, unit: Unit = Unit.MM) -> float:
        """Average rainfall for a city and month.

        Uses the 1991-2020 normals.

        Args:
            city (str): The city's name,
                in Vietnamese.
            month: The month, 1-12.
            unit: Millimetres or inches.

        Returns:
            float: The rainfall.

        Raises:
            KeyError: unknown city.
        """

    declaration = function_declaration(get_rainfall)
    assert declaration["description"] == "Average rainfall for a city and month.\n\nUses the 1991-2020 normals."
    properties = declaration["parametersJsonSchema"]["properties"]
    assert properties["city"] == {"type": "string", "description": "The city's name, in Vietnamese."}
    assert properties["month"] == {"type": "integer", "description": "The month, 1-12."}
    assert properties["unit"] == {"type": "string", "enum": ["mm", "inch"], "description": "Millimetres or inches."}


def test_numpy_style_docstring():
    def convert(value: float, unit: Literal["mm", "inch"] = "mm", low: int = 0, high: int = 1) -> float:
        """Convert a rainfall value.

        Parameters
        ----------
        value : float
            The amount,
            never negative.
        unit : {"mm", "inch"}, optional
            The unit to convert to.
        low, high : int
            The bounds.

        Returns
        -------
        float
            The converted value.
        """

    declaration = function_declaration(convert)
    assert declaration["description"] == "Convert a rainfall value."
    properties = declaration["parametersJsonSchema"]["properties"]
    assert properties["value"]["description"] == "The amount, never negative."
    assert properties["unit"]["description"] == "The unit to convert to."
    assert properties["low"]["description"] == properties["high"]["description"] == "The bounds."


def test_sphinx_style_docstring_and_annotated_descriptions_win():
    def lookup(key: str, region: Annotated[str, "A region code such as VN-HUE."] = "VN"):
        """Look a key up.

        :param key: The key to look up,
            case-sensitive.
        :param region: Ignored, Annotated wins.
        :returns: the value
        """

    declaration = function_declaration(lookup)
    assert declaration["description"] == "Look a key up."
    properties = declaration["parametersJsonSchema"]["properties"]
    assert properties["key"]["description"] == "The key to look up, case-sensitive."
    assert properties["region"]["description"] == "A region code such as VN-HUE."


def test_parse_docstring_without_sections_keeps_all_prose():
    assert parse_docstring("  One line.\n\n  More text.\n") == ("One line.\n\nMore text.", {})
    assert parse_docstring(None) == ("", {})


def test_a_partial_hides_its_bound_arguments():
    bound = functools.partial(get_rainfall, month=10)
    assert function_declaration(bound)["name"] == "get_rainfall"
    assert _schema(bound) == {"type": "object", "properties": {"city": {"type": "string"}},
                              "required": ["city"]}
    assert call_arguments(bound, {"city": "Huế"}) == {"city": "Huế"}
    with pytest.raises(SchemaMismatchError, match="takes no argument named 'month'"):
        call_arguments(bound, {"city": "Huế", "month": 3})
    positional = functools.partial(get_rainfall, "Huế")
    assert list(_schema(positional)["properties"]) == ["month"]


def test_a_bound_method_and_a_callable_object():
    class Station:
        def reading(self, day: datetime.date) -> float:
            """The reading on a day."""
            return 1.0

        def __call__(self, hours: int) -> float:
            """The rainfall over the last hours."""
            return 2.0

    station = Station()
    assert function_declaration(station.reading) == {
        "name": "reading", "description": "The reading on a day.",
        "parametersJsonSchema": {"type": "object", "properties": {"day": {"type": "string", "format": "date"}},
                                 "required": ["day"]}}
    declaration = function_declaration(station)
    assert declaration["name"] == "Station"
    assert declaration["description"] == "The rainfall over the last hours."
    assert declaration["parametersJsonSchema"]["properties"] == {"hours": {"type": "integer"}}
    assert call_arguments(station.reading, {"day": "2026-10-01"}) == {"day": datetime.date(2026, 10, 1)}


def test_a_lambda_needs_a_name():
    with pytest.raises(SchemaError, match="A lambda has no name the model could call"):
        function_declaration(lambda city: city)
    declaration = function_declaration(lambda city="Huế": city, name="echo", description="Echo a city.")
    assert declaration == {"name": "echo", "description": "Echo a city.",
                           "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}}}


@pytest.mark.parametrize("name, ok", [
    ("get_rainfall", True), ("get-rainfall-2", True), ("x" * 63, True),
    ("_private", True), ("x" * 64, False), ("lượng_mưa", False), ("get.rainfall", False), ("", False),
    ("2fast", False), ("-x", False),
])
def test_names_are_checked_as_the_service_does(name, ok):
    if ok:
        assert function_declaration(get_rainfall, name=name)["name"] == name
    else:
        with pytest.raises(SchemaError, match="cannot be a tool name: the service accepts 1 to 63 ASCII .* "
                                              "starting with a letter or underscore"):
            function_declaration(get_rainfall, name=name or " ")


def test_a_non_ascii_function_name_is_refused_with_a_hint():
    def lượng_mưa(city: str) -> float: ...

    with pytest.raises(SchemaError, match="Rename the function or pass name="):
        function_declaration(lượng_mưa)
    assert function_declaration(lượng_mưa, name="rainfall")["name"] == "rainfall"


@pytest.mark.parametrize("source, words", [
    ("def f(*cities: str): ...", "f() takes *cities, but the model can only pass named arguments"),
    ("def f(city: str, **options): ...", "f() takes **options, which declares no parameters"),
    ("def f(city: str, /): ...", "f() has the positional-only parameter 'city'"),
    ("def f(city): ...", "The parameter 'city' of f() has no type hint"),
    ("def f(city=None): ...", "The parameter 'city' of f() has no type hint"),
    ("def f(tags: set[str]): ...", "set[str] has no JSON form"),
    ("def f(city: 'Nowhere'): ...", "The type hints of f() cannot be read"),
])
def test_parameters_the_model_cannot_fill_are_refused_clearly(source, words):
    namespace: dict = {}
    exec(source, namespace)
    with pytest.raises(SchemaError) as caught:
        function_declaration(namespace["f"])
    assert words in str(caught.value)


def test_a_dataclass_as_a_tool_uses_its_fields_and_its_own_docstring_only():
    declaration = function_declaration(Where)
    assert declaration == {"name": "Where", "description": "", "parametersJsonSchema": WHERE}
    assert call_arguments(Where, {"city": "Huế"}) == {"city": "Huế"}


def test_a_builtin_and_something_not_callable_are_refused():
    with pytest.raises(SchemaError, match="positional-only parameter"):
        function_declaration(len)
    with pytest.raises(SchemaError, match="is not callable"):
        function_declaration(42)


def test_call_arguments_convert_to_the_annotated_types():
    def plan(where: Where, unit: Unit, months: list[int], span: Span | None = None, note: str = "") -> str:
        """Plan a trip."""
        return ""

    arguments = {"where": {"city": "Huế"}, "unit": "inch", "months": [10.0, 11], "span": None}
    validate(_schema(plan), arguments)
    converted = call_arguments(plan, arguments)
    assert converted == {"where": Where("Huế"), "unit": Unit.INCH, "months": [10, 11], "span": None}
    assert converted["unit"] is Unit.INCH
    assert all(type(month) is int for month in converted["months"])
    assert call_arguments(get_rainfall, {"city": "Huế", "month": 10}) == {"city": "Huế", "month": 10}
    assert call_arguments(lambda: 1, None) == {}


def test_bad_arguments_name_the_problem():
    with pytest.raises(SchemaMismatchError) as caught:
        call_arguments(get_rainfall, {"city": "Huế", "month": "October"})
    assert str(caught.value) == 'At $.month expected int but found the string "October".'
    assert caught.value.path == "$.month"
    with pytest.raises(SchemaMismatchError) as caught:
        call_arguments(get_rainfall, {"city": "Huế"})
    assert str(caught.value) == "The call to get_rainfall() lacks the required argument 'month' (int)."
    with pytest.raises(SchemaMismatchError) as caught:
        call_arguments(get_rainfall, {"city": "Huế", "month": 1, "year": 2026, "day": 3})
    assert str(caught.value) == "get_rainfall() takes no arguments named 'year', 'day'; it takes city, month."
    with pytest.raises(SchemaMismatchError, match="The arguments for get_rainfall\\(\\) are not an object"):
        call_arguments(get_rainfall, ["Huế", 10])
