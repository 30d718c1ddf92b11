"""The emulator's Interactions API over loopback: create, stream, chain, stateless, get, delete, faults."""

from __future__ import annotations

import base64
import io
import json
import wave

import pytest

from gemini_magic.constants import EMULATOR_MARKER

try:
    from .test_emulator_support import call, raw_request, running_emulator, sse_events
except ImportError:
    from test_emulator_support import call, raw_request, running_emulator, sse_events
from conftest import recording

CREATE = "/v1beta/interactions"
CREATE_SSE = "/v1beta/interactions?alt=sse"
MODEL = "gemini-3-flash-preview"
QUESTIONS = ["I have 2 dogs in my house and a small garden.", "How many paws are in my house?",
             "And how many tails?"]


@pytest.fixture
def emu():
    yield from running_emulator()


def create(emu, body: dict, path: str = CREATE):
    return call(emu, "POST", path, body, headers={"Api-Revision": "2026-05-20"})


def stream(emu, body: dict) -> list[dict]:
    wire = raw_request(emu, "POST", CREATE_SSE, {**body, "stream": True})
    assert wire.status == 200 and wire.terminated
    assert wire.headers["content-type"] == "text/event-stream"
    return sse_events(wire.body)


def text_of(interaction: dict) -> str:
    return interaction["steps"][-1]["content"][0]["text"]


def streamed_text(events: list[dict]) -> str:
    return "".join(e["delta"]["text"] for e in events
                   if e["event_type"] == "step.delta" and e["delta"]["type"] == "text")


def recorded_events(name: str) -> list[dict]:
    return [json.loads(line) for line in recording(f"interactions/{name}").read_text().splitlines() if line]


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(b"\0\0" * int(seconds * rate))
    return out.getvalue()


# -- create -----------------------------------------------------------------------------------------
def test_unary_create_has_the_recorded_shape_and_says_what_arrived(emu):
    reply = create(emu, {"model": MODEL, "input": "How does AI work?"})
    assert reply.status == 200 and reply.headers["content-type"] == "application/json; charset=UTF-8"
    body = reply.json
    recorded = json.loads(recording("interactions/vercel_tool-call-step1_requires_action.json").read_text())
    assert list(body) == list(recorded)  # id, status, usage, created, updated, service_tier, steps, object, model
    assert body["status"] == "completed" and body["object"] == "interaction" and body["model"] == MODEL
    assert body["id"].startswith("v1_") and len(body["id"]) > 40
    assert set(body["usage"]) == set(recorded["usage"])
    usage = body["usage"]
    assert usage["total_tokens"] == usage["total_input_tokens"] + usage["total_output_tokens"] \
        + usage["total_thought_tokens"]
    assert usage["input_tokens_by_modality"] == [{"modality": "text", "tokens": usage["total_input_tokens"]}]
    thought, output = body["steps"]
    assert list(thought) == ["signature", "type"] and thought["type"] == "thought"
    base64.b64decode(thought["signature"], validate=True)
    assert output["type"] == "model_output" and output["content"][0]["type"] == "text"
    text = text_of(body)
    assert text.startswith(EMULATOR_MARKER)
    assert '**Prompt:** "How does AI work?"' in text and text.startswith(f"{EMULATOR_MARKER} {MODEL} was not asked")
    assert "**Conversation:**" not in text


def test_system_instruction_generation_config_and_content_items_are_echoed(emu):
    audio = base64.b64encode(wav_bytes()).decode()
    body = {"model": MODEL, "system_instruction": "You are a cat. Your name is Neko.",
            "generation_config": {"thinking_level": "low", "max_output_tokens": 4000},
            "input": [{"type": "text", "text": "Tell me about this sound"},
                      {"type": "audio", "data": audio, "mime_type": "audio/wav"}]}
    text = text_of(create(emu, body).json)
    assert '**System instruction:** "You are a cat. Your name is Neko."' in text
    assert '**Prompt:** "Tell me about this sound"' in text
    assert "audio/wav" in text and "WAV audio, 0.50 s, 1 channel, 8000 Hz" in text
    assert "max_output_tokens=4000, thinking_level=low" in text


def test_thought_summaries_when_asked(emu):
    body = {"model": MODEL, "input": "Think aloud", "generation_config": {"thinking_summaries": "auto"}}
    thought = create(emu, body).json["steps"][0]
    assert list(thought) == ["signature", "summary", "type"]
    assert len(thought["summary"]) == 3 and thought["summary"][0]["type"] == "text"
    assert thought["summary"][0]["text"].startswith("**Reading the prompt**")
    deltas = [e["delta"] for e in stream(emu, body) if e["event_type"] == "step.delta" and e["index"] == 0]
    assert [d["type"] for d in deltas] == ["thought_summary"] * 3 + ["thought_signature"]
    assert [d["content"] for d in deltas[:3]] == thought["summary"]


