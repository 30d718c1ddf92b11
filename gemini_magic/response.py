"""`Response`: one answer of the model, whether it arrived in one piece or as a stream of chunks.

Pure: no I/O. Chunks are kept as received (`.raw`) and merged lazily, so adding a chunk while
streaming costs almost nothing and reading `.text` is always up to date.

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

    def __init__(self, index: int) -> None:
        self.index = index
        self.role = "model"
        self.finish_reason: str | None = None
        self.finish_message: str | None = None
        self.safety_ratings: list[dict] = []
        self.citations: list[dict] = []
        self.grounding_metadata: dict | None = None
        self.url_context_metadata: dict | None = None
        self.avg_logprobs: float | None = None
        self.logprobs_result: dict | None = None
        self._parts: list[dict] = []
        self._open_text: list[str] | None = None  # pieces of the last part while it is text

    def _absorb(self, data: dict) -> None:
        content = data.get("content") or {}
        self.role = content.get("role", self.role)
        for part in content.get("parts") or ():
            self._add_part(part)
        if data.get("finishReason"):
            self.finish_reason = data["finishReason"]
        if "finishMessage" in data:
            self.finish_message = data["finishMessage"]
        if "safetyRatings" in data:
            self.safety_ratings = list(data["safetyRatings"])
        sources = (data.get("citationMetadata") or {}).get("citationSources") or ()
        self.citations.extend(s for s in sources if s not in self.citations)
        if data.get("groundingMetadata") or self.grounding_metadata is None and "groundingMetadata" in data:
            self.grounding_metadata = data["groundingMetadata"]
        if "urlContextMetadata" in data:
            self.url_context_metadata = data["urlContextMetadata"]
        if "avgLogprobs" in data:
            self.avg_logprobs = data["avgLogprobs"]
        if "logprobsResult" in data:
            self.logprobs_result = data["logprobsResult"]

    def _add_part(self, part: dict) -> None:
        is_text = "text" in part and part.keys() <= _TEXT_KEYS
        if is_text and self._open_text is not None and "thoughtSignature" not in part:
            last = self._parts[-1]
            if bool(last.get("thought")) == bool(part.get("thought")):
                self._open_text.append(part["text"])
                return
        self._seal()
        self._parts.append(dict(part))
        self._open_text = [part["text"]] if is_text else None

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
        return "".join(p["text"] for p in self._parts if "text" in p and not p.get("thought"))

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

    def __init__(self, chunks: Iterable[dict] = (), *, streamed: bool = False, model: str | None = None,
                 request: dict | None = None) -> None:
        self.raw: list[dict] = []
        self.streamed = streamed
        self.model = model
        self.request = request
        self.interrupted = False
        self.error: BaseException | None = None
        self.elapsed: float | None = None
        self.time_to_first_chunk: float | None = None
        self._candidates: dict[int, Candidate] = {}
        self._merged = 0
        self._usage: dict = {}
        self._prompt_feedback: dict | None = None
        self._model_version: str | None = None
        self._response_id: str | None = None
        for chunk in chunks:
            self.add(chunk)

    def add(self, chunk: dict) -> None:
        """Add one chunk as received (cheap: merging happens when a property is read)."""
        self.raw.append(chunk)

    def _sync(self) -> None:
        raw = self.raw
        while self._merged < len(raw):
            chunk = raw[self._merged]
            self._merged += 1
            for position, data in enumerate(chunk.get("candidates") or ()):
                index = data.get("index", position)
                candidate = self._candidates.get(index)
                if candidate is None:
                    candidate = self._candidates[index] = Candidate(index)
                candidate._absorb(data)
            if "usageMetadata" in chunk:
                self._usage = chunk["usageMetadata"]
            if "promptFeedback" in chunk:
                self._prompt_feedback = chunk["promptFeedback"]
            self._model_version = chunk.get("modelVersion", self._model_version)
            self._response_id = chunk.get("responseId", self._response_id)

    @property
    def candidates(self) -> list[Candidate]:
        self._sync()
        return [self._candidates[i] for i in sorted(self._candidates)]

    @property
    def candidate(self) -> Candidate | None:
        """The first candidate (the one `.text` shows), or None when there is none."""
        candidates = self.candidates
        return candidates[0] if candidates else None

    def _first(self, name: str, default: Any) -> Any:
        candidate = self.candidate
        return getattr(candidate, name) if candidate else default

    text = property(lambda self: self._first("text", ""), doc="The answer text, thoughts excluded.")
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
        return not self.raw or self.finish_reason is None

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
        text = self.text.strip()
        if text.startswith("```"):  # models sometimes fence JSON even when asked for raw JSON
            text = text.strip("`").removeprefix("json").strip()
        try:
            return json.loads(text)
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

    def _repr_mimebundle_(self, include=None, exclude=None):
        from .explore import response_bundle  # the notebook view, built on first display

        return response_bundle(self)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
