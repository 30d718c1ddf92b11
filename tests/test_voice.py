"""Voice sessions below the browser: the emulator's activity detection, interruption and frame counts
over real loopback WebSockets, and the voice widget's kernel side (VoiceLink) driven through the
widget's own message handler, as ipykernel calls it for a comm message with binary buffers.
What the page does (microphone, camera, speaker) is checked in tests/browser/test_voice_browser.py.
"""

from __future__ import annotations

import base64
import io
import json
import math
import struct
import threading
import time
import urllib.request

import pytest
from PIL import Image

from gemini_magic.errors import SettingsError
from gemini_magic.voice.record import conversation_bundle

RATE = 16000


def tone(seconds: float, amplitude: int = 8000) -> bytes:
    return struct.pack(f"<{int(seconds * RATE)}h", *(int(amplitude * math.sin(2 * math.pi * 300 * i / RATE))
                                                     for i in range(int(seconds * RATE))))


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(seconds * RATE)


def frames(pcm: bytes, ms: int = 20):
    size = RATE * 2 * ms // 1000
    return [pcm[i:i + size] for i in range(0, len(pcm), size)]


def stats(emulator):
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
            f"{emulator.base_url}/emulator/live", timeout=5) as answer:
        return json.load(answer)


def audio_received(emulator, count, timeout=5.0):
    """The realtimeInput audio chunks the emulator got, waited for until `count` have come: the kernel forwards
    frames on its own thread, so the turn can be complete while the trailing silence is still on its way."""
    deadline = time.monotonic() + timeout
    while True:
        chunks = [base64.b64decode(m["message"]["realtimeInput"]["audio"]["data"]) for m in emulator.live.messages
                  if "audio" in m["message"].get("realtimeInput", {})]
        if len(chunks) >= count or time.monotonic() > deadline:
            return chunks
        time.sleep(0.01)


def test_automatic_activity_detection_hears_the_speech_between_silences(client, emulator):
    with client.live() as session:
        for frame in frames(silence(0.5) + tone(1.2) + silence(1.0)):
            session.send_audio(frame)
        turn = session.next_turn(timeout=10)
    assert turn is not None and turn.input_transcript == "(1.2 s of audio)"
    assert "you spoke for 1.2 s" in turn.text and turn.audio_seconds > 3  # long enough to talk over
    seen = stats(emulator)["sessions"][0]
    assert seen["heard_seconds"] == [1.2] and seen["activity"] == "automatic"
    assert seen["audio_messages"] == len(frames(silence(0.5) + tone(1.2) + silence(1.0)))


def test_speech_during_the_answer_interrupts_it(client, emulator):
    emulator.pace = 0.02
    with client.live() as session:
        for frame in frames(tone(0.6) + silence(0.9)):
            session.send_audio(frame)
        deadline = time.monotonic() + 10
        while not (session.turns and session.turns[-1].audio_bytes) and time.monotonic() < deadline:
            time.sleep(0.01)
        for frame in frames(tone(0.4) + silence(0.9)):
            session.send_audio(frame)
        first = session.next_turn(timeout=10)
        second = session.next_turn(timeout=10)
    assert first.interrupted and first.audio_seconds < 3  # cut short (then turnComplete, as the service does)
    assert second.input_transcript == "(0.4 s of audio)" and second.complete
    assert stats(emulator)["sessions"][0]["interruptions"] == 1


def test_push_to_talk_bounds_the_turn_with_activity_start_and_end(client, emulator):
    manual = {"automaticActivityDetection": {"disabled": True}}
    with client.live(realtime_input_config=manual) as session:
        session.send_audio(silence(0.3))           # before activityStart: not heard as the turn
        session.activity_start()
        for frame in frames(tone(0.5) + silence(1.0) + tone(0.3)):  # a pause is no end of speech here
            session.send_audio(frame)
        session.activity_end()
        turn = session.next_turn(timeout=10)
    assert turn.input_transcript == "(1.8 s of audio)"
    kinds = [next(iter(m["message"]["realtimeInput"])) for m in emulator.live.messages
             if "realtimeInput" in m["message"]]
    assert kinds[1] == "activityStart" and kinds[-1] == "activityEnd"
    assert stats(emulator)["sessions"][0]["activity"] == "manual"