def test_models_without_thinking_answer_with_one_output_step(emu):
    body = create(emu, {"model": "gemini-2.0-flash", "input": "Hi"}).json
    assert [step["type"] for step in body["steps"]] == ["model_output"]
    assert body["usage"]["total_thought_tokens"] == 0


def test_max_output_tokens_cut_the_answer_and_mark_it_incomplete(emu):
    body = create(emu, {"model": MODEL, "input": "Hi", "generation_config": {"max_output_tokens": 10}}).json
    assert body["status"] == "incomplete" and len(text_of(body).encode()) <= 40


# -- streaming --------------------------------------------------------------------------------------
def test_stream_uses_the_recorded_event_types_and_field_names(emu):
    ours = stream(emu, {"model": MODEL, "input": "How are you?"})
    recorded = recorded_events("vercel_basic.chunks.txt") + recorded_events("vercel_google-search.chunks.txt")

    def shapes(events):
        found = {}
        for event in events:
            kind = event["event_type"]
            if kind == "step.delta":
                kind += ":" + event["delta"]["type"]
                found.setdefault(kind + ".delta", set()).update(event["delta"])
            if kind == "step.start":
                found.setdefault(kind + ".step", set()).update(event["step"])
            if "interaction" in event:
                found.setdefault(kind + ".interaction", set()).update(event["interaction"])
            found.setdefault(kind, set()).update(event)
        return found

    mine, theirs = shapes(ours), shapes(recorded)
    for kind, keys in mine.items():
        assert kind in theirs, kind
        assert keys <= theirs[kind], (kind, keys - theirs[kind])
    for kind in ("interaction.created", "interaction.status_update", "step.start", "step.stop",
                 "step.delta:text", "step.delta:thought_signature", "interaction.completed"):
        assert mine[kind] == theirs[kind], kind
    assert mine["interaction.completed.interaction"] == theirs["interaction.completed.interaction"]
    assert set(ours[-1]["interaction"]["usage"]) == set(recorded_events("vercel_basic.chunks.txt")[-1]
                                                        ["interaction"]["usage"])


def test_stream_follows_the_recorded_sequence(emu):
    events = stream(emu, {"model": MODEL, "input": "How are you?"})
    sequence = []
    for event in events:
        kind = event["event_type"]
        if not sequence or sequence[-1] != kind:
            sequence.append(kind)
    recorded = []
    for event in recorded_events("vercel_basic.chunks.txt"):
        if not recorded or recorded[-1] != event["event_type"]:
            recorded.append(event["event_type"])
    assert sequence == recorded
    ids = {events[0]["interaction"]["id"], events[1]["interaction_id"], events[-1]["interaction"]["id"]}
    assert len(ids) == 1
    assert [e["index"] for e in events if e["event_type"] == "step.start"] == [0, 1]
    assert events[-1]["interaction"]["status"] == "completed"


def test_streamed_and_unary_answers_agree(emu):
    body = {"model": MODEL, "input": "Same either way, in Markdown", "system_instruction": "Be brief."}
    events = stream(emu, body)
    unary = create(emu, body).json
    assert streamed_text(events) == text_of(unary)
    assert events[-1]["interaction"]["usage"] == unary["usage"]
    assert len([e for e in events if e["event_type"] == "step.delta"]) > 20  # a few words per delta


# -- conversations ----------------------------------------------------------------------------------
def assert_third_turn(text: str) -> None:
    assert "**Conversation:** turn 3, with 2 earlier turns received" in text
    assert '- turn 1: "I have 2 dogs in my house and…"' in text
    assert '- turn 2: "How many paws are in my house?" → answered in ' in text
    assert "characters, 1 thought signature\n" in text  # the thought step came back with its signature
    assert '**Prompt:** "And how many tails?"' in text


@pytest.mark.parametrize("streamed", [False, True], ids=["unary", "sse"])
def test_three_turns_chained_by_previous_interaction_id(emu, streamed):
    previous, texts = None, []
    for question in QUESTIONS:
        body = {"model": MODEL, "input": question}
        if previous:
            body["previous_interaction_id"] = previous
        if streamed:
            events = stream(emu, body)
            previous, text = events[-1]["interaction"]["id"], streamed_text(events)
        else:
            reply = create(emu, body)
            assert reply.status == 200, reply.body
            previous, text = reply.json["id"], text_of(reply.json)
            assert reply.json.get("previous_interaction_id") == body.get("previous_interaction_id")
        texts.append(text)
    assert "**Conversation:**" not in texts[0]
    assert "**Conversation:** turn 2, with 1 earlier turn received" in texts[1]
    assert_third_turn(texts[2])
    assert len(emu.interactions) == 3


