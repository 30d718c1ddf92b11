"""Chat over generateContent, against the emulator over loopback: history that failures never corrupt."""

from __future__ import annotations

import copy
import json
import re
import signal

import pytest

from conftest import recording
from gemini_magic import errors
from gemini_magic.api.chat import Chat, Turn

MODEL = "gemini-2.5-flash"


def conversation_line(text: str) -> str:
    """The emulator's echo of what history arrived ("turn 3, with 2 earlier turns received")."""
    for line in text.splitlines():
        if line.startswith("**Conversation:**"):
            return line.removeprefix("**Conversation:**").strip()
    return ""


def earlier_turns(text: str) -> list[str]:
    """The first words of each earlier user turn, as the emulator quotes them."""
    return [re.search(r'"[^"]*"', line).group(0) for line in text.splitlines() if line.startswith("- turn ")]


@pytest.fixture
def chat(client):
    return Chat(client, MODEL, name="trip")


def test_three_turns_unary_carry_the_whole_history(chat):
    first = chat.send("I have two dogs and a cat.")
    assert conversation_line(first.text) == ""
    chat.send("Plan a weekend in Đà Lạt with them.")
    third = chat.send("Which of those places allow cats?")
    assert conversation_line(third.text) == "turn 3, with 2 earlier turns received"
    assert earlier_turns(third.text) == ['"I have two dogs and a cat."', '"Plan a weekend in Đà Lạt with them."']
    assert [c["role"] for c in chat.history] == ["user", "model"] * 3
    assert chat.history[0] == {"role": "user", "parts": [{"text": "I have two dogs and a cat."}]}
    assert chat.history[5] == third.to_content()
    assert len(chat.turns) == 3 and isinstance(chat.turns[0], Turn)


def test_three_turns_streamed(chat, emulator):
    texts = []
    for prompt in ("First question", "Second question", "Third question"):
        stream = chat.stream(prompt)
        pieces = [chunk.text for chunk in stream]
        assert len(pieces) > 1  # it did stream
        texts.append("".join(pieces))
        assert "".join(pieces) == stream.response.text
        assert stream.turn is chat.turns[-1]
    assert conversation_line(texts[2]) == "turn 3, with 2 earlier turns received"
    assert earlier_turns(texts[2]) == ['"First question"', '"Second question"']
    sent = [r.json for r in emulator.requests if r.path.endswith(":streamGenerateContent")]
    assert [len(body["contents"]) for body in sent] == [1, 3, 5]
    assert sent[2]["contents"][:4] == chat.history[:4]


def test_settings_and_system_instruction_reach_every_turn(client, emulator):
    chat = Chat(client, MODEL, system="Be brief.", temperature=0.3)
    chat.send("one")
    chat.send("two", temperature=0.9)
    bodies = [r.json for r in emulator.requests if r.path.endswith(":generateContent")]
    assert [b["systemInstruction"] for b in bodies] == [{"parts": [{"text": "Be brief."}]}] * 2
    assert [b["generationConfig"]["temperature"] for b in bodies] == [0.3, 0.9]


def snapshot(chat):
    return copy.deepcopy(chat.history), [t.cell_id for t in chat.turns]


def test_a_failing_turn_leaves_history_unchanged(chat, emulator):
    chat.send("I have two dogs.")
    chat.send("And a cat.")
    before = snapshot(chat)
    emulator.inject("status", code=500, match="generate", times=10)  # more than the retries
    with pytest.raises(errors.ServerError):
        chat.send("Which places allow cats?")
    assert snapshot(chat) == before
    emulator.reset()
    answer = chat.send("Which places allow cats?")
    assert conversation_line(answer.text) == "turn 3, with 2 earlier turns received"


def test_a_500_in_the_middle_of_a_stream_leaves_history_unchanged(chat, emulator):
    chat.send("I have two dogs.")
    before = snapshot(chat)
    emulator.inject("error_mid_stream", chunks=2, code=500, match="stream")
    stream = chat.stream("And a cat?")
    with pytest.raises(errors.ServerError) as caught:
        stream.until_done()
    assert caught.value.response is stream.response and stream.response.text  # the partial answer is kept
    assert snapshot(chat) == before and stream.turn is None


