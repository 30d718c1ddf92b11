"""The voice widget of a Live session: talk to the model with the browser's microphone and camera, and
hear it through the browser's speaker, in JupyterLab or Notebook 7.

    session = client.live()
    session.widget()                  # or, in a cell: %gemini live talk [NAME]

It is an anywidget (imported only here, when a widget is made; `pip install 'gemini_magic[voice]'`),
with its ES module in widget.js (package data). The browser cuts the microphone into 16 kHz mono
16-bit PCM frames of `frame_ms` (an AudioWorklet) and sends each at once over the direct channel, a
WebSocket to a server in the kernel on 127.0.0.1 (voice/direct.py), where the page can reach it;
elsewhere as binary widget buffers, `frames_per_message` frames in one comm message (see "Why a direct
channel" below). This module forwards each frame to the session as one realtimeInput of 20-40 ms
(`LiveSession.send_audio`'s no-copy path), whichever way it came. Camera
frames (JPEG, <= 1 fps, <= 768 px on the long side) go as realtime video, over the comm. The model's
24 kHz PCM goes back as binary buffers, its transcript and the user's as text, `interrupted` as a
message that stops the queued audio at once: the comm too.

Nothing here waits in a cell: the session's reader thread pushes to the browser, and ipykernel handles
the widget's messages whenever the kernel is idle, so other cells run meanwhile. The session ends (its
socket closed, the devices released in the page, no thread left) on the End button, `session.close()`,
a kernel restart (the process ends), or when the page stops sending its one-a-second ping for
`heartbeat_timeout` seconds (the tab was closed). Then the widget's display is replaced by the
conversation as ordinary display data (voice/record.py), so the saved notebook keeps it.

Why a direct channel: every comm message from the page costs ipykernel about 3.5 ms of CPU (3.6 ms
measured with no handler at all, 50 messages a second, ipykernel 7.4: the shell channel thread hands the
message on, the handling thread publishes status busy and idle on IOPub and flushes stdout and stderr
through the IOPub thread; none of it can be turned off; our handler with its realtimeInputs adds about
0.3 ms), the Jupyter server more (it relays the status messages too), and about 420 B of Jupyter
envelope (header, ids, date, signature, comm id). One 20 ms frame a comm message is 50 messages a
second: 12-19 % of a core in the kernel, 1.68x the raw 32 kB/s on the comm. The issue's goals for kernel CPU
(<= 5 %) and bytes (<= 1.1x) need a comm message per ~100 ms of audio or more; its latency goal (a
frame in the page -> the socket, p95 <= 20 ms) needs one per frame. On the comm they cannot all hold.

So the page sends the microphone past the comm when it can (`direct=True`, the default): at its hello
the kernel starts a WebSocket server on 127.0.0.1, an ephemeral port, and tells the page the port and a
fresh token in a custom comm message (never a trait: traits are saved with the notebook). The page
connects to ws://127.0.0.1:PORT/, sends the token, and after the server's "ok" each frame goes at once
as one binary message (8 bytes of its time, then its PCM; voice/direct.py). Control messages, the
camera and everything to the page stay on the comm. Measured in headless Chromium (JupyterLab,
loopback, a shared 2-core machine, two runs at load 0.5-4; `python benchmarks/bench_voice_browser.py`
prints the direct channel and the comm in one run): page -> socket p50 1.1-1.4 ms, p95 2.8-4.2 ms (goal
20 ms: met; the page's send to the channel's thread 0.6-0.9 / 2.0-3.5 ms), 1.02-1.03x the raw PCM on
the wire (6-8 bytes of WebSocket framing a frame, never compressed; met), kernel CPU 2.5-2.7 % (met;
nearly all in the channel's two threads: websockets' reading, and the forwarding of each frame as a
realtimeInput), the Jupyter server 0.7-0.8 %.

Where the page cannot reach the kernel on loopback (a remote Jupyter, JupyterHub, a kernel in a
container, a Content-Security-Policy without ws://127.0.0.1, any connection refused or no "ok" within
1.5 s), or with `direct=False`, the page keeps the comm silently, and its frames are batched as before:

- 120 ms a message (`MESSAGE_MS`: 6 frames of 20 ms, 3 of 40 ms). The kernel still forwards each frame
  as its own realtimeInput, so the service sees 20-40 ms frames. The price is the wait of a frame in
  the page for the rest of its message: the first one frame_ms * (frames_per_message - 1) = 100 ms,
  on average 50 ms; the end of a turn (beside the service's ~800 ms of silence before it answers) is
  delayed by as much.
- except at speech onset (widget.js: a frame at about -34 dBFS or louder after 200 ms below it), which
  sends the frames waiting at once: a user who starts talking, or talks over the model, is heard
  without the wait.
- the Jupyter server should compress its websockets (permessage-deflate, which the browser offers):
  `jupyter lab --ServerApp.websocket_compression_options={}`, or
  `c.ServerApp.websocket_compression_options = {}` in jupyter_server_config.py (notebooks/launch.py
  sets it). The envelope then costs a few bytes a message: 0.54x the raw PCM on the wire instead of
  1.12x (the benchmark's speech has silences; deflate leaves 0.72 of its speech alone, 0.89 of speech
  with a microphone's noise at -50 dBFS).

The comm, measured in the same runs: page -> socket p50 54-56 ms, p95 104-111 ms (goal missed, the
batch wait is most of it), frames at speech onset 5-7 ms; 0.54x the bytes on the wire compressed
(1.12x not); kernel CPU 2.4-3.2 % (0.2 % with the widget shown and the microphone off), the server
5-7 %. `frames_per_message=1` sends each frame at once: p50 6-17 ms, p95 22-86 ms (ipykernel and the
server fall behind at 50 messages a second, the more so under load) at 12-13 % of a core in the
kernel and 22-26 % in the server. `python benchmarks/bench_voice_kernel.py`: 3.6 ms of ipykernel's CPU per
message with no handler at all, 0.3 ms more with ours.
"""

