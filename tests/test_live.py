"""Live sessions (`Client.live`) over real loopback WebSockets to the emulator's Live endpoint.

Nothing is mocked: the client's `websockets` connection talks to the emulator's own RFC 6455 server
on the emulator's port, and the emulator's log of received messages says what went over the wire.
"""

from __future__ import annotations

import _thread
import io
import math
import threading
import time
import wave

import pytest

from gemini_magic.errors import (ConversionError, LiveError, PermissionDeniedError, RequestError,
                                 SettingsError)
from gemini_magic.answer.live_turn import LiveTurn

from conftest import TEST_KEY

AUDIO_MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"
TEXT_MODEL = "gemini-live-2.5-flash-preview"


def get_rainfall(city: str, month: int) -> float:
    """Average rainfall in millimetres for a city and month (1-12)."""
    return {"Huế": 795.6, "Hà Nội": 260.1}.get(city, 100.0)


def received(emulator, key=None):
    messages = [entry["message"] for entry in emulator.live.messages]
    return [m for m in messages if key is None or key in m]


def sine_wav(seconds: float, rate: int = 44100, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            value = int(8000 * math.sin(2 * math.pi * 330 * i / rate)).to_bytes(2, "little", signed=True)
            frames += value * channels
        out.writeframes(bytes(frames))
    return buffer.getvalue()


# --- turns -----------------------------------------------------------------------------------------

def test_a_typed_turn_is_answered_in_speech_with_its_transcript(client, emulator):
    with client.live() as session:
        turn = session.send("What is the capital of Vietnam?")
    assert session.model == AUDIO_MODEL  # the backend's native-audio Live model, read from its list
    assert isinstance(turn, LiveTurn) and turn.complete and not turn.interrupted
    assert "you said “What is the capital of Vietnam?”" in turn.text  # the output transcription
    assert turn.output_transcript == turn.text
    # The emulator speaks 50 characters a second: 24 kHz, 16-bit mono PCM of that length.
    expected = int(len(turn.text) * 0.02 * 24000) * 2
    assert turn.audio_bytes == len(turn.audio) == expected
    wav = turn.wav()
    with wave.open(io.BytesIO(wav)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (24000, 1, 2)
        assert reader.getnframes() == expected // 2
    assert turn.usage["responseTokenCount"] == math.ceil(len(turn.text) * 0.02 * 25)
    setup = received(emulator, "setup")[0]["setup"]
    assert setup["generationConfig"]["responseModalities"] == ["AUDIO"]
    assert "outputAudioTranscription" in setup and "inputAudioTranscription" in setup
    assert received(emulator, "realtimeInput")[0] == {"realtimeInput": {"text": "What is the capital of Vietnam?"}}


def test_turns_keep_coming_after_the_first_turn_complete(client, emulator):
    with client.live(TEXT_MODEL, response="text") as session:
        first = session.send("One")
        second = session.send("Two")
        session.send_text("Three, without waiting")
        third = session.next_turn(timeout=10)
    assert [t.number for t in (first, second, third)] == [1, 2, 3]
    assert "Live turn 2" in second.text and "“Two”" in second.text and "1 earlier turn(s)" in second.text
    assert "“Three, without waiting”" in third.text
    assert first.audio == b"" and first.text.startswith("[gemini_magic emulator]")
    assert session.turns == [first, second, third]
    assert session.closed


def test_text_answers_are_text_parts_and_voice_and_settings_reach_the_setup(client, emulator):
    with client.live(TEXT_MODEL, response="text", temperature=0.3, system_instruction="Be brief.") as session:
        session.send("Hi")
    with client.live(voice="puck") as session:
        assert session.send("Hi").audio
    text_setup, audio_setup = (m["setup"] for m in received(emulator, "setup"))
    assert text_setup["generationConfig"] == {"temperature": 0.3, "responseModalities": ["TEXT"]}
    assert text_setup["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert "outputAudioTranscription" not in text_setup
    assert audio_setup["generationConfig"]["speechConfig"] == {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}}}


def test_history_seeds_the_session(client, emulator):
    history = [{"role": "user", "parts": [{"text": "My name is Ana."}]},
               {"role": "model", "parts": [{"text": "Hello Ana."}]}]
    with client.live(history=history) as session:
        turn = session.send("What is my name?")
    assert received(emulator, "setup")[0]["setup"]["historyConfig"] == {"initialHistoryInClientContent": True}
    assert received(emulator, "clientContent")[0] == {"clientContent": {"turns": history, "turnComplete": False}}
    assert "1 earlier turn(s)" in turn.text


# --- speech and frames in ------------------------------------------------------------------------

def test_speech_sent_as_audio_is_heard_for_its_length(client, emulator):
    np = pytest.importorskip("numpy")
    samples = 0.3 * np.sin(2 * np.pi * 220 * np.arange(int(1.5 * 48000)) / 48000)  # 1.5 s at 48 kHz
    with client.live() as session:
        session.send_audio(samples, rate=48000)
        session.end_audio()
        turn = session.next_turn(timeout=10)
    assert turn.input_transcript == "(1.5 s of audio)"
    assert "you spoke for 1.5 s" in turn.text
    chunks = [m["realtimeInput"]["audio"] for m in received(emulator, "realtimeInput") if "audio" in m["realtimeInput"]]
    assert [c["mimeType"] for c in chunks] == ["audio/pcm;rate=16000"] * 2  # one second at most each
    assert received(emulator, "realtimeInput")[-1] == {"realtimeInput": {"audioStreamEnd": True}}


def test_a_wav_and_an_image_in_one_turn_go_as_speech_and_a_video_frame(client, emulator):
    from PIL import Image

    with client.live() as session:
        turn = session.send(sine_wav(0.5, rate=44100, channels=2))
        framed = session.send(["What is in this picture?", Image.new("RGB", (64, 48), "red")])
    assert turn.input_transcript == "(0.5 s of audio)"
    kinds = [next(iter(m["realtimeInput"])) for m in received(emulator, "realtimeInput")]
    assert kinds == ["audio", "audioStreamEnd", "video", "text"]  # frames before the text that ends the turn
    assert "I have seen 1 video frame(s)" in framed.text


def test_audio_of_an_unusable_shape_or_type_is_refused_before_sending(client, emulator):
    np = pytest.importorskip("numpy")
    with client.live() as session:
        with pytest.raises(ConversionError, match="1-D .* or 2-D"):
            session.send_audio(np.zeros((2, 3, 4)), rate=16000)
        with pytest.raises(ConversionError, match="sample rate"):
            session.send_audio([0.1, 0.2], rate=None)
        with pytest.raises(ConversionError, match=r"Say the sample rate of an array: send_audio\(samples, rate="):
            session.send_audio(np.zeros(48000, dtype=np.float32))  # a 48 kHz recording is not taken for 16 kHz
        with pytest.raises(ConversionError, match="Say the sample rate of a list"):
            session.send_audio([0.1, 0.2])
        with pytest.raises(ConversionError, match="cannot be sent as audio"):
            session.send_audio({"not": "audio"})
        with pytest.raises(ConversionError, match="WAV"):
            session.send_audio("speech.mp3")
        assert received(emulator, "realtimeInput") == []
        session.send_audio(b"\x00\x00" * 320)  # raw PCM bytes without a rate are the wire's 16 kHz
    assert len(received(emulator, "realtimeInput")) == 1


# --- tools -----------------------------------------------------------------------------------------

def test_a_kernel_function_is_called_and_its_answer_carries_the_call_id(client, emulator):
    seen = []
    with client.live(tools=[get_rainfall], on_call=seen.append) as session:
        turn = session.send("Use get_rainfall: how wet is Huế in October?")
    call = received(emulator, "toolCall") or None
    assert call is None  # the client sends no toolCall; the emulator did, and the client answered:
    answer = received(emulator, "toolResponse")[0]["toolResponse"]["functionResponses"][0]
    record = turn.tool_calls[0]
    assert record["name"] == "get_rainfall" and record["args"] == {"city": "Huế", "month": 10}
    assert record["result"] == 795.6 and answer == {"name": "get_rainfall", "response": {"result": 795.6},
                                                     "id": record["id"]}
    assert len(record["id"]) == 8 and seen == [record]
    assert "get_rainfall returned 795.6" in turn.text
    declared = received(emulator, "setup")[0]["setup"]["tools"][0]["functionDeclarations"][0]
    assert declared["name"] == "get_rainfall"


def test_a_cancelled_call_is_not_answered(client, emulator):
    def slow_rainfall(city: str, month: int) -> float:
        """Average rainfall in millimetres."""
        time.sleep(0.4)
        return 1.0

    emulator.inject("tool_cancel", match="live", delay=0.05)
    with client.live(tools=[slow_rainfall]) as session:
        turn = session.send("Call slow_rainfall for Huế in October")
        time.sleep(0.5)  # the function finishes after the cancellation arrived
    assert turn.tool_calls[0]["cancelled"] is True
    assert "cancelled" in turn.text
    assert received(emulator, "toolResponse") == []


# --- interruption, resumption ----------------------------------------------------------------------

def test_input_while_the_model_speaks_interrupts_it(client, emulator):
    emulator.pace = 0.01
    with client.live() as session:
        started = threading.Event()
        session.add_listener(lambda event: event.kind == "audio" and started.set())
        session.send_text("Tell me a long story about the river that runs through the old town")
        assert started.wait(5)
        second = session.send("Stop, a question instead")
    first = session.turns[0]
    assert first.interrupted and first.closed and 0 < first.audio_bytes
    assert second.number == 2 and not second.interrupted and "“Stop, a question instead”" in second.text


def test_go_away_is_answered_by_resuming_with_the_newest_handle(client, emulator):
    emulator.inject("go_away", match="live", time_left=3, after_turns=1)
    with client.live() as session:
        first = session.send("Before the goAway")
        deadline = time.monotonic() + 5
        while session.resumptions == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # the reader resumes at once when no turn is in flight
        second = session.send("After it")
    assert session.resumptions == 1 and emulator.live.connections == 2
    setups = [e["message"]["setup"] for e in emulator.live.messages if "setup" in e["message"]]
    assert "handle" not in setups[0]["sessionResumption"]
    assert setups[1]["sessionResumption"]["handle"].startswith("emulator-handle-")
    sent = [e for e in emulator.live.messages if "realtimeInput" in e["message"]]
    assert [e["connection"] for e in sent] == [1, 2]
    assert "Live turn 2" in second.text and "1 earlier turn(s)" in second.text  # the same session went on
    assert second.notes == ["Resumed the session after goAway (resumption 1)."] and first.notes == []


def test_without_resumption_the_session_ends_when_the_time_left_runs_out(client, emulator):
    emulator.inject("go_away", match="live", time_left=0.2, after_turns=1)
    with client.live(resume=False) as session:
        session.send("Hello")
        with pytest.raises(LiveError, match="ended the session"):
            session.next_turn(timeout=5)
        with pytest.raises(LiveError, match="has ended"):
            session.send("Still there?")


def test_a_dropped_connection_is_resumed_and_the_cut_turn_kept_interrupted(client, emulator):
    emulator.inject("live_drop", match="live")
    with client.live() as session:
        cut = session.send("This answer is cut")
        after = session.send("And now?")
    assert cut.interrupted and cut.audio_bytes > 0
    assert any("dropped" in note for note in cut.notes)
    assert after.complete and session.resumptions == 1


# --- refusals and errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("code, meaning", [(1007, "invalid argument"), (1008, "policy violation"),
                                           (1011, "internal error or unavailable"), (4000, "closed")])
