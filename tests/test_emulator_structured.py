"""The emulator's structured output over loopback: answers that fit responseJsonSchema /
responseSchema, text/x.enum labels, streamed chunks cut inside strings and numbers, MAX_TOKENS cuts,
the service's 400 for schemas it refuses, and response_format in the Interactions API.

Expected answers are computed here from the documented rules (emulator/structured.py), not with the
emulator's code: words of the prompt one per string, integers 1, 2, ..., numbers 1.5, 3.0, ...,
booleans alternating from true, the first enum value, arrays of three.
"""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

try:
    from .test_emulator_support import (GENERATE, STREAM_ARRAY, STREAM_SSE, answer_text, call, raw_request,
                                        running_emulator, sse_events, text_request)
except ImportError:
    from test_emulator_support import (GENERATE, STREAM_ARRAY, STREAM_SSE, answer_text, call, raw_request,
                                       running_emulator, sse_events, text_request)

PROMPT = "Five places to visit in Vietnam in October, with typical rainfall."
WORDS = re.findall(r"\w+", PROMPT)  # Five, places, to, visit, in, Vietnam, in, October, with, ...
PLACE = {"type": "object", "properties": {"name": {"type": "string"}, "province": {"type": "string"},
                                          "rainfall_mm": {"type": "number"}, "pet_friendly": {"type": "boolean"}},
         "required": ["name", "province", "rainfall_mm", "pet_friendly"]}
PLACES = {"type": "array", "items": PLACE}


@pytest.fixture(scope="module")
def emu():
    yield from running_emulator()


def ask(emu, schema, prompt=PROMPT, path=GENERATE, key="responseJsonSchema", mime="application/json", **config):
    return call(emu, "POST", path, text_request(prompt, responseMimeType=mime, **{key: schema}, **config))


def answer_of(emu, schema, **options) -> str:
    reply = ask(emu, schema, **options)
    assert reply.status == 200, reply.body[:400]
    return answer_text(reply.json)


def expected_places(words=WORDS, start=0):
    return [{"name": words[(start + 2 * i) % len(words)], "province": words[(start + 2 * i + 1) % len(words)],
             "rainfall_mm": 1.5 * (i + 1), "pet_friendly": i % 2 == 0} for i in range(3)]


def violations(reply) -> list[dict]:
    assert reply.status == 400, reply.body[:400]
    error = reply.error()
    assert error["status"] == "INVALID_ARGUMENT"
    return error["details"][0]["fieldViolations"]


def inside_string_or_number(text: str, cut: int) -> bool:
    """Is position `cut` strictly inside a JSON string or number of `text` (scanned independently)?"""
    in_string, escaped, opened = False, False, -1
    for index, char in enumerate(text[:cut]):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string, opened = True, index
    if in_string:
        return cut > opened + 1 and not escaped
    number = "-+.eE0123456789"
    return text[cut - 1] in number and text[cut] in number and text[cut - 1] not in " :,["


# -- answers that fit ---------------------------------------------------------------------------
def test_a_list_of_records_is_pretty_json_from_the_prompt_words(emu):
    text = answer_of(emu, PLACES)
    value = json.loads(text)
    assert value == expected_places()
    assert text == json.dumps(expected_places(), indent=2, ensure_ascii=False)
    jsonschema.validate(value, PLACES)
    assert list(value[0]) == ["name", "province", "rainfall_mm", "pet_friendly"]


def test_the_answer_is_deterministic_and_candidates_start_one_word_later(emu):
    first, second = answer_of(emu, PLACES), answer_of(emu, PLACES)
    assert first == second
    reply = ask(emu, PLACES, candidateCount=2)
    assert json.loads(answer_text(reply.json, 1)) == expected_places(start=1)
    assert json.loads(answer_text(reply.json, 0)) == expected_places()


def test_words_cycle_and_a_prompt_without_words_still_answers(emu):
    schema = {"type": "array", "items": {"type": "string"}, "minItems": 5}
    assert json.loads(answer_of(emu, schema, prompt="red blue")) == ["red", "blue", "red", "blue", "red"]
    assert json.loads(answer_of(emu, schema, prompt="?! …")) == ["emulator"] * 5


