"""Structured output end to end: `client.generate/stream(..., schema=TYPE)` against the emulator over
loopback, then `.parsed` and `.to_pandas()`.

Every supported type form goes schema (gemini_magic.json_schema) → emulator answer → jsonschema
validates it → `.parsed` equals the instances the emulator's documented rules give
(emulator/structured.py): the prompt's words one per string in order, cycling; integers 1, 2, ...;
numbers 1.5, 3.0, ...; booleans true, false, ...; dates from 2026-01-01; the first enum value;
arrays and maps of three; recursion stopped at optional fields.
"""

from __future__ import annotations

import datetime
import enum
import json
import typing
from dataclasses import dataclass, field
from typing import Literal, Optional, TypedDict

import jsonschema
import pytest

from gemini_magic import json_schema
from gemini_magic.errors import BadRequestError, SchemaMismatchError
from helpers import Mood, Place

MODEL = "gemini-2.5-flash"
PROMPT = "alpha beta gamma delta"
UTC = datetime.timezone.utc


class Size(enum.Enum):
    SMALL = "small"
    LARGE = "large"


@dataclass
class Address:
    street: str
    number: int


@dataclass
class Shop:
    name: str
    size: Size
    kind: Literal["cafe", "bar"]
    address: Address
    opened: datetime.date
    checked: datetime.datetime
    rating: Optional[float]
    stock: dict[str, int]
    pair: tuple[str, float]
    tags: list[str] = field(default_factory=list)


class Row(TypedDict):
    city: str
    people: int


@dataclass
class Node:
    name: str
    children: list["Node"] = field(default_factory=list)


PLACES = [Place("alpha", "beta", 1.5, True), Place("gamma", "delta", 3.0, False), Place("alpha", "beta", 4.5, True)]

# (type, expected .parsed) for the prompt "alpha beta gamma delta"
FORMS = [
    pytest.param(list[Place], PLACES, id="list-of-dataclasses"),
    pytest.param(Place, Place("alpha", "beta", 1.5, True), id="dataclass"),
    pytest.param(Shop, Shop(name="alpha", size=Size.SMALL, kind="cafe", address=Address("beta", 1),
                            opened=datetime.date(2026, 1, 1),
                            checked=datetime.datetime(2026, 1, 2, 9, 30, tzinfo=UTC), rating=1.5,
                            stock={"gamma": 2, "delta": 3, "alpha": 4}, pair=("beta", 3.0),
                            tags=["gamma", "delta", "alpha"]), id="nested-enum-literal-dates-optional-map-tuple"),
    pytest.param(list[Row], [{"city": "alpha", "people": 1}, {"city": "beta", "people": 2},
                             {"city": "gamma", "people": 3}], id="typeddict"),
    pytest.param(dict[str, float], {"alpha": 1.5, "beta": 3.0, "gamma": 4.5}, id="dict"),
    pytest.param(list[int], [1, 2, 3], id="list-of-int"),
    pytest.param(Optional[int], 1, id="optional"),
    pytest.param(str, "alpha", id="str"),
    pytest.param(bool, True, id="bool"),
    pytest.param(list[Size], [Size.SMALL] * 3, id="list-of-enum"),
    pytest.param(tuple[str, int, bool], ("alpha", 1, True), id="tuple"),
    pytest.param(Node, Node("alpha"), id="recursive-dataclass"),
]


def _answer_fits(response, tp) -> None:
    jsonschema.validate(json.loads(response.text), json_schema(tp))


@pytest.mark.parametrize("tp, expected", FORMS)
def test_every_type_form_round_trips(client, tp, expected):
    response = client.generate(MODEL, PROMPT, schema=tp)
    assert response.finish_reason == "STOP"
    _answer_fits(response, tp)
    assert response.parsed == expected
    assert type(response.parsed) is type(expected)
    assert client.generate(MODEL, PROMPT, schema=tp).text == response.text  # deterministic


def test_nested_values_are_instances(client):
    shop = client.generate(MODEL, PROMPT, schema=Shop).parsed
    assert isinstance(shop.address, Address) and shop.size is Size.SMALL
    assert isinstance(shop.checked, datetime.datetime) and shop.checked.tzinfo is not None
    assert isinstance(shop.pair, tuple)


