"""The voice widget's direct channel (gemini_magic/voice/direct.py), kernel side: a real
websockets.sync.client connects to the loopback server a VoiceLink starts when the page says hello, as
widget.js does, and its frames reach the emulator's Live socket. The page's side (the socket opened, the
fallback to the comm) is checked in tests/browser/test_voice_browser.py.
"""

from __future__ import annotations

import contextlib
import logging
import struct
import threading
import time

import pytest

pytest.importorskip("anywidget")

from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from gemini_magic.errors import SettingsError  # noqa: E402

from test_voice import Sent, audio_received, browser_message, frames, silence, tone  # noqa: E402


def offer_of(sent: Sent, timeout: float = 5.0) -> dict:
    """The kernel's {type: "direct", port, token} message to the page (its answer to hello)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sent.lock:
            found = [content for content, _ in sent.items if content["type"] == "direct"]
        if found:
            return found[-1]
        time.sleep(0.01)
    raise AssertionError(f"no direct offer among {sent.kinds()}")


def direct_message(made: float, pcm: bytes) -> bytes:
    return struct.pack("<d", made) + pcm


@contextlib.contextmanager
def opened(offer: dict, token: str | None = None):
    """A client of the direct channel that has sent the token (the offer's, or `token`), as widget.js does."""
    with connect(f"ws://127.0.0.1:{offer['port']}/", open_timeout=5, compression=None) as connection:
        connection.send(offer["token"] if token is None else token)
        yield connection


def voice_threads():
    return [t for t in threading.enumerate() if t.name.startswith(("gemini-live", "gemini-voice")) and t.is_alive()]


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_frames_on_the_direct_channel_reach_the_socket_one_realtime_input_each(client, emulator, caplog):
    caplog.set_level(logging.DEBUG)
    stack = contextlib.ExitStack()
    session = client.live(name="direct")
    widget = session.widget()
    sent = Sent(widget)
    link = widget.link
    assert link.channel == "comm" and link.direct and link._direct is None   # nothing started before a page
    browser_message(widget, {"type": "hello"})
    offer = offer_of(sent)
    assert set(offer) == {"type", "port", "token"} and len(offer["token"]) >= 43
    connection = stack.enter_context(opened(offer))
    assert connection.recv(timeout=5) == "ok"
    browser_message(widget, {"type": "channel", "channel": "direct"})     # as widget.js says after "ok"
    assert link.channel == "direct"

    pcm = silence(0.2) + tone(1.0) + silence(1.0)
    sent_frames = frames(pcm)
    made = []
    for frame in sent_frames:
        made.append(round(time.time() * 1000, 1))
        connection.send(direct_message(made[-1], frame))
    turn = session.next_turn(timeout=10)
    assert turn.input_transcript == "(1.0 s of audio)"
    chunks = audio_received(emulator, len(sent_frames))
    assert chunks == sent_frames                               # one realtimeInput per frame, in order
    assert link.frames_in == link.direct_frames_in == len(sent_frames) and link.audio_messages_in == 0
    assert link.audio_bytes_in == len(pcm) and link.channel_bytes_in >= len(pcm) + 8 * len(sent_frames)
    times = list(link.frame_times)
    assert [m for m, _, _ in times] == made and all(m <= received <= written for m, received, written in times)
    assert link.last_frame_at == made[-1]

    # A second page is refused while the first holds the channel; the first goes on.
    with opened(offer) as second:
        with pytest.raises(ConnectionClosed) as refused:
            second.recv(timeout=5)
        assert refused.value.rcvd.code == 1008
    connection.send(direct_message(time.time() * 1000, silence(0.02)))
    assert wait_for(lambda: link.direct_frames_in == len(sent_frames) + 1)

    # The token shows nowhere a notebook or a log keeps.
    token = offer["token"]
    state = widget.get_state()
    assert token not in repr(widget) and token not in repr(link._direct) and token not in str(state)
    kernel_side = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("websockets.client"))
    assert "connection open" in kernel_side and token not in kernel_side   # (this test's client logs it)
    assert str(offer["port"]) not in str(state)

    session.close()
    assert link.ended and link._direct.closed
    with pytest.raises(ConnectionClosed):
        connection.recv(timeout=5)                     # the server closed the page's connection
    with pytest.raises((OSError, InvalidStatus)):
        connect(f"ws://127.0.0.1:{offer['port']}/", open_timeout=2)
    assert not voice_threads()
    stack.close()


