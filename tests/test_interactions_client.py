"""The Interactions API client: recorded traffic merged exactly, and conversations over loopback."""

from __future__ import annotations

import json

import pytest

from conftest import RECORDINGS, recording
from gemini_magic import errors
from gemini_magic.api.chat import Chat
from gemini_magic.api.interactions import (API_REVISION, InteractionEvent, build_interaction_request,
                                           delete_interaction, get_interaction, interact, parts_to_input, to_input)
from gemini_magic.answer.interaction import Interaction
from gemini_magic.wire.sse import SSEDecoder

MODEL = "gemini-3-flash-preview"
CHUNK_FILES = ["interactions/vercel_basic.chunks.txt", "interactions/vercel_google-search.chunks.txt"]


def recorded_events(relative: str) -> list[dict]:
    return [json.loads(line) for line in recording(relative).read_text("utf-8").splitlines() if line.strip()]


def sse_body(events: list[dict]) -> bytes:
    """The recorder stripped the framing: put back `data: ` and the service's CRLF CRLF separators."""
    return "".join(f"data: {json.dumps(e, ensure_ascii=False)}\r\n\r\n" for e in events).encode("utf-8")


def oracle(events: list[dict]) -> dict:
    """What the merged answer must hold, read straight off the events."""
    deltas = [e["delta"] for e in events if e["event_type"] == "step.delta"]
    final = [e["interaction"] for e in events if e["event_type"] == "interaction.completed"][-1]
    return {"text": "".join(d["text"] for d in deltas if d["type"] == "text"),
            "signatures": [d["signature"] for d in deltas if d["type"] == "thought_signature"],
            "annotations": [a for d in deltas if d["type"] == "text_annotation_delta" for a in d["annotations"]],
            "types": [e["step"]["type"] for e in events if e["event_type"] == "step.start"],
            "id": final["id"], "usage": final["usage"]}


@pytest.mark.parametrize("relative", CHUNK_FILES)
@pytest.mark.parametrize("piece_size", [1, 7, 4096])
def test_recorded_stream_decodes_and_merges_exactly(relative, piece_size):
    events = recorded_events(relative)
    body = sse_body(events)
    decoder, merged = SSEDecoder(), Interaction(streamed=True)
    received = [e for i in range(0, len(body), piece_size) for e in decoder.feed(body[i:i + piece_size])]
    for event in received + decoder.close():
        merged.add_event(json.loads(event.data))
    want = oracle(events)
    assert merged.text == want["text"] and merged.id == want["id"] and merged.usage == want["usage"]
    assert [s["type"] for s in merged.steps] == want["types"]
    assert [s["signature"] for s in merged.steps if s["type"] == "thought"] == want["signatures"]
    assert merged.steps[1]["content"][0].get("annotations", []) == want["annotations"]
    assert merged.status == "completed" and not merged.incomplete and merged.raw == events


def test_basic_recording_text_and_parts():
    merged = Interaction(streamed=True)
    for event in recorded_events(CHUNK_FILES[0]):
        merged.add_event(event)
    assert merged.text == ("I'm doing great, thank you for asking!\n\nHow are you doing today? "
                           "And what can I do for you?")
    assert merged.thoughts == ""
    thought, answer = merged.parts
    assert thought["thought"] is True and thought["thoughtSignature"].startswith("CiQBDDnWxzCnKBoG0")
    assert answer == {"text": merged.text}
    assert merged.usage_metadata == {"promptTokenCount": 7, "cachedContentTokenCount": 0,
                                     "candidatesTokenCount": 26, "toolUsePromptTokenCount": 0,
                                     "thoughtsTokenCount": 115, "totalTokenCount": 148}
    assert merged.steps[0] == {"type": "thought", "signature": thought["thoughtSignature"]}


def test_search_recording_keeps_calls_and_results_after_the_answer():
    merged = Interaction(streamed=True)
    for event in recorded_events(CHUNK_FILES[1]):
        merged.add_event(event)
    assert merged.text.startswith("Here's a notable AI development from this past week:\n\n**Anthropic's")
    assert merged.text.endswith("biologically plausible mechanisms.")
    call, result = merged.steps[2], merged.steps[3]
    assert call["id"] == "7xveqyd2" and len(call["arguments"]["queries"]) == 4
    assert result["call_id"] == "7xveqyd2" and result["is_error"] is False
    assert result["result"][0]["search_suggestions"].startswith("<style>")
    annotations = merged.steps[1]["content"][0]["annotations"]
    assert annotations and all(a["type"] == "url_citation" for a in annotations)
    # citation offsets count UTF-8 bytes of the answer text
    assert max(a["end_index"] for a in annotations) <= len(merged.text.encode("utf-8"))
    assert len(merged.parts) == 2  # search steps have no part kind: they stay in .steps


