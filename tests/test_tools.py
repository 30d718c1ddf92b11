"""Kernel functions the model calls: `tools=` on Client.prepare/generate/stream, the automatic calling loop
(one call, parallel calls, chains, a raising tool, the call limit, manual mode), thought signatures sent
back exactly, return values that are not JSON, and every shared function_call / code_execution recording
decoded. Over loopback against the emulator, whose deterministic tool use is in emulator/tools.py."""

from __future__ import annotations

import builtins
import dataclasses
import datetime
import enum
import json

import pytest

from gemini_magic.api.tools import ToolLoop, response_part, run_call, tool_result
from gemini_magic.errors import GeminiError, SchemaError, SettingsError
from gemini_magic.request.tools import interaction_tools, tool_config, tool_set

try:
    from .conftest import all_recordings, recording
except ImportError:
    from conftest import all_recordings, recording

G3 = "gemini-3-flash-preview"
FLASH = "gemini-2.5-flash"
RAINFALL = {("Huế", 10): 795.6, ("Hà Nội", 10): 131.0}


def get_rainfall(city: str, month: int) -> float:
    """Average rainfall in millimetres for a city and month.

    Args:
        city: The city's name.
        month: The month, 1-12.
    """
    return RAINFALL.get((city, month), 50.0)


def get_temperature(city: str) -> float:
    """Average temperature of a city in °C."""
    return {"Huế": 25.1, "Hà Nội": 24.0}.get(city, 20.0)


def get_city(landmark: str) -> str:
    """The city a landmark is in."""
    return "Huế"


def get_weather(city: str) -> str:
    """Today's weather in a city."""
    return f"rainy in {city}"


def packing_advice(weather: str) -> str:
    """What to pack for some weather."""
    return f"an umbrella, as it is {weather}"


def generate_requests(emulator) -> list[dict]:
    return [r.json for r in emulator.requests if ":generateContent" in r.path or ":streamGenerateContent" in r.path]


# --- request/tools.py ---------------------------------------------------------------------------------

def test_tool_set_sorts_functions_builtins_and_wire_dicts():
    wire = {"functionDeclarations": [{"name": "lookup", "description": "x"}]}
    found = tool_set([get_rainfall, "google_search", "Code-Execution", wire, "url_context", "google_maps",
                      {"name": "ping", "description": "Ping."}])
    assert found.tools[0]["functionDeclarations"][0]["name"] == "get_rainfall"
    assert found.tools[0]["functionDeclarations"][0]["parametersJsonSchema"]["properties"]["month"] == {
        "type": "integer", "description": "The month, 1-12."}
    assert found.tools[0]["functionDeclarations"][1] == {"name": "ping", "description": "Ping."}
    assert found.tools[1:] == [{"googleSearch": {}}, {"codeExecution": {}}, wire, {"urlContext": {}},
                               {"googleMaps": {}}]
    assert list(found.functions) == ["get_rainfall"] and found.functions["get_rainfall"] is get_rainfall
    assert found.builtins == ["google_search", "code_execution", "url_context", "google_maps"]
    assert interaction_tools(found)[2:] == [{"type": "google_search"}, {"type": "code_execution"},
                                            {"type": "url_context"}, {"type": "google_maps"}, wire]
    assert interaction_tools(found)[0]["type"] == "function" and interaction_tools(found)[0]["parameters"]["required"] \
        == ["city", "month"]


def test_tool_set_refuses_what_cannot_be_sent():
    with pytest.raises(SettingsError, match="no built-in tool named 'web_search'.*google_search"):
        tool_set(["web_search"])
    with pytest.raises(SettingsError, match="Two tools are named 'get_rainfall'"):
        tool_set([get_rainfall, get_rainfall])
    with pytest.raises(SettingsError, match="got int"):
        tool_set([3])
    with pytest.raises(SchemaError, match="lambda"):
        tool_set([lambda x: x])