def test_property_ordering_bounds_and_formats(emu):
    schema = {"type": "object", "propertyOrdering": ["when", "score", "label"],
              "properties": {"label": {"type": "string", "enum": ["low", "high"]},
                             "score": {"type": "integer", "minimum": 10, "maximum": 12},
                             "when": {"type": "string", "format": "date-time"},
                             "day": {"type": "string", "format": "date"},
                             "tags": {"type": "array", "items": {"type": "integer", "minimum": 10, "maximum": 12},
                                      "minItems": 4, "maxItems": 5},
                             "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}],
                                      "minItems": 2, "maxItems": 2}},
              "required": ["label"]}
    text = answer_of(emu, schema)
    value = json.loads(text)
    jsonschema.validate(value, schema)
    assert list(value) == ["when", "score", "label", "day", "tags", "pair"]
    assert value["when"] == "2026-01-01T09:30:00Z" and value["day"] == "2026-01-02"
    assert value["label"] == "low"
    assert value["score"] == 10 and value["tags"] == [11, 12, 10, 11]  # 10 + n mod 3, one counter
    assert value["pair"] == ["Five", 1.5]


def test_any_of_nullable_maps_refs_and_recursion(emu):
    schema = {"$defs": {"Node": {"type": "object", "properties": {
                  "name": {"type": "string"},
                  "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}, "required": ["name"]}},
              "type": "object",
              "properties": {"maybe": {"anyOf": [{"type": "null"}, {"type": "integer"}]},
                             "either": {"type": ["null", "boolean"]},
                             "scores": {"type": "object", "additionalProperties": {"type": "number"}},
                             "tree": {"$ref": "#/$defs/Node"},
                             "anything": {}},
              "required": ["maybe", "either", "scores", "tree", "anything"]}
    value = json.loads(answer_of(emu, schema))
    jsonschema.validate(value, schema)
    assert value == {"maybe": 1, "either": True,
                     "scores": {"Five": 1.5, "places": 3.0, "to": 4.5},
                     "tree": {"name": "visit"},  # children would re-enter Node: left out
                     "anything": "in"}


def test_response_schema_openapi_form(emu):
    schema = {"type": "ARRAY", "items": {"type": "OBJECT", "properties": {
        "title": {"type": "STRING", "minLength": 12, "maxLength": 14},
        "count": {"type": "INTEGER", "format": "int32", "nullable": True},
        "kind": {"type": "STRING", "format": "enum", "enum": ["a", "b"]}},
        "propertyOrdering": ["kind", "title", "count"], "required": ["title"]}, "maxItems": "2"}
    value = json.loads(answer_of(emu, schema, key="responseSchema"))
    # minLength joins words ("Five places to"), maxLength cuts ("visit in Vietnam" -> 14 characters)
    assert value == [{"kind": "a", "title": "Five places to", "count": 1},
                     {"kind": "a", "title": "visit in Vietn", "count": 2}]


def test_response_schema_in_snake_case(emu):
    body = {"contents": [{"parts": [{"text": "alpha beta"}]}],
            "generation_config": {"response_mime_type": "application/json",
                                  "response_schema": {"type": "object", "properties": {"x": {"type": "string"}},
                                                      "property_ordering": ["x"]}}}
    reply = call(emu, "POST", GENERATE, body)
    assert reply.status == 200, reply.body
    assert json.loads(answer_text(reply.json)) == {"x": "alpha"}


@pytest.mark.parametrize("schema", [None, {"type": "object"}, {"type": "OBJECT"}])
def test_without_a_schema_or_with_any_object_application_json_still_describes_the_request(emu, schema):
    config = {"responseMimeType": "application/json"}
    if schema is not None:
        config["responseSchema" if schema["type"] == "OBJECT" else "responseJsonSchema"] = schema
    reply = call(emu, "POST", GENERATE, text_request(PROMPT, **config))
    value = json.loads(answer_text(reply.json))
    assert value["prompt"] == PROMPT and "emulator" in value


def test_a_classification_with_no_word_to_go_on_answers_the_first_label_as_plain_text(emu):
    schema = {"type": "STRING", "enum": ["positive", "negative", "neutral"]}
    assert answer_of(emu, schema, key="responseSchema", mime="text/x.enum") == "positive"
    wire = raw_request(emu, "POST", STREAM_SSE, text_request(PROMPT, responseMimeType="text/x.enum",
                                                                     responseSchema=schema))
    events = sse_events(wire.body)
    assert "".join(answer_text(event) for event in events) == "positive"
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"


@pytest.mark.parametrize("labels, prompt, expected", [
    (["positive", "negative", "neutral"], "Classify: the kettle broke after a week, terrible.", "negative"),
    (["positive", "negative", "neutral"], "Classify: the homestay was lovely.", "positive"),
    (["positive", "negative", "neutral"], "Classify: it was okay, average.", "neutral"),
    (["billing", "shipping", "technical support"], "My parcel was shipped to the wrong town.", "shipping"),
    (["billing", "shipping", "technical support"], "The app crashes: I need technical help.", "technical support"),
    (["yes", "no"], "Is Huế in Vietnam? I think it is not.", "no"),
])
def test_a_classification_answers_the_label_the_prompt_best_matches(emu, labels, prompt, expected):
    for key, schema in (("responseSchema", {"type": "STRING", "enum": labels}),
                        ("responseJsonSchema", {"type": "string", "enum": labels})):
        reply = call(emu, "POST", GENERATE, text_request(prompt, responseMimeType="text/x.enum", **{key: schema}))
        assert answer_text(reply.json) == expected
    reordered = list(reversed(labels))  # the answer follows the words, not the order of the labels
    reply = call(emu, "POST", GENERATE, text_request(prompt, responseMimeType="text/x.enum",
                                                    responseSchema={"type": "STRING", "enum": reordered}))
    assert answer_text(reply.json) == expected


# -- streaming --------------------------------------------------------------------------------------
def test_streamed_json_is_cut_inside_strings_and_numbers(emu):
    unary = answer_of(emu, PLACES)
    wire = raw_request(emu, "POST", STREAM_SSE, text_request(PROMPT, responseMimeType="application/json",
                                                                     responseJsonSchema=PLACES))
    events = sse_events(wire.body)
    pieces = [answer_text(event) for event in events]
    assert "".join(pieces) == unary
    assert len(pieces) >= 5
    cut = 0
    for piece in pieces[:-1]:
        assert len(piece.encode()) >= 32
        cut += len(piece)
        assert inside_string_or_number(unary, cut), (unary[:cut][-10:], unary[cut:][:10])
    reasons = [event["candidates"][0].get("finishReason") for event in events]
    assert reasons[-1] == "STOP" and not any(reasons[:-1])
    with pytest.raises(json.JSONDecodeError):
        json.loads(pieces[0])  # a client sees partial JSON


def test_streamed_as_a_json_array_gives_the_same_answer(emu):
    wire = raw_request(emu, "POST", STREAM_ARRAY, text_request(PROMPT, responseMimeType="application/json",
                                                                       responseJsonSchema=PLACES))
    events = json.loads(wire.body)
    assert json.loads("".join(answer_text(event) for event in events)) == expected_places()


def test_max_tokens_cuts_the_json(emu):
    full = answer_of(emu, PLACES)
    reply = ask(emu, PLACES, maxOutputTokens=10)
    candidate = reply.json["candidates"][0]
    assert candidate["finishReason"] == "MAX_TOKENS"
    assert answer_text(reply.json) == full.encode()[:40].decode()
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer_text(reply.json))
    wire = raw_request(emu, "POST", STREAM_SSE, text_request(PROMPT, responseMimeType="application/json",
                                                                     responseJsonSchema=PLACES, maxOutputTokens=10))
    events = sse_events(wire.body)
    assert "".join(answer_text(event) for event in events) == full[:40]
    assert events[-1]["candidates"][0]["finishReason"] == "MAX_TOKENS"


def test_stop_sequences_apply_to_the_whole_json(emu):
    reply = ask(emu, PLACES, stopSequences=["Vietnam"])
    assert answer_text(reply.json) == answer_of(emu, PLACES).split("Vietnam")[0]


# -- refusals ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("schema, field, words", [
    ({"type": "object", "properties": {"a": {"type": "string", "pattern": "^x"}}},
     "generation_config.response_json_schema.properties[0].value.pattern", ['property "a"', '"pattern"']),
    ({"type": "string", "minLength": 2}, "generation_config.response_json_schema.minLength", ['"minLength"']),
    ({"type": "object", "properties": {"a": {"type": "text"}}},
     "generation_config.response_json_schema.properties[0].value.type", ['unknown type "text"']),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "b"]},
     "generation_config.response_json_schema.required[1]", ['"b"', "not defined in properties"]),
    ({"$ref": "#/$defs/Missing"}, "generation_config.response_json_schema.$ref", ['"#/$defs/Missing"']),
    ({"$defs": {"A": {"type": "string"}}, "$ref": "#/$defs/A", "description": "x"},
     "generation_config.response_json_schema", ["sibling", "description"]),
    ({"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 2},
     "generation_config.response_json_schema.min_items", ["larger than maxItems"]),
    ({"$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}, "required": ["next"]}},
      "$ref": "#/$defs/N"}, "generation_config.response_json_schema", ["required properties only"]),
    ({"type": "string", "enum": []}, "generation_config.response_json_schema.enum", ["non-empty"]),
])
def test_refused_json_schemas_name_the_field(emu, schema, field, words):
    found = violations(ask(emu, schema))
    assert field in [item["field"] for item in found], found
    description = next(item["description"] for item in found if item["field"] == field)
    for word in words:
        assert word in description
    message = ask(emu, schema).error()["message"]
    assert message.startswith("* GenerateContentRequest.generation_config.response_json_schema")


