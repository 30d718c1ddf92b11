"""`Response`: one answer of the model, whether it arrived in one piece or as a stream of chunks.

Pure: no I/O. Chunks are kept as received (`.raw`). A streamed answer keeps each chunk as the JSON
bytes that arrived and merges it at once: bytes are not tracked by Python's garbage collector, so a
20,000-chunk stream does not slow down as it grows; `.raw` parses them again when it is read.

Merging rules (what the service sends, see ../shared/recordings):
- consecutive text parts of the same kind (answer or thought) are joined into one part; a part that
  carries a `thoughtSignature` starts a new part and keeps its signature unchanged, since the service
  needs it back as it was sent;
- every other part (functionCall, inlineData, executableCode, codeExecutionResult, fileData, ...) is
  kept in order, unchanged;
- `usageMetadata` is a running total: the LAST one wins (counts can go down between chunks);
- a streamed answer that ended with no finishReason was cut short: `incomplete` is True.

    >>> r = Response([{"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]},
    ...               {"candidates": [{"content": {"parts": [{"text": "lo"}]}, "finishReason": "STOP"}]}])
    >>> r.text, r.finish_reason, r.incomplete
    ('Hello', 'STOP', False)
"""

from __future__ import annotations

import base64
import json
from typing import Any, Iterable

from .errors import GeminiError, PromptBlockedError

_TEXT_KEYS = {"text", "thought", "thoughtSignature"}


class Candidate:
    """One candidate answer (`-n 2` asks for several); `Response` shows the first."""

    # Defaults live on the class so that creating a candidate per streamed chunk stays cheap.
    role = "model"
    finish_reason: str | None = None
    finish_message: str | None = None
    grounding_metadata: dict | None = None
    url_context_metadata: dict | None = None
    avg_logprobs: float | None = None
    logprobs_result: dict | None = None
    _open_text: list | None = None  # pieces of the last part while it is text
    _open_thought = False  # whether that last text part is a thought

    def __init__(self, index: int) -> None:
        self.index = index
        self.safety_ratings: list[dict] = []
        self.citations: list[dict] = []
        self._parts: list[dict] = []

    def _absorb(self, data: dict) -> None:
        # One pass over the keys that are there: this runs once per streamed chunk.
        for key, value in data.items():
            if key == "content":
                self.role = value.get("role", self.role)
                for part in value.get("parts") or ():
                    self._add_part(part)
            elif key == "finishReason":
                self.finish_reason = value or self.finish_reason
            elif key == "finishMessage":
                self.finish_message = value
            elif key == "safetyRatings":
                self.safety_ratings = list(value)
            elif key == "citationMetadata":
                sources = (value or {}).get("citationSources") or ()
                self.citations.extend(s for s in sources if s not in self.citations)
            elif key == "groundingMetadata":
                if value or self.grounding_metadata is None:  # the first chunk may carry an empty {}
                    self.grounding_metadata = value
            elif key == "urlContextMetadata":
                self.url_context_metadata = value
            elif key == "avgLogprobs":
                self.avg_logprobs = value
            elif key == "logprobsResult":
                self.logprobs_result = value

    def _add_part(self, part: dict) -> None:
        plain = len(part) == 1 and "text" in part  # the common case while streaming
        is_text = plain or ("text" in part and part.keys() <= _TEXT_KEYS)
        if is_text and self._open_text is not None and "thoughtSignature" not in part:
            if bool(part.get("thought")) == self._open_thought:
                self._open_text.append(part["text"])
                return
        self._seal()
        self._parts.append(dict(part))
        if is_text:
            self._open_text = [part["text"]]
            self._open_thought = bool(part.get("thought"))
        else:
            self._open_text = None

    def _seal(self) -> None:
        if self._open_text is not None and len(self._open_text) > 1:
            joined = "".join(self._open_text)
            self._parts[-1]["text"] = joined
            self._open_text = [joined]

    @property
    def parts(self) -> list[dict]:
        """The merged parts, in order (copies: changing them does not change the response)."""
        self._seal()
        return [dict(p) for p in self._parts]

    @property
    def text(self) -> str:
        """The answer text, thoughts excluded; "" when there is none."""
        self._seal()
        parts = self._parts
        if len(parts) == 1:  # one streamed chunk, or a plain answer
            part = parts[0]
            return part["text"] if "text" in part and not part.get("thought") else ""
        return "".join(p["text"] for p in parts if "text" in p and not p.get("thought"))

    @property
    def thoughts(self) -> str:
        """Thought summaries (asked for with includeThoughts), joined; "" when there are none."""
        self._seal()
        return "".join(p["text"] for p in self._parts if "text" in p and p.get("thought"))

    @property
    def function_calls(self) -> list[dict]:
        return [p["functionCall"] for p in self._parts if "functionCall" in p]

    def to_content(self) -> dict:
        """This candidate as a Content for the next turn's history (signatures kept)."""
        return {"role": "model", "parts": self.parts}

    def __repr__(self) -> str:
        return f"<Candidate {self.index} finish_reason={self.finish_reason} text={_short(self.text)!r}>"


