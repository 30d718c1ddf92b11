"""Answers back into typed values: mismatch messages with paths, cut or invalid JSON, classifications,
and records flattened into table columns."""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Literal, Optional, TypedDict

import pytest

from gemini_magic.request.parsing import child, parse_answer, parse_as, records
from gemini_magic.request.schema import SchemaMismatchError
from helpers import Mood, Place


@dataclasses.dataclass
class Address:
    city: str
    postcode: Optional[str] = None


@dataclasses.dataclass
class Person:
    name: str
    address: Address
    mood: Mood
    born: datetime.date | None = None


class Movie(TypedDict):
    title: str
    year: int


PLACES = [{"name": "Huế", "province": "Thừa Thiên Huế", "rainfall_mm": 795, "pet_friendly": True},
          {"name": "Hội An", "province": "Quảng Nam", "rainfall_mm": 550.5, "pet_friendly": False},
          {"name": "Sa Pa", "province": "Lào Cai", "rainfall_mm": 180, "pet_friendly": True}]


def _mismatch(tp, data) -> SchemaMismatchError:
    with pytest.raises(SchemaMismatchError) as caught:
        parse_as(tp, data)
    return caught.value


@pytest.mark.parametrize("tp, data, path, message", [
    (list[Place], [*PLACES[:2], {**PLACES[2], "rainfall_mm": "lots"}], "$[2].rainfall_mm",
     'At $[2].rainfall_mm expected float but found the string "lots".'),
    (list[Place], [PLACES[0], {k: v for k, v in PLACES[1].items() if k != "province"}], "$[1].province",
     "At $[1].province expected str but the field is missing."),
    (Place, [PLACES[0]], "$", "At $ expected Place (an object) but found a list of 1 item."),
    (list[Place], {"places": PLACES}, "$", "At $ expected list[Place] but found an object with keys places."),
    (Person, {"name": "Lan", "address": {"city": 3}, "mood": "happy"}, "$.address.city",
     "At $.address.city expected str but found the number 3."),
    (Person, {"name": "Lan", "address": {"city": "Huế"}, "mood": "angry"}, "$.mood",
     "At $.mood expected Mood (one of 'happy', 'sad') but found the string \"angry\"."),
    (Person, {"name": "Lan", "address": {"city": "Huế"}, "mood": "sad", "born": "yesterday"}, "$.born",
     'At $.born expected date (an ISO 8601 string) but found the string "yesterday".'),
    (Person, {"name": None, "address": {"city": "Huế"}, "mood": "sad"}, "$.name",
     "At $.name expected str but found null."),
    (int, 2.5, "$", "At $ expected int but found the number 2.5."),
    (int, True, "$", "At $ expected int but found true."),
    (bool, 1, "$", "At $ expected bool but found the number 1."),
    (float, "1.5", "$", 'At $ expected float but found the string "1.5".'),
    (Literal["a", "b"], "c", "$", "At $ expected Literal['a', 'b'] but found the string \"c\"."),
    (Literal[1, 2], True, "$", "At $ expected Literal[1, 2] but found true."),
    (tuple[str, int], ["a"], "$", "At $ expected tuple[str, int] (a list of 2 items) but found a list of 1 item."),
    (dict[str, int], {"ok": 1, "not ok": "x"}, '$["not ok"]',
     'At $["not ok"] expected int but found the string "x".'),
    (list[int] | None, [1, "2"], "$[1]", 'At $[1] expected int but found the string "2".'),
    (int | str, [1], "$", "At $ expected int | str but found a list of 1 item."),
    (Movie, {"title": "x"}, "$.year", "At $.year expected int but the field is missing."),
    (list[int], ["x" * 60], "$[0]", 'At $[0] expected int but found the string "' + "x" * 37 + '...".'),
])
def test_a_mismatch_names_the_first_problem_its_path_and_the_expected_type(tp, data, path, message):
    error = _mismatch(tp, data)
    assert error.path == path
    assert str(error) == message


def test_parse_as_builds_instances_and_accepts_ints_for_floats_and_integral_floats_for_ints():
    assert parse_as(list[Place], PLACES)[0] == Place("Huế", "Thừa Thiên Huế", 795.0, True)
    assert type(parse_as(list[Place], PLACES)[0].rainfall_mm) is float
    assert parse_as(int, 10.0) == 10 and type(parse_as(int, 10.0)) is int
    assert parse_as(Person, {"name": "Lan", "address": {"city": "Huế", "extra": 1}, "mood": "sad",
                             "ignored": True}) == Person("Lan", Address("Huế"), Mood.SAD)
    assert parse_as(datetime.datetime, "2026-10-01T08:00:00Z").tzinfo == datetime.timezone.utc
    assert parse_as(datetime.date, "2026-10-01T08:00:00") == datetime.date(2026, 10, 1)