def test_a_schema_whose_answer_would_be_huge_is_refused_as_such(emu):
    schema = {"type": "string"}
    for _ in range(10):  # 3 ** 10 strings
        schema = {"type": "array", "items": schema}
    found = violations(ask(emu, schema))
    assert "more than 20,000 values" in found[0]["description"]
    assert "required properties" not in found[0]["description"]


def test_refused_response_schema_fields_are_unknown_names(emu):
    schema = {"type": "OBJECT", "properties": {"a": {"type": "STRING"},
                                               "b": {"type": "ARRAY", "items": {"type": "STRING", "const": "x"}}}}
    reply = ask(emu, schema, key="responseSchema")
    assert reply.status == 400
    assert reply.error()["message"] == ("Invalid JSON payload received. Unknown name \"const\" at "
                                        "'generation_config.response_schema.properties[1].value.items': "
                                        "Cannot find field.")
    reply = ask(emu, {"type": "DICT"}, key="responseSchema")
    assert "Invalid value at 'generation_config.response_schema.type'" in reply.error()["message"]
    found = violations(ask(emu, {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}, "required": ["b"]},
                           key="responseSchema"))
    assert found[0]["field"] == "generation_config.response_schema.required[0]"


def test_both_schemas_or_no_json_mime_type_are_refused(emu):
    body = text_request(PROMPT, responseMimeType="application/json", responseJsonSchema=PLACES,
                        responseSchema={"type": "STRING"})
    found = violations(call(emu, "POST", GENERATE, body))
    assert "cannot both be set" in found[0]["description"]
    found = violations(ask(emu, PLACES, mime="text/plain"))
    assert found[0]["field"] == "generation_config.response_mime_type"
    assert "application/json" in found[0]["description"]
    found = violations(ask(emu, PLACES, mime="text/x.enum"))
    assert "enum" in found[0]["description"]