def test_camera_frames_are_counted_with_size_and_time(client, emulator):
    picture = io.BytesIO()
    Image.new("RGB", (768, 432), "navy").save(picture, "JPEG")
    with client.live() as session:
        session.send_video(picture.getvalue())
        session.send_video(picture.getvalue())
        turn = session.send("What do you see?")
    assert "I have seen 2 video frame(s)" in turn.text
    seen = stats(emulator)["sessions"][0]["video_frames"]
    assert [(f["width"], f["height"], f["mime_type"]) for f in seen] == [(768, 432, "image/jpeg")] * 2
    assert seen[0]["bytes"] == len(picture.getvalue()) and seen[1]["at"] >= seen[0]["at"]


def test_a_client_cannot_forge_the_emulators_own_spoken_marker(client, emulator):
    with client.live() as session:
        session._send({"realtimeInput": {"_spoken": 3.0}})
        with pytest.raises(Exception):
            session.next_turn(timeout=5)


# --- the widget's kernel side -------------------------------------------------------------------

anywidget = pytest.importorskip("anywidget")


def browser_message(widget, content, buffers=()):
    """What ipykernel does with a comm message from the page: the widget's custom-message handler."""
    widget._handle_custom_msg(content, [memoryview(b) for b in buffers])


class Sent:
    """The messages the kernel sends to the page (the widget's `send`, kept in order)."""

    def __init__(self, widget):
        self.items, self.lock = [], threading.Lock()
        original = widget.send

        def send(content, buffers=None):
            with self.lock:
                self.items.append((content, [bytes(b) for b in buffers or ()]))
            original(content, buffers)

        widget.send = send

    def kinds(self):
        with self.lock:
            return [c["type"] for c, _ in self.items]


def test_microphone_frames_from_the_page_reach_the_socket_and_the_answer_goes_back(client, emulator):
    session = client.live(name="talk")
    widget = session.widget()
    sent = Sent(widget)
    browser_message(widget, {"type": "hello"})
    for frame in frames(silence(0.2) + tone(1.0) + silence(1.0)):
        browser_message(widget, {"type": "audio", "t": time.time() * 1000}, [frame])
    turn = session.next_turn(timeout=10)
    assert turn.input_transcript == "(1.0 s of audio)"
    deadline = time.monotonic() + 5
    while "turn_complete" not in sent.kinds() and time.monotonic() < deadline:
        time.sleep(0.01)
    audio = b"".join(b"".join(buffers) for content, buffers in sent.items if content["type"] == "audio")
    assert audio == turn.audio and len(audio) > 0          # the model's PCM, as binary buffers
    texts = [(c["role"], c["text"]) for c, _ in sent.items if c["type"] == "text"]
    assert ("user", "(1.0 s of audio)") in texts
    assert "".join(t for role, t in texts if role == "model") == turn.text
    link = widget.link
    assert link.frames_in == len(frames(silence(0.2) + tone(1.0) + silence(1.0))) and link.audio_bytes_in == 2.2 * 32000
    chunks = audio_received(emulator, link.frames_in)
    assert len(chunks) == link.frames_in  # one realtimeInput per frame, no regrouping

    browser_message(widget, {"type": "end"})
    assert session.closed and link.ended and sent.kinds()[-1] == "closed"
    assert not [t for t in threading.enumerate() if t.name.startswith(("gemini-live", "gemini-voice"))
                and t.is_alive()]


def test_several_frames_a_message_go_on_as_one_realtime_input_each_with_their_times(client, emulator):
    session = client.live(name="batched")
    widget = session.widget()
    assert widget.frames_per_message == 6           # 120 ms of 20 ms frames a message: the page batches so
    browser_message(widget, {"type": "hello"})
    pcm = silence(0.2) + tone(1.0) + silence(1.0)
    sent_frames = frames(pcm)
    made = []
    for start in range(0, len(sent_frames), 8):
        batch = sent_frames[start:start + 8]
        first = time.time() * 1000 - 20 * (len(batch) - 1)
        offsets = [20 * index for index in range(len(batch))]
        made += [first + offset for offset in offsets]
        browser_message(widget, {"type": "audio", "t": first, "d": offsets}, [b"".join(batch)])  # as widget.js
    turn = session.next_turn(timeout=10)
    assert turn.input_transcript == "(1.0 s of audio)"
    link = widget.link
    assert link.audio_messages_in == math.ceil(len(sent_frames) / 8) and link.frames_in == len(sent_frames)
    chunks = audio_received(emulator, len(sent_frames))
    assert chunks[-len(sent_frames):] == sent_frames       # each 20 ms frame its own realtimeInput, in order
    times = list(link.frame_times)
    assert [round(m, 3) for m, _, _ in times] == [round(m, 3) for m in made]
    assert all(m <= received <= written for m, received, written in times)
    assert link.last_frame_at == pytest.approx(made[-1])
    session.close()