def test_store_false_keeps_nothing_and_the_client_sends_the_steps(emu):
    history = [{"type": "user_input", "content": [{"type": "text", "text": QUESTIONS[0]}]}]
    for question in QUESTIONS[1:] + [None]:
        reply = create(emu, {"model": MODEL, "store": False, "input": history})
        assert reply.status == 200, reply.body
        assert "id" not in reply.json  # as recorded (vercel_no-id_top-k.json)
        if question is None:
            break
        history += reply.json["steps"]  # the thought (with its signature) and the model output
        history.append({"type": "user_input", "content": [{"type": "text", "text": question}]})
    assert_third_turn(text_of(reply.json))
    assert len(emu.interactions) == 0
    events = stream(emu, {"model": MODEL, "store": False, "input": history})
    assert "id" not in events[0]["interaction"] and "interaction_id" not in events[1]
    assert "id" not in events[-1]["interaction"]
    assert_third_turn(streamed_text(events))
    assert len(emu.interactions) == 0


def test_a_stateless_turn_may_still_read_a_stored_chain(emu):
    first = create(emu, {"model": MODEL, "input": QUESTIONS[0]}).json
    second = create(emu, {"model": MODEL, "input": QUESTIONS[1], "store": False,
                          "previous_interaction_id": first["id"]}).json
    assert "**Conversation:** turn 2, with 1 earlier turn received" in text_of(second)
    assert len(emu.interactions) == 1


def test_turns_given_as_role_and_content(emu):
    turns = [{"role": "user", "content": "first question"}, {"role": "model", "content": "first answer"},
             {"role": "user", "content": [{"type": "text", "text": "second question"}]}]
    text = text_of(create(emu, {"model": MODEL, "input": turns}).json)
    assert '- turn 1: "first question"' in text and '**Prompt:** "second question"' in text


# -- get and delete ---------------------------------------------------------------------------------
def test_get_returns_the_whole_timeline_and_delete_forgets(emu):
    created = create(emu, {"model": MODEL, "input": "Remember me"}).json
    path = f"{CREATE}/{created['id']}"
    got = call(emu, "GET", path)
    assert got.status == 200
    body = got.json
    assert body["id"] == created["id"] and body["status"] == "completed" and body["usage"] == created["usage"]
    assert body["steps"][0] == {"type": "user_input", "content": [{"type": "text", "text": "Remember me"}]}
    assert body["steps"][1:] == created["steps"] and "input" not in body
    assert call(emu, "GET", path + "?include_input=true").json["input"] == "Remember me"
    deleted = call(emu, "DELETE", path)
    assert deleted.status == 200 and deleted.json == {}
    for method in ("GET", "DELETE"):
        missing = call(emu, method, path)
        assert missing.status == 404
        assert missing.error() == {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}


def test_unknown_or_deleted_previous_interaction_is_a_404(emu):
    reply = create(emu, {"model": MODEL, "input": "Hi", "previous_interaction_id": "v1_nothing"})
    assert reply.status == 404 and reply.error()["status"] == "NOT_FOUND"
    first = create(emu, {"model": MODEL, "input": "one"}).json
    second = create(emu, {"model": MODEL, "input": "two", "previous_interaction_id": first["id"]}).json
    assert call(emu, "DELETE", f"{CREATE}/{first['id']}").status == 200
    reply = create(emu, {"model": MODEL, "input": "three", "previous_interaction_id": second["id"]})
    assert reply.status == 404  # the chain is broken: its first link is gone
    assert len(emu.interactions) == 1


# -- refusals ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("body,code,expected", [
    ({"input": "Hi"}, 400, "model is required"),
    ({"model": "gemini-9-ultra", "input": "Hi"}, 404, "models/gemini-9-ultra is not found"),
    ({"model": MODEL}, 400, "input is required"),
    ({"model": MODEL, "input": "Hi", "temperture": 1}, 400, 'Unknown name "temperture"'),
    ({"model": MODEL, "input": "Hi", "generation_config": {"thinking_budget": 5}}, 400,
     'Unknown name "thinking_budget" at \'generation_config\''),
    ({"model": MODEL, "input": "Hi", "generation_config": {"thinking_level": "huge"}}, 400,
     "generation_config.thinking_level"),
    ({"model": MODEL, "input": [{"type": "model_output", "content": [{"type": "text", "text": "x"}]},
                                {"type": "user_input", "content": "y"}]}, 400, "alternate between user and model"),
    ({"model": MODEL, "input": [{"type": "image"}]}, 400, "needs data or uri"),
    ({"model": MODEL, "input": [{"type": "text", "text": "a"}, {"type": "user_input", "content": "b"}]}, 400,
     "input[0]"),
])
def test_bad_requests_are_refused_in_the_service_shape(emu, body, code, expected):
    reply = create(emu, body)
    assert reply.status == code, reply.body
    assert expected in reply.error()["message"]
    assert len(emu.interactions) == 0


