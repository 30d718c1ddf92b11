"""pydantic v2 models as answer types and tool parameters (skipped when pydantic is not installed)."""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest

pydantic = pytest.importorskip("pydantic")

from gemini_magic.request.declarations import call_arguments, function_declaration  # noqa: E402
from gemini_magic.request.parsing import parse_answer, parse_as, records  # noqa: E402
from gemini_magic.request.schema import (ACCEPTED_KEYWORDS, SchemaMismatchError, json_schema,  # noqa: E402
                                         response_format)

from schema_checks import keywords, validate  # noqa: E402


class Station(pydantic.BaseModel):
    code: str = pydantic.Field(pattern="^[A-Z]{3}$", description="Three capital letters.")
    height_m: int = pydantic.Field(ge=0)


class Reading(pydantic.BaseModel):
    """One day's rainfall at a station."""

    station: Station = pydantic.Field(description="Where it was measured.")
    backup: Station | None = None
    rainfall_mm: float
    kind: typing.Literal["daily"] = "daily"
    tags: list[str] = []


class Node(pydantic.BaseModel):
    name: str
    children: list[Node] = []


@dataclasses.dataclass
class Report:
    title: str
    readings: list[Reading]


STATION = {"type": "object",
           "properties": {"code": {"type": "string", "description": "Three capital letters."},
                          "height_m": {"type": "integer", "minimum": 0}},
           "required": ["code", "height_m"]}
READING = {"type": "object", "description": "One day's rainfall at a station.",
           "properties": {"station": {**STATION, "description": "Where it was measured."},
                          "backup": {"anyOf": [STATION, {"type": "null"}]},
                          "rainfall_mm": {"type": "number"},
                          "kind": {"type": "string", "enum": ["daily"]},
                          "tags": {"type": "array", "items": {"type": "string"}}},
           "required": ["station", "rainfall_mm"]}
VALUE = {"station": {"code": "HUE", "height_m": 10}, "backup": None, "rainfall_mm": 12, "kind": "daily",
         "tags": ["wet"]}


def test_a_model_schema_is_inlined_and_keeps_only_keywords_the_service_accepts():
    schema = json_schema(Reading)
    assert schema == READING
    assert "$defs" not in schema
    assert keywords(schema) <= ACCEPTED_KEYWORDS  # no default, pattern, const, title noise
    assert list(schema["properties"]) == ["station", "backup", "rainfall_mm", "kind", "tags"]


def test_a_recursive_model_keeps_one_definition_and_a_bare_ref():
    expected_node = {"type": "object",
                     "properties": {"name": {"type": "string"},
                                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
                     "required": ["name"]}
    assert json_schema(Node) == {"$ref": "#/$defs/Node", "$defs": {"Node": expected_node}}
    assert json_schema(list[Node]) == {"type": "array", "items": {"$ref": "#/$defs/Node"},
                                       "$defs": {"Node": expected_node}}
    value = {"name": "root", "children": [{"name": "leaf"}]}
    validate(json_schema(Node), value)
    assert parse_as(Node, value) == Node(name="root", children=[Node(name="leaf")])


class Endless(pydantic.BaseModel):
    name: str
    children: list[Endless]


class Chain(pydantic.BaseModel):
    name: str
    next: Chain | None


@pytest.mark.parametrize("tp", [Endless, list[Chain]])
def test_a_model_that_recurs_only_through_required_fields_is_refused(tp):
    from gemini_magic.request.schema import SchemaError

    with pytest.raises(SchemaError, match="contains itself through required fields only"):
        json_schema(tp)


def test_a_model_round_trips_inside_a_list_and_a_dataclass():
    validate(json_schema(list[Reading]), [VALUE])
    parsed = parse_as(list[Reading], [VALUE])
    assert parsed == [Reading(station=Station(code="HUE", height_m=10), rainfall_mm=12.0, tags=["wet"])]
    assert isinstance(parsed[0].station, Station)
    report = parse_answer(Report, json.dumps({"title": "October", "readings": [VALUE]}))
    assert report.readings[0].station.code == "HUE"
    assert json_schema(Report)["properties"]["readings"] == {"type": "array", "items": READING}


def test_response_format_of_a_model():
    assert response_format(Reading) == {"responseMimeType": "application/json", "responseJsonSchema": READING}


def test_a_model_mismatch_names_the_path_inside_the_list():
    bad = [VALUE, {**VALUE, "station": {"code": "hue", "height_m": 10}}]
    with pytest.raises(SchemaMismatchError) as caught:
        parse_as(list[Reading], bad)
    assert caught.value.path == "$[1].station.code"
    assert str(caught.value).startswith("At $[1].station.code string should match pattern")
    assert 'found the string "hue"' in str(caught.value)


def test_a_missing_model_field_is_named():
    with pytest.raises(SchemaMismatchError) as caught:
        parse_as(Reading, {"station": {"code": "HUE", "height_m": 1}})
    assert caught.value.path == "$.rainfall_mm"
    assert "the field is missing" in str(caught.value)


def test_records_of_models_flatten_nested_models_in_schema_order():
    parsed = parse_as(list[Reading], [VALUE, {**VALUE, "backup": {"code": "HAN", "height_m": 5}}])
    columns, rows = records(list[Reading], parsed)
    assert columns == ["station.code", "station.height_m", "backup.code", "backup.height_m", "rainfall_mm",
                       "kind", "tags"]
    assert rows == [["HUE", 10, None, None, 12.0, "daily", ["wet"]],
                    ["HUE", 10, "HAN", 5, 12.0, "daily", ["wet"]]]


def test_a_model_as_a_tool_parameter():
    def log_reading(reading: Reading, note: str = "") -> str:
        """Store a reading.

        Args:
            reading: The reading to store.
            note: Free text.
        """
        return note

    declaration = function_declaration(log_reading)
    assert declaration["parametersJsonSchema"] == {
        "type": "object",
        "properties": {"reading": {**READING, "description": "The reading to store."},
                       "note": {"type": "string", "description": "Free text."}},
        "required": ["reading"]}
    arguments = call_arguments(log_reading, {"reading": VALUE})
    assert arguments == {"reading": Reading(station=Station(code="HUE", height_m=10), rainfall_mm=12.0,
                                            tags=["wet"])}
    with pytest.raises(SchemaMismatchError) as caught:
        call_arguments(log_reading, {"reading": {**VALUE, "rainfall_mm": "lots"}})
    assert caught.value.path == "$.reading.rainfall_mm"