class Response:
    """The model's answer: `.text`, `.thoughts`, `.parts`, `.usage`, `.finish_reason`, `.raw` ...

    Attributes that describe how the answer arrived: `streamed`, `incomplete` (a stream ended without
    a finish reason, or failed, or was interrupted), `interrupted` (the user stopped it), `error` (the
    exception that ended the stream, if any), `request` (the request body, key never included),
    `model` (the model asked for).
    """

    # Defaults live on the class so that the per-chunk responses of a stream are cheap to create.
    interrupted = False
    error: BaseException | None = None
    elapsed: float | None = None
    time_to_first_chunk: float | None = None
    _usage: dict = {}
    _prompt_feedback: dict | None = None
    _model_version: str | None = None
    _response_id: str | None = None

    def __init__(self, chunks: Iterable[dict] = (), *, streamed: bool = False, model: str | None = None,
                 request: dict | None = None) -> None:
        self._raw: list = list(chunks)  # chunk dicts, or the JSON bytes of streamed chunks
        self._pending: list[dict] = list(self._raw)  # chunks added but not merged yet
        self._candidates: dict[int, Candidate] = {}
        self.streamed = streamed
        self.model = model
        self.request = request

    def add(self, chunk: dict) -> None:
        """Add one chunk as received (merged when a property is next read)."""
        self._raw.append(chunk)
        self._pending.append(chunk)

    def add_received(self, chunk: dict, data: bytes) -> None:
        """Add a streamed chunk and the JSON bytes it was parsed from: merged now, kept as bytes."""
        self._sync()
        self._raw.append(data)
        self._merge(chunk)

    @property
    def raw(self) -> list[dict]:
        """The chunks as received (one dict for a unary answer)."""
        raw = self._raw
        for index, item in enumerate(raw):
            if not isinstance(item, dict):
                raw[index] = json.loads(item)
        return list(raw)

    @property
    def chunk_count(self) -> int:
        return len(self._raw)

    def _sync(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            for chunk in pending:
                self._merge(chunk)

    def _merge(self, chunk: dict) -> None:
        # One pass over the keys that are there: this runs once per streamed chunk.
        for key, value in chunk.items():
            if key == "candidates":
                for position, data in enumerate(value or ()):
                    index = data.get("index", position)
                    candidate = self._candidates.get(index)
                    if candidate is None:
                        candidate = self._candidates[index] = Candidate(index)
                    candidate._absorb(data)
            elif key == "usageMetadata":
                self._usage = value
            elif key == "promptFeedback":
                self._prompt_feedback = value
            elif key == "modelVersion":
                self._model_version = value
            elif key == "responseId":
                self._response_id = value

    @property
    def candidates(self) -> list[Candidate]:
        self._sync()
        return [self._candidates[i] for i in sorted(self._candidates)]

    @property
    def candidate(self) -> Candidate | None:
        """The first candidate (the one `.text` shows), or None when there is none."""
        self._sync()
        found = self._candidates
        if len(found) == 1:  # the usual case, read once per streamed chunk: no sorting
            return next(iter(found.values()))
        return found[min(found)] if found else None

    def _first(self, name: str, default: Any) -> Any:
        candidate = self.candidate
        return getattr(candidate, name) if candidate else default

    @property
    def text(self) -> str:
        """The answer text, thoughts excluded; "" when there is none."""
        if len(self._pending) == 1 and not self._candidates:
            return _single_chunk_text(self._pending[0])  # a streamed chunk's own text, read once: no merge
        candidate = self.candidate
        return candidate.text if candidate is not None else ""

    thoughts = property(lambda self: self._first("thoughts", ""), doc="Thought summaries, joined.")
    parts = property(lambda self: self._first("parts", []), doc="The first candidate's merged parts.")
    finish_reason = property(lambda self: self._first("finish_reason", None))
    finish_message = property(lambda self: self._first("finish_message", None))
    safety_ratings = property(lambda self: self._first("safety_ratings", []))
    citations = property(lambda self: self._first("citations", []),
                         doc="citationSources as sent; startIndex/endIndex are UTF-8 byte offsets.")
    grounding_metadata = property(lambda self: self._first("grounding_metadata", None))
    url_context_metadata = property(lambda self: self._first("url_context_metadata", None))
    function_calls = property(lambda self: self._first("function_calls", []))

    @property
    def usage(self) -> dict:
        """The last usageMetadata received (a running total while streaming)."""
        self._sync()
        return dict(self._usage)

    @property
    def prompt_feedback(self) -> dict | None:
        self._sync()
        return self._prompt_feedback

    @property
    def block_reason(self) -> str | None:
        """Why the prompt itself was blocked (then there are no candidates), else None."""
        feedback = self.prompt_feedback
        return feedback.get("blockReason") if feedback else None

    @property
    def model_version(self) -> str | None:
        self._sync()
        return self._model_version

    @property
    def response_id(self) -> str | None:
        self._sync()
        return self._response_id

    @property
    def incomplete(self) -> bool:
        """True when the answer did not arrive whole: cut short, failed or interrupted."""
        if self.interrupted or self.error is not None:
            return True
        if self.block_reason:
            return False
        return not self._raw or self.finish_reason is None

    @property
    def inline_data(self) -> list[dict]:
        """Inline media parts as `{"mimeType", "data": bytes}`, decoded from base64."""
        found = []
        for part in self.parts:
            blob = part.get("inlineData")
            if blob:
                found.append({"mimeType": blob.get("mimeType"), "data": base64.b64decode(blob.get("data", ""))})
        return found

    @property
    def images(self) -> list:
        """PIL images of the inline image parts (Pillow is imported on first use)."""
        import io

        from PIL import Image

        images = []
        for blob in self.inline_data:
            if str(blob["mimeType"]).startswith("image/"):
                image = Image.open(io.BytesIO(blob["data"]))
                image.load()
                images.append(image)
        return images

    def json(self) -> Any:
        """The answer text parsed as JSON (ask for it with `--json` / responseMimeType)."""
        if self.block_reason:
            raise PromptBlockedError(f"The prompt was blocked ({self.block_reason}): there is no answer to parse.")
        try:
            return json_from_text(self.text)
        except ValueError as exc:
            raise GeminiError(f"The answer is not valid JSON ({exc}). Ask for JSON with --json "
                              "(responseMimeType application/json).") from None

    def to_content(self) -> dict:
        """The first candidate as a Content for the next turn's history."""
        candidate = self.candidate
        return candidate.to_content() if candidate else {"role": "model", "parts": []}

    def __repr__(self) -> str:
        state = "interrupted" if self.interrupted else "incomplete" if self.incomplete else self.finish_reason
        if self.block_reason:
            state = f"blocked: {self.block_reason}"
        return f"<Response {self.model_version or self.model or ''} {state} text={_short(self.text)!r}>"

    # -- media the model made (issue 16; media_out.py) ------------------------------------------
    def _answer_media(self) -> list[dict]:
        """Inline media parts of the answer as `{"mimeType", "data": bytes}`, thought parts left out."""
        return [{"mimeType": str(part["inlineData"].get("mimeType") or ""),
                 "data": base64.b64decode(part["inlineData"].get("data", ""))}
                for part in self.parts if part.get("inlineData") and not part.get("thought")]

    @property
    def audio(self) -> bytes | None:
        """The answer's speech as a playable file, or None when there is no audio part. Raw PCM
        (`audio/L16;codec=pcm;rate=24000`, what TTS models send) is wrapped into WAV, the pieces of a
        streamed answer joined in order; other audio types come as sent (the first audio part)."""
        from .media_out import is_pcm, pcm_to_wav

        audio = [blob for blob in self._answer_media() if blob["mimeType"].lower().startswith("audio/")]
        if not audio:
            return None
        first = audio[0]["mimeType"]
        if not is_pcm(first):
            return audio[0]["data"]
        return pcm_to_wav(b"".join(blob["data"] for blob in audio if blob["mimeType"] == first), first)

    def save_images(self, folder) -> list:
        """Write the answer's images (thought images left out) to `folder` (created if missing) with
        their original bytes, as image-1.png, image-2.jpg, ... without overwriting files there.
        Returns the paths ([] when the answer has no image). Raises OSError when it cannot write."""
        from .media_out import save_images

        return save_images(self._answer_media(), folder)

    def save_audio(self, path):
        """Write `.audio` (WAV for the PCM that TTS models send) to `path`; returns it as a Path.
        Raises GeminiError when the answer has no audio, OSError when the file cannot be written."""
        from pathlib import Path

        data = self.audio
        if data is None:
            raise GeminiError("The answer has no audio to save: ask a TTS model (such as "
                              "gemini-2.5-flash-preview-tts) for speech.")
        target = Path(path).expanduser()
        target.write_bytes(data)
        return target



def _single_chunk_text(chunk: dict) -> str:
    """What `.text` gives for a response of this one chunk (merging joins text, so the join is the same)."""
    candidates = chunk.get("candidates") or ()
    if not candidates:
        return ""
    first = candidates[0]
    if len(candidates) > 1:
        first = min(enumerate(candidates), key=lambda item: item[1].get("index", item[0]))[1]
    parts = (first.get("content") or {}).get("parts") or ()
    return "".join(p["text"] for p in parts if "text" in p and not p.get("thought"))


def json_from_text(text: str) -> Any:
    """Parse JSON that a model may have wrapped in a ```json fence; raises ValueError."""
    body = text.strip()
    if body.startswith("```"):  # models sometimes fence JSON even when asked for raw JSON
        body = body.strip("`").strip()
        body = body[4:] if body.startswith("json") else body
    return json.loads(body)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