def test_a_wrong_or_missing_token_is_closed_and_nothing_is_forwarded(client, emulator):
    session = client.live()
    widget = session.widget()
    sent = Sent(widget)
    browser_message(widget, {"type": "hello"})
    offer = offer_of(sent)
    link = widget.link
    with opened(offer, token=offer["token"][:-1] + ("A" if offer["token"][-1] != "A" else "B")) as wrong:
        wrong.send(direct_message(time.time() * 1000, tone(0.02)))
        with pytest.raises(ConnectionClosed) as closed:
            wrong.recv(timeout=5)
        assert closed.value.rcvd.code == 1008
    started = time.monotonic()
    with connect(f"ws://127.0.0.1:{offer['port']}/", open_timeout=5) as silent:   # says nothing: closed in 2 s
        silent.send(direct_message(time.time() * 1000, tone(0.02)))               # a frame is no token
        with pytest.raises(ConnectionClosed):
            silent.recv(timeout=5)
    with connect(f"ws://127.0.0.1:{offer['port']}/", open_timeout=5) as mute:
        with pytest.raises(ConnectionClosed) as closed:
            mute.recv(timeout=5)
        assert closed.value.rcvd.code == 1008 and 1.5 < time.monotonic() - started < 4.5
    assert link.frames_in == 0 and link.direct_frames_in == 0
    assert not [m for m in emulator.live.messages if "audio" in m["message"].get("realtimeInput", {})]
    # The right token still opens it, once the refused ones are gone.
    with opened(offer) as page:
        assert page.recv(timeout=5) == "ok"
    session.close()
    assert not voice_threads()


def test_direct_false_starts_no_server_and_is_checked(client, emulator):
    with client.live() as session:
        widget = session.widget(direct=False)
        sent = Sent(widget)
        browser_message(widget, {"type": "hello"})
        time.sleep(0.1)
        assert "direct" not in sent.kinds() and widget.link._direct is None
        assert not [t for t in threading.enumerate() if t.name.startswith("gemini-voice-direct")]
        for bad in (0, 1, "yes", None):
            with pytest.raises(SettingsError, match="direct must be True"):
                session.widget(direct=bad)


def test_direct_frames_keep_the_session_alive_and_the_heartbeat_end_closes_the_server(client, emulator):
    from gemini_magic.voice.widget import voice_widget

    stack = contextlib.ExitStack()
    session = client.live()
    widget = voice_widget(session, heartbeat_timeout=0.5)
    sent = Sent(widget)
    browser_message(widget, {"type": "hello"})
    connection = stack.enter_context(opened(offer_of(sent)))
    assert connection.recv(timeout=5) == "ok"
    deadline = time.monotonic() + 1.5                   # three heartbeat timeouts of direct frames, no ping
    while time.monotonic() < deadline:
        connection.send(direct_message(time.time() * 1000, silence(0.02)))
        time.sleep(0.1)
    assert not session.closed and widget.link.direct_frames_in > 0
    assert wait_for(lambda: session.closed and widget.link.ended)   # then the page goes silent
    with pytest.raises(ConnectionClosed):
        connection.recv(timeout=5)
    assert wait_for(lambda: not voice_threads())
    stack.close()


def test_push_to_talk_words_on_the_direct_channel_keep_their_place_among_the_frames(client, emulator):
    manual = {"automaticActivityDetection": {"disabled": True}}
    session = client.live(realtime_input_config=manual)
    widget = session.widget(push_to_talk=True)
    sent = Sent(widget)
    browser_message(widget, {"type": "hello"})
    with opened(offer_of(sent)) as connection:
        assert connection.recv(timeout=5) == "ok"
        connection.send("activity_start")                 # as widget.js does while the socket is open
        for frame in frames(tone(0.5) + silence(0.3)):
            connection.send(direct_message(time.time() * 1000, frame))
        connection.send("activity_end")
        connection.send("no such word")                    # other text is ignored
        turn = session.next_turn(timeout=10)
    assert turn.input_transcript == "(0.8 s of audio)"
    kinds = [next(iter(m["message"]["realtimeInput"])) for m in emulator.live.messages
             if "realtimeInput" in m["message"]]
    assert kinds[0] == "activityStart" and kinds[-1] == "activityEnd" and kinds.count("audio") == 40
    session.close()
    assert wait_for(lambda: not voice_threads())