def test_parse_answer_reads_json_and_a_json_fence():
    text = json.dumps(PLACES, ensure_ascii=False)
    assert parse_answer(list[Place], text) == parse_as(list[Place], PLACES)
    fenced = "```json\n" + json.dumps(PLACES, indent=2, ensure_ascii=False) + "\n```\n"
    assert parse_answer(list[Place], fenced) == parse_as(list[Place], PLACES)
    assert parse_answer(dict[str, int], "```\n{\"a\": 1}\n```") == {"a": 1}


def test_a_truncated_answer_says_where_it_was_cut():
    text = json.dumps(PLACES, ensure_ascii=False)[:70]
    with pytest.raises(SchemaMismatchError) as caught:
        parse_answer(list[Place], text)
    assert str(caught.value) == ("The answer is not valid JSON (cut at character 70?); ask again, or for less.")
    assert caught.value.path == "$"
    assert caught.value.expected == "list[Place]"


def test_a_truncated_answer_cut_by_the_token_limit_says_so():
    cut = json.dumps(PLACES, ensure_ascii=False)[:43]
    assert cut.endswith('Thiên Hu')
    with pytest.raises(SchemaMismatchError) as caught:
        parse_answer(list[Place], "```json\n" + cut, finish_reason="MAX_TOKENS")
    assert str(caught.value) == ("The answer is not valid JSON: the token limit cut it at character 43. "
                                 "Raise the maximum output tokens or ask for less.")


def test_an_answer_cut_for_another_reason_names_it():
    with pytest.raises(SchemaMismatchError, match=r"cut at character 9\?\) \(the answer stopped early: "
                                                  r"SAFETY\); ask again"):
        parse_answer(list[Place], '[{"name": ', finish_reason="SAFETY")


def test_invalid_json_in_the_middle_is_not_called_cut():
    with pytest.raises(SchemaMismatchError) as caught:
        parse_answer(list[Place], '[{"name" "Huế"}]')
    assert str(caught.value) == ("The answer is not valid JSON (Expecting ':' delimiter at character 9); "
                                 "ask again for JSON only.")


def test_an_empty_answer():
    with pytest.raises(SchemaMismatchError) as caught:
        parse_answer(list[Place], "", finish_reason="MAX_TOKENS")
    assert str(caught.value) == "The answer is empty, so it holds no list[Place] (the token limit cut it)."


def test_valid_json_of_the_wrong_shape_names_the_path():
    with pytest.raises(SchemaMismatchError) as caught:
        parse_answer(list[Place], json.dumps([PLACES[0], {**PLACES[1], "pet_friendly": "yes"}]))
    assert caught.value.path == "$[1].pet_friendly"
    assert caught.value.found == 'the string "yes"'


def test_a_classification_answer_is_the_bare_label():
    assert parse_answer(Mood, "happy\n") is Mood.HAPPY
    assert parse_answer(Mood, '"sad"') is Mood.SAD
    assert parse_answer(Literal["positive", "negative"], " negative ") == "negative"
    with pytest.raises(SchemaMismatchError, match="expected Mood \\(one of 'happy', 'sad'\\) but found "
                                                  'the string "meh"'):
        parse_answer(Mood, "meh")


def test_child_paths():
    assert child("$", "name") == "$.name"
    assert child("$", 2) == "$[2]"
    assert child("$.a", "Hà Nội") == '$.a["Hà Nội"]'


def test_records_of_a_list_of_dataclasses_in_schema_order():
    places = parse_as(list[Place], PLACES)
    columns, rows = records(list[Place], places)
    assert columns == ["name", "province", "rainfall_mm", "pet_friendly"]
    assert rows[1] == ["Hội An", "Quảng Nam", 550.5, False]
    assert len(rows) == 3


def test_records_flatten_nested_records_and_give_enum_values():
    people = [Person("Lan", Address("Huế", "530000"), Mood.HAPPY, datetime.date(1990, 2, 3)),
              Person("Minh", Address("Hà Nội"), Mood.SAD)]
    columns, rows = records(list[Person], people)
    assert columns == ["name", "address.city", "address.postcode", "mood", "born"]
    assert rows == [["Lan", "Huế", "530000", "happy", datetime.date(1990, 2, 3)],
                    ["Minh", "Hà Nội", None, "sad", None]]


def test_records_of_one_record_is_one_row():
    assert records(Place, Place("Huế", "TTH", 1.0, True)) == (
        ["name", "province", "rainfall_mm", "pet_friendly"], [["Huế", "TTH", 1.0, True]])


def test_records_of_typed_dicts_plain_values_and_dicts():
    assert records(list[Movie], [{"title": "A", "year": 1}, {"title": "B"}]) == (
        ["title", "year"], [["A", 1], ["B", None]])
    assert records(list[str], ["a", "b"]) == (["value"], [["a"], ["b"]])
    assert records(list[dict[str, int]], [{"a": 1}, {"b": 2, "a": 3}]) == (["a", "b"], [[1, None], [3, 2]])


def test_records_with_a_json_schema_dict_use_its_property_order():
    schema = {"type": "array", "items": {"type": "object", "properties": {"y": {}, "x": {}}}}
    assert records(schema, [{"x": 1, "y": 2}]) == (["y", "x"], [[2, 1]])
