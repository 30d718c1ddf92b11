"""The emulator's tools over loopback: function calls (one, parallel, chains), modes, thought signatures,
declaration checks, the Interactions API's requires_action, code execution and grounded answers."""

from __future__ import annotations

import json
import time

import jsonschema
import pytest

from gemini_magic.constants import EMULATOR_MARKER

try:
    from .test_emulator_support import call, raw_request, running_emulator, sse_events
except ImportError:
    from test_emulator_support import call, raw_request, running_emulator, sse_events

FLASH = "gemini-2.5-flash"
LITE = "gemini-2.0-flash"
G3 = "gemini-3-flash-preview"

RAINFALL = {"name": "get_rainfall", "description": "Average rainfall in millimetres for a city and month.",
            "parametersJsonSchema": {"type": "object", "properties": {
                "city": {"type": "string", "description": "The city's name."},
                "month": {"type": "integer", "minimum": 1, "maximum": 12}}, "required": ["city", "month"]}}
SUM = {"name": "sum", "description": "Add two numbers.", "parameters": {
    "type": "OBJECT", "properties": {"a": {"type": "NUMBER"}, "b": {"type": "NUMBER"}}, "required": ["a", "b"]}}
CITY = {"name": "get_city", "description": "The city of a landmark.", "parametersJsonSchema": {
    "type": "object", "properties": {"landmark": {"type": "string"}}, "required": ["landmark"]}}