def test_a_close_code_becomes_one_live_error_with_code_and_reason(client, emulator, code, meaning):
    emulator.inject("live_close", match="live", code=code, reason="Something went wrong", when="answer")
    with client.live() as session:
        with pytest.raises(LiveError) as raised:
            session.send("Hello")
        assert raised.value.code == code and raised.value.reason == "Something went wrong"
        assert f"({code} {meaning}): Something went wrong." in str(raised.value)
        partial = session.turns[0]
        assert partial.error is raised.value and partial.audio_bytes > 0  # what arrived is kept
        with pytest.raises(LiveError, match="has ended"):
            session.send("Again")


def test_setup_refusals_are_raised_at_once(client, emulator):
    emulator.inject("live_close", match="live", code=1011, reason="Internal error occurred.")
    with pytest.raises(LiveError, match=r"1011 internal error or unavailable\): Internal error occurred"):
        client.live()


def test_the_service_refusals_come_through_the_wire(client, emulator):
    """The emulator's own 1008 and 1007, read by the wire without the client's checks before them."""
    cases = [({"model": "models/gemini-2.5-flash"}, 1008, "not supported for bidiGenerateContent"),
             ({"model": f"models/{AUDIO_MODEL}", "generationConfig": {"responseModalities": ["TEXT"]}}, 1007,
              "Cannot extract voices from a non-audio request. This model answers only in speech"),
             ({"model": f"models/{AUDIO_MODEL}", "generationConfig": {"speechConfig": {"voiceConfig": {
                 "prebuiltVoiceConfig": {"voiceName": "Robot"}}}}}, 1007, "Voice name Robot is not supported")]
    for setup, code, words in cases:
        connection = client.transport.open_live()
        connection.send({"setup": setup})
        with pytest.raises(LiveError) as raised:
            connection.receive(5)
        assert raised.value.code == code and words in str(raised.value)
        connection.close()