def test_a_blocked_prompt_is_not_added(chat, emulator):
    chat.send("Hello")
    before = snapshot(chat)
    emulator.inject("block_prompt", reason="SAFETY", match="generate")
    with pytest.raises(errors.PromptBlockedError,
                       match=r"blocked \(SAFETY\); the turn was not added to trip\. Run the cell again\.") as caught:
        chat.send("something blocked")
    assert caught.value.response.block_reason == "SAFETY"
    assert snapshot(chat) == before


def test_an_answer_stopped_by_safety_is_not_added(chat, emulator):
    emulator.inject("finish", reason="SAFETY", chunks=2, match="stream")
    with pytest.raises(errors.PromptBlockedError, match=r"filters \(SAFETY\)") as caught:
        chat.stream("hi").until_done()
    assert caught.value.response.text and chat.history == []


def test_a_cut_stream_is_not_added(chat, emulator):
    chat.send("I have two dogs.")
    before = snapshot(chat)
    emulator.inject("cut", chunks=3, match="stream")
    stream = chat.stream("And a cat?")
    with pytest.raises(errors.APIConnectionError, match="no finish reason") as caught:
        for _ in stream:
            pass
    assert caught.value.response.incomplete and len(caught.value.response.raw) == 3
    assert snapshot(chat) == before


def test_a_dropped_connection_is_not_added(chat, emulator):
    emulator.inject("drop_after", chunks=2, match="stream")
    with pytest.raises(errors.APIConnectionError, match="after 2 chunk"):
        chat.stream("hi").until_done()
    assert chat.turns == []


def test_stopping_the_loop_with_an_interrupt_adds_nothing(chat):
    chat.send("one")
    before = snapshot(chat)
    stream = chat.stream("two")
    with pytest.raises(KeyboardInterrupt):
        for number, _ in enumerate(stream):
            if number == 1:
                raise KeyboardInterrupt
    stream.close()
    assert snapshot(chat) == before


def test_a_kernel_interrupt_inside_the_stream_adds_nothing(chat, emulator):
    """SIGINT arriving while the stream waits for data, as Jupyter's interrupt does: the alarm is set
    after the first chunk and goes off while the next one is half a second away, so it lands in the read."""
    armed = []

    def interrupt(signum, frame):
        if armed:
            armed.clear()
            raise KeyboardInterrupt

    emulator.pace = 0.5  # seconds between chunks
    previous = signal.signal(signal.SIGALRM, interrupt)
    stream = chat.stream("a long answer")
    try:
        with pytest.raises(KeyboardInterrupt):
            for _ in stream:
                if not armed:
                    armed.append(True)
                    signal.setitimer(signal.ITIMER_REAL, 0.1)
    finally:
        armed.clear()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert stream.response.interrupted and stream.response.incomplete
    assert stream.response.chunk_count == 1 and chat.turns == []


def test_rerunning_a_cell_replaces_its_turn_and_drops_the_later_ones(chat):
    chat.send("Cell one question", cell_id="c1")
    chat.send("Cell two question", cell_id="c2")
    chat.send("Cell three question", cell_id="c3")
    assert chat.last_replaced is None
    again = chat.send("Cell two, edited", cell_id="c2")
    assert chat.last_replaced == (1, 1)
    assert conversation_line(again.text) == "turn 2, with 1 earlier turn received"
    assert [t.cell_id for t in chat.turns] == ["c1", "c2"]
    assert chat.history[2]["parts"] == [{"text": "Cell two, edited"}]
    chat.send("No cell id appends")
    chat.send("No cell id appends again")
    assert [t.cell_id for t in chat.turns] == ["c1", "c2", None, None] and chat.last_replaced is None
    chat.send("Cell one, again", cell_id="c1")
    assert chat.last_replaced == (0, 3) and len(chat.turns) == 1


