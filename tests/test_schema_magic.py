"""`--schema TYPE` on %%gemini and `schema=` on Client: what is sent, and how the type expression is read."""

from __future__ import annotations

from typing import Literal

import pytest
from IPython.core.error import UsageError
from helpers import Mood, Place


def _run(shell, line, cell):
    """Run a cell; whether the answer parses is the emulator's business (tests/test_structured_output.py)."""
    try:
        shell.run_cell_magic("gemini", line, cell)
    except UsageError as error:
        assert "The answer's text is in" in str(error), error


def _sent(emulator):
    return [r.json for r in emulator.requests if "enerateContent" in r.path][-1]


def test_schema_sends_the_json_schema_in_class_order(shell, emulator):
    shell.user_ns["Place"] = Place
    _run(shell, "--schema list[Place] --no-stream -o places", "Five places in Vietnam.")
    config = _sent(emulator)["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    items = config["responseJsonSchema"]["items"]
    assert list(items["properties"]) == ["name", "province", "rainfall_mm", "pet_friendly"]
    assert shell.user_ns["places"].answer_type.type == list[Place]


def test_the_magic_and_the_client_send_the_same_schema(shell, emulator, client):
    shell.user_ns["Place"] = Place
    _run(shell, "--schema list[Place] --no-stream", "Five places.")
    from_magic = [r.body for r in emulator.requests if r.path.endswith(":generateContent")][-1]
    client.generate("gemini-2.5-flash", "Five places.", schema=list[Place])
    assert [r.body for r in emulator.requests if r.path.endswith(":generateContent")][-1] == from_magic


def test_an_enum_is_a_classification(shell, emulator):
    shell.user_ns["Mood"] = Mood
    _run(shell, "--schema Mood --no-stream", "How does this sound?")
    config = _sent(emulator)["generationConfig"]
    assert config["responseMimeType"] == "text/x.enum"
    assert config["responseSchema"] == {"type": "STRING", "enum": ["happy", "sad"]}
    assert shell.user_ns["_gemini"].text


@pytest.mark.parametrize("expression, message", [
    ("list[Nowhere]", "Nowhere is not defined"),
    ("open('x')", "only type expressions"),
    ("Place._private", "private attributes"),
    ("list[", "not a Python type expression"),
    ("3 + 4", "only type expressions"),
])
def test_bad_schema_expressions_are_refused_before_sending(shell, emulator, expression, message):
    shell.user_ns["Place"] = Place
    with pytest.raises(UsageError, match=message):
        shell.run_cell_magic("gemini", f"--schema '{expression}'", "hi")
    assert not [r for r in emulator.requests if "enerateContent" in r.path]


def test_literal_and_optional_expressions_are_read(shell, emulator):
    shell.user_ns["Place"] = Place
    shell.user_ns["Literal"] = Literal
    _run(shell, "--schema 'Place | None' --no-stream --max-tokens 5", "One place.")
    assert "anyOf" in _sent(emulator)["generationConfig"]["responseJsonSchema"]


def test_parsed_without_a_schema_says_what_to_do(client):
    from gemini_magic.errors import GeminiError

    response = client.generate("gemini-2.5-flash", "hi")
    with pytest.raises(GeminiError, match="No schema was asked for"):
        response.parsed


def test_an_unsupported_type_is_refused_before_sending(client, emulator):
    from gemini_magic.errors import SchemaError

    with pytest.raises(SchemaError):
        client.generate("gemini-2.5-flash", "hi", schema=set[bytes])
    assert not emulator.requests


def test_a_typed_answer_in_an_interactions_conversation(shell, emulator):
    shell.user_ns["Place"] = Place
    shell.user_ns.pop("typed", None)
    shell.run_cell_magic("gemini", "--chat typed --interactions -m gemini-3-flash-preview --schema list[Place]",
                         "Five places in Vietnam.")
    body = [r.json for r in emulator.requests if r.path.endswith("/interactions")][-1]
    assert body["response_format"]["mime_type"] == "application/json"
    assert list(body["response_format"]["schema"]["items"]["properties"])[:2] == ["name", "province"]
    import json

    assert isinstance(json.loads(shell.user_ns["typed"].turns[-1].response.text), list)


def test_a_literal_keeps_its_quotes(shell, emulator):
    _run(shell, '--schema Literal["pos","neg"] --no-stream', "Classify: I love it.")
    assert _sent(emulator)["generationConfig"]["responseSchema"] == {"type": "STRING", "enum": ["pos", "neg"]}
