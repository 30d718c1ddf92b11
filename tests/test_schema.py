"""Python types → JSON Schemas for responseJsonSchema, and back: every type form round-trips.

Each case states the schema by hand, then a JSON value valid for it (checked with jsonschema when it
is installed) must parse into the expected Python value.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import typing
from typing import Annotated, Any, Literal, NotRequired, Optional, Required, TypedDict, Union

import pytest
from schema_checks import keywords, validate

from gemini_magic.errors import GeminiError
from gemini_magic.request.parsing import parse_as
from gemini_magic.request.schema import (ACCEPTED_KEYWORDS, SchemaError, classification_labels, json_schema,
                                         response_format)
from helpers import Mood, Place


class Stars(enum.IntEnum):
    ONE = 1
    FIVE = 5


@dataclasses.dataclass
class Address:
    """Where someone lives."""

    city: str = dataclasses.field(metadata={"description": "The city, in full."})
    postcode: Optional[str] = None


@dataclasses.dataclass
class Person:
    name: str
    address: Address
    mood: Mood
    nicknames: list[str] = dataclasses.field(default_factory=list)
    born: datetime.date | None = None


@dataclasses.dataclass
class Tree:
    label: str
    children: list[Tree] = dataclasses.field(default_factory=list)


class Movie(TypedDict):
    title: str
    year: int
    rating: NotRequired[float]


class Partial(TypedDict, total=False):
    title: Required[str]
    note: str


STRING, INTEGER, NUMBER, BOOLEAN, NULL = ({"type": t} for t in ("string", "integer", "number", "boolean", "null"))

PLACE = {"type": "object",
         "properties": {"name": STRING, "province": STRING, "rainfall_mm": NUMBER, "pet_friendly": BOOLEAN},
         "required": ["name", "province", "rainfall_mm", "pet_friendly"]}
ADDRESS = {"type": "object",
           "properties": {"city": {"type": "string", "description": "The city, in full."},
                          "postcode": {"anyOf": [STRING, NULL]}},
           "required": ["city"], "description": "Where someone lives."}
MOOD = {"type": "string", "enum": ["happy", "sad"]}

# (type, expected schema, a JSON value valid for it, the Python value it parses into)
CASES = [
    (str, STRING, "Huế", "Huế"),
    (int, INTEGER, 7, 7),
    (float, NUMBER, 2.5, 2.5),
    (float, NUMBER, 3, 3.0),
    (bool, BOOLEAN, False, False),
    (type(None), NULL, None, None),
    (datetime.datetime, {"type": "string", "format": "date-time"}, "2026-10-01T08:30:00+07:00",
     datetime.datetime(2026, 10, 1, 8, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=7)))),
    (datetime.date, {"type": "string", "format": "date"}, "2026-10-01", datetime.date(2026, 10, 1)),
    (datetime.time, {"type": "string", "format": "time"}, "08:30:00", datetime.time(8, 30)),
    (Mood, MOOD, "sad", Mood.SAD),
    (Stars, {"type": "integer", "enum": [1, 5]}, 5, Stars.FIVE),
    (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}, "b", "b"),
    (Literal[1, 2], {"type": "integer", "enum": [1, 2]}, 2, 2),
    (Literal["a", None], {"anyOf": [{"type": "string", "enum": ["a"]}, NULL]}, None, None),
    (Literal["a", 1], {"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "integer", "enum": [1]}]}, 1, 1),
    (list[int], {"type": "array", "items": INTEGER}, [1, 2, 3], [1, 2, 3]),
    (typing.List[str], {"type": "array", "items": STRING}, ["x"], ["x"]),
    (typing.Sequence[float], {"type": "array", "items": NUMBER}, [1, 2.5], [1.0, 2.5]),
    (tuple[int, ...], {"type": "array", "items": INTEGER}, [1, 2], (1, 2)),
    (tuple[str, int], {"type": "array", "prefixItems": [STRING, INTEGER], "minItems": 2, "maxItems": 2},
     ["a", 1], ("a", 1)),
    (dict[str, float], {"type": "object", "additionalProperties": NUMBER}, {"Huế": 2, "Hà Nội": 1.5},
     {"Huế": 2.0, "Hà Nội": 1.5}),
    (list, {"type": "array"}, [1, "x"], [1, "x"]),
    (dict, {"type": "object"}, {"a": [1]}, {"a": [1]}),
    (Any, {}, {"a": 1}, {"a": 1}),
    (Optional[int], {"anyOf": [INTEGER, NULL]}, None, None),
    (int | None, {"anyOf": [INTEGER, NULL]}, 4, 4),
    (Union[int, str], {"anyOf": [INTEGER, STRING]}, "x", "x"),
    (int | float, {"anyOf": [INTEGER, NUMBER]}, 2.5, 2.5),
    (Annotated[str, "The city."], {"type": "string", "description": "The city."}, "Huế", "Huế"),
    (typing.NewType("Millimetres", float), NUMBER, 12, 12.0),
    (Place, PLACE, {"name": "Huế", "province": "Thừa Thiên Huế", "rainfall_mm": 795, "pet_friendly": True},
     Place("Huế", "Thừa Thiên Huế", 795.0, True)),
    (list[Place], {"type": "array", "items": PLACE},
     [{"name": "Hội An", "province": "Quảng Nam", "rainfall_mm": 550.5, "pet_friendly": False}],
     [Place("Hội An", "Quảng Nam", 550.5, False)]),
    (Address, ADDRESS, {"city": "Đà Lạt"}, Address("Đà Lạt")),
    (Person,
     {"type": "object",
      "properties": {"name": STRING, "address": ADDRESS, "mood": MOOD,
                     "nicknames": {"type": "array", "items": STRING},
                     "born": {"anyOf": [{"type": "string", "format": "date"}, NULL]}},
      "required": ["name", "address", "mood"]},
     {"name": "Lan", "address": {"city": "Huế", "postcode": "530000"}, "mood": "happy",
      "nicknames": ["Lanie"], "born": "1990-02-03"},
     Person("Lan", Address("Huế", "530000"), Mood.HAPPY, ["Lanie"], datetime.date(1990, 2, 3))),
    (dict[str, list[Mood]], {"type": "object", "additionalProperties": {"type": "array", "items": MOOD}},
     {"mon": ["happy", "sad"]}, {"mon": [Mood.HAPPY, Mood.SAD]}),
    (Movie, {"type": "object", "properties": {"title": STRING, "year": INTEGER, "rating": NUMBER},
             "required": ["title", "year"]},
     {"title": "Mùi đu đủ xanh", "year": 1993}, {"title": "Mùi đu đủ xanh", "year": 1993}),
    (Partial, {"type": "object", "properties": {"title": STRING, "note": STRING}, "required": ["title"]},
     {"title": "x", "note": "y"}, {"title": "x", "note": "y"}),
    (Tree, {"$ref": "#/$defs/Tree",
            "$defs": {"Tree": {"type": "object",
                               "properties": {"label": STRING,
                                              "children": {"type": "array", "items": {"$ref": "#/$defs/Tree"}}},
                               "required": ["label"]}}},
     {"label": "root", "children": [{"label": "leaf", "children": []}]},
     Tree("root", [Tree("leaf")])),
]


@pytest.mark.parametrize("tp, expected, _value, _parsed", CASES, ids=[repr(c[0]) for c in CASES])
def test_schema_of_each_type_form(tp, expected, _value, _parsed):
    schema = json_schema(tp)
    assert schema == expected
    assert keywords(schema) <= ACCEPTED_KEYWORDS


@pytest.mark.parametrize("tp, schema, value, parsed", CASES, ids=[repr(c[0]) for c in CASES])
def test_round_trip_of_each_type_form(tp, schema, value, parsed):
    validate(json_schema(tp), value)
    result = parse_as(tp, value)
    assert result == parsed
    assert type(result) is type(parsed)


def test_property_order_is_the_order_written():
    assert list(json_schema(Place)["properties"]) == ["name", "province", "rainfall_mm", "pet_friendly"]
    assert list(json_schema(Person)["properties"]) == ["name", "address", "mood", "nicknames", "born"]


def test_a_json_schema_dict_passes_through_unchanged_as_a_copy():
    given = {"type": "object", "properties": {"x": {"type": "string", "pattern": "^a"}}}
    schema = json_schema(given)
    assert schema == given
    schema["properties"]["x"]["type"] = "integer"
    assert given["properties"]["x"]["type"] == "string"
    assert parse_as(given, {"x": 1}) == {"x": 1}


def test_json_schema_returns_a_new_dict_each_time():
    first = json_schema(list[Place])
    first["items"]["properties"].clear()
    assert json_schema(list[Place])["items"]["properties"]["name"] == STRING


def test_response_format_asks_for_json_with_the_schema():
    assert response_format(list[Place]) == {"responseMimeType": "application/json",
                                            "responseJsonSchema": {"type": "array", "items": PLACE}}
    assert response_format(Stars)["responseJsonSchema"] == {"type": "integer", "enum": [1, 5]}


def test_response_format_uses_the_enum_form_for_a_classification():
    assert response_format(Mood) == {"responseMimeType": "text/x.enum",
                                     "responseSchema": {"type": "STRING", "enum": ["happy", "sad"]}}
    assert response_format(Literal["positive", "negative"]) == {
        "responseMimeType": "text/x.enum", "responseSchema": {"type": "STRING", "enum": ["positive", "negative"]}}
    assert classification_labels(Optional[Mood]) is None
    assert classification_labels(Stars) is None


@pytest.mark.parametrize("tp, words", [
    (set[int], "(JSON has no sets); use list[...] instead"),
    (frozenset[str], "JSON has no sets"),
    (list[set[Place]], "set[Place] has no JSON form"),
    (bytes, "bytes have no JSON form"),
    (dict[int, str], "dict[int, str] has int keys"),
    (print, "is a function, not a type"),
    (lambda x: x, "is a function, not a type"),
    (Place("a", "b", 1.0, True), "is a value, not a type"),
    ("list[Place]", "is a string, not a type"),
    (Literal[True, False], "use bool instead"),
    (complex, "complex cannot be described as JSON"),
    (enum.Enum("Mixed", {"A": "a", "B": 1}), "The values of Mixed are not all strings or all numbers"),
    (tuple[()], "An empty tuple has no JSON form"),
])
def test_unsupported_types_raise_a_clear_schema_error(tp, words):
    with pytest.raises(SchemaError) as caught:
        json_schema(tp)
    assert words in str(caught.value)
    assert isinstance(caught.value, GeminiError)


@dataclasses.dataclass
class Endless:
    name: str
    children: list[Endless]


@dataclasses.dataclass
class Parent:
    name: str
    parent: Parent | None


@dataclasses.dataclass
class Department:
    name: str
    head: Employee


@dataclasses.dataclass
class Employee:
    name: str
    department: Department | None = None


@pytest.mark.parametrize("tp", [Endless, list[Parent]])
def test_a_record_that_recurs_only_through_required_fields_is_refused(tp):
    with pytest.raises(SchemaError, match="contains itself through required fields only, so an answer could "
                                          "never end; give one of those fields a default"):
        json_schema(tp)


def test_mutual_recursion_through_an_optional_field_is_accepted():
    employee = {"type": "object", "properties": {"name": STRING, "department": {
        "anyOf": [{"type": "object", "properties": {"name": STRING, "head": {"$ref": "#/$defs/Employee"}},
                   "required": ["name", "head"]}, NULL]}}, "required": ["name"]}
    assert json_schema(Employee) == {"$ref": "#/$defs/Employee", "$defs": {"Employee": employee}}
    value = {"name": "Lan", "department": {"name": "Rain", "head": {"name": "Minh"}}}
    validate(json_schema(Employee), value)
    assert parse_as(Employee, value) == Employee("Lan", Department("Rain", Employee("Minh")))


def test_an_unresolvable_forward_reference_is_a_schema_error():
    @dataclasses.dataclass
    class Broken:
        other: "NotDefinedAnywhere"  # noqa: F821

    with pytest.raises(SchemaError, match="type hints of Broken cannot be read"):
        json_schema(Broken)


def test_a_union_of_dataclasses_parses_into_the_first_that_fits():
    @dataclasses.dataclass
    class Cat:
        meows: bool

    @dataclasses.dataclass
    class Dog:
        barks: int

    tp = list[Cat | Dog]
    assert json_schema(tp) == {"type": "array", "items": {"anyOf": [
        {"type": "object", "properties": {"meows": BOOLEAN}, "required": ["meows"]},
        {"type": "object", "properties": {"barks": INTEGER}, "required": ["barks"]}]}}
    assert parse_as(tp, [{"barks": 2}, {"meows": True}]) == [Dog(2), Cat(True)]