def test_unary_recordings():
    tool = Interaction(json.loads(recording("interactions/vercel_tool-call-step1_requires_action.json").read_text()))
    assert tool.status == "requires_action" and not tool.incomplete and tool.text == ""
    assert tool.function_call_steps == [{"id": "zggxzq8r", "type": "function_call", "name": "getWeather",
                                         "arguments": {"location": "San Francisco"}}]
    assert tool.function_calls == [{"id": "zggxzq8r", "name": "getWeather", "args": {"location": "San Francisco"}}]
    assert tool.parts[1] == {"functionCall": {"id": "zggxzq8r", "name": "getWeather",
                                              "args": {"location": "San Francisco"}}}
    no_id = Interaction(json.loads(recording("interactions/vercel_no-id_top-k.json").read_text()))
    assert no_id.id is None and no_id.text == "OK" and no_id.total_tokens == 17
    with pytest.raises(ValueError, match="No interaction id"):
        get_interaction(None, no_id)


def test_every_shared_interactions_recording_is_covered():
    folder = RECORDINGS / "interactions"
    if not folder.exists():
        pytest.skip("../shared/recordings is not here")
    covered = set(CHUNK_FILES) | {"interactions/vercel_tool-call-step1_requires_action.json",
                                  "interactions/vercel_no-id_top-k.json"}
    assert {f"interactions/{p.name}" for p in folder.iterdir() if p.suffix in (".txt", ".json")} == covered


def test_thought_summaries_arguments_and_media_deltas_merge():
    merged = Interaction(streamed=True)
    for event in [
        {"event_type": "step.start", "index": 0, "step": {"type": "thought"}},
        {"event_type": "step.delta", "index": 0, "delta": {"type": "thought_summary",
                                                           "content": {"type": "text", "text": "**Plan** "}}},
        {"event_type": "step.delta", "index": 0, "delta": {"type": "thought_summary",
                                                           "content": {"type": "text", "text": "then act"}}},
        {"event_type": "step.delta", "index": 0, "delta": {"type": "thought_signature", "signature": "c2ln"}},
        {"event_type": "step.stop", "index": 0},
        {"event_type": "step.start", "index": 1, "step": {"type": "function_call", "id": "f1", "name": "rain"}},
        {"event_type": "step.delta", "index": 1, "delta": {"type": "arguments_delta", "partial_arguments": '{"ci'}},
        {"event_type": "step.delta", "index": 1,
         "delta": {"type": "arguments_delta", "partial_arguments": 'ty": "Huế"}'}},
        {"event_type": "step.stop", "index": 1},
        {"event_type": "step.start", "index": 2, "step": {"type": "model_output"}},
        {"event_type": "step.delta", "index": 2, "delta": {"type": "text", "text": "Here "}},
        {"event_type": "step.delta", "index": 2, "delta": {"type": "image", "data": "AAAA", "mime_type": "image/png"}},
        {"event_type": "step.delta", "index": 2, "delta": {"type": "text", "text": "and "}},
        {"event_type": "step.delta", "index": 2, "delta": {"type": "text", "text": "there"}},
        {"event_type": "step.delta", "index": 2, "delta": {"type": "something_new", "x": 1}},
        {"event_type": "a.new.event"},
        {"event_type": "step.stop", "index": 2},
    ]:
        merged.add_event(event)
    assert merged.thoughts == "**Plan** then act" and merged.text == "Here and there"
    assert merged.steps[0] == {"type": "thought", "summary": [{"type": "text", "text": "**Plan** then act"}],
                               "signature": "c2ln"}
    assert merged.steps[1]["arguments"] == {"city": "Huế"}
    assert [item["type"] for item in merged.steps[2]["content"]] == ["text", "image", "text"]
    assert merged.parts == [{"text": "**Plan** then act", "thought": True, "thoughtSignature": "c2ln"},
                            {"functionCall": {"id": "f1", "name": "rain", "args": {"city": "Huế"}}},
                            {"text": "Here "}, {"inlineData": {"mimeType": "image/png", "data": "AAAA"}},
                            {"text": "and there"}]
    assert merged.incomplete  # no interaction.completed arrived