from __future__ import annotations

import logging
import math
import struct
import threading
import time
import uuid
from collections import deque
from pathlib import Path

from ..constants import LIVE_INPUT_RATE, LIVE_OUTPUT_RATE
from ..errors import GeminiError, SettingsError
from .record import conversation_bundle

log = logging.getLogger("gemini_magic.voice")

INSTALL_LINE = ("The voice widget needs anywidget: pip install 'gemini_magic[voice]' (or pip install anywidget), "
                "then run this again. Typed turns work without it: session.send('...').")
TERMINAL_LINE = ("The voice widget needs a notebook in a browser (JupyterLab, Notebook 7): the microphone and the "
                 "speaker are the browser's. Here, use session.send('...') or session.send_audio(samples, rate).")
ESM = Path(__file__).with_name("widget.js")
HEARTBEAT_TIMEOUT = 6.0     # seconds without a ping from any view before the session is ended
FRAME_MS = (20, 40)         # the microphone frames the Live API wants
MESSAGE_MS = 120            # ms of audio per comm message on the comm path (ipykernel's CPU per message: see above)
DIRECT_FRAME_BYTES = 2 * LIVE_INPUT_RATE * FRAME_MS[1] // 1000   # the most PCM in a direct message: 1,280 B
LATENCIES_KEPT = 20000      # per-frame times kept for the latency figures (about 7 minutes of 20 ms frames)

_CLASS = None