def test_tool_config_for_each_mode():
    assert tool_config("auto") is None and tool_config("manual") is None and tool_config(None) is None
    assert tool_config("ANY") == {"functionCallingConfig": {"mode": "ANY"}}
    assert tool_config("none") == {"functionCallingConfig": {"mode": "NONE"}}
    assert tool_config("any", allowed=[get_rainfall, "get_city"]) == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_rainfall", "get_city"]}}
    with pytest.raises(SettingsError, match="tool_mode must be one of auto, any, none, manual; got 'sometimes'"):
        tool_config("sometimes")
    with pytest.raises(SettingsError, match="in tool mode 'any' only"):
        tool_config("auto", allowed=["get_city"])


def test_prepare_declares_functions_and_builtins(client):
    body = client.prepare(FLASH, "Rain in Huế?", tools=[get_rainfall, "google_search"], tool_mode="any").body
    assert [list(tool) for tool in body["tools"]] == [["functionDeclarations"], ["googleSearch"]]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert "toolConfig" not in client.prepare(FLASH, "x", tools=[get_rainfall], tool_mode="manual").body
    with pytest.raises(SettingsError, match="not both"):
        client.prepare(FLASH, "x", tools=[get_rainfall], tool_mode="none", tool_config={"functionCallingConfig": {}})


def test_loop_options_are_checked(client):
    with pytest.raises(SettingsError, match="max_calls must be a whole number"):
        client.generate(FLASH, "x", tools=[get_rainfall], max_calls=-1)
    with pytest.raises(SettingsError, match="on_call must be a function"):
        client.generate(FLASH, "x", tools=[get_rainfall], on_call="print")


# --- values and records ---------------------------------------------------------------------------------

class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Place:
    name: str
    when: datetime.date
    colour: Colour


def test_tool_results_become_json_the_way_prompts_convert_objects():
    pandas = pytest.importorskip("pandas")
    numpy = pytest.importorskip("numpy")
    assert tool_result({"a": (1, 2.5, None), 3: "x"}) == {"a": [1, 2.5, None], "3": "x"}
    assert tool_result(float("nan")) == "nan"
    assert tool_result(datetime.datetime(2026, 10, 1, 8, 30)) == "2026-10-01T08:30:00"
    assert tool_result(Place("Huế", datetime.date(2026, 10, 1), Colour.RED)) == {
        "name": "Huế", "when": "2026-10-01", "colour": "red"}
    assert tool_result(numpy.int64(7)) == 7 and isinstance(tool_result(numpy.float32(0.5)), float)
    assert tool_result(numpy.arange(3)) == "numpy array, shape (3,), dtype int64:\n[0, 1, 2]"
    frame = pandas.DataFrame({"city": ["Huế", "Hà Nội"], "mm": [795.6, 131.0]})
    text = tool_result(frame)
    assert text.startswith("pandas DataFrame: 2 rows x 2 columns") and "Huế,795.6" in text
    json.dumps(tool_result({"frame": frame, "when": datetime.time(8, 0)}))  # the whole result is JSON


def test_pydantic_results_are_objects():
    pydantic = pytest.importorskip("pydantic")

    class Reading(pydantic.BaseModel):
        city: str
        at: datetime.date

    assert tool_result(Reading(city="Huế", at=datetime.date(2026, 1, 2))) == {"city": "Huế", "at": "2026-01-02"}


def test_a_raising_tool_and_bad_arguments_are_records_not_exceptions():
    def explode(city: str) -> str:
        raise ValueError(f"no data for {city}")

    record = run_call({"explode": explode}, {"name": "explode", "args": {"city": "Atlantis"}, "id": "abc"})
    assert record["error"] == "ValueError: no data for Atlantis" and "result" not in record
    assert record["seconds"] >= 0 and record["id"] == "abc"
    assert response_part(record) == {"functionResponse": {"name": "explode", "response": {
        "error": "ValueError: no data for Atlantis"}, "id": "abc"}}
    wrong = run_call({"get_rainfall": get_rainfall}, {"name": "get_rainfall", "args": {"city": "Huế", "month": "x"}})
    assert wrong["error"].startswith("SchemaMismatchError: ")
    missing = run_call({}, {"name": "nope", "args": {}})
    assert missing["error"] == "LookupError: There is no function named 'nope'; the functions are none."