def test_microphone_messages_keep_the_session_alive_without_pings(client, emulator):
    from gemini_magic.voice.widget import voice_widget

    session = client.live()
    widget = voice_widget(session, heartbeat_timeout=0.5)
    browser_message(widget, {"type": "hello"})
    deadline = time.monotonic() + 1.5                     # three heartbeat timeouts of audio, no ping
    while time.monotonic() < deadline:
        browser_message(widget, {"type": "audio", "t": time.time() * 1000, "d": [0]}, [silence(0.02)])
        time.sleep(0.16)
    assert not session.closed
    deadline = time.monotonic() + 5                       # then the page goes silent: the session ends
    while not session.closed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session.closed and widget.link.ended


def test_frames_per_message_is_checked_and_defaults_to_120_ms(client, emulator):
    with client.live() as session:
        assert session.widget().frames_per_message == 6
        assert session.widget(frame_ms=40).frames_per_message == 3
        assert session.widget(frames_per_message=1).frames_per_message == 1
        for bad in (0, 51, 2.5, True, "4"):
            with pytest.raises(SettingsError, match="frames_per_message must be a whole number from 1 to 50"):
                session.widget(frames_per_message=bad)


def test_the_page_going_silent_ends_the_session(client, emulator):
    from gemini_magic.voice.widget import voice_widget

    session = client.live()
    widget = voice_widget(session, heartbeat_timeout=0.5)
    browser_message(widget, {"type": "hello"})       # a page rendered the widget, then the tab closed
    deadline = time.monotonic() + 5
    while not session.closed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session.closed and widget.link.ended
    assert stats(emulator)["open"] == 0


def test_push_to_talk_needs_manual_activity_and_frames_are_20_to_40_ms(client, emulator):
    with client.live() as session:
        with pytest.raises(SettingsError, match="automaticActivityDetection"):
            session.widget(push_to_talk=True)
        with pytest.raises(SettingsError, match="frame_ms must be 20 to 40"):
            session.widget(frame_ms=100)
    with pytest.raises(SettingsError, match="has ended"):
        session.widget()


def test_the_conversation_record_escapes_and_holds_players(client, emulator):
    with client.live(name="demo") as session:
        session.send("Say <b>hi</b> & bye")
        session.send_audio(tone(0.5))
        session.end_audio()
        session.next_turn(timeout=10)
    bundle = conversation_bundle(session)
    assert "<b>hi</b>" not in bundle["text/html"] and "&lt;b&gt;hi&lt;/b&gt;" in bundle["text/html"]
    assert bundle["text/html"].count('<audio controls src="data:audio/wav;base64,') == 2
    assert "You: (0.5 s of audio)" in bundle["text/plain"]


def test_without_anywidget_one_line_says_how_to_install_it(client, emulator, monkeypatch):
    import sys

    from gemini_magic.voice import widget as module

    monkeypatch.setattr(module, "_CLASS", None)
    monkeypatch.setitem(sys.modules, "anywidget", None)
    with client.live() as session:
        with pytest.raises(SettingsError) as raised:
            session.widget()
        assert str(raised.value) == module.INSTALL_LINE and "pip install 'gemini_magic[voice]'" in module.INSTALL_LINE
        assert "Live turn 1" in session.send("Still there?").text  # typed turns still work


def test_live_talk_outside_a_notebook_is_one_line_and_opens_no_session(shell, emulator):
    from IPython.core.error import UsageError

    before = len(emulator.requests)
    with pytest.raises(UsageError, match="needs a notebook frontend") as raised:
        shell.run_line_magic("gemini", "live talk spoken_session")
    assert "%%gemini --live" in str(raised.value) and "spoken_session" not in shell.user_ns
    assert len(emulator.requests) == before  # nothing asked of the service
    shell.run_cell_magic("gemini", "--live spoken_session --text -m gemini-live-2.5-flash-preview", "Typed turn")
    try:
        assert "Live turn 1" in shell.user_ns["_gemini"].text  # typed turns still work, text ones too
    finally:
        shell.run_line_magic("gemini", "live close spoken_session")


def test_the_widget_repr_reads_well_without_a_session_name(client, emulator):
    with client.live() as session:
        assert not session.name
        assert repr(session.widget()) == "<voice widget of a Live session: open>"
