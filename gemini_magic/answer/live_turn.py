"""`LiveTurn`: one turn of a Live session, merged from the server's messages. Pure: no I/O, no views.

    turn = session.send("What is the capital of Vietnam?")
    turn.text               # the model's text, or the transcript of its speech (audio answers)
    turn.audio              # 24 kHz 16-bit mono PCM bytes (b"" for text answers); turn.wav() plays
    turn.input_transcript   # what the service heard, when the user spoke
    turn.tool_calls         # [{"name", "args", "id", "result" | "error", "seconds"}, ...]
    turn.usage              # the last usageMetadata (Live counts responseTokenCount)

A turn is filled by one session's reader (`add_content`, `add_calls`, `add_usage`) and closed at one
point (`close`): complete (the server's turnComplete), interrupted (the user spoke over it, or pressed
Ctrl-C: what arrived is kept), or failed (`error`). `to_response()` gives the Response the views draw.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from ..constants import LIVE_OUTPUT_RATE
from .part_kinds import kind_of
from .response import Response

PCM_MIME = f"audio/L16;codec=pcm;rate={LIVE_OUTPUT_RATE}"


class LiveTurn:
    """One exchange of a Live session: what the user sent or said, and the model's answer.

    Attributes: `number` (1-based in its session), `model`, `prompt` (the text sent, None for speech),
    `interrupted`, `complete` (the server said turnComplete), `closed`, `error`, `finish_reason`
    (`turnCompleteReason`), `usage`, `notes` (lines such as a resumption), `elapsed` and
    `time_to_first_chunk` (seconds from the send).
    """

    def __init__(self, number: int, model: str | None = None, prompt: str | None = None) -> None:
        self.number = number
        self.model = model
        self.prompt = prompt
        self._text: list[str] = []
        self._output_transcript: list[str] = []
        self._input_transcript: list[str] = []
        self._audio: list[bytes] = []
        self._joined: bytes | None = None
        self.audio_bytes = 0
        self.tool_calls: list[dict] = []
        self.interrupted = False
        self.complete = False
        self.closed = False
        self.generation_complete = False
        self.error: BaseException | None = None
        self.finish_reason: str | None = None
        self.usage: dict = {}
        self.grounding: dict | None = None
        self.notes: list[str] = []
        self.started = time.monotonic()
        self.elapsed: float | None = None
        self.time_to_first_chunk: float | None = None
        self.delivered = False  # handed out by send() or next_turn()

    # -- filling (the session's reader) ----------------------------------------------------------

    def add_content(self, content: dict) -> list[tuple[str, Any]]:
        """Merge one `serverContent`; returns what it added as (kind, value) pairs, in order: "text",
        "audio" (PCM bytes), "output_transcript", "input_transcript", "interrupted"."""
        added: list[tuple[str, Any]] = []
        if self.closed:
            return added
        model_turn = content.get("modelTurn")
        if model_turn:
            for part in model_turn.get("parts") or ():
                kind = kind_of(part)
                if kind.name == "text":
                    self._text.append(part["text"])
                    added.append(("text", part["text"]))
                    continue
                data = kind.data(part)  # inline data: the turn's PCM audio
                if data is not None:
                    pcm = binascii.a2b_base64(data)  # base64.b64decode's own call, without its str-to-bytes copy
                    self._audio.append(pcm)
                    self.audio_bytes += len(pcm)
                    self._joined = None
                    added.append(("audio", pcm))
        for key, kept, kind in (("outputTranscription", self._output_transcript, "output_transcript"),
                                ("inputTranscription", self._input_transcript, "input_transcript")):
            piece = content.get(key)
            if piece and piece.get("text"):
                kept.append(piece["text"])
                added.append((kind, piece["text"]))
        if content.get("groundingMetadata"):
            self.grounding = content["groundingMetadata"]
        if content.get("generationComplete"):
            self.generation_complete = True
        if content.get("interrupted"):
            self.interrupted = True
            added.append(("interrupted", True))
        if content.get("turnCompleteReason"):
            self.finish_reason = content["turnCompleteReason"]
        if added and self.time_to_first_chunk is None:
            self.time_to_first_chunk = time.monotonic() - self.started
        return added

    def add_calls(self, calls: list[dict]) -> list[dict]:
        """Records for a toolCall's functionCalls ({"name", "args", "id"}), kept in `tool_calls`."""
        records = [{"name": call.get("name"), "args": call.get("args") or {}, "id": call.get("id")}
                   for call in calls]
        self.tool_calls.extend(records)
        return records

    def cancel_calls(self, ids: list) -> list[dict]:
        """Mark the calls of `ids` cancelled (toolCallCancellation); returns their records."""
        found = [record for record in self.tool_calls if record.get("id") in set(ids)]
        for record in found:
            record["cancelled"] = True
        return found

    def add_usage(self, usage: dict) -> None:
        """Keep the last usageMetadata (the service sends running totals)."""
        self.usage = dict(usage)

    def close(self, *, complete: bool = False, interrupted: bool = False,
              error: BaseException | None = None) -> None:
        """The turn's commit point; closing again does nothing (a late turnComplete after Ctrl-C)."""
        if self.closed:
            return
        self.closed = True
        self.complete = complete
        if interrupted:
            self.interrupted = True
        if error is not None:
            self.error = error
        self.elapsed = time.monotonic() - self.started

    # -- reading -----------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The model's text; for an audio answer, the transcript of its speech."""
        return "".join(self._text) if self._text else "".join(self._output_transcript)

    @property
    def output_transcript(self) -> str:
        return "".join(self._output_transcript)

    @property
    def input_transcript(self) -> str:
        """What the service heard the user say (inputAudioTranscription), "" when nothing."""
        return "".join(self._input_transcript)

    @property
    def audio(self) -> bytes:
        """The answer's speech: 16-bit little-endian mono PCM at 24 kHz (b"" for a text answer)."""
        if self._joined is None or len(self._audio) > 1:
            joined = b"".join(self._audio)
            self._audio = [joined] if joined else []
            self._joined = joined
        return self._joined

    @property
    def audio_seconds(self) -> float:
        return self.audio_bytes / 2 / LIVE_OUTPUT_RATE

    def wav(self) -> bytes:
        """The speech as WAV file bytes (RIFF, 24 kHz mono), to save or play."""
        from .media_out import pcm_to_wav

        return pcm_to_wav(self.audio, PCM_MIME)

    @property
    def incomplete(self) -> bool:
        return not self.complete

    @property
    def response_tokens(self) -> int | None:
        value = self.usage.get("responseTokenCount")
        return value if isinstance(value, int) else None

    def to_response(self, *, with_audio: bool = True) -> Response:
        """The turn as a Response (one candidate: the text, the speech as PCM, the calls as steps), for
        the views of render/ and anything that reads a Response."""
        parts: list[dict] = []
        if self.text:
            parts.append({"text": self.text})
        if with_audio and self.audio_bytes:
            parts.append({"inlineData": {"mimeType": PCM_MIME, "data": base64.b64encode(self.audio).decode("ascii")}})
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if self.complete:
            candidate["finishReason"] = self.finish_reason or "STOP"
        chunk: dict[str, Any] = {"candidates": [candidate]}
        if self.usage:
            usage = {"promptTokenCount": self.usage.get("promptTokenCount"),
                     "candidatesTokenCount": self.usage.get("responseTokenCount"),
                     "totalTokenCount": self.usage.get("totalTokenCount")}
            chunk["usageMetadata"] = {k: v for k, v in usage.items() if v is not None}
        if self.model:
            chunk["modelVersion"] = self.model
        response = Response([chunk], streamed=True, model=self.model)
        # A snapshot of the turn so far, closed at once: its state and timings are the turn's.
        response.close(error=self.error, interrupted=self.interrupted, elapsed=self.elapsed,
                       first_chunk=self.time_to_first_chunk)
        if self.tool_calls:
            calls = {"role": "model", "parts": [{"functionCall": {k: r[k] for k in ("name", "args", "id") if r.get(k)}}
                                                for r in self.tool_calls]}
            response.set_exchange([{"kind": "model", "content": calls, "response": None, "calls": []},
                                   {"kind": "tool", "content": None, "response": None, "calls": list(self.tool_calls)},
                                   {"kind": "model", "content": candidate["content"], "response": response,
                                    "calls": []}],
                                  [candidate["content"]], None)
        return response

    def __repr__(self) -> str:
        state = "interrupted" if self.interrupted else "complete" if self.complete else \
            "failed" if self.error is not None else "open"
        text = self.text
        shown = text if len(text) <= 60 else text[:57] + "..."
        audio = f", audio {self.audio_seconds:.1f} s" if self.audio_bytes else ""
        calls = f", {len(self.tool_calls)} tool call(s)" if self.tool_calls else ""
        return f"<LiveTurn {self.number} {state}: {shown!r}{audio}{calls}>"


__all__ = ["LiveTurn", "PCM_MIME"]