def test_pydantic_models(client):
    pydantic = pytest.importorskip("pydantic")

    class City(pydantic.BaseModel):
        name: str
        population: int
        size: Size
        tags: list[str] = []

    response = client.generate(MODEL, PROMPT, schema=list[City])
    _answer_fits(response, list[City])
    assert response.parsed == [City(name="alpha", population=1, size=Size.SMALL, tags=["beta", "gamma", "delta"]),
                               City(name="alpha", population=2, size=Size.SMALL, tags=["beta", "gamma", "delta"]),
                               City(name="alpha", population=3, size=Size.SMALL, tags=["beta", "gamma", "delta"])]


def test_a_json_schema_dict_comes_back_as_plain_json(client):
    schema = {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer"}},
                                         "required": ["n"]}, "maxItems": 2}
    assert client.generate(MODEL, PROMPT, schema=schema).parsed == [{"n": 1}, {"n": 2}]


@pytest.mark.parametrize("tp, prompt, expected", [
    (Mood, "How does this sound?", Mood.HAPPY), (Literal["yes", "no"], "How does this sound?", "yes"),
    (Mood, "I am sad: the trip was a waste.", Mood.SAD), (Literal["yes", "no"], "No, not at all.", "no"),
])
def test_a_classification_is_the_label_the_words_speak_for_else_the_first(client, tp, prompt, expected):
    response = client.generate(MODEL, prompt, schema=tp)
    assert response.text == (expected.value if isinstance(expected, enum.Enum) else expected)
    assert response.parsed == expected


def test_to_pandas_columns_dtypes_and_index(client):
    pandas = pytest.importorskip("pandas")
    frame = client.generate(MODEL, PROMPT, schema=list[Place]).to_pandas()
    assert list(frame.columns) == ["name", "province", "rainfall_mm", "pet_friendly"]
    assert frame.shape == (3, 4)
    assert list(frame.index) == [0, 1, 2]
    assert frame["rainfall_mm"].dtype == "float64" and frame["pet_friendly"].dtype == bool
    assert frame["name"].tolist() == ["alpha", "gamma", "alpha"]
    one = client.generate(MODEL, PROMPT, schema=Place).to_pandas()
    assert one.shape == (1, 4) and one.loc[0, "province"] == "beta"
    assert isinstance(one, pandas.DataFrame)


def test_streamed_json_arrives_in_partial_pieces_and_parses_at_the_end(client):
    stream = client.stream(MODEL, PROMPT, schema=list[Place])
    pieces = [chunk.text for chunk in stream if chunk.text]
    assert len(pieces) >= 4
    for end in range(1, len(pieces)):
        with pytest.raises(json.JSONDecodeError):
            json.loads("".join(pieces[:end]))  # every prefix is partial JSON
    response = stream.response
    assert response.finish_reason == "STOP"
    assert response.parsed == PLACES
    assert "".join(pieces) == client.generate(MODEL, PROMPT, schema=list[Place]).text


def test_a_token_limit_cut_keeps_the_text_and_parsed_says_why(client):
    full = client.generate(MODEL, PROMPT, schema=list[Place]).text
    response = client.generate(MODEL, PROMPT, schema=list[Place], max_output_tokens=10)
    assert response.finish_reason == "MAX_TOKENS"
    assert response.text == full[:40]
    with pytest.raises(SchemaMismatchError) as caught:
        response.parsed
    assert "token limit" in str(caught.value) and "maximum output tokens" in str(caught.value)
    with pytest.raises(SchemaMismatchError):
        response.to_pandas()
    streamed = client.stream(MODEL, PROMPT, schema=list[Place], max_output_tokens=10)
    assert "".join(chunk.text for chunk in streamed) == full[:40]
    with pytest.raises(SchemaMismatchError, match="token limit"):
        streamed.response.parsed


def test_a_schema_the_service_refuses_is_a_bad_request_naming_the_field(client):
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z]+$"}}}
    with pytest.raises(BadRequestError) as caught:
        client.generate(MODEL, PROMPT, schema=schema)
    message = str(caught.value)
    assert "response_json_schema.properties[0].value.pattern" in message
    assert '"pattern" is not supported' in message


def test_json_schema_of_every_form_is_accepted_by_the_emulator(client):
    """The client's schemas never trip the emulator's refusals (no keyword outside the accepted set)."""
    forms = [param.values[0] for param in FORMS] + [Mood, Literal["a", 1], typing.Union[int, str]]
    for tp in forms:
        response = client.generate(MODEL, PROMPT, schema=tp)
        assert response.text, tp