def widget_class():
    """The anywidget class (made on first use: importing anywidget is deferred to here). Raises
    SettingsError with the install line when anywidget is missing."""
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    try:
        import anywidget
        import traitlets
    except ImportError:
        raise SettingsError(INSTALL_LINE) from None

    class VoiceWidget(anywidget.AnyWidget):
        """Buttons for the microphone, camera, speaker and the session's end; a level meter; both
        transcripts as they arrive. See gemini_magic/voice/widget.py."""

        _esm = ESM
        status = traitlets.Unicode("Press Start microphone and speak.").tag(sync=True)
        session_name = traitlets.Unicode("").tag(sync=True)
        push_to_talk = traitlets.Bool(False).tag(sync=True)
        input_rate = traitlets.Int(LIVE_INPUT_RATE).tag(sync=True)
        output_rate = traitlets.Int(LIVE_OUTPUT_RATE).tag(sync=True)
        frame_ms = traitlets.Int(20).tag(sync=True)
        frames_per_message = traitlets.Int(MESSAGE_MS // 20).tag(sync=True)
        video_fps = traitlets.Float(1.0).tag(sync=True)
        max_video_side = traitlets.Int(768).tag(sync=True)

        def __repr__(self) -> str:
            link = getattr(self, "link", None)
            state = "ended" if link is not None and link.ended else "open"
            session = f"Live session {self.session_name}" if self.session_name else "a Live session"
            return f"<voice widget of {session}: {state}>"

        def _ipython_display_(self, **kwargs):
            from IPython.display import display

            link = getattr(self, "link", None)
            if link is not None and link.ended:
                display(conversation_bundle(link.session), raw=True)
                return
            if not _in_kernel():
                print(TERMINAL_LINE)
                return
            bundle = self._repr_mimebundle_(**kwargs)
            data = bundle[0] if isinstance(bundle, tuple) else bundle
            display(data, raw=True, display_id=link.display_id if link is not None else None)
            if link is not None:
                link.shown = True

    _CLASS = VoiceWidget
    return _CLASS


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class VoiceLink:
    """Joins one widget to one LiveSession: browser messages to the session, session events to the
    browser, the heartbeat watchdog, and the final display. Counters: `frames_in`, `audio_bytes_in`,
    `video_frames_in`, `audio_bytes_out`, `channel_bytes_in` (JSON + buffers of the browser's comm
    messages, and the payloads of the direct channel's), `audio_messages_in` (comm messages of audio),
    `direct_frames_in` (frames by the direct channel), `channel` ("direct" or "comm": the path the
    microphone uses, as the page says), `last_frame_at` (the browser's timestamp of the newest frame,
    ms since the epoch), and `frame_times`: per microphone frame (the last LATENCIES_KEPT), a tuple of
    (made in the page, its message received here, its realtimeInput written on the socket), in ms
    since the epoch (the page's performance.timeOrigin + performance.now(); here time.time())."""

    def __init__(self, session, widget, heartbeat_timeout: float = HEARTBEAT_TIMEOUT, direct: bool = True) -> None:
        self.session = session
        self.widget = widget
        self.heartbeat_timeout = heartbeat_timeout
        self.display_id = "gemini-voice-" + uuid.uuid4().hex
        self.shown = False
        self.ended = False
        self.frames_in = self.audio_bytes_in = self.video_frames_in = self.audio_bytes_out = 0
        self.channel_bytes_in = self.audio_messages_in = self.direct_frames_in = 0
        self.channel = "comm"       # the microphone's path: "direct" (widget.js says so) or "comm"
        self.direct = direct        # offer the page the direct channel (voice/direct.py)
        self._direct = None         # its DirectChannel, started at the first hello
        self._forwarding = threading.Lock()   # frames from the comm's thread and the channel's, one at a time
        self.last_frame_at: float | None = None
        self.frame_times: deque[tuple[float, float, float]] = deque(maxlen=LATENCIES_KEPT)
        self.device_errors: list[str] = []
        self._last_ping: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        widget.on_msg(self._on_message)
        session.add_listener(self._on_event)
        self._watchdog = threading.Thread(target=self._watch, name="gemini-voice-heartbeat", daemon=True)
        self._watchdog.start()
        if session.closed:
            self._end()

    # -- the browser → the session ----------------------------------------------------------------------

    def _on_message(self, widget, content, buffers) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        self.channel_bytes_in += len(str(content)) + sum(len(b) for b in buffers or ())
        if self.ended:
            return
        if kind in ("ping", "hello", "audio"):   # the page is alive (it pings only when no audio goes)
            self._last_ping = time.monotonic()
        try:
            if kind == "audio":
                self._audio(content, buffers or ())
            elif kind == "video":
                for buffer in buffers or ():
                    self.video_frames_in += 1
                    self.session.send_video(bytes(buffer))
            elif kind == "audio_end":
                self.session.end_audio()
            elif kind == "activity_start":
                self.session.activity_start()
            elif kind == "activity_end":
                self.session.activity_end()
            elif kind == "hello" and self.direct:
                self._offer_direct()
            elif kind == "channel":
                self.channel = "direct" if content.get("channel") == "direct" else "comm"
            elif kind == "device":
                self.device_errors.append(f"{content.get('device')}: {content.get('error')}")
            elif kind == "end":
                self.session.close()
        except GeminiError as error:  # the session ended under the browser: say so once, in the widget
            log.info("A voice message could not be sent: %s", error)
            self._end()

    def _audio(self, content: dict, buffers) -> None:
        """One message of microphone frames (their PCM joined in one buffer, or a buffer each; `t` the
        first frame's time in the page, `d` each frame's ms after it): cut into frames of the widget's
        frame_ms, each forwarded as its own realtimeInput and timed."""
        received = time.time() * 1000
        pcm = b"".join(bytes(buffer) for buffer in buffers)
        size = 2 * LIVE_INPUT_RATE * self.widget.frame_ms // 1000
        frames = [pcm[start:start + size] for start in range(0, len(pcm), size)]
        first, offsets = content.get("t"), content.get("d")
        timed = isinstance(first, (int, float)) and not isinstance(first, bool)
        if not isinstance(offsets, list) or len(offsets) != len(frames) \
                or not all(isinstance(o, (int, float)) for o in offsets):
            offsets = [0] * len(frames)
        self.audio_messages_in += 1
        self._forward(frames, [first + offset for offset in offsets] if timed else None, received)

    def _forward(self, frames: list[bytes], made: list[float] | None, received: float) -> None:
        """Microphone frames (16 kHz 16-bit mono PCM, one realtimeInput each, in order) to the session;
        `made`: each one's time in the page (ms since the epoch) or None, `received`: their arrival here
        (ms). Both channels come here. Raises GeminiError when the session has ended."""
        with self._forwarding:
            for index, frame in enumerate(frames):
                self.frames_in += 1
                self.audio_bytes_in += len(frame)
                self.session.send_audio(frame)
                if made is not None:
                    self.frame_times.append((made[index], received, time.time() * 1000))
            if made and frames:
                self.last_frame_at = made[-1]

    # -- the direct channel (voice/direct.py) -----------------------------------------------------------

    def _offer_direct(self) -> None:
        """Start the channel at the first hello (one per link), and tell the page where it is: in a custom
        message, never a trait (traits are saved with the notebook, the token too)."""
        from .direct import DirectChannel

        with self._lock:
            if self.ended:
                return
            if self._direct is None:
                try:
                    self._direct = DirectChannel(self.direct_frame, self.direct_closed, self.direct_control)
                except OSError as error:  # no port on loopback: the comm path goes on
                    log.info("The voice widget's direct channel could not start: %s", error)
                    self.direct = False
                    return
            offer = self._direct.offer()
        self._send(offer)

    def direct_frame(self, payload: bytes) -> None:
        """One binary message of the direct channel: 8 bytes of little-endian float64 (the frame's time
        in the page, ms since the epoch) and the frame's PCM (2 to 1,280 bytes, even). Others are dropped."""
        received = time.time() * 1000
        self.channel_bytes_in += len(payload)
        pcm = payload[8:]
        if self.ended or not 0 < len(pcm) <= DIRECT_FRAME_BYTES or len(pcm) % 2:
            return
        self._last_ping = time.monotonic()    # microphone frames say the page is alive, as on the comm
        self.direct_frames_in += 1
        made = struct.unpack_from("<d", payload)[0]
        try:
            self._forward([pcm], [made] if math.isfinite(made) else None, received)
        except GeminiError as error:
            log.info("A voice frame could not be sent: %s", error)
            self._end()

    def direct_control(self, word: str) -> None:
        """A control word of the direct channel ("activity_start", "activity_end", "audio_end"), sent
        there, not by the comm, so it keeps its place among the frames (push-to-talk's first frames
        come after its activityStart)."""
        if self.ended:
            return
        try:
            with self._forwarding:
                {"activity_start": self.session.activity_start, "activity_end": self.session.activity_end,
                 "audio_end": self.session.end_audio}[word]()
        except GeminiError as error:
            log.info("A voice message could not be sent: %s", error)
            self._end()

    def direct_closed(self) -> None:
        """The page's direct connection ended: its frames come by the comm from now on."""
        self.channel = "comm"

    # -- the session → the browser ----------------------------------------------------------------------

    def _on_event(self, event) -> None:
        kind, turn = event.kind, event.turn
        number = turn.number if turn is not None else 0
        if kind == "audio":
            self.audio_bytes_out += len(event.data)
            self._send({"type": "audio", "turn": number}, [event.data])
        elif kind in ("output_transcript", "text"):
            if kind == "text" and turn is not None and turn.output_transcript:
                return
            self._send({"type": "text", "role": "model", "turn": number, "text": str(event.data)})
        elif kind == "input_transcript":
            self._send({"type": "text", "role": "user", "turn": number, "text": str(event.data)})
        elif kind == "interrupted":
            self._send({"type": "interrupted", "turn": number})
        elif kind == "tool_call":
            self._send({"type": "tool", "text": f"→ {event.data.get('name')}({event.data.get('args') or {}})"})
        elif kind == "tool_result":
            record = event.data
            outcome = f"error: {record['error']}" if record.get("error") else f"{record.get('result')!r}"
            self._send({"type": "tool", "text": f"← {record.get('name')}: {outcome}"})
        elif kind == "resumed":
            self._send({"type": "note", "text": str(event.data)})
        elif kind == "turn_complete":
            self._send({"type": "turn_complete", "turn": number})
        elif kind == "closed":
            self._end()

    def _send(self, content: dict, buffers: list | None = None) -> None:
        if self.ended:
            return
        try:
            self.widget.send(content, buffers)
        except Exception:  # a comm already closed (the kernel shutting down): nothing to tell
            log.debug("voice widget send failed", exc_info=True)

    # -- ending -----------------------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            if self._last_ping is not None and time.monotonic() - self._last_ping > self.heartbeat_timeout:
                log.info("The voice widget's page stopped answering; ending the Live session.")
                self.session.close()
                return

    def _end(self) -> None:
        """The session ended: tell the page, replace the widget's display by the conversation, stop."""
        with self._lock:
            if self.ended:
                return
            error = self.session.error
            line = (f"The session ended: {error}" if error is not None else
                    f"The session ended after {len(self.session.turns)} turn(s); the conversation stays below.")
            self._send({"type": "closed", "text": line})
            self.ended = True
        self._stop.set()
        if self._direct is not None:
            self._direct.close()
        if self._watchdog is not threading.current_thread():
            self._watchdog.join(2)
        self.session.remove_listener(self._on_event)
        if self.shown:
            try:
                from IPython.display import update_display

                update_display(conversation_bundle(self.session), display_id=self.display_id, raw=True)
            except Exception:
                log.debug("could not replace the voice widget's display", exc_info=True)
        try:
            self.widget.close()
        except Exception:
            log.debug("could not close the voice widget", exc_info=True)


def voice_widget(session, *, push_to_talk: bool = False, frame_ms: int = 20, frames_per_message: int | None = None,
                 direct: bool = True, heartbeat_timeout: float = HEARTBEAT_TIMEOUT):
    """`LiveSession.widget()`: a new voice widget joined to `session` (see the module docstring).
    `push_to_talk`: a Hold-to-talk button sends activityStart/activityEnd (the session must be opened
    with automatic activity detection disabled: `realtime_input_config={"automaticActivityDetection":
    {"disabled": True}}`). `frame_ms`: 20 to 40 (ms of audio per microphone frame).
    `frames_per_message`: frames the page joins in one comm message, 1 to 50 (default: MESSAGE_MS =
    120 ms of audio, so 6 of 20 ms or 3 of 40 ms; speech onset goes at once; 1: no wait in the page,
    about 4 times the kernel's CPU and 1.68x the bytes unless the server compresses: see the module
    docstring; on the direct channel it does not apply). `direct`: when the page can reach this
    kernel on loopback (the usual JupyterLab on a laptop), microphone frames go one a message, at once,
    over a WebSocket to a server in the kernel on 127.0.0.1 (voice/direct.py), not over the comm;
    where it cannot (a remote Jupyter, JupyterHub, a strict Content-Security-Policy) the page keeps
    the comm silently. False: the comm only, no server. `widget.link.channel` says which path the
    microphone uses ("direct" or "comm"). Raises SettingsError for a closed session, other frame
    lengths or counts, a `direct` that is not True or False, or when anywidget is missing (the line
    says how to install it)."""
    if session.closed:
        raise SettingsError(f"{session!r} has ended; open a new Live session for a voice widget.")
    if not FRAME_MS[0] <= int(frame_ms) <= FRAME_MS[1]:
        raise SettingsError(f"frame_ms must be {FRAME_MS[0]} to {FRAME_MS[1]} (ms of audio per frame), not {frame_ms}.")
    if frames_per_message is None:
        frames_per_message = max(1, -(-MESSAGE_MS // int(frame_ms)))
    if isinstance(frames_per_message, bool) or not isinstance(frames_per_message, int) \
            or not 1 <= frames_per_message <= 50:
        raise SettingsError(f"frames_per_message must be a whole number from 1 to 50 (microphone frames per "
                            f"message to the kernel), not {frames_per_message!r}.")
    if not isinstance(direct, bool):
        raise SettingsError(f"direct must be True (the microphone's frames over loopback when the page can reach "
                            f"the kernel) or False (the comm only), not {direct!r}.")
    manual = ((session.setup.get("realtimeInputConfig") or {}).get("automaticActivityDetection") or {}) \
        .get("disabled", False)
    if push_to_talk and not manual:
        raise SettingsError("push_to_talk=True needs a session opened with automatic activity detection disabled: "
                            "client.live(realtime_input_config={'automaticActivityDetection': {'disabled': True}}).")
    cls = widget_class()
    status = "Hold the button while you speak." if push_to_talk else "Press Start microphone and speak."
    widget = cls(session_name=session.name or "", push_to_talk=bool(push_to_talk or manual),
                 frame_ms=int(frame_ms), frames_per_message=frames_per_message, status=status)
    widget.link = VoiceLink(session, widget, heartbeat_timeout, direct=direct)
    return widget


__all__ = ["INSTALL_LINE", "MESSAGE_MS", "TERMINAL_LINE", "VoiceLink", "voice_widget", "widget_class"]