def test_bad_sessions_are_refused_before_connecting(client, emulator):
    with pytest.raises(SettingsError, match=rf"gemini-2.5-flash is not a Live model.*{AUDIO_MODEL}, {TEXT_MODEL}"):
        client.live("gemini-2.5-flash")
    with pytest.raises(SettingsError, match="answers only in speech.*response='audio'"):
        client.live(AUDIO_MODEL, response="text")
    with pytest.raises(SettingsError, match="no prebuilt voice 'Robot'.*Kore"):
        client.live(voice="Robot")
    with pytest.raises(SettingsError, match="does not take responseMimeType"):
        client.live(TEXT_MODEL, response="text", response_mime_type="application/json")
    assert emulator.live.connections == 0


def test_sending_on_a_closed_session_says_to_open_a_new_one(client, emulator):
    session = client.live()
    session.close()
    session.close()  # twice is fine
    with pytest.raises(LiveError, match="closed; open a new one"):
        session.send("Hello?")
    with pytest.raises(LiveError, match="closed"):
        session.send_audio(b"\x00\x00" * 160)
    assert not session._reader.is_alive() and not session._worker.is_alive()


def test_a_message_over_the_size_limit_is_refused_and_nothing_sent(client, emulator):
    with client.live() as session:
        with pytest.raises(RequestError, match="over the limit.*nothing was sent"):
            session.send("x" * (17 * 1024 * 1024))
        assert session.send("Still fine?").complete
    assert [m["realtimeInput"]["text"] for m in received(emulator, "realtimeInput")] == ["Still fine?"]