def test_a_failed_rerun_keeps_every_turn(chat, emulator):
    for cell in ("c1", "c2", "c3"):
        chat.send(f"question of {cell}", cell_id=cell)
    before = snapshot(chat)
    emulator.inject("block_prompt", match="generate")
    with pytest.raises(errors.PromptBlockedError):
        chat.send("edited", cell_id="c1")
    assert snapshot(chat) == before and chat.last_replaced is None


def test_undo_reset_usage_fork(chat):
    chat.send("one")
    chat.send("two")
    per_turn = [t.tokens for t in chat.turns]
    assert all(per_turn) and chat.total_tokens == sum(per_turn)
    assert chat.usage["totalTokenCount"] == sum(per_turn)
    branch = chat.fork(name="branch")
    removed = chat.undo()
    assert removed.user["parts"] == [{"text": "two"}] and len(chat.turns) == 1
    assert len(branch.turns) == 2  # the fork kept its own list
    third = branch.send("three")
    assert conversation_line(third.text) == "turn 3, with 2 earlier turns received"
    chat.reset()
    assert chat.history == [] and chat.usage == {}
    with pytest.raises(errors.GeminiError, match="There is no turn in trip to undo."):
        chat.undo()


def test_transcript_names_turns_and_tokens(chat):
    chat.send("I have two dogs.")
    chat.send(["Describe", {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}])
    text = chat._repr_markdown_()
    assert text.startswith(f"**trip** · {MODEL} · generateContent · 2 turns · {chat.total_tokens:,} tokens")
    assert f"### Turn 2 · {chat.turns[1].tokens:,} tokens" in text
    assert "**You:** Describe \\[image/png\\]" in text
    assert repr(chat).startswith(f"trip · {MODEL} · generateContent") and "You: Describe [image/png]" in repr(chat)


def png_image(color):
    from PIL import Image

    return Image.new("RGB", (64, 48), color)


def test_save_and_load_round_trip_with_an_image(chat, client, emulator, tmp_path):
    chat.send(["What colour is this?", png_image("red")], cell_id="c1")
    chat.send("And now?", cell_id="c2")
    path = tmp_path / "trip.json"
    chat.save(path)
    saved = json.loads(path.read_text("utf-8"))
    assert saved["turns"][0]["user"]["parts"][1]["inlineData"]["mimeType"] == "image/png"
    loaded = Chat.load(path, client)
    assert loaded.history == chat.history and loaded.name == "trip" and loaded.model == MODEL
    assert [t.tokens for t in loaded.turns] == [t.tokens for t in chat.turns]
    assert [t.cell_id for t in loaded.turns] == ["c1", "c2"]
    third = loaded.send("Third", cell_id="c3")
    assert conversation_line(third.text) == "turn 3, with 2 earlier turns received"
    sent = emulator.requests[-1].json
    assert sent["contents"][0]["parts"][1] == chat.history[0]["parts"][1]  # the image, as first sent
    loaded.send("Second again", cell_id="c2")  # cell ids survive the round trip
    assert loaded.last_replaced == (1, 1)


def test_load_refuses_other_files(client, tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"a": 1}', "utf-8")
    with pytest.raises(errors.GeminiError, match="not a conversation saved by Chat.save"):
        Chat.load(path, client)


def test_an_object_is_converted_once_not_on_every_turn(chat, emulator):
    from gemini_magic.parts import register_converter, unregister_converter

    class Drawing:
        calls = 0

    def convert(obj, context):
        Drawing.calls += 1
        return {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgoAAAANSUhEUg=="}}

    register_converter(Drawing, convert)
    try:
        chat.send(["Look at", Drawing()])
        for prompt in ("second", "third", "fourth"):
            chat.send(prompt)
    finally:
        unregister_converter(Drawing)
    assert Drawing.calls == 1
    last = emulator.requests[-1].json
    assert last["contents"][0]["parts"][1] == {"inlineData": {"mimeType": "image/png",
                                                              "data": "iVBORw0KGgoAAAANSUhEUg=="}}


def test_the_request_for_a_turn_is_built_without_sending(chat, emulator):
    chat.send("one")
    count = len(emulator.requests)
    body = chat.build_request("two")
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][2] == {"role": "user", "parts": [{"text": "two"}]}
    assert len(emulator.requests) == count and len(chat.turns) == 1