def test_gemini_3_pro_refuses_minimal_thinking_as_recorded(emu):
    recorded = json.loads(recording("errors/vercel_400_thinking-level-unsupported.json").read_text())
    reply = create(emu, {"model": "gemini-3-pro-preview", "input": "Hi",
                         "generation_config": {"thinking_level": "minimal"}})
    assert reply.status == 400 and reply.json == recorded


def function_call_history(with_signature: bool) -> list[dict]:
    thought = {"type": "thought", "signature": "CtkBAQw51sdu/emulated=="} if with_signature else \
        {"type": "thought"}
    return [{"type": "user_input", "content": "Weather in San Francisco?"}, thought,
            {"type": "function_call", "id": "zggxzq8r", "name": "getWeather",
             "arguments": {"location": "San Francisco"}},
            {"type": "function_result", "call_id": "zggxzq8r", "result": "18 C, fog"}]


def test_gemini_3_function_calls_need_their_signature_in_stateless_history(emu):
    reply = create(emu, {"model": MODEL, "store": False, "input": function_call_history(False)})
    assert reply.status == 400
    assert "missing a thought_signature" in reply.error()["message"]
    assert "`default_api:getWeather` , position 2." in reply.error()["message"]
    reply = create(emu, {"model": MODEL, "store": False, "input": function_call_history(True)})
    assert reply.status == 200, reply.body
    assert "function response `getWeather`" in text_of(reply.json)  # the name found through call_id


# -- faults -----------------------------------------------------------------------------------------
def test_a_status_fault_answers_the_error_and_keeps_nothing(emu):
    emu.inject("status", match="interactions", code=503)
    reply = create(emu, {"model": MODEL, "input": "Hi"})
    assert reply.status == 503 and reply.error()["status"] == "UNAVAILABLE"
    assert len(emu.interactions) == 0


def test_a_cut_stream_ends_without_completion(emu):
    emu.inject("cut", match="interactions", chunks=5)
    unary = create(emu, {"model": MODEL, "input": "Hi"})  # a unary create leaves the cut queued
    assert unary.status == 200 and emu.pending() == 1
    wire = raw_request(emu, "POST", CREATE_SSE, {"model": MODEL, "input": "Hi"})
    events = sse_events(wire.body)
    assert wire.terminated and len(events) == 5
    assert all(e["event_type"] != "interaction.completed" for e in events) and emu.pending() == 0


def test_an_error_mid_stream_is_an_error_event(emu):
    emu.inject("error_mid_stream", match="interactions", chunks=7, code=500)
    events = sse_events(raw_request(emu, "POST", CREATE_SSE, {"model": MODEL, "input": "Hi"}).body)
    assert len(events) == 8 and events[-1]["event_type"] == "error"
    assert events[-1]["error"]["code"] == 500 and events[-1]["error"]["status"] == "INTERNAL"


def test_drop_after_closes_the_connection_mid_stream(emu):
    emu.inject("drop_after", match="interactions", chunks=4)
    wire = raw_request(emu, "POST", CREATE_SSE, {"model": MODEL, "input": "Hi"})
    assert not wire.terminated and len(sse_events(wire.body)) == 4


def test_a_get_does_not_use_up_a_stream_fault(emu):
    created = create(emu, {"model": MODEL, "input": "Hi"}).json
    emu.inject("cut", chunks=3)
    assert call(emu, "GET", f"{CREATE}/{created['id']}").status == 200
    assert emu.pending() == 1


def test_stream_true_in_the_body_alone_streams(emu):
    wire = raw_request(emu, "POST", CREATE, {"model": MODEL, "input": "Hi", "stream": True})
    assert wire.status == 200 and wire.headers["content-type"] == "text/event-stream"
    assert sse_events(wire.body)[-1]["event_type"] == "interaction.completed"


def test_the_key_rules_hold_for_interactions(emu):
    assert call(emu, "POST", CREATE, {"model": MODEL, "input": "Hi"}, key=None).status == 403
    assert call(emu, "GET", f"{CREATE}/anything?key=AIzaSy-in-the-url").status == 400
