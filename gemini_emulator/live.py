"""The emulator's Live endpoint: BidiGenerateContent over a WebSocket, as shared/API_NOTES.md describes it.

Served on the emulator's own port and path (``/ws/google.ai.generativelanguage.v1beta.GenerativeService
.BidiGenerateContent``), so a client uses the same base URL for REST and Live. The key comes in the
``x-goog-api-key`` header of the upgrade (a key in the URL is refused, as everywhere here).

What it does, deterministically:

- the first message must be ``setup``; a model that is unknown or not for bidiGenerateContent closes
  with 1008, TEXT asked of a native-audio model with 1007 ("Cannot extract voices from a non-audio
  request"), an unknown voice, two modalities, or a setting Live does not take with 1007;
- ``setupComplete`` (with a ``sessionId``), then answers: TEXT as text parts, AUDIO as 24 kHz 16-bit
  PCM (a tone whose length follows the text) plus ``outputTranscription`` of the text; every server
  frame is BINARY, some pretty-printed, the last of a turn with two keys (``serverContent`` and
  ``usageMetadata``);
- realtime ``text`` answers at once; ``audio`` is heard until ``audioStreamEnd``, then
  ``inputTranscription`` says how many seconds were heard (all of it); ``video`` frames are counted
  (size, pixels, arrival time); ``clientContent`` turns become history (answered when ``turnComplete``);
- activity detection (emulator/voice_activity.py): automatic by default, speech (20 ms windows louder
  than ``LOUD``) ends after ``silenceDurationMs`` of quiet (800 ms unless the setup says) and is
  answered with the seconds from its first to its last loud window; with
  ``automaticActivityDetection.disabled`` only ``activityStart``/``activityEnd`` bound a turn. A spoken
  turn's answer is speech of a few seconds, long enough to talk over;
- input that arrives while it answers interrupts (text, speech, ``activityStart``): ``interrupted``
  then ``turnComplete``;
- what it saw of realtime input is in ``LiveStore.stats`` (``GET /emulator/live``): per connection,
  audio messages and bytes, the seconds of each heard turn, video frames, interruptions, open or not;
- a declared function named by the prompt (emulator/tools.py rules) is called with ``toolCall``
  (ids always); the ``toolResponse`` must carry each id; the answer is written from the results;
- ``sessionResumption`` in the setup gives a ``sessionResumptionUpdate`` handle after setup and after
  every turn; a setup with a handle resumes that session (its turns and history).

Faults (``Emulator.inject(kind, match="live", ...)``), taken when a connection opens:
``go_away`` (time_left seconds, after_turns), ``live_close`` (code, reason, when="setup"|"answer"),
``live_drop`` (the TCP connection ends without a close frame during the next answer),
``live_interrupt`` (the next answer is interrupted after its first frame), ``tool_cancel`` (the next
call is cancelled with toolCallCancellation while the client runs it).
"""

from __future__ import annotations

import base64
import functools
import json
import math
import queue
import re
import secrets
import threading
import time
from array import array

from gemini_magic.constants import EMULATOR_MARKER, LIVE_MAX_MESSAGE_BYTES

from . import models, tools
from .answers import text_tokens
from .errors import ApiError
from .tool_config import tool_set
from .voice_activity import Activity, jpeg_size
from .websocket import WebSocket

PATH = re.compile(r"^/ws/google\.ai\.generativelanguage\.(v1beta|v1alpha|v1)\.GenerativeService\."
                  r"BidiGenerateContent$")
OUTPUT_RATE = 24000
INPUT_RATE = 16000
CHUNK_SAMPLES = 2400               # 0.1 s of audio in each modelTurn chunk
BURST_FRAMES = 12                  # frames of an audio answer sent unpaced (about a second of speech)
SECONDS_PER_CHARACTER = 0.02       # speech length follows the text (50 characters a second)
AUDIO_TOKENS_PER_SECOND = 25
LOUD = 500                         # mean absolute sample value above which input audio is speech
VOICES = ("Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe",
          "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib", "Rasalgethi",
          "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima", "Achird",
          "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat")
SETUP_FIELDS = {"model", "generationConfig", "systemInstruction", "tools", "realtimeInputConfig",
                "inputAudioTranscription", "outputAudioTranscription", "sessionResumption",
                "contextWindowCompression", "proactivity", "historyConfig"}