def test_text_read_while_streaming_grows():
    merged = Interaction(streamed=True)
    merged.add_event({"event_type": "step.start", "index": 0, "step": {"type": "model_output"}})
    seen = []
    for piece in ("a", "b", "c"):
        merged.add_event({"event_type": "step.delta", "index": 0, "delta": {"type": "text", "text": piece}})
        seen.append(merged.text)
    assert seen == ["a", "ab", "abc"]


def test_inputs_become_content_items_and_steps():
    parts = [{"text": "Tell me about this instrument"},
             {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/"}},
             {"fileData": {"mimeType": "application/pdf", "fileUri": "https://x/files/abc"}}]
    assert parts_to_input(parts) == [{"type": "user_input", "content": [
        {"type": "text", "text": "Tell me about this instrument"},
        {"type": "image", "data": "/9j/", "mime_type": "image/jpeg"},
        {"type": "document", "uri": "https://x/files/abc", "mime_type": "application/pdf"}]}]
    answer = {"functionResponse": {"id": "zggxzq8r", "name": "getWeather", "response": {"result": "sunny"}}}
    assert parts_to_input([answer]) == [{"type": "function_result", "name": "getWeather", "result": "sunny",
                                         "call_id": "zggxzq8r"}]
    assert to_input("How does AI work?") == "How does AI work?"
    steps = [{"type": "user_input", "content": [{"type": "text", "text": "hi"}]}]
    assert to_input(steps) == steps
    body = build_interaction_request("models/gemini-3-flash-preview", "hi", store=False, stream=True,
                                     system_instruction="You are a cat.", generation_config={"thinking_level": "low"})
    assert body == {"model": "gemini-3-flash-preview", "input": "hi", "system_instruction": "You are a cat.",
                    "generation_config": {"thinking_level": "low"}, "store": False, "stream": True}


# --- over loopback, against the emulator ---------------------------------------------------------------

def conversation_line(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("**Conversation:**"):
            return line.removeprefix("**Conversation:**").strip()
    return ""


def test_recorded_stream_over_http(client, emulator):
    events = recorded_events(CHUNK_FILES[1])
    emulator.replay(sse_body(events), chunk_size=97, match="interactions")
    stream = interact(client, "gemini-2.5-flash", "What happened in AI last week?", stream=True,
                      tools=[{"type": "google_search"}])
    texts = [event.text for event in stream]
    assert "".join(texts) == stream.interaction.text == oracle(events)["text"]
    sent = emulator.requests[-1]
    assert sent.query.get("alt") in ("sse", ["sse"]) and sent.json["stream"] is True
    assert sent.headers["api-revision"] == API_REVISION and "key" not in sent.query


def test_create_continue_get_and_delete(client, emulator):
    first = interact(client, MODEL, "I have 2 dogs in my house.")
    assert first.id and first.status == "completed" and first.text
    second = interact(client, MODEL, "How many paws are in my house?", previous_interaction_id=first.id)
    assert conversation_line(second.text) == "turn 2, with 1 earlier turn received"
    stored = get_interaction(client, second.id)
    assert stored.steps[0]["type"] == "user_input" and stored.text == second.text
    assert [s["type"] for s in stored.output_steps] == [s["type"] for s in second.steps]
    delete_interaction(client, first)
    with pytest.raises(errors.NotFoundError):
        get_interaction(client, first.id)


def test_streamed_interaction_with_thought_summaries(client, emulator):
    stream = interact(client, MODEL, "Explain how AI works", stream=True,
                      generation_config={"thinking_summaries": "auto"})
    events = list(stream)
    assert all(isinstance(e, InteractionEvent) for e in events)
    assert events[0].event_type == "interaction.created" and events[-1].event_type == "interaction.completed"
    merged = stream.interaction
    assert "".join(e.thought for e in events) == merged.thoughts != ""
    assert "".join(e.text for e in events) == merged.text != ""
    assert merged.status == "completed" and merged.usage["total_tokens"] > 0 and merged.id
    assert get_interaction(client, merged.id).text == merged.text


@pytest.mark.parametrize("store", [True, False])
@pytest.mark.parametrize("streamed", [False, True])
def test_three_turn_chat_over_interactions(client, emulator, store, streamed):
    chat = Chat(client, MODEL, interactions=True, store=store, name="trip")
    answers = []
    for prompt in ("I have two dogs and a cat.", "Plan a weekend in Đà Lạt.", "Which places allow cats?"):
        answers.append(chat.stream(prompt).until_done() if streamed else chat.send(prompt))
    assert conversation_line(answers[2].text) == "turn 3, with 2 earlier turns received"
    bodies = [r.json for r in emulator.requests if r.path.endswith("/interactions")]
    if store:
        assert [b.get("previous_interaction_id") for b in bodies] == [None, answers[0].id, answers[1].id]
        assert [len(b["input"]) for b in bodies] == [1, 1, 1]
    else:
        assert all(b["store"] is False and "previous_interaction_id" not in b for b in bodies)
        # every earlier step goes back exactly as received (thought signatures included)
        assert bodies[2]["input"][1:1 + len(answers[0].steps)] == answers[0].steps
        assert [s["type"] for s in bodies[2]["input"]].count("user_input") == 3
    assert [c["role"] for c in chat.history] == ["user", "model"] * 3
    assert chat.history[1] == answers[0].to_content()
    assert chat.total_tokens == sum(a.total_tokens for a in answers) > 0


def test_rerun_in_interactions_branches_from_the_previous_turn(client, emulator):
    chat = Chat(client, MODEL, interactions=True)
    first = chat.send("one", cell_id="c1")
    chat.send("two", cell_id="c2")
    chat.send("three", cell_id="c3")
    again = chat.send("two, edited", cell_id="c2")
    assert chat.last_replaced == (1, 1)
    assert emulator.requests[-1].json["previous_interaction_id"] == first.id
    assert conversation_line(again.text) == "turn 2, with 1 earlier turn received"


@pytest.mark.parametrize("fault, error", [("cut", errors.APIConnectionError),
                                          ("error_mid_stream", errors.APIError),
                                          ("drop_after", errors.APIConnectionError)])
def test_failed_interaction_streams_leave_the_chat_unchanged(client, emulator, fault, error):
    chat = Chat(client, MODEL, interactions=True, name="trip")
    chat.send("I have two dogs.")
    before = (json.dumps(chat.history), [t.interaction_id for t in chat.turns])
    emulator.inject(fault, chunks=4, match="interactions")
    stream = chat.stream("And a cat?")
    with pytest.raises(error) as caught:
        stream.until_done()
    assert caught.value.response is stream.response and stream.response.incomplete
    assert (json.dumps(chat.history), [t.interaction_id for t in chat.turns]) == before
    if fault == "cut":
        assert "not added to trip" in str(caught.value)
    if fault == "drop_after":
        assert "after 4 events of the interaction" in str(caught.value)
    answer = chat.send("And a cat?")
    assert conversation_line(answer.text) == "turn 2, with 1 earlier turn received"


def test_a_500_on_create_leaves_the_chat_unchanged(client, emulator):
    chat = Chat(client, MODEL, interactions=True)
    chat.send("one")
    emulator.inject("status", code=500, match="interactions", times=10)
    with pytest.raises(errors.ServerError):
        chat.send("two")
    assert len(chat.turns) == 1


def test_function_call_then_result_in_an_interactions_chat(client, emulator):
    body = recording("interactions/vercel_tool-call-step1_requires_action.json").read_bytes()
    emulator.replay(body, content_type="application/json; charset=UTF-8", match="interactions")
    chat = Chat(client, "gemini-2.5-flash", interactions=True, store=False)
    asked = chat.send("What is the weather in San Francisco?")
    assert asked.status == "requires_action" and len(chat.turns) == 1
    assert chat.turns[0].steps == json.loads(body)["steps"]
    answer = {"functionResponse": {"id": "zggxzq8r", "name": "getWeather", "response": {"result": "sunny, 18 °C"}}}
    chat.send([answer])
    sent = emulator.requests[-1].json["input"]
    assert sent[1:3] == json.loads(body)["steps"]  # the thought signature goes back untouched
    assert sent[3] == {"type": "function_result", "name": "getWeather", "result": "sunny, 18 °C",
                       "call_id": "zggxzq8r"}


def test_save_and_load_a_stateless_interactions_chat(client, emulator, tmp_path):
    chat = Chat(client, MODEL, interactions=True, store=False, name="trip")
    chat.send("first")
    chat.send("second")
    chat.save(tmp_path / "trip.json")
    loaded = Chat.load(tmp_path / "trip.json", client)
    assert loaded.interactions and not loaded.store and loaded.history == chat.history
    assert [t.steps for t in loaded.turns] == [t.steps for t in chat.turns]
    answer = loaded.send("third")
    assert conversation_line(answer.text) == "turn 3, with 2 earlier turns received"


def test_chat_settings_become_generation_config_and_a_turn_may_change_them(client, emulator):
    chat = Chat(client, MODEL, system="You are a cat.", interactions=True, thinking_level="low")
    chat.send("Hello there")
    chat.send("And now?", system="You are a dog.", generation_config={"max_output_tokens": 500})
    first, second = [r.json for r in emulator.requests if r.path.endswith("/interactions")]
    assert first["system_instruction"] == "You are a cat." and first["generation_config"] == {"thinking_level": "low"}
    assert second["system_instruction"] == "You are a dog."
    assert second["generation_config"] == {"max_output_tokens": 500, "thinking_level": "low"}


def test_a_stream_is_retried_before_any_event(client, emulator):
    emulator.inject("status", code=503, match="interactions")
    interaction = interact(client, MODEL, "hi", stream=True).until_done()
    assert interaction.status == "completed" and interaction.text
    assert sum(1 for r in emulator.requests if r.path.endswith("/interactions")) == 2


def test_event_lines_and_done_marker_are_tolerated(client, emulator):
    """API_NOTES: events may carry `event:` and `event_id`, and the stream may end with `data: [DONE]`."""
    events = recorded_events(CHUNK_FILES[0])
    body = "".join(f"event: {e['event_type']}\r\ndata: {json.dumps({**e, 'event_id': str(n)})}\r\n\r\n"
                   for n, e in enumerate(events)) + "data: [DONE]\r\n\r\n"
    emulator.replay(body.encode(), chunk_size=13, match="interactions")
    stream = interact(client, "gemini-2.5-flash", "hello", stream=True)
    assert len(list(stream)) == len(events)
    assert stream.interaction.text == oracle(events)["text"] and not stream.interaction.incomplete


def test_an_error_event_raises_with_the_partial_answer_and_no_key(client, emulator):
    from conftest import TEST_KEY

    events = recorded_events(CHUNK_FILES[1])[:8]
    error = {"event_type": "error", "error": {"code": 500, "status": "INTERNAL",
                                              "message": f"Internal error for key {TEST_KEY}"}}
    emulator.replay(sse_body(events + [error]), match="interactions")
    stream = interact(client, "gemini-2.5-flash", "hello", stream=True)
    with pytest.raises(errors.ServerError) as caught:
        stream.until_done()
    assert TEST_KEY not in str(caught.value) and "Internal error" in str(caught.value)
    partial = caught.value.response
    assert partial is stream.interaction and partial.incomplete and partial.status == "failed"
    sent_text = "".join(e["delta"]["text"] for e in events if e.get("delta", {}).get("type") == "text")
    assert partial.text == sent_text != ""


def test_a_silent_stream_times_out_with_the_partial_answer(emulator):
    from conftest import TEST_KEY
    from gemini_magic import Client, RetryPolicy

    client = Client(api_key=TEST_KEY, base_url=emulator.base_url, timeout=(5.0, 0.3),
                    retry=RetryPolicy(max_retries=0))
    emulator.pace = 1.0  # a second between events: longer than the read timeout
    stream = interact(client, MODEL, "hi", stream=True)
    message = r"No data from .* for 0\.3 s after 0 events of the interaction\.$"
    with pytest.raises(errors.APITimeoutError, match=message) as caught:
        stream.until_done()
    assert caught.value.response is stream.interaction and stream.interaction.incomplete
    assert caught.value.retryable is False
    assert sum(1 for r in emulator.requests if r.path.endswith("/interactions")) == 1  # not retried