WEATHER = {"name": "get_weather", "description": "Current weather in a city.", "parametersJsonSchema": {
    "type": "object", "properties": {"city": {"type": "string"},
                                     "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    "required": ["city", "unit"]}}
ADVICE = {"name": "packing_advice", "description": "What to pack for some weather.", "parametersJsonSchema": {
    "type": "object", "properties": {"weather": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["weather", "days"]}}


@pytest.fixture(scope="module")
def emu():
    yield from running_emulator()


def path(model: str, stream: str = "") -> str:
    if stream == "sse":
        return f"/v1beta/models/{model}:streamGenerateContent?alt=sse"
    if stream == "array":
        return f"/v1beta/models/{model}:streamGenerateContent"
    return f"/v1beta/models/{model}:generateContent"


def user(text: str) -> dict:
    return {"role": "user", "parts": [{"text": text}]}


def body(contents, *declarations, mode: str | None = None, allowed=None, tools=None) -> dict:
    sent = {"contents": contents if isinstance(contents, list) else [user(contents)],
            "tools": tools if tools is not None else [{"functionDeclarations": list(declarations)}]}
    if mode:
        sent["toolConfig"] = {"functionCallingConfig": {"mode": mode, **({"allowedFunctionNames": allowed}
                                                                          if allowed else {})}}
    return sent


def generate(emu, model: str, sent: dict) -> dict:
    reply = call(emu, "POST", path(model), sent)
    assert reply.status == 200, reply.body[:400]
    return reply.json


def stream(emu, model: str, sent: dict) -> list[dict]:
    wire = raw_request(emu, "POST", path(model, "sse"), sent)
    assert wire.status == 200 and wire.terminated
    return sse_events(wire.body)


def parts_of(answer: dict) -> list[dict]:
    return answer["candidates"][0]["content"]["parts"]


def calls_of(parts: list[dict]) -> list[dict]:
    return [part["functionCall"] for part in parts if "functionCall" in part]


def text_of(parts: list[dict]) -> str:
    return "".join(part.get("text", "") for part in parts if not part.get("thought"))


def responses_turn(calls: list[dict], results: list) -> dict:
    return {"role": "user", "parts": [
        {"functionResponse": {"name": c["name"], "response": {"result": r}, **({"id": c["id"]} if "id" in c else {})}}
        for c, r in zip(calls, results)]}


def valid(declaration: dict, args: dict) -> None:
    schema = declaration.get("parametersJsonSchema") or json.loads(json.dumps(declaration["parameters"]).lower())
    jsonschema.validate(args, schema)


# -- one call, parallel calls, chains -------------------------------------------------------------
def test_one_call_takes_its_arguments_from_the_prompt(emu):
    answer = generate(emu, FLASH, body("Use get_rainfall: how wet is Huế in October?", RAINFALL, WEATHER))
    candidate = answer["candidates"][0]
    assert calls_of(parts_of(answer)) == [{"name": "get_rainfall", "args": {"city": "Huế", "month": 10}}]
    assert candidate["finishReason"] == "STOP"
    assert candidate["finishMessage"] == "Model generated function call(s)."
    assert parts_of(answer)[0]["thoughtSignature"]  # thinking models sign calls (recorded for 2.5-flash)
    valid(RAINFALL, calls_of(parts_of(answer))[0]["args"])


def test_the_words_of_a_name_name_it_and_a_model_that_does_not_think_signs_nothing(emu):
    answer = generate(emu, LITE, body("What is the weather in San Francisco, in fahrenheit please?", WEATHER))
    assert parts_of(answer) == [{"functionCall": {"name": "get_weather",
                                                  "args": {"city": "San Francisco", "unit": "fahrenheit"}}}]


def test_a_prompt_that_names_no_function_gets_the_ordinary_answer(emu):
    answer = generate(emu, FLASH, body("Tell me a joke about clouds.", RAINFALL))
    text = text_of(parts_of(answer))
    assert text.startswith(EMULATOR_MARKER) and '**Prompt:** "Tell me a joke about clouds."' in text
    # the declared functions are listed, with the rule that makes a call
    assert "**Tools declared:** `get_rainfall(" in text and "None was called: the emulator calls a function when " \
        "the prompt names it" in text
    assert not calls_of(parts_of(answer))


def test_openapi_parameters_numbers_in_order_and_streams_agree(emu):
    sent = body("sum 2 and 3", SUM)
    unary = calls_of(parts_of(generate(emu, FLASH, sent)))
    assert unary == [{"name": "sum", "args": {"a": 2, "b": 3}}]
    events = stream(emu, FLASH, sent)
    assert len(events) == 1 and calls_of(parts_of(events[0])) == unary
    assert events[0]["candidates"][0]["finishReason"] == "STOP"
    wire = raw_request(emu, "POST", path(FLASH, "array"), sent)
    array = json.loads(b"".join(wire.chunks))
    assert [calls_of(parts_of(item)) for item in array] == [unary]


def test_parallel_calls_gemini_3_stream_like_the_recording(emu):
    events = stream(emu, G3, body("sum 2 and 3, sum 4 and 5, sum 6 and 7", SUM))
    assert len(events) == 4
    call_parts = [parts_of(event)[0] for event in events[:3]]
    assert [p["functionCall"]["args"] for p in call_parts] == [{"a": 2, "b": 3}, {"a": 4, "b": 5}, {"a": 6, "b": 7}]
    assert "thoughtSignature" in call_parts[0]
    assert not any("thoughtSignature" in p for p in call_parts[1:])  # only the first of a parallel group
    ids = [p["functionCall"]["id"] for p in call_parts]
    assert len(set(ids)) == 3 and all(len(i) == 8 and i.isalnum() and i.lower() == i for i in ids)
    assert parts_of(events[3]) == [{"text": ""}] and events[3]["candidates"][0]["finishReason"] == "STOP"
    assert all("finishReason" not in event["candidates"][0] for event in events[:3])
    counts = [event["usageMetadata"]["candidatesTokenCount"] for event in events]
    assert counts == sorted(counts) and counts[0] > 0


def test_two_functions_named_are_called_together_in_the_order_named(emu):
    answer = generate(emu, FLASH, body("Check get_weather for Hà Nội in celsius and get_rainfall for Huế in "
                                       "November.", RAINFALL, WEATHER))
    assert calls_of(parts_of(answer)) == [
        {"name": "get_weather", "args": {"city": "Hà Nội", "unit": "celsius"}},
        {"name": "get_rainfall", "args": {"city": "Huế", "month": 11}}]
    signed = [part for part in parts_of(answer) if "thoughtSignature" in part]
    assert signed == parts_of(answer)[:1]


def test_a_chain_of_three_calls_then_an_answer_from_every_result(emu):
    prompt = "Find the city with get_city for the \"Imperial Citadel\", then get_weather, then packing_advice for 3 days."
    contents = [user(prompt)]
    results = ["Huế", "rain, 24 °C", "an umbrella"]
    seen = []
    for result in results:
        answer = generate(emu, G3, body(contents, CITY, WEATHER, ADVICE))
        model_turn = answer["candidates"][0]["content"]
        made = calls_of(model_turn["parts"])
        assert len(made) == 1
        seen.append(made[0])
        contents = contents + [model_turn, responses_turn(made, [result])]
    assert [c["name"] for c in seen] == ["get_city", "get_weather", "packing_advice"]
    assert seen[0]["args"] == {"landmark": "Imperial Citadel"}
    assert seen[1]["args"]["city"] == "Huế"  # a chain passes the previous result on
    assert seen[2]["args"]["days"] == 3
    for declaration, made in zip((CITY, WEATHER, ADVICE), seen):
        valid(declaration, made["args"])
    final = generate(emu, G3, body(contents, CITY, WEATHER, ADVICE))
    parts = parts_of(final)
    assert not calls_of(parts)
    text = text_of(parts)
    assert text.startswith(EMULATOR_MARKER)
    assert "- get_city returned Huế\n- get_weather returned rain, 24 °C\n- packing_advice returned an umbrella" in text
    assert "3 function results" in text
    assert parts[-1]["thoughtSignature"]  # Gemini 3 signs the final text part (recordings)


def test_the_answer_after_results_streams_and_ends_with_a_signed_empty_text(emu):
    first = generate(emu, G3, body("get_rainfall for Huế in October", RAINFALL))
    turn = first["candidates"][0]["content"]
    contents = [user("get_rainfall for Huế in October"), turn, responses_turn(calls_of(turn["parts"]), [795.6])]
    events = stream(emu, G3, body(contents, RAINFALL))
    last = parts_of(events[-1])
    assert last[0]["text"] == "" and last[0]["thoughtSignature"]
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    text = "".join(text_of(parts_of(event)) for event in events)
    assert "- get_rainfall returned 795.6\n" in text and len(events) > 2


def test_a_failed_tool_is_reported_as_failed(emu):
    first = generate(emu, FLASH, body("sum 1 and 2", SUM))
    turn = first["candidates"][0]["content"]
    contents = [user("sum 1 and 2"), turn, {"role": "user", "parts": [
        {"functionResponse": {"name": "sum", "response": {"error": "ValueError: too small"}}}]}]
    text = text_of(parts_of(generate(emu, FLASH, body(contents, SUM))))
    assert "- sum failed: ValueError: too small" in text and "1 function result " in text


# -- modes -----------------------------------------------------------------------------------------
def test_mode_none_never_calls(emu):
    answer = generate(emu, FLASH, body("get_rainfall for Huế in October", RAINFALL, mode="NONE"))
    assert not calls_of(parts_of(answer))
    assert "get_rainfall for Huế in October" in text_of(parts_of(answer))


def test_mode_any_always_calls_an_allowed_function_and_keeps_calling(emu):
    sent = body("Tell me about Đà Nẵng in July.", RAINFALL, WEATHER, mode="ANY", allowed=["get_weather"])
    answer = generate(emu, FLASH, sent)
    made = calls_of(parts_of(answer))
    assert made == [{"name": "get_weather", "args": {"city": "Đà Nẵng", "unit": "celsius"}}]
    contents = sent["contents"] + [answer["candidates"][0]["content"], responses_turn(made, ["sunny"])]
    again = generate(emu, FLASH, {**sent, "contents": contents})
    assert [c["name"] for c in calls_of(parts_of(again))] == ["get_weather"]


def test_mode_any_restricts_named_functions_to_the_allowed_ones(emu):
    sent = body("get_rainfall in Huế and get_weather in Huế", RAINFALL, WEATHER, mode="ANY", allowed=["get_rainfall"])
    assert [c["name"] for c in calls_of(parts_of(generate(emu, FLASH, sent)))] == ["get_rainfall"]


# -- thought signatures ----------------------------------------------------------------------------
def test_gemini_3_refuses_a_follow_up_without_the_signature_and_accepts_it_with(emu):
    answer = generate(emu, G3, body("sum 2 and 3", SUM))
    turn = answer["candidates"][0]["content"]
    made = calls_of(turn["parts"])
    stripped = {"role": "model", "parts": [{k: v for k, v in p.items() if k != "thoughtSignature"}
                                           for p in turn["parts"]]}
    refused = call(emu, "POST", path(G3), body([user("sum 2 and 3"), stripped, responses_turn(made, [5])], SUM))
    assert refused.status == 400
    error = refused.error()
    assert error["status"] == "INVALID_ARGUMENT"
    assert "missing a thought_signature" in error["message"] and "default_api:sum" in error["message"]
    accepted = generate(emu, G3, body([user("sum 2 and 3"), turn, responses_turn(made, [5])], SUM))
    assert "- sum returned 5" in text_of(parts_of(accepted))


def test_a_model_before_gemini_3_accepts_a_follow_up_without_signatures(emu):
    answer = generate(emu, FLASH, body("sum 2 and 3", SUM))
    made = calls_of(parts_of(answer))
    stripped = {"role": "model", "parts": [{"functionCall": c} for c in made]}
    accepted = generate(emu, FLASH, body([user("sum 2 and 3"), stripped, responses_turn(made, [5])], SUM))
    assert "- sum returned 5" in text_of(parts_of(accepted))


# -- declarations checked as the service checks them ---------------------------------------------
@pytest.mark.parametrize("name", ["get weather", "1st_tool", "x" * 65, "", "wetter_für_städte"])
def test_an_invalid_function_name_is_the_services_400(emu, name):
    reply = call(emu, "POST", path(FLASH), body("hello", {**SUM, "name": name}, RAINFALL))
    assert reply.status == 400
    error = reply.error()
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == ("* GenerateContentRequest.tools[0].function_declarations[0].name: Invalid function "
                                "name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, "
                                "0-9), underscores (_), dots (.) or dashes (-), with a maximum length of 64.\n")
    assert error["details"][0]["fieldViolations"][0]["field"] == "tools[0].function_declarations[0].name"


def test_names_with_dots_dashes_and_64_characters_are_accepted(emu):
    for name in ("tools.get-weather", "_private", "a" * 64):
        assert call(emu, "POST", path(FLASH), body("hello", {**SUM, "name": name})).status == 200


def test_openapi_type_and_field_errors_are_reported_together(emu):
    bad = {"name": "f", "parameters": {"type": "OBJECT", "additionalProperties": False, "properties": {
        "a": {"type": "STRING"}, "b": {"type": "text"}}}}
    reply = call(emu, "POST", path(FLASH), body("hello", bad))
    assert reply.status == 400
    message = reply.error()["message"]
    assert message.splitlines() == [
        "Invalid JSON payload received. Unknown name \"additionalProperties\" at "
        "'tools[0].function_declarations[0].parameters': Cannot find field.",
        "Invalid value at 'tools[0].function_declarations[0].parameters.properties[1].value.type' "
        "(type.googleapis.com/google.ai.generativelanguage.v1beta.Type), \"text\""]


def test_both_schema_forms_and_unknown_json_schema_types_are_refused(emu):
    both = {**RAINFALL, "parameters": SUM["parameters"]}
    reply = call(emu, "POST", path(FLASH), body("hello", both))
    assert reply.status == 400 and "parameters and parameters_json_schema cannot both be set" in reply.error()["message"]
    odd = {"name": "f", "parametersJsonSchema": {"type": "object", "properties": {"x": {"type": "float"}}}}
    reply = call(emu, "POST", path(FLASH), body("hello", odd))
    assert reply.status == 400 and 'type "float" is not one of' in reply.error()["message"]


def test_an_unknown_tool_or_mode_is_refused(emu):
    reply = call(emu, "POST", path(FLASH), body("hello", tools=[{"webBrowser": {}}]))
    assert reply.status == 400 and 'Unknown name "webBrowser" at \'tools[0]\'' in reply.error()["message"]
    reply = call(emu, "POST", path(FLASH), body("hello", SUM, mode="SOMETIMES"))
    assert reply.status == 400 and "function_calling_config.mode" in reply.error()["message"]


def test_arguments_are_valid_for_a_rich_schema(emu):
    declaration = {"name": "plan_trip", "parametersJsonSchema": {
        "type": "object", "$defs": {"Stay": {"type": "object", "properties": {
            "nights": {"type": "integer", "minimum": 1}, "hotel": {"type": "string"}}, "required": ["nights"]}},
        "properties": {
            "city": {"type": "string"}, "budget": {"type": "number"}, "flexible": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["food", "history", "beach"]}},
            "stay": {"$ref": "#/$defs/Stay"}, "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "pace": {"type": "string", "enum": ["slow", "fast"], "default": "slow"}},
        "required": ["city", "budget", "flexible", "tags", "stay", "pace"]}}
    answer = generate(emu, FLASH, body("plan_trip to Hội An with 1200.5 dollars for history, yes", declaration))
    args = calls_of(parts_of(answer))[0]["args"]
    jsonschema.validate(args, declaration["parametersJsonSchema"])
    assert args["city"] == "Hội An" and args["budget"] == 1200.5 and args["flexible"] is True
    assert args["tags"] == ["history"] and args["pace"] == "slow" and args["stay"]["nights"] >= 1


# -- the Interactions API ----------------------------------------------------------------------------
INTERACTION_WEATHER = {"type": "function", "name": "getWeather", "description": "Weather in a place.",
                       "parameters": {"type": "object", "properties": {"location": {"type": "string"}},
                                      "required": ["location"]}}


def create(emu, sent: dict, sse: bool = False):
    if sse:
        wire = raw_request(emu, "POST", "/v1beta/interactions?alt=sse", {**sent, "stream": True})
        assert wire.status == 200 and wire.terminated
        return sse_events(wire.body)
    reply = call(emu, "POST", "/v1beta/interactions", sent)
    assert reply.status == 200, reply.body[:400]
    return reply.json


def test_interaction_requires_action_then_a_function_result_completes_it(emu):
    first = create(emu, {"model": FLASH, "input": "What is the weather in San Francisco?",
                         "tools": [INTERACTION_WEATHER]})
    assert first["status"] == "requires_action"
    kinds = [step["type"] for step in first["steps"]]
    assert kinds == ["thought", "function_call"]  # as recorded (vercel_tool-call-step1_requires_action)
    step = first["steps"][1]
    assert list(step) == ["id", "type", "name", "arguments"]
    assert step["name"] == "getWeather" and step["arguments"] == {"location": "San Francisco"}
    assert first["usage"]["total_output_tokens"] > 0
    second = create(emu, {"model": FLASH, "previous_interaction_id": first["id"], "tools": [INTERACTION_WEATHER],
                          "input": [{"type": "function_result", "call_id": step["id"], "name": "getWeather",
                                     "result": "foggy, 14 °C"}]})
    assert second["status"] == "completed"
    text = second["steps"][-1]["content"][0]["text"]
    assert "- getWeather returned foggy, 14 °C" in text


def test_interaction_gemini_3_stateless_chain_and_a_stream_of_calls(emu):
    tools = [INTERACTION_WEATHER]
    events = create(emu, {"model": G3, "input": "getWeather for Huế", "tools": tools, "store": False}, sse=True)
    starts = [e["step"] for e in events if e["event_type"] == "step.start"]
    assert [s["type"] for s in starts] == ["thought", "function_call"]
    deltas = [e["delta"] for e in events if e["event_type"] == "step.delta"]
    assert deltas[0]["type"] == "thought_signature" and deltas[0]["signature"]
    assert deltas[1] == {"partial_arguments": '{"location": "Huế"}', "type": "arguments_delta"}
    assert events[-1]["event_type"] == "interaction.completed"
    assert events[-1]["interaction"]["status"] == "requires_action"
    history = [{"type": "user_input", "content": [{"type": "text", "text": "getWeather for Huế"}]},
               {"type": "thought", "signature": deltas[0]["signature"]},
               {"type": "function_call", "id": starts[1]["id"], "name": "getWeather", "arguments": {"location": "Huế"}},
               {"type": "function_result", "call_id": starts[1]["id"], "name": "getWeather", "result": "mưa"}]
    done = create(emu, {"model": G3, "input": history, "tools": tools, "store": False})
    assert done["status"] == "completed" and "- getWeather returned mưa" in done["steps"][-1]["content"][0]["text"]
    unsigned = [step for step in history if step["type"] != "thought"]
    reply = call(emu, "POST", "/v1beta/interactions", {"model": G3, "input": unsigned, "tools": tools, "store": False})
    assert reply.status == 400 and "thought_signature" in reply.error()["message"]


def test_interaction_tool_choice_none_answers_text(emu):
    answer = create(emu, {"model": FLASH, "input": "getWeather for Huế", "tools": [INTERACTION_WEATHER],
                          "tool_choice": "none"})
    assert answer["status"] == "completed" and answer["steps"][-1]["type"] == "model_output"


def check_annotations(text: str, annotations: list[dict]) -> None:
    data = text.encode("utf-8")
    assert len(annotations) == 4  # three segments, the second with two sources
    cited = [data[a["start_index"]:a["end_index"]].decode("utf-8") for a in annotations]
    assert cited[0].startswith("Huế là cố đô") and cited[1].endswith("🌧️.") and cited[1] == cited[2]
    assert all(a["type"] == "url_citation" and a["url"].startswith("https://example.org/") for a in annotations)


def test_interaction_google_search_answer_carries_byte_offset_citations_and_search_steps(emu):
    answer = create(emu, {"model": FLASH, "input": "Huế có gì đặc biệt?", "tools": [{"type": "google_search"}]})
    assert answer["status"] == "completed"
    assert [s["type"] for s in answer["steps"]] == ["thought", "model_output", "google_search_call",
                                                    "google_search_result"]
    item = answer["steps"][1]["content"][0]
    check_annotations(item["text"], item["annotations"])
    call_step, result_step = answer["steps"][2:]
    assert call_step["arguments"] == {"queries": ["Huế có gì đặc biệt?"]} and call_step["signature"] == ""
    assert result_step["call_id"] == call_step["id"]
    assert "example.org/search?q=" in result_step["result"][0]["search_suggestions"]
    assert answer["usage"]["total_tool_use_tokens"] > 0
    assert answer["usage"]["tool_use_tokens_by_modality"] == [{"modality": "text",
                                                                "tokens": answer["usage"]["total_tool_use_tokens"]}]


def test_interaction_google_search_streams_like_the_recording(emu):
    events = create(emu, {"model": FLASH, "input": "Huế có gì đặc biệt?", "tools": [{"type": "google_search"}]},
                    sse=True)
    starts = [e["step"] for e in events if e["event_type"] == "step.start"]
    assert [s["type"] for s in starts] == ["thought", "model_output", "google_search_call", "google_search_result"]
    assert set(starts[2]) == {"id", "signature", "type"} and starts[3]["call_id"] == starts[2]["id"]
    deltas = [e["delta"] for e in events if e["event_type"] == "step.delta" and e["index"] == 1]
    assert [d["type"] for d in deltas[-2:]] == ["text", "text_annotation_delta"]
    text = "".join(d["text"] for d in deltas if d["type"] == "text")
    check_annotations(text, deltas[-1]["annotations"])
    assert events[-1]["interaction"]["status"] == "completed"


# -- code execution ----------------------------------------------------------------------------------
def test_code_execution_parts_unary_like_the_recordings(emu):
    prompt = "Đếm số từ trong câu này nhé 🙂"
    answer = generate(emu, FLASH, body(prompt, tools=[{"codeExecution": {}}]))
    parts = parts_of(answer)
    assert [next(iter(p)) for p in parts] == ["executableCode", "codeExecutionResult", "text"]
    code = parts[0]["executableCode"]
    assert code["language"] == "PYTHON" and repr(prompt) in code["code"]
    assert parts[1]["codeExecutionResult"] == {"outcome": "OUTCOME_OK", "output": "8 words, 29 characters\n"}
    assert parts[2]["text"].startswith(EMULATOR_MARKER) and "**8 words**" in parts[2]["text"]
    usage = answer["usageMetadata"]
    assert usage["toolUsePromptTokenCount"] > 0
    assert usage["totalTokenCount"] == (usage["promptTokenCount"] + usage["candidatesTokenCount"]
                                        + usage["toolUsePromptTokenCount"] + usage["thoughtsTokenCount"])


def test_code_execution_output_is_what_its_code_prints(emu, capsys):
    answer = generate(emu, LITE, body("count these words", tools=[{"codeExecution": {}}]))
    parts = parts_of(answer)
    exec(parts[0]["executableCode"]["code"], {})  # the test runs it; the emulator never does
    assert capsys.readouterr().out == parts[1]["codeExecutionResult"]["output"]


def test_code_execution_streams_code_result_then_text_and_gemini_3_ids(emu):
    events = stream(emu, G3, body("count these words", tools=[{"codeExecution": {}}]))
    first, second = parts_of(events[0])[0], parts_of(events[1])[0]
    assert "executableCode" in first and first["thoughtSignature"]
    assert first["executableCode"]["id"] == second["codeExecutionResult"]["id"]
    assert all("text" in p for e in events[2:] for p in parts_of(e))
    assert parts_of(events[-1])[0]["thoughtSignature"] and events[-1]["candidates"][0]["finishReason"] == "STOP"


# -- grounding -------------------------------------------------------------------------------------
def check_supports(text: str, metadata: dict) -> None:
    data = text.encode("utf-8")
    supports = metadata["groundingSupports"]
    assert len(supports) == 3
    for support in supports:
        segment = support["segment"]
        piece = data[segment.get("startIndex", 0):segment["endIndex"]].decode("utf-8")
        assert piece == segment["text"]
        assert all(0 <= i < len(metadata["groundingChunks"]) for i in support["groundingChunkIndices"])
        assert len(support["confidenceScores"]) == len(support["groundingChunkIndices"])
    # byte offsets, not characters: the text before them is not ASCII
    assert any(len(text[:s["segment"]["endIndex"]].encode()) != s["segment"]["endIndex"] for s in supports)
    assert any("🌧" in s["segment"]["text"] for s in supports)


def test_google_search_grounding_unary(emu):
    answer = generate(emu, FLASH, body("Thời tiết Huế thế nào?", tools=[{"googleSearch": {}}]))
    candidate = answer["candidates"][0]
    text = text_of(parts_of(answer))
    metadata = candidate["groundingMetadata"]
    check_supports(text, metadata)
    assert metadata["webSearchQueries"] == ["Thời tiết Huế thế nào?"]
    assert "example.org/search?q=" in metadata["searchEntryPoint"]["renderedContent"]
    assert all(c["web"]["uri"].startswith("https://example.org/") for c in metadata["groundingChunks"])
    assert text.startswith(EMULATOR_MARKER)


def test_grounding_streams_empty_metadata_until_the_last_event(emu):
    events = stream(emu, G3, body("Tin tức về Huế", tools=[{"google_search": {}}]))
    assert len(events) > 3
    assert all(e["candidates"][0]["groundingMetadata"] == {} for e in events[:-1])
    last = events[-1]["candidates"][0]
    assert last["finishReason"] == "STOP"
    text = "".join(text_of(parts_of(e)) for e in events)
    check_supports(text, last["groundingMetadata"])


def test_url_context_reports_the_prompts_urls_without_fetching_them(emu):
    prompt = "Tóm tắt https://example.org/bai-viet/hue giúp tôi"
    events = stream(emu, FLASH, body(prompt, tools=[{"urlContext": {}}]))
    first = events[0]["candidates"][0]
    assert first["urlContextMetadata"] == {"urlMetadata": [
        {"retrievedUrl": "https://example.org/bai-viet/hue", "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"}]}
    metadata = events[-1]["candidates"][0]["groundingMetadata"]
    assert metadata["groundingChunks"][0]["web"]["uri"] == "https://example.org/bai-viet/hue"
    assert "webSearchQueries" not in metadata
    unary = generate(emu, FLASH, body(prompt, tools=[{"urlContext": {}}]))
    assert unary["candidates"][0]["urlContextMetadata"] == first["urlContextMetadata"]
    check_supports(text_of(parts_of(unary)), unary["candidates"][0]["groundingMetadata"])


def test_google_maps_sources_are_places(emu):
    answer = generate(emu, FLASH, body("Quán ăn ngon ở Huế?", tools=[{"googleMaps": {}}]))
    chunks = answer["candidates"][0]["groundingMetadata"]["groundingChunks"]
    assert all(set(c) == {"maps"} and c["maps"]["uri"].startswith("https://example.org/maps/") for c in chunks)


def test_function_calls_win_over_built_in_tools(emu):
    tools = [{"functionDeclarations": [SUM]}, {"googleSearch": {}}]
    answer = generate(emu, FLASH, body("sum 1 and 1", tools=tools))
    assert calls_of(parts_of(answer)) == [{"name": "sum", "args": {"a": 1, "b": 1}}]
    assert "groundingMetadata" not in answer["candidates"][0]


def test_a_failed_request_answers_500_and_logs_its_traceback_without_printing_it(emu, monkeypatch, capfd, caplog):
    import gemini_emulator.tools

    def broken(*args, **kwargs):
        raise ValueError("a bug in the tools plan")

    monkeypatch.setattr(gemini_emulator.tools, "plan", broken)  # an emulator bug, not a mocked request
    caplog.set_level("DEBUG", logger="gemini_emulator")
    body = {"contents": [{"role": "user", "parts": [{"text": "get_rainfall for Huế in month 10"}]}],
            "tools": [{"functionDeclarations": [RAINFALL]}]}
    wire = raw_request(emu, "POST", f"/v1beta/models/{G3}:generateContent", body)
    assert wire.status == 500 and b"The gemini_magic emulator failed: ValueError" in wire.body
    for _ in range(50):  # the handler thread logs just after answering
        if any(r.exc_info for r in caplog.records if r.name == "gemini_emulator"):
            break
        time.sleep(0.02)
    assert any(r.exc_info and r.levelname == "DEBUG" for r in caplog.records if r.name == "gemini_emulator")
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err