# --- the loop over loopback -------------------------------------------------------------------------------

def test_one_call(client, emulator):
    seen = []
    response = client.generate(G3, "What is get_rainfall for Huế in month 10?", tools=[get_rainfall],
                               on_call=seen.append)
    assert "get_rainfall returned 795.6" in response.text
    assert [step["kind"] for step in response.steps] == ["model", "tool", "model"]
    (record,) = response.steps[1]["calls"]
    assert record["name"] == "get_rainfall" and record["args"] == {"city": "Huế", "month": 10}
    assert record["result"] == 795.6 and seen == [record]
    sent = generate_requests(emulator)
    assert len(sent) == 2
    follow_up = sent[1]["contents"]
    assert [c["role"] for c in follow_up] == ["user", "model", "user"]
    assert follow_up[2]["parts"] == [{"functionResponse": {"name": "get_rainfall", "response": {"result": 795.6},
                                                           "id": record["id"]}}]
    assert response.history_contents == follow_up[1:] + [response.to_content()]
    assert response.steps[-1]["response"] is response and response.tool_note is None


def test_parallel_calls_are_answered_together_in_order(client, emulator):
    response = client.generate(G3, "Compare get_rainfall for Huế in month 10 and get_temperature for Hà Nội.",
                               tools=[get_rainfall, get_temperature])
    tool_steps = [step for step in response.steps if step["kind"] == "tool"]
    assert len(tool_steps) == 1
    assert [(c["name"], c["result"]) for c in tool_steps[0]["calls"]] == [("get_rainfall", 795.6),
                                                                          ("get_temperature", 24.0)]
    model_turn, answers = generate_requests(emulator)[1]["contents"][1:]
    ids = [part["functionCall"]["id"] for part in model_turn["parts"]]
    assert [part["functionResponse"]["id"] for part in answers["parts"]] == ids
    assert [part["functionResponse"]["name"] for part in answers["parts"]] == ["get_rainfall", "get_temperature"]
    assert "thoughtSignature" in model_turn["parts"][0] and "thoughtSignature" not in model_turn["parts"][1]


def test_a_chain_of_three_calls(client, emulator):
    response = client.generate(G3, "get_city of the Citadel, then get_weather there, then packing_advice for it.",
                               tools=[get_city, get_weather, packing_advice])
    calls = [c for step in response.steps for c in step["calls"]]
    assert [c["name"] for c in calls] == ["get_city", "get_weather", "packing_advice"]
    assert [step["kind"] for step in response.steps] == ["model", "tool"] * 3 + ["model"]
    assert len(generate_requests(emulator)) == 4
    assert "packing_advice returned" in response.text
    # every model turn of the chain went back with its own signature
    last = generate_requests(emulator)[-1]["contents"]
    signed = [c["parts"][0]["thoughtSignature"] for c in last if c["role"] == "model"]
    received = [s["content"]["parts"][0]["thoughtSignature"] for s in response.steps[:-1] if s["kind"] == "model"]
    assert signed == received and len(set(signed)) == 3


def test_a_raising_tool_sends_its_error_back_and_the_answer_follows(client, emulator):
    def get_rainfall(city: str, month: int) -> float:
        """Rainfall."""
        raise KeyError(f"{city} is not in the table")

    response = client.generate(G3, "get_rainfall for Atlantis in month 3", tools=[get_rainfall])
    record = response.steps[1]["calls"][0]
    assert record["error"] == "KeyError: 'Atlantis is not in the table'"
    assert generate_requests(emulator)[1]["contents"][-1]["parts"][0]["functionResponse"]["response"] == {
        "error": "KeyError: 'Atlantis is not in the table'"}
    assert "get_rainfall failed: KeyError" in response.text and response.finish_reason == "STOP"


