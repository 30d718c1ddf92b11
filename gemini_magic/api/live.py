"""Live sessions: talk with a model in real time over one WebSocket (the Live API, BidiGenerateContent).

    with client.live(tools=[get_rainfall]) as session:      # a native-audio Live model by default
        turn = session.send("Is Huế wetter than Hà Nội in October?")
        turn.text, turn.wav(), turn.tool_calls                # transcript, speech, calls run here
        turn = session.send(["And this?", photo])             # the photo goes as a video frame
        session.send_audio(samples, rate=48000)               # realtime input, no waiting
        session.end_audio()
        spoken = session.next_turn(timeout=10)                # the turn the user spoke
        for event in session.events(): ...                    # every event as it arrives

One reader thread owns the connection for the session's whole life: it never stops at a
turnComplete, so turn after turn arrives (the official SDK's `receive()` stops after the first). It
merges the server's messages into `LiveTurn`s (live_turn.py), tells listeners (`events()`,
`add_listener`), and:

- runs tool calls: a `toolCall` goes to a worker thread that runs the kernel functions with the same
  runner as `generate` (api/tools.py) and answers with one `toolResponse` carrying each call's `id`;
  a `toolCallCancellation` that arrives first marks the call cancelled and it is not answered;
- resumes: the setup asks for resumption handles (`resume=True`); the newest is kept, and on `goAway`
  (when no turn is in flight) or on a drop (1001, 1006) it reconnects with that handle, at most
  `MAX_RESUMPTIONS` times in a row, noting one line in the turn ("Resumed the session ...");
- fails once: any other close (1007, 1008, 1011, ...) closes the session with a LiveError that the
  waiting `send`/`next_turn` raises, the partial turn kept with `.error`.

Sends come from any thread (a lock orders them). `close()` ends the socket at once and joins the
threads. Ctrl-C while `send` waits keeps the session usable: the partial turn stays, marked
interrupted, and what the model still says of it is dropped.
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ..constants import (AUDIO_ONLY_LIVE_MARKERS, DEFAULT_LIVE_MODEL, LIVE_INPUT_RATE, LIVE_METHOD,
                         PREBUILT_VOICES)
from ..errors import APIConnectionError, ConversionError, GeminiError, LiveError, RequestError, SettingsError
from ..answer.live_turn import LiveTurn
from ..parts.live_input import CHUNK_BYTES, INPUT_MIME
from ..request.settings import GenerationSettings, check_model

log = logging.getLogger("gemini_magic.live")

MAX_RESUMPTIONS = 3          # reconnections in a row before the session gives up
SETUP_TIMEOUT = 15.0         # seconds for setupComplete
RESPONSES = ("audio", "text")
_NOT_IN_LIVE = ("responseMimeType", "responseSchema", "responseJsonSchema", "stopSequences", "candidateCount",
                "responseLogprobs", "logprobs", "presencePenalty", "frequencyPenalty")


@dataclass
class LiveEvent:
    """One thing that happened in a session. `kind`: "text", "audio" (data: PCM bytes),
    "output_transcript", "input_transcript", "interrupted", "tool_call" (data: the record),
    "tool_result", "tool_cancelled", "usage", "turn_complete", "go_away" (data: timeLeft),
    "resumed", "error" (data: the LiveError), "closed". `turn`: the LiveTurn it belongs to, if any."""

    kind: str
    data: Any = None
    turn: LiveTurn | None = None


def is_audio_only(model: str) -> bool:
    """Live models that answer only in speech (native audio): their text is the output transcription."""
    return any(marker in model for marker in AUDIO_ONLY_LIVE_MARKERS)


def live_models(client) -> list[str] | None:
    """The models the backend lists for bidiGenerateContent, or None when the list cannot be read."""
    try:
        return [m.id for m in client.list_models() if LIVE_METHOD in m.supported_methods]
    except GeminiError:
        return None


def choose_model(client, model: str | None) -> str:
    """The model to open: `model` checked against the backend's Live models, or (None) the first
    native-audio one it lists. Raises SettingsError naming the Live models for any other model."""
    listed = live_models(client)
    if model is None:
        if not listed:
            return DEFAULT_LIVE_MODEL
        return next((m for m in listed if is_audio_only(m)), listed[0])
    model = check_model(model).removeprefix("models/")
    if listed is not None and model not in listed:
        names = ", ".join(listed) if listed else "none"
        raise SettingsError(f"{model} is not a Live model (its methods do not include bidiGenerateContent). "
                            f"The Live models of this backend: {names}.")
    return model


def build_setup(model: str, *, response: str = "audio", voice: str | None = None, system_instruction: Any = None,
                tools: list | None = None, transcripts: bool = True, resume: bool = True,
                context_window_compression: Any = None, realtime_input_config: dict | None = None,
                history: bool = False, language: str | None = None, **generation: Any) -> dict:
    """The `setup` message (camelCase), checked: SettingsError for a response that is not "audio" or
    "text", text asked of an audio-only model, an unknown voice, or a setting Live does not take."""
    if response not in RESPONSES:
        raise SettingsError(f"response must be 'audio' or 'text', not {response!r}.")
    if response == "text" and is_audio_only(model):
        raise SettingsError(f"{model} answers only in speech (a native-audio model); use response='audio' with "
                            "transcripts (turn.text is what it says), or a Live model that writes text.")
    config = GenerationSettings.from_options(**generation).generation_config()
    refused = [name for name in _NOT_IN_LIVE if name in config]
    if refused:
        raise SettingsError(f"A Live session does not take {', '.join(refused)}; leave them out.")
    config["responseModalities"] = [response.upper()]
    if voice is not None:
        match = next((v for v in PREBUILT_VOICES if v.lower() == str(voice).strip().lower()), None)
        if match is None:
            raise SettingsError(f"There is no prebuilt voice {voice!r}; choose one of {', '.join(PREBUILT_VOICES)}.")
        if response != "audio":
            raise SettingsError("voice= goes with response='audio' (a text answer has no voice).")
        config["speechConfig"] = {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": match}}}
    if language is not None:
        config.setdefault("speechConfig", {})["languageCode"] = language
    setup: dict[str, Any] = {"model": f"models/{model}", "generationConfig": config}
    if system_instruction is not None:
        text = system_instruction if isinstance(system_instruction, str) else str(system_instruction)
        setup["systemInstruction"] = {"parts": [{"text": text}]}
    if tools:
        setup["tools"] = tools
    if realtime_input_config is not None:
        setup["realtimeInputConfig"] = dict(realtime_input_config)
    if transcripts:
        setup["inputAudioTranscription"] = {}
        if response == "audio":
            setup["outputAudioTranscription"] = {}
    if resume:
        setup["sessionResumption"] = {}
    if context_window_compression:
        setup["contextWindowCompression"] = (dict(context_window_compression)
                                             if isinstance(context_window_compression, dict) else {"slidingWindow": {}})
    if history:
        setup["historyConfig"] = {"initialHistoryInClientContent": True}
    return setup


class LiveSession:
    """A Live session (see the module docstring). Made by `Client.live`; a context manager.

    Attributes: `model`, `name`, `turns` (every LiveTurn, the one in flight last), `handle` (the newest
    resumption handle), `session_id`, `resumptions`, `closed`, `error`."""

    def __init__(self, client, model: str, setup: dict, functions: dict, *, history: list | None = None,
                 name: str | None = None, max_calls: int = 10, on_call: Callable | None = None,
                 connect_timeout: float = 10.0) -> None:
        self.client = client
        self.model = model
        self.name = name
        self.setup = setup
        self.functions = dict(functions)
        self.max_calls = max_calls
        self.on_call = on_call
        self.connect_timeout = connect_timeout
        self.turns: list[LiveTurn] = []
        self.handle: str | None = None
        self.session_id: str | None = None
        self.resumptions = 0
        self.closed = False
        self.error: LiveError | None = None
        self._state = threading.Condition()   # turns, error, closed: waited on by send / next_turn
        self._send_lock = threading.RLock()   # one sender at a time; held while the connection is swapped
        self._current: LiveTurn | None = None
        self._waiting: deque[LiveTurn] = deque()  # sent prompts whose answers have not started yet
        self._go_away: str | None = None
        self._notes: list[str] = []  # lines for the next turn (a resumption between turns)
        self._closing = False
        self._subscribers: list[queue.SimpleQueue] = []
        self._listeners: list[Callable[[LiveEvent], Any]] = []
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._cancelled: set = set()
        self._connection = self._connect(None)
        if history:
            self._send({"clientContent": {"turns": list(history), "turnComplete": False}})
        self._reader = threading.Thread(target=self._read, name=f"gemini-live-{model}", daemon=True)
        self._worker = threading.Thread(target=self._run_calls, name=f"gemini-live-tools-{model}", daemon=True)
        self._reader.start()
        self._worker.start()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<LiveSession {self.name or ''} {self.model}: {state}, {len(self.turns)} turn(s)>".replace("  ", " ")

    def __enter__(self) -> "LiveSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- sending ---------------------------------------------------------------------------------

    def send(self, prompt: Any, *, timeout: float | None = None) -> LiveTurn:
        """Send a turn (text, kernel objects, or a list of them) and return the model's completed turn.

        Images go as video frames, audio (WAV, IPython Audio, raw PCM parts) as 16 kHz speech, text
        last. Raises ConversionError / RequestError before sending anything it cannot send, LiveError
        when the session is (or gets) closed, TimeoutError after `timeout` seconds (the turn goes on).
        Ctrl-C keeps the partial turn (marked interrupted, in `turns`) and the session usable."""
        return self._wait_for(self.start_turn(prompt), timeout)

    def start_turn(self, prompt: Any) -> LiveTurn:
        """Send a turn as `send` does, without waiting: the LiveTurn fills as the answer arrives
        (`wait(turn)` waits for it). Raises as `send` does before anything is sent."""
        from ..parts.core import convert_all
        from ..parts.live_input import realtime_messages

        self._check_open()
        items = [prompt] if isinstance(prompt, str) or not isinstance(prompt, (list, tuple)) else list(prompt)
        messages, text = realtime_messages(convert_all(items).parts)
        if text is not None:
            messages.append({"realtimeInput": {"text": text}})
        if not messages:
            raise ConversionError("The prompt is empty: write what to say, or pass audio or an image.")
        turn = self._open_turn(text)
        try:
            self._send_all(messages)
        except (RequestError, LiveError):  # refused before sending (a message over the limit), or the
            self._withdraw(turn)           # connection went as it was sent: no turn was started
            raise
        return turn

    def wait(self, turn: LiveTurn, timeout: float | None = None) -> bool:
        """Wait until `turn` is closed (complete, interrupted or failed), at most `timeout` seconds;
        True when it is (the turn is then handed out: `next_turn` does not give it again). Raises
        nothing but KeyboardInterrupt."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._state:
            while not turn.closed:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._state.wait(0.1 if left is None else min(0.1, left))
            turn.delivered = True
        return True

    def interrupt_turn(self, turn: LiveTurn, note: str = "Interrupted (Ctrl-C): the rest of this answer is not kept.") \
            -> None:
        """Stop keeping `turn` (Ctrl-C): it is closed as interrupted with what arrived; the model's
        rest of it is dropped, and the session goes on."""
        with self._state:
            if not turn.closed:
                turn.notes.append(note)
                turn.close(interrupted=True)
            turn.delivered = True
            self._state.notify_all()

    def send_audio(self, samples: Any, rate: int | None = None) -> None:
        """Stream audio as the user's speech now, without waiting (numpy samples or a list with their
        `rate` in Hz, raw 16-bit PCM bytes at `rate` (16000 when not given), WAV bytes or path).
        Resampled to 16 kHz mono; long audio goes in one-second messages. Raises ConversionError for
        audio of an unusable type or shape and for samples without their rate (a recording's rate is
        not guessed), LiveError when closed."""
        if rate is None and isinstance(samples, (bytes, bytearray, memoryview)):
            rate = LIVE_INPUT_RATE  # raw PCM bytes: the Live wire's own format
        if rate == LIVE_INPUT_RATE and type(samples) is bytes and 0 < len(samples) <= CHUNK_BYTES \
                and not len(samples) % 2 and samples[:4] != b"RIFF":
            # A realtime frame as a microphone gives it: sent as it is, no conversion.
            self._send({"realtimeInput": {"audio": {"mimeType": INPUT_MIME,
                                                    "data": base64.b64encode(samples).decode("ascii")}}})
            return
        from ..parts.live_input import audio_messages, pcm16

        self._check_open()
        self._send_all(audio_messages(pcm16(samples, rate)))

    def activity_start(self) -> None:
        """Say the user starts speaking (activityStart), for sessions opened with automatic activity
        detection disabled (push to talk). Raises LiveError when closed."""
        self._check_open()
        self._send({"realtimeInput": {"activityStart": {}}})

    def activity_end(self) -> None:
        """Say the user stopped speaking (activityEnd): the model answers what it heard since
        activity_start(). Raises LiveError when closed."""
        self._check_open()
        self._send({"realtimeInput": {"activityEnd": {}}})

    def widget(self, *, push_to_talk: bool = False, frame_ms: int = 20, frames_per_message: int | None = None,
               direct: bool = True):
        """A voice widget for this session in a notebook: microphone, camera, speaker, both transcripts
        live; it goes on after the cell returns (gemini_magic/voice/widget.py; `%gemini live talk NAME`
        in a cell). `frame_ms` (20-40): ms of audio per realtimeInput; `frames_per_message`: frames
        per message from the page (default 120 ms of them, speech onset at once; 1: no wait in the
        page, about 4 times the kernel's CPU); `direct` (default True): each frame at once over a
        WebSocket on loopback when the page can reach the kernel, the comm otherwise (False: the comm
        only). Raises SettingsError when anywidget is missing (the message says how to install it),
        for a closed session, or push_to_talk on a session with automatic activity detection."""
        from ..voice.widget import voice_widget

        return voice_widget(self, push_to_talk=push_to_talk, frame_ms=frame_ms, frames_per_message=frames_per_message,
                            direct=direct)

    def end_audio(self) -> None:
        """Say the audio stream has ended (audioStreamEnd): the service finishes hearing the turn."""
        self._check_open()
        self._send({"realtimeInput": {"audioStreamEnd": True}})

    def send_video(self, frame: Any) -> None:
        """Send one video frame (an image: PIL, array, PNG/JPEG bytes or path) now, without waiting.
        About one frame a second of about 768 px is what the service reads."""
        from ..parts.core import convert
        from ..parts.live_input import video_message

        self._check_open()
        if type(frame) is bytes and frame[:3] == b"\xff\xd8\xff" and len(frame) <= CHUNK_BYTES * 4:
            # A camera frame as the browser makes it (JPEG, <= 768 px): sent as it is.
            self._send({"realtimeInput": {"video": {"mimeType": "image/jpeg",
                                                    "data": base64.b64encode(frame).decode("ascii")}}})
            return
        parts = convert(frame).parts
        images = [p for p in parts if str((p.get("inlineData") or {}).get("mimeType", "")).startswith("image/")]
        if len(images) != 1:
            raise ConversionError(f"A video frame must be one image; a {type(frame).__name__} is not.")
        self._send(video_message(images[0]))

    def send_text(self, text: str) -> None:
        """Send text as realtime input without waiting for the answer (next_turn() gives it)."""
        self._check_open()
        if not isinstance(text, str) or not text.strip():
            raise ConversionError("send_text takes non-empty text.")
        self._send({"realtimeInput": {"text": text}})

    # -- receiving -------------------------------------------------------------------------------

    def next_turn(self, timeout: float | None = None) -> LiveTurn | None:
        """The next completed turn not handed out yet (a turn the user spoke, or answered text sent
        with send_text); None after `timeout` seconds. Raises LiveError when the session closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._state:
            while True:
                for turn in self.turns:
                    if turn.closed and not turn.delivered:
                        turn.delivered = True
                        return turn
                if self.error is not None:
                    raise self.error
                if self.closed:
                    raise LiveError("This Live session is closed; open a new one with client.live(...).")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._state.wait(0.1 if left is None else min(0.1, left))

    def events(self) -> Iterator[LiveEvent]:
        """Every event from now on as it arrives (see LiveEvent), until the session closes."""
        inbox: queue.SimpleQueue = queue.SimpleQueue()
        with self._state:
            if self.closed:
                return
            self._subscribers.append(inbox)
        try:
            while True:
                event = inbox.get()
                yield event
                if event.kind == "closed":
                    return
        finally:
            with self._state:
                if inbox in self._subscribers:
                    self._subscribers.remove(inbox)

    def add_listener(self, listener: Callable[[LiveEvent], Any]) -> None:
        """Call `listener(event)` for every event, in the reader's thread (keep it quick)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[LiveEvent], Any]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    @property
    def total_tokens(self) -> int:
        return sum(int(t.usage.get("totalTokenCount") or 0) for t in self.turns)

    # -- closing ---------------------------------------------------------------------------------

    def close(self) -> None:
        """End the session now: close the socket, finish the turn in flight as interrupted, join the
        threads. Closing twice does nothing."""
        with self._state:
            if self._closing:
                return
            self._closing = True
        self._connection.close()
        self._calls.put(None)
        for thread in (self._reader, self._worker):
            if thread is not threading.current_thread():
                thread.join(5)
        self._finish(None)

    # -- inside: connection ----------------------------------------------------------------------

    def _connect(self, handle: str | None):
        """Open a connection, send the setup (with `handle` to resume) and wait for setupComplete.
        Raises LiveError (the server closed it: 1007, 1008, ...), APIError, APIConnectionError."""
        connection = self.client.transport.open_live(self.connect_timeout)
        setup = dict(self.setup)
        if handle is not None:
            setup["sessionResumption"] = {"handle": handle}
        try:
            connection.send({"setup": setup})
            while True:
                try:
                    message = connection.receive(SETUP_TIMEOUT)
                except TimeoutError:
                    raise APIConnectionError(f"The Live server did not answer the setup within {SETUP_TIMEOUT:g} s.") \
                        from None
                if message is None:
                    raise LiveError("The Live server closed the connection before the session was set up; "
                                    "open it again.", code=1000)
                if "setupComplete" in message:
                    self.session_id = (message.get("setupComplete") or {}).get("sessionId") or self.session_id
                    others = {k: v for k, v in message.items() if k != "setupComplete"}
                    if others:
                        self._dispatch(others)
                    return connection
                self._dispatch(message)
        except BaseException:
            connection.close()
            raise

    def _reconnect(self, why: str, *, idle_only: bool = False) -> bool:
        """Resume with the newest handle; True when the session goes on. Holds the send lock, so no
        send reaches the old connection once a resumption starts; `idle_only` (after goAway, while the
        old connection still serves): only when no turn is in flight, else later."""
        with self._send_lock:
            if self.handle is None or self._closing:
                return False
            if idle_only and (self._current is not None or self._waiting):
                return False
            old = self._connection
            for attempt in range(MAX_RESUMPTIONS):
                try:
                    self._connection = self._connect(self.handle)
                    break
                except GeminiError as error:  # a close, no connection, a refused upgrade (503, 429...)
                    log.info("Live resumption attempt %d failed: %s", attempt + 1, error)
                    time.sleep(0.2 * (attempt + 1))
            else:
                return False
            old.close()
            self.resumptions += 1
            self._go_away = None
        note = f"Resumed the session after {why} (resumption {self.resumptions})."
        turn = self._current
        if turn is not None:
            turn.notes.append(note)
        else:
            self._notes.append(note)  # said with the next turn, where a view shows it
        self._emit(LiveEvent("resumed", note, turn))
        return True

    def _send(self, message: dict) -> None:
        with self._send_lock:
            if self.closed or self._closing or self.error is not None:
                self._check_open()
            self._connection.send(message)

    def _send_all(self, messages: list[dict]) -> None:
        with self._send_lock:
            for message in messages:
                self._send(message)

    def _check_open(self) -> None:
        if self.error is not None:
            raise LiveError(f"This Live session has ended ({self.error}); open a new one with client.live(...).",
                            code=self.error.code, reason=self.error.reason)
        if self.closed or self._closing:
            raise LiveError("This Live session is closed; open a new one with client.live(...).")

    # -- inside: the reader ------------------------------------------------------------------------

    def _read(self) -> None:
        try:
            self._read_messages()
        except Exception as error:  # unforeseen: the session ends with one error, no waiter left hanging
            log.exception("The Live session's reader failed")
            self._finish(LiveError(f"The Live session failed ({type(error).__name__}); open a new one.", code=None))

    def _read_messages(self) -> None:
        failures = 0
        while not self._closing:
            try:
                message = self._connection.receive()
            except LiveError as error:
                if self._closing:
                    break
                if error.code in (1001, 1006) or self._go_away is not None:
                    failures += 1
                    if failures <= MAX_RESUMPTIONS and self._reconnect(
                            "goAway" if self._go_away is not None else f"a drop ({error.code})"):
                        self._interrupt_current("The connection dropped during this turn; what was lost is "
                                                "not repeated.")
                        continue
                self._finish(error)
                return
            except GeminiError as error:  # a frame that is no message, or an error object in one
                if self._closing:
                    break
                self._finish(LiveError(f"The Live session failed: {error}", code=None))
                return
            if message is None:
                if self._closing:
                    break
                if self._go_away is not None and self._reconnect("goAway"):
                    continue
                self._finish(LiveError("The Live server ended the session (1000).", code=1000))
                return
            failures = 0
            self._dispatch(message)
            if self._go_away is not None and self._current is None and not self._waiting:
                self._reconnect("goAway", idle_only=True)

    def _dispatch(self, message: dict) -> None:
        """Act on every top-level key of one message (usage before the turnComplete beside it)."""
        keys = sorted(message, key=lambda k: k != "usageMetadata") if len(message) > 1 else message
        for key in keys:
            value = message[key]
            if key == "serverContent":
                self._content(value or {})
            elif key == "toolCall":
                self._tool_call(value or {})
            elif key == "toolCallCancellation":
                ids = list((value or {}).get("ids") or ())
                self._cancelled.update(ids)
                turn = self._current
                for record in (turn.cancel_calls(ids) if turn is not None else []):
                    self._emit(LiveEvent("tool_cancelled", record, turn))
            elif key == "usageMetadata":
                turn = self._current or (self.turns[-1] if self.turns else self._turn_for_output())
                turn.add_usage(value or {})
                self._emit(LiveEvent("usage", value, turn))
            elif key == "sessionResumptionUpdate":
                update = value or {}
                if update.get("resumable", True) and update.get("newHandle"):
                    self.handle = update["newHandle"]
            elif key == "goAway":
                self._go_away = str((value or {}).get("timeLeft") or "")
                self._emit(LiveEvent("go_away", self._go_away, self._current))
            elif key == "setupComplete":
                pass
            else:
                log.debug("Live message key %r ignored", key)

    def _turn_for_output(self) -> LiveTurn:
        """The turn server output belongs to: the one in flight, else the next prompt sent, else a new
        turn (the user spoke)."""
        with self._state:
            if self._current is None:
                self._current = self._waiting.popleft() if self._waiting else self._new_turn(None)
            return self._current

    def _new_turn(self, prompt: str | None) -> LiveTurn:
        turn = LiveTurn(len(self.turns) + 1, self.model, prompt)
        turn.notes, self._notes = self._notes, []
        self.turns.append(turn)
        return turn

    def _open_turn(self, prompt: str | None) -> LiveTurn:
        with self._state:
            turn = self._new_turn(prompt)
            if self._current is None:
                self._current = turn
            else:
                self._waiting.append(turn)
            return turn

    def _withdraw(self, turn: LiveTurn) -> None:
        with self._state:
            if self._current is turn:
                self._current = self._waiting.popleft() if self._waiting else None
            elif turn in self._waiting:
                self._waiting.remove(turn)
            if turn in self.turns:
                self.turns.remove(turn)

    def _content(self, content: dict) -> None:
        turn = self._current or self._turn_for_output()
        added = turn.add_content(content)
        if self._subscribers or self._listeners:
            for kind, value in added:
                self._emit(LiveEvent(kind, value, turn))
        if content.get("turnComplete"):
            with self._state:
                turn.close(complete=True)
                self._current = None
                self._state.notify_all()
            self._emit(LiveEvent("turn_complete", turn, turn))

    def _tool_call(self, value: dict) -> None:
        turn = self._turn_for_output()
        calls = list(value.get("functionCalls") or ())
        records = turn.add_calls(calls)
        for record in records:
            self._emit(LiveEvent("tool_call", record, turn))
        self._calls.put((turn, records))

    def _run_calls(self) -> None:
        """The tool worker: run each toolCall's functions (api/tools.run_call) and answer them."""
        from .tools import response_part, run_call

        while True:
            item = self._calls.get()
            if item is None:
                return
            turn, records = item
            answers = []
            for record in records:
                if record.get("id") in self._cancelled:
                    continue
                run = sum(1 for r in turn.tool_calls if "seconds" in r)
                if run >= self.max_calls:
                    record.update(error=f"Not run: the turn reached max_calls={self.max_calls}.", seconds=0.0)
                else:
                    record.update(run_call(self.functions, record))
                if record.get("id") in self._cancelled:
                    record["cancelled"] = True
                    continue
                self._emit(LiveEvent("tool_result", record, turn))
                if self.on_call is not None:
                    self.on_call(record)
                answers.append(response_part(record)["functionResponse"])
            if answers and not self._closing:
                try:
                    self._send({"toolResponse": {"functionResponses": answers}})
                except GeminiError as error:
                    log.info("A toolResponse could not be sent: %s", error)

    def _interrupt_current(self, note: str) -> None:
        with self._state:
            turn = self._current
            if turn is None:
                return
            turn.notes.append(note)
            turn.close(interrupted=True)
            self._current = None
            self._state.notify_all()

    def _finish(self, error: LiveError | None) -> None:
        """The session's end: the turn in flight (and those waiting) closed, waiters woken, listeners told."""
        with self._state:
            if self.closed:
                return
            if error is not None:
                self.error = error
            for turn in ([self._current] if self._current else []) + list(self._waiting):
                turn.close(interrupted=error is None, error=error)
            self._current = None
            self._waiting.clear()
            self.closed = True
            self._state.notify_all()
        if error is not None:
            self._emit(LiveEvent("error", error, None))
            if not self._closing:
                self._connection.close()
                self._calls.put(None)
        self._emit(LiveEvent("closed", error, None))

    def _wait_for(self, turn: LiveTurn, timeout: float | None) -> LiveTurn:
        try:
            if not self.wait(turn, timeout):
                raise TimeoutError(f"No complete answer within {timeout:g} s; the turn goes on "
                                   "(session.next_turn() gives it when it completes).")
        except KeyboardInterrupt:
            self.interrupt_turn(turn)
            raise
        turn.delivered = True
        if turn.error is not None:
            raise turn.error
        return turn

    def _emit(self, event: LiveEvent) -> None:
        if not (self._subscribers or self._listeners):
            return
        for inbox in list(self._subscribers):
            inbox.put(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a view's bug must not stop the reader; it is logged, not hidden
                log.exception("A Live session listener failed on a %s event", event.kind)


def open_session(client, model: str | None = None, *, response: str = "audio", voice: str | None = None,
                 system_instruction: Any = None, tools: list | None = None, transcripts: bool = True,
                 history: list | None = None, resume: bool = True, context_window_compression: Any = None,
                 realtime_input_config: dict | None = None, language: str | None = None, max_calls: int = 10,
                 on_call: Callable | None = None, name: str | None = None, connect_timeout: float = 10.0,
                 **generation: Any) -> LiveSession:
    """`Client.live`: check everything, then connect (see LiveSession). Raises SettingsError,
    SchemaError (a tool that cannot be declared) before connecting; LiveError, APIError,
    APIConnectionError from the connection."""
    from ..request.tools import tool_set
    from .tools import take_loop_options

    found = tool_set(tools)
    max_calls, on_call = take_loop_options({"max_calls": max_calls, "on_call": on_call})
    if history is not None and not isinstance(history, (list, tuple)):
        history = getattr(history, "history", None)
        if not isinstance(history, list):
            raise SettingsError("history= takes a list of Content dicts ({'role', 'parts'}) or a Chat.")
    chosen = choose_model(client, model)
    setup = build_setup(chosen, response=response, voice=voice, system_instruction=system_instruction,
                        tools=found.tools or None, transcripts=transcripts, resume=resume,
                        context_window_compression=context_window_compression,
                        realtime_input_config=realtime_input_config, history=bool(history), language=language,
                        **generation)
    return LiveSession(client, chosen, setup, found.functions, history=list(history or []) or None, name=name,
                       max_calls=max_calls, on_call=on_call, connect_timeout=connect_timeout)


__all__ = ["LiveEvent", "LiveSession", "build_setup", "choose_model", "is_audio_only", "live_models",
           "open_session"]