def test_accepted_keywords_from_a_pydantic_like_schema_pass(emu):
    schema = {"$id": "x", "title": "Places", "description": "Some places", "type": "object",
              "properties": {"name": {"type": "string", "title": "Name", "description": "its name"},
                             "rank": {"oneOf": [{"type": "integer"}, {"type": "null"}]}},
              "required": ["name", "rank"], "additionalProperties": False}
    value = json.loads(answer_of(emu, schema))
    jsonschema.validate(value, schema)
    assert value == {"name": "Five", "rank": 1}


# -- Interactions API -------------------------------------------------------------------------------
INTERACTION = {"model": "gemini-3-flash-preview", "input": PROMPT,
               "response_format": {"type": "text", "mime_type": "application/json", "schema": PLACES}}


def model_output(body: dict) -> str:
    step = next(step for step in body["steps"] if step["type"] == "model_output")
    return "".join(item["text"] for item in step["content"])


def test_interaction_response_format_gives_the_same_json(emu):
    reply = call(emu, "POST", "/v1beta/interactions", INTERACTION)
    assert reply.status == 200, reply.body
    assert json.loads(model_output(reply.json)) == expected_places()
    assert reply.json["status"] == "completed"
    wire = raw_request(emu, "POST", "/v1beta/interactions?alt=sse", {**INTERACTION, "stream": True})
    events = [json.loads(line[len("data: "):]) for line in wire.body.decode().split("\n")
              if line.startswith("data: ") and line != "data: [DONE]"]
    deltas = [event["delta"]["text"] for event in events
              if event.get("event_type") == "step.delta" and event["delta"].get("type") == "text"]
    assert "".join(deltas) == model_output(reply.json)
    assert len(deltas) > 3


def test_interaction_legacy_form_and_refusal(emu):
    legacy = {"model": "gemini-3-flash-preview", "input": PROMPT, "response_mime_type": "application/json",
              "response_format": PLACES}
    reply = call(emu, "POST", "/v1beta/interactions", legacy)
    assert json.loads(model_output(reply.json)) == expected_places()
    bad = {**INTERACTION, "response_format": {"type": "text", "mime_type": "application/json",
                                              "schema": {"type": "string", "pattern": "x"}}}
    found = violations(call(emu, "POST", "/v1beta/interactions", bad))
    assert found[0]["field"] == "response_format.schema.pattern"