def test_the_call_limit_stops_with_a_note_and_keeps_everything(client, emulator):
    calls = []

    def get_weather(city: str) -> str:
        """Weather."""
        calls.append(city)
        return "sunny"

    response = client.generate(FLASH, "get_weather for Huế", tools=[get_weather], tool_mode="any", max_calls=3)
    assert len(calls) == 3
    assert response.tool_note == ("Stopped after 3 function calls (max_calls=3): the model asked for 1 more "
                                  "(get_weather). Raise max_calls to let it finish.")
    assert response.function_calls and response.function_calls[0]["name"] == "get_weather"
    assert [step["kind"] for step in response.steps] == ["model", "tool"] * 3 + ["model"]
    assert len(response.history_contents) == 7 and len(generate_requests(emulator)) == 4
    assert generate_requests(emulator)[0]["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    none = client.generate(FLASH, "get_weather for Huế", tools=[get_weather], max_calls=0)
    assert none.tool_note.startswith("Stopped after 0 function calls (max_calls=0)") and len(calls) == 3


def test_manual_mode_runs_nothing_and_returns_the_proposed_calls(client, emulator):
    ran = []

    def get_weather(city: str) -> str:
        """Weather."""
        ran.append(city)
        return "x"

    response = client.generate(FLASH, "get_weather for Huế", tools=[get_weather], tool_mode="manual")
    assert ran == [] and response.function_calls == [{"name": "get_weather", "args": {"city": "Huế"}}]
    assert len(generate_requests(emulator)) == 1 and "toolConfig" not in generate_requests(emulator)[0]
    assert [step["kind"] for step in response.steps] == ["model"]


def test_a_call_to_a_function_not_given_stops_the_loop(client, emulator):
    wire = {"functionDeclarations": [{"name": "get_city", "description": "City.", "parametersJsonSchema": {
        "type": "object", "properties": {"landmark": {"type": "string"}}}}]}
    response = client.generate(FLASH, "get_city of the Citadel", tools=[get_weather, wire])
    assert response.function_calls[0]["name"] == "get_city"
    assert response.tool_note.startswith("The model called get_city, which is not a kernel function")


def test_thought_signatures_go_back_byte_for_byte(client, emulator):
    response = client.generate(G3, "get_weather for Huế", tools=[get_weather])
    received = response.steps[0]["response"].raw[0]["candidates"][0]["content"]["parts"]
    follow_up = json.loads(emulator.requests[-1].body)["contents"][1]["parts"]
    assert json.dumps(follow_up, sort_keys=True).encode() == json.dumps(received, sort_keys=True).encode()
    assert follow_up[0]["thoughtSignature"] == received[0]["thoughtSignature"]


def test_streamed_exchange_yields_every_turn_and_runs_calls_between(client, emulator):
    seen = []
    stream = client.stream(G3, "get_rainfall for Hà Nội in month 10", tools=[get_rainfall], on_call=seen.append)
    assert stream.turn.body["tools"][0]["functionDeclarations"][0]["name"] == "get_rainfall"
    texts, steps_seen = [], []
    for chunk in stream:
        texts.append(chunk.text)
        steps_seen.append(len(stream.steps))
    response = stream.response
    assert "".join(texts) == response.text and "get_rainfall returned 131.0" in response.text
    assert steps_seen[0] == 0 and steps_seen[-1] == 2  # the calls ran between the two model turns
    assert [step["kind"] for step in response.steps] == ["model", "tool", "model"]
    assert seen == response.steps[1]["calls"] and seen[0]["result"] == 131.0
    sent = generate_requests(emulator)
    assert sent[1]["contents"][1] == response.steps[0]["content"]  # the streamed call turn, as merged
    with pytest.raises(GeminiError, match="iterated once"):
        next(iter(stream))


def test_a_failed_round_keeps_the_exchange_on_the_error(client, emulator):
    stream = client.stream(G3, "get_weather for Huế", tools=[get_weather])
    iterator = iter(stream)
    next(iterator)
    emulator.inject("error_mid_stream", match="stream")
    with pytest.raises(GeminiError) as caught:
        for _ in iterator:
            pass
    assert [step["kind"] for step in caught.value.steps][:2] == ["model", "tool"]
    assert caught.value.response is stream.response and stream.response.incomplete


def test_tool_loop_request_keeps_the_first_body(client):
    turn = client.prepare(FLASH, "hi", tools=[get_weather], temperature=0.1)
    assert ToolLoop(turn, None).request() is turn


def test_without_kernel_functions_generate_is_one_request(client, emulator):
    response = client.generate(FLASH, "Hello", tools=["code_execution"])
    assert len(generate_requests(emulator)) == 1
    assert response.steps == [{"kind": "model", "content": response.to_content(), "response": response, "calls": []}]
    assert response.history_contents == [response.to_content()]
    kinds = [next(iter(part)) for part in response.parts]
    assert "executableCode" in kinds and "codeExecutionResult" in kinds


# --- shared recordings ------------------------------------------------------------------------------------

def sum(a: int, b: int) -> int:  # noqa: A001 - the recorded function's name
    """Add two numbers."""
    return a + b


def test_recorded_unary_call_is_run_and_its_signature_sent_back(client, emulator):
    path = recording("function_call/adk_gemini-2.5-flash_functionCall_unary.json")
    emulator.replay(path.read_bytes(), content_type="application/json", match="generate")
    response = client.generate(FLASH, "What is sum of 1 and 2?", tools=[sum])
    received = json.loads(path.read_bytes())["candidates"][0]["content"]
    assert response.steps[1]["calls"][0]["result"] == 3
    follow_up = generate_requests(emulator)[1]["contents"]
    assert follow_up[1] == received  # the model turn exactly as recorded, signature included
    assert follow_up[2]["parts"] == [{"functionResponse": {"name": "sum", "response": {"result": 3}}}]
    assert "sum returned 3" in response.text


def test_recorded_parallel_calls_on_gemini_3(client, emulator):
    path = recording("function_call/adk_gemini-3-flash-preview_parallel-calls.sse")
    emulator.replay(path.read_bytes(), match="stream")
    response = client.stream(G3, "Sum 2+3, 4+5 and 6+7.", tools=[sum]).until_done()
    calls = response.steps[1]["calls"]
    assert [(c["args"], c["result"], c["id"]) for c in calls] == [
        ({"b": 3, "a": 2}, 5, "3ae8iwca"), ({"a": 4, "b": 5}, 9, "up3kf30e"), ({"b": 7, "a": 6}, 13, "ycroch25")]
    model_turn = generate_requests(emulator)[1]["contents"][1]
    assert model_turn["parts"][0]["thoughtSignature"].startswith("EukBCuYBAb4+9vt/")
    assert [p for p in model_turn["parts"] if "thoughtSignature" in p] == model_turn["parts"][:1]
    assert [list(p) for p in model_turn["parts"]] == [["functionCall", "thoughtSignature"], ["functionCall"],
                                                      ["functionCall"]]  # the stream's closing empty text left out
    assert response.finish_reason == "STOP" and "sum returned 13" in response.text


@pytest.mark.parametrize("path", [p for p in all_recordings(".json") if p.parent.name == "code_execution"],
                         ids=lambda p: p.name)
def test_code_execution_recordings_decode_without_running_anything(client, emulator, path):
    emulator.replay(path.read_bytes(), content_type="application/json", match="generate")
    response = client.generate(FLASH, "Compute", tools=["code_execution", get_weather])
    data = json.loads(path.read_bytes())
    assert response.parts == data["candidates"][0]["content"]["parts"]
    kinds = {next(k for k in part if k not in ("thought", "thoughtSignature")) for part in response.parts}
    assert "executableCode" in kinds
    assert len(generate_requests(emulator)) == 1 and response.steps[0]["calls"] == []


def test_unexpected_tool_call_ends_the_exchange(client, emulator):
    path = recording("safety_and_finish/adk_gemini-2.5-flash_UNEXPECTED_TOOL_CALL.sse")
    emulator.replay(path.read_bytes(), match="stream")
    response = client.stream(FLASH, "hi", tools=[get_weather]).until_done()
    assert response.finish_reason == "UNEXPECTED_TOOL_CALL" and response.function_calls == []
    assert len(generate_requests(emulator)) == 1 and len(response.steps) == 1


def test_after_a_chain_the_calls_and_tokens_are_the_whole_exchange(client, emulator):
    response = client.generate(G3, "get_city of the Citadel, then get_weather there, then packing_advice for it.",
                               tools=[get_city, get_weather, packing_advice])
    assert [c["name"] for c in response.function_calls] == ["get_city", "get_weather", "packing_advice"]
    assert response.pending_calls == [] and response.request_count == 4
    per_request = [step["response"].request_usage for step in response.steps if step["kind"] == "model"]
    assert len(per_request) == 4 and all(usage["totalTokenCount"] > 0 for usage in per_request)
    for key in ("promptTokenCount", "totalTokenCount"):
        assert response.usage[key] == builtins.sum(usage[key] for usage in per_request)
    assert response.usage["totalTokenCount"] > response.request_usage["totalTokenCount"]


def test_streamed_exchange_totals_and_the_limit_leaves_pending_calls(client, emulator):
    stream = client.stream(G3, "get_rainfall for Hà Nội in month 10", tools=[get_rainfall])
    for _ in stream:
        pass
    response = stream.response
    assert [c["name"] for c in response.function_calls] == ["get_rainfall"]
    first, last = (step["response"] for step in response.steps if step["kind"] == "model")
    assert response.usage["totalTokenCount"] == (first.request_usage["totalTokenCount"]
                                                 + last.request_usage["totalTokenCount"])
    stopped = client.generate(FLASH, "get_weather for Huế", tools=[get_weather], tool_mode="any", max_calls=1)
    assert [c["name"] for c in stopped.function_calls] == ["get_weather", "get_weather"]
    assert [c["name"] for c in stopped.pending_calls] == ["get_weather"]
    assert "see .pending_calls" not in stopped.tool_note  # the limit's note says to raise max_calls


def test_sum_usage_adds_numbers_and_modalities():
    from gemini_magic.answer.readers import sum_usage

    total = sum_usage([{"promptTokenCount": 3, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 3}]},
                       {"promptTokenCount": 5, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 4},
                                                                       {"modality": "IMAGE", "tokenCount": 1}]}])
    assert total == {"promptTokenCount": 8, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 7},
                                                                    {"modality": "IMAGE", "tokenCount": 1}]}


def test_a_chain_whose_second_call_raises_fills_each_call_from_its_stretch_and_answers(client, emulator, capfd):
    table = {("Huế", 10): 795.6, ("Hà Nội", 10): 131.0}
    called = []

    def get_rainfall(city: str, month: int) -> float:
        """Average rainfall in mm for a city and month."""
        called.append((city, month))
        if len(called) == 2:
            raise KeyError((city, month))
        return table[(city, month)]

    response = client.generate(G3, 'Call get_rainfall for Huế in month 10 then get_rainfall for "Hà Nội" in month 10.',
                               tools=[get_rainfall])
    assert called == [("Huế", 10), ("Hà Nội", 10)]  # the first result (795.6) is no second month
    assert response.steps[3]["calls"][0]["error"] == "KeyError: ('Hà Nội', 10)"
    assert "get_rainfall failed: KeyError" in response.text and response.finish_reason == "STOP"
    assert "Traceback" not in capfd.readouterr().err