NOT_LIVE_CONFIG = {"responseMimeType", "responseSchema", "responseJsonSchema", "stopSequences", "candidateCount",
                   "responseLogprobs", "logprobs"}
KINDS = ("go_away", "live_close", "live_drop", "live_interrupt", "tool_cancel")


@functools.lru_cache(maxsize=1)
def tone() -> bytes:
    """One second of a 440 Hz tone, 24 kHz 16-bit little-endian mono, at a third of full scale."""
    samples = array("h", (int(10000 * math.sin(2 * math.pi * 440 * i / OUTPUT_RATE)) for i in range(OUTPUT_RATE)))
    return samples.tobytes()


class Refusal(Exception):
    """End the connection with a close code and the service's reason."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


class LiveStore:
    """Sessions by resumption handle, and every client message received (for tests to read)."""

    def __init__(self):
        self.sessions: dict[str, dict] = {}
        self.messages: list[dict] = []   # {"connection": n, "message": {...}}
        self.stats: dict[int, dict] = {}  # per connection: what it heard and saw (see new_stats)
        self.connections = 0
        self.lock = threading.Lock()

    def clear(self):
        with self.lock:
            self.sessions.clear()
            self.messages.clear()
            self.stats.clear()
            self.connections = 0

    @staticmethod
    def new_stats() -> dict:
        return {"open": True, "audio_messages": 0, "audio_bytes": 0, "first_audio_at": None, "last_audio_at": None,
                "heard_seconds": [], "video_frames": [], "interruptions": 0, "activity": "automatic"}

    def describe(self) -> dict:
        """The stats as JSON (the control endpoint GET /emulator/live)."""
        with self.lock:
            return {"connections": self.connections,
                    "open": sum(1 for s in self.stats.values() if s["open"]),
                    "sessions": [{"connection": n, **json.loads(json.dumps(s))} for n, s in self.stats.items()]}


class LiveConnection:
    """One WebSocket connection of the Live endpoint, served in the HTTP handler's thread."""

    def __init__(self, emulator, ws: WebSocket, faults: list):
        self.emulator = emulator
        self.store: LiveStore = emulator.live
        self.ws = ws
        self.faults = {f.kind: f for f in faults}
        with self.store.lock:
            self.store.connections += 1
            self.number = self.store.connections
            self.stats = self.store.stats[self.number] = LiveStore.new_stats()
        self.state = {"turns": 0, "history": [], "frames": 0, "id": secrets.token_hex(8)}
        self.heard = bytearray()
        self.loud = False
        self.activity = Activity()
        self.pending_calls: dict[str, tools.Call] = {}
        self.pending_prompt = ""
        self.backlog: list = []       # messages read while answering, handled after it
        self.deadline: float | None = None

    # -- the connection's life ------------------------------------------------------------------
    def run(self) -> None:
        try:
            self.begin(self.next_message(first=True))
            while True:
                message = self.next_message()
                self.handle(message)
                self.after_turn_faults()
        except Refusal as refusal:
            self.ws.close(refusal.code, refusal.reason)
        except _Dropped:
            self.ws.drop()
        except _ClientClosed:
            pass
        finally:
            with self.store.lock:
                self.stats["open"] = False

    def next_message(self, first: bool = False) -> dict:
        if self.backlog:
            return self.backlog.pop(0)
        while True:
            timeout = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
            try:
                kind, data = self.ws.inbox.get(timeout=timeout)
            except queue.Empty:
                raise Refusal(1000, "The session reached its time limit (goAway was sent).") from None
            message = self.decode(kind, data)
            if message is not None:
                return message

    def decode(self, kind, data) -> dict | None:
        if kind == "closed":
            raise _ClientClosed()
        if kind == "too_big":
            raise Refusal(1009, f"Message is larger than the limit of {LIVE_MAX_MESSAGE_BYTES} bytes.")
        try:
            message = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise Refusal(1007, "Invalid JSON payload received. Unexpected token.") from None
        if not isinstance(message, dict) or len(message) != 1:
            raise Refusal(1007, "Invalid JSON payload received. A message must have exactly one field of "
                                "setup, clientContent, realtimeInput or toolResponse.")
        if isinstance(message.get("realtimeInput"), dict) and "_spoken" in message["realtimeInput"]:
            raise Refusal(1007, 'Invalid JSON payload received. Unknown name "_spoken" at \'realtime_input\'.')
        with self.store.lock:
            self.store.messages.append({"connection": self.number, "message": message})
        return message

    def send(self, message: dict, pretty: bool = False) -> None:
        text = json.dumps(message, indent=2 if pretty else None, ensure_ascii=False)
        self.ws.send_binary(text.encode("utf-8"))  # binary frames of UTF-8 JSON, as the service sends

    # -- setup ------------------------------------------------------------------------------------
    def begin(self, message: dict) -> None:
        setup = message.get("setup")
        if setup is None:
            raise Refusal(1007, "The first message must be a setup message.")
        if not isinstance(setup, dict):
            raise Refusal(1007, "Invalid value at 'setup'.")
        unknown = sorted(set(setup) - SETUP_FIELDS)
        if unknown:
            raise Refusal(1007, f'Invalid JSON payload received. Unknown name "{unknown[0]}" at \'setup\': '
                                "Cannot find field.")
        name = str(setup.get("model") or "")
        bare = name.removeprefix("models/")
        row = models.find(bare)
        if not name.startswith("models/") or row is None or "bidiGenerateContent" not in row[4]:
            raise Refusal(1008, f"models/{bare} is not found for API version v1beta, or is not supported for "
                                "bidiGenerateContent. Call ListModels to see the list of available models and "
                                "their supported methods.")
        self.model = bare
        config = setup.get("generationConfig") or {}
        refused = sorted(set(config) & NOT_LIVE_CONFIG)
        if refused:
            raise Refusal(1007, f"{refused[0]} is not supported in the Live API.")
        modalities = [str(m).upper() for m in config.get("responseModalities") or ["AUDIO"]]
        if len(modalities) != 1 or modalities[0] not in ("AUDIO", "TEXT"):
            raise Refusal(1007, "Exactly one response modality (AUDIO or TEXT) is supported in the Live API.")
        self.audio = modalities[0] == "AUDIO"
        if not self.audio and "native-audio" in bare:
            raise Refusal(1007, "Cannot extract voices from a non-audio request.")
        voice = (((config.get("speechConfig") or {}).get("voiceConfig") or {}).get("prebuiltVoiceConfig") or {}) \
            .get("voiceName")
        if voice is not None and voice not in VOICES:
            raise Refusal(1007, f"Voice name {voice} is not supported.")
        try:
            self.tool_set = tool_set(setup, "BidiGenerateContentSetup")
        except ApiError as error:
            raise Refusal(1007, error.message) from None
        self.input_transcripts = "inputAudioTranscription" in setup
        self.output_transcripts = "outputAudioTranscription" in setup and self.audio
        self.resumable = "sessionResumption" in setup
        detection = (setup.get("realtimeInputConfig") or {}).get("automaticActivityDetection") or {}
        self.activity = Activity(automatic=not detection.get("disabled"),
                                 silence_ms=detection.get("silenceDurationMs"))
        self.stats["activity"] = "automatic" if self.activity.automatic else "manual"
        handle = (setup.get("sessionResumption") or {}).get("handle")
        if handle:
            with self.store.lock:
                saved = self.store.sessions.get(handle)
            if saved is None or saved.get("model") != bare:
                raise Refusal(1007, "The session resumption handle is not valid or has expired.")
            self.state = {**saved, "history": list(saved["history"])}
        self.state["model"] = bare
        fault = self.faults.get("live_close")
        if fault is not None and fault.get("when", "setup") == "setup":
            raise Refusal(int(fault.get("code")), str(fault.get("reason", "Injected by the emulator.")))
        self.send({"setupComplete": {"sessionId": self.state["id"]}}, pretty=True)
        self.update_handle()

    def update_handle(self) -> None:
        if not self.resumable:
            return
        handle = "emulator-handle-" + secrets.token_hex(8)
        with self.store.lock:
            self.store.sessions[handle] = {**self.state, "history": list(self.state["history"])}
        self.send({"sessionResumptionUpdate": {"newHandle": handle, "resumable": True}})

    # -- input ------------------------------------------------------------------------------------
    def handle(self, message: dict) -> None:
        key, value = next(iter(message.items()))
        if key == "setup":
            raise Refusal(1007, "setup must be the first message, and only sent once.")
        if key == "realtimeInput":
            prompt = self.realtime(value or {})
            if prompt is not None:
                self.answer(*prompt)
        elif key == "clientContent":
            turns = (value or {}).get("turns") or []
            texts = [" ".join(p.get("text", "") for p in t.get("parts") or [] if isinstance(p, dict)) for t in turns]
            self.state["history"] += [t for t in texts if t]
            if (value or {}).get("turnComplete") and texts:
                self.state["history"] = self.state["history"][:-1]
                self.answer(texts[-1], None)
        elif key == "toolResponse":
            self.tool_response(value or {})
        else:
            raise Refusal(1007, f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')

    def realtime(self, value: dict):
        """Note realtime input; returns (prompt, seconds heard) when it ends a user turn, else None."""
        if not isinstance(value, dict) or len(value) != 1:
            raise Refusal(1007, "realtimeInput must hold exactly one of audio, video, text, audioStreamEnd, "
                                "activityStart, activityEnd.")
        key, item = next(iter(value.items()))
        if key == "text":
            return str(item), None
        if key == "_spoken":  # an utterance heard while answering (see interrupted_by_input)
            return None, item
        if key == "audio":
            spoken = self.hear(item)
            return (None, spoken) if spoken is not None else None
        if key == "video":
            self.see(item)
            return None
        if key == "activityEnd":
            seconds = self.activity.end()
            self.heard.clear()
            self.loud = False
            return (None, self.heard_turn(seconds)) if seconds else None
        if key == "audioStreamEnd":
            quiet_tail = self.activity.ended_once and not self.loud  # silence streamed after a spoken turn
            seconds = len(self.heard) / 2 / INPUT_RATE
            self.heard.clear()
            self.loud = False
            self.activity.reset()
            if not seconds or quiet_tail:
                return None
            return None, self.heard_turn(seconds)
        if key == "activityStart":
            self.activity.start()
            return None
        if key == "mediaChunks":
            spoken = None
            for blob in item or []:
                if str(blob.get("mimeType", "")).startswith("image/"):
                    self.see(blob)
                else:
                    spoken = self.hear(blob) or spoken
            return (None, spoken) if spoken is not None else None
        raise Refusal(1007, f'Invalid JSON payload received. Unknown name "{key}" at \'realtime_input\'.')

    def hear(self, blob: dict) -> float | None:
        """Keep a chunk of speech; returns the seconds of a spoken turn that automatic activity
        detection ended with it, else None."""
        mime = str((blob or {}).get("mimeType", ""))
        if not mime.startswith("audio/pcm"):
            raise Refusal(1007, f"Unsupported audio mime type {mime!r}; send audio/pcm;rate=16000.")
        try:
            data = base64.b64decode(blob.get("data") or "", validate=True)
        except ValueError:
            raise Refusal(1007, "Invalid value at 'realtime_input.audio.data' (TYPE_BYTES), Base64 decoding "
                                "failed.") from None
        self.heard += data
        now = time.time()
        with self.store.lock:
            self.stats["audio_messages"] += 1
            self.stats["audio_bytes"] += len(data)
            self.stats["first_audio_at"] = self.stats["first_audio_at"] or now
            self.stats["last_audio_at"] = now
        samples = array("h", data[:len(data) - len(data) % 2])
        if samples and sum(abs(s) for s in samples[::8]) / len(samples[::8]) > LOUD:
            self.loud = True
        seconds = self.activity.hear(samples, LOUD, INPUT_RATE)
        if seconds is None:
            return None
        self.heard.clear()
        self.loud = False
        return self.heard_turn(seconds)

    def heard_turn(self, seconds: float) -> float:
        with self.store.lock:
            self.stats["heard_seconds"].append(round(seconds, 3))
        return seconds

    def see(self, blob: dict) -> None:
        """Count a video frame, noting its size, pixels and arrival time."""
        self.state["frames"] += 1
        try:
            data = base64.b64decode((blob or {}).get("data") or "")
        except ValueError:
            raise Refusal(1007, "Invalid value at 'realtime_input.video.data' (TYPE_BYTES), Base64 decoding "
                                "failed.") from None
        width, height = jpeg_size(data) if str(blob.get("mimeType", "")) == "image/jpeg" else (None, None)
        with self.store.lock:
            self.stats["video_frames"].append({"bytes": len(data), "mime_type": blob.get("mimeType"),
                                               "width": width, "height": height, "at": time.time()})

    # -- answers ----------------------------------------------------------------------------------
    def answer(self, prompt: str | None, seconds: float | None, results: list | None = None) -> None:
        if seconds is not None and self.input_transcripts:
            self.send({"serverContent": {"inputTranscription": {"text": f"({seconds:.1f} s of audio)"}}})
        said = prompt if prompt is not None else f"{seconds:.1f} s of audio"
        if results is None and self.tool_set.declarations and prompt:
            calls = (tools.steps(prompt, self.tool_set.callable()) or [[]])[0]
            if calls:
                return self.call(prompt, calls)
        self.state["turns"] += 1
        text = self.answer_text(prompt, seconds, results)
        if self.stream(text, said):
            self.state["history"] += [said, text]
        self.update_handle()

    def answer_text(self, prompt, seconds, results) -> str:
        number = self.state["turns"]
        if results is not None:
            return f"{tools.results_text(results).strip()}\n(Live turn {number}.)"
        heard = f"you said “{prompt}”" if prompt is not None else f"you spoke for {seconds:.1f} s"
        if prompt is None and results is None:  # a spoken turn: a few seconds of speech, to talk over
            heard += (". This spoken answer goes on for a few seconds, long enough to interrupt: speak again "
                      "while it plays and it stops at once")
        extras = []
        if self.state["frames"]:
            extras.append(f"I have seen {self.state['frames']} video frame(s)")
        earlier = len(self.state["history"]) // 2
        if earlier:
            extras.append(f"{earlier} earlier turn(s) in this session")
        tail = (" " + "; ".join(extras) + ".") if extras else ""
        return f"{EMULATOR_MARKER} Live turn {number} from {self.model}: {heard}.{tail}"

    def call(self, prompt: str, calls: list) -> None:
        for call in calls:
            call.id = tools.call_id()
        self.pending_calls = {c.id: c for c in calls}
        self.pending_prompt = prompt
        self.send({"toolCall": {"functionCalls": [{"id": c.id, "name": c.name, "args": c.args} for c in calls]}},
                  pretty=True)
        fault = self.faults.pop("tool_cancel", None)
        if fault is not None:
            time.sleep(float(fault.get("delay", 0.05)))
            ids = list(self.pending_calls)
            self.send({"toolCallCancellation": {"ids": ids}})
            self.pending_calls = {}
            self.state["turns"] += 1
            self.stream(f"{EMULATOR_MARKER} The call was cancelled (Live turn {self.state['turns']}).", prompt)
            self.update_handle()

    def tool_response(self, value: dict) -> None:
        answers = value.get("functionResponses") or []
        if not self.pending_calls:
            if not answers:
                raise Refusal(1007, "toolResponse must have functionResponses.")
            return  # an answer to a cancelled call: the service ignores it
        results = []
        for item in answers:
            call_id = item.get("id")
            if not call_id:
                raise Refusal(1007, "Function response id is required; answer each toolCall with its call's id.")
            call = self.pending_calls.pop(call_id, None)
            if call is None:
                raise Refusal(1007, f"Function response id {call_id} does not match a pending function call.")
            results.append((call.name, item.get("response")))
        if not self.pending_calls:
            self.answer(self.pending_prompt, None, results)

    def stream(self, text: str, said: str) -> bool:
        """Send one answer, frame by frame, interrupted when input arrives (or a fault says so).
        True when it was sent whole."""
        emulator = self.emulator
        frames = self.frames(text)
        sent = 0
        for message in frames:
            if sent == 1:
                self.mid_answer_faults()
            if self.interrupted_by_input():
                with self.store.lock:
                    self.stats["interruptions"] += 1
                self.send({"serverContent": {"interrupted": True}})
                self.send({"serverContent": {"turnComplete": True}})
                return False
            self.send(message, pretty=sent % 7 == 3)
            sent += 1
            if emulator.pace and not (self.audio and sent <= BURST_FRAMES):
                time.sleep(emulator.pace)  # the first second of speech goes at once, as the service sends it
        self.send({"serverContent": {"generationComplete": True}})
        prompt_tokens = text_tokens(" ".join(self.state["history"]) + said)
        answer_tokens = (math.ceil(self.speech_seconds(text) * AUDIO_TOKENS_PER_SECOND) if self.audio
                         else text_tokens(text))
        usage = {"promptTokenCount": prompt_tokens, "responseTokenCount": answer_tokens,
                 "totalTokenCount": prompt_tokens + answer_tokens,
                 "responseTokensDetails": [{"modality": "AUDIO" if self.audio else "TEXT",
                                            "tokenCount": answer_tokens}]}
        # Two keys in one frame, as the service sends them.
        self.send({"serverContent": {"turnComplete": True}, "usageMetadata": usage}, pretty=True)
        return True

    def speech_seconds(self, text: str) -> float:
        return max(0.2, len(text) * SECONDS_PER_CHARACTER)

    def frames(self, text: str) -> list[dict]:
        words = text.split(" ")
        pieces = [" ".join(words[i:i + 4]) + (" " if i + 4 < len(words) else "") for i in range(0, len(words), 4)]
        if not self.audio:
            return [{"serverContent": {"modelTurn": {"parts": [{"text": piece}]}}} for piece in pieces]
        samples = int(self.speech_seconds(text) * OUTPUT_RATE)
        pcm = (tone() * (samples // OUTPUT_RATE + 1))[:2 * samples]
        chunks = [pcm[i:i + 2 * CHUNK_SAMPLES] for i in range(0, len(pcm), 2 * CHUNK_SAMPLES)]
        out = []
        for index, chunk in enumerate(chunks):
            blob = {"mimeType": f"audio/pcm;rate={OUTPUT_RATE}", "data": base64.b64encode(chunk).decode("ascii")}
            out.append({"serverContent": {"modelTurn": {"parts": [{"inlineData": blob}]}}})
            share = index * len(pieces) // len(chunks)
            if self.output_transcripts and share < len(pieces) and (index == 0 or
                                                                   share != (index - 1) * len(pieces) // len(chunks)):
                out.append({"serverContent": {"outputTranscription": {"text": pieces[share]}}})
        if self.output_transcripts:  # pieces the chunks did not reach (a short sound, a long text)
            shown = {m["serverContent"]["outputTranscription"]["text"] for m in out
                     if "outputTranscription" in m["serverContent"]}
            out += [{"serverContent": {"outputTranscription": {"text": p}}} for p in pieces if p not in shown]
        return out

    def interrupted_by_input(self) -> bool:
        """True when input that interrupts (text, speech, a forced interruption) arrived meanwhile."""
        if self.faults.pop("live_interrupt", None) is not None:
            return True
        while True:
            try:
                kind, data = self.ws.inbox.get_nowait()
            except queue.Empty:
                return False
            message = self.decode(kind, data)
            if message is None:
                continue
            self.backlog.append(message)
            value = message.get("realtimeInput") or {}
            if "text" in value or "clientContent" in message or "activityStart" in value:
                return True
            if "audio" in value:
                spoken = self.hear(value["audio"])
                self.backlog.pop()  # heard now; not handled twice
                if spoken is not None:  # a whole utterance while it spoke: answered next
                    self.backlog.append({"realtimeInput": {"_spoken": spoken}})
                if self.loud and self.activity.automatic:
                    return True

    def mid_answer_faults(self) -> None:
        fault = self.faults.get("live_close")
        if fault is not None and fault.get("when") == "answer":
            raise Refusal(int(fault.get("code")), str(fault.get("reason", "Injected by the emulator.")))
        if self.faults.pop("live_drop", None) is not None:
            raise _Dropped()

    def after_turn_faults(self) -> None:
        fault = self.faults.get("go_away")
        if fault is None or self.deadline is not None or self.state["turns"] < int(fault.get("after_turns", 1)):
            return
        seconds = float(fault.get("time_left", 1.0))
        self.send({"goAway": {"timeLeft": f"{seconds:g}s"}})
        self.deadline = time.monotonic() + seconds


class _Dropped(Exception):
    pass


class _ClientClosed(Exception):
    pass


__all__ = ["KINDS", "LiveConnection", "LiveStore", "PATH", "Refusal"]