def test_function_calls_come_back_with_their_signatures(client, emulator):
    """Gemini 3 refuses a follow-up whose function calls lost their thoughtSignature (the emulator too)."""
    body = recording("function_call/adk_gemini-3-flash-preview_parallel-calls.sse").read_bytes()
    chat = Chat(client, "gemini-3-flash-preview")
    emulator.replay(body, match="stream")
    response = chat.stream("Add 2+3, 4+5 and 6+7.").until_done()
    reply = chat.history[1]
    assert reply == response.to_content()
    calls = [p for p in reply["parts"] if "functionCall" in p]
    assert [c["functionCall"]["id"] for c in calls] == ["3ae8iwca", "up3kf30e", "ycroch25"]
    assert calls[0]["thoughtSignature"].startswith("EukBCuYBAb4+9vt") and "thoughtSignature" not in calls[1]
    results = [{"functionResponse": {"id": c["functionCall"]["id"], "name": "sum",
                                     "response": {"result": sum(c["functionCall"]["args"].values())}}}
               for c in calls]
    answer = chat.send(results)
    assert answer.finish_reason == "STOP" and len(chat.turns) == 2
    sent = emulator.requests[-1].json["contents"]
    assert sent[1] == reply and sent[2] == {"role": "user", "parts": results}


def test_save_refuses_settings_json_cannot_hold(client, tmp_path):
    chat = Chat(client, MODEL, tools=[print])
    with pytest.raises(errors.GeminiError, match="cannot be saved as JSON"):
        chat.save(tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


def test_a_turn_may_bring_its_own_system_instruction(client, emulator):
    chat = Chat(client, MODEL, system="Be brief.")
    chat.send("one", system="Answer in French.")
    chat.send("two")
    bodies = [r.json for r in emulator.requests if r.path.endswith(":generateContent")]
    assert [b["systemInstruction"]["parts"][0]["text"] for b in bodies] == ["Answer in French.", "Be brief."]


def test_history_over_the_inline_limit_uploads_once_and_keeps_the_upload(chat, emulator):
    """Two 8 MB blobs are 21 MB of base64: the client uploads the larger, and history keeps its fileData."""
    import os

    from gemini_magic.parts import Blob

    def uploads():
        return sum(1 for r in emulator.requests if r.path.startswith("/upload/") and r.method == "POST"
                   and "upload_id" not in str(r.query))

    chat.send(["first blob", Blob(os.urandom(8_000_000), "application/pdf")])
    assert uploads() == 0 and "inlineData" in chat.history[0]["parts"][1]
    chat.send(["second blob", Blob(os.urandom(8_100_000), "application/pdf")])
    assert uploads() == 1
    moved = [p for c in chat.history for p in c["parts"] if "fileData" in p]
    assert len(moved) == 1 and moved[0]["fileData"]["mimeType"] == "application/pdf"
    assert chat.history[2]["parts"][1] == moved[0]  # the larger blob went; the other stays inline
    assert "inlineData" in chat.history[0]["parts"][1]
    third = chat.send("third")
    assert uploads() == 1 and conversation_line(third.text) == "turn 3, with 2 earlier turns received"
    assert emulator.requests[-1].json["contents"][2]["parts"][1] == moved[0]


def test_a_dry_run_uploads_nothing_and_changes_nothing(chat, emulator):
    import os

    from gemini_magic.parts import Blob

    chat.send("one", cell_id="c1")
    chat.send("two", cell_id="c2")
    chat.send("one, edited", cell_id="c1")
    assert chat.last_replaced == (0, 1)
    count = len(emulator.requests)
    body = chat.build_request(["a big file", Blob(os.urandom(16_000_000), "application/pdf")], dry_run=True)
    placeholder = body["contents"][-1]["parts"][1]["fileData"]
    assert placeholder["fileUri"].startswith("(uploaded when sent)")
    assert len(emulator.requests) == count and len(chat.turns) == 1 and chat.last_replaced == (0, 1)