def test_the_key_goes_only_in_the_upgrade_header(client, emulator):
    with client.live() as session:
        session.send("Hi")
        assert TEST_KEY not in repr(session) and TEST_KEY not in repr(session._connection)
    upgrade = [r for r in emulator.requests if r.path.startswith("/ws/")][0]
    assert upgrade.headers["x-goog-api-key"] == TEST_KEY
    assert upgrade.query == {} and TEST_KEY not in upgrade.path
    assert upgrade.path == "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


def test_a_missing_key_is_refused_at_the_upgrade(emulator):
    from gemini_magic.wire.live import LiveConnection

    with pytest.raises(PermissionDeniedError, match="unregistered callers"):
        LiveConnection.open(emulator.base_url, "v1beta", "")


# --- events ----------------------------------------------------------------------------------------

def test_events_give_everything_as_it_arrives(client, emulator):
    with client.live(tools=[get_rainfall]) as session:
        kinds: list[str] = []

        def collect():
            for event in session.events():
                kinds.append(event.kind)

        reader = threading.Thread(target=collect)
        reader.start()
        time.sleep(0.05)
        session.send("get_rainfall for Hà Nội in May")
    reader.join(5)
    assert kinds[0] == "tool_call" and kinds[1] == "tool_result"
    assert "audio" in kinds and "output_transcript" in kinds
    assert kinds[-3:] == ["usage", "turn_complete", "closed"]


def test_ctrl_c_while_waiting_keeps_the_partial_turn_and_the_session(client, emulator):
    emulator.pace = 0.01
    with client.live() as session:
        session.add_listener(lambda event: event.kind == "audio" and event.turn.number == 1
                             and event.turn.audio_bytes > 4800 and _interrupt_once())
        with pytest.raises(KeyboardInterrupt):
            session.send("A long answer, please, about all the rivers of the delta and their names")
        partial = session.turns[0]
        assert partial.interrupted and partial.closed and "Ctrl-C" in partial.notes[0]
        size = partial.audio_bytes
        emulator.pace = 0.0
        after = session.send("Are you still there?")
    assert after.complete and after.number == 2 and "“Are you still there?”" in after.text
    assert partial.audio_bytes == size  # the rest of the interrupted answer was not added


_interrupted = threading.Event()


def _interrupt_once() -> None:
    if not _interrupted.is_set():
        _interrupted.set()
        _thread.interrupt_main()
