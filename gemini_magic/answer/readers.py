"""What an answer says: the readers of `Response` (`.text`, `.usage`, `.parsed`, `.images`, `.steps` ...).

`AnswerReaders` is a mixin of `Response` (response.py), which merges chunks and closes the answer;
these properties only read what it merged (`_candidates`, `_usage`, ...), calling `_sync()` first
where chunks may still be pending. Pure: files are written by media_out.py.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Iterable

from ..errors import GeminiError, PromptBlockedError
from .candidate import Candidate, short


class AnswerReaders:
    """The reading half of `Response`: every public property that reads the merged answer."""

    @property
    def candidates(self) -> list[Candidate]:
        self._sync()
        return [self._candidates[i] for i in sorted(self._candidates)]

    @property
    def candidate(self) -> Candidate | None:
        """The first candidate (the one `.text` shows), or None when there is none."""
        self._sync()
        return self._candidates[self._first_index] if self._candidates else None

    def _first(self, name: str, default: Any) -> Any:
        candidate = self.candidate
        return getattr(candidate, name) if candidate else default

    @property
    def text(self) -> str:
        """The answer text, thoughts excluded; "" when there is none."""
        if len(self._pending) == 1 and not self._candidates:
            return _single_chunk_text(self._pending[0])  # a one-chunk response read once: no merge
        candidate = self.candidate
        return candidate._answer if candidate is not None else ""

    @property
    def thoughts(self) -> str:
        """Thought summaries, joined; "" when there are none."""
        candidate = self.candidate
        return candidate._thoughts if candidate is not None else ""

    parts = property(lambda self: self._first("parts", []), doc="The first candidate's merged parts.")
    finish_reason = property(lambda self: self._first("finish_reason", None))
    finish_message = property(lambda self: self._first("finish_message", None))
    safety_ratings = property(lambda self: self._first("safety_ratings", []))
    citation_sources = property(lambda self: self._first("citations", []),
                                doc="citationSources as sent; startIndex/endIndex are UTF-8 byte offsets.")
    grounding_metadata = property(lambda self: self._first("grounding_metadata", None))
    url_context_metadata = property(lambda self: self._first("url_context_metadata", None))
    @property
    def function_calls(self) -> list[dict]:
        """The functionCall dicts ({name, args, id?}) the model made: of this answer, or when an automatic
        calling loop ran (`tools=` with kernel functions), of every model turn of the exchange, in order.
        The calls no function response answered yet are `.pending_calls`."""
        if self._steps is not None:
            return [part["functionCall"] for step in self._steps if step["kind"] == "model"
                    for part in step["content"]["parts"] if "functionCall" in part]
        return self._first("function_calls", [])

    @property
    def pending_calls(self) -> list[dict]:
        """The calls of this (last) model turn that were not run or answered: the loop stopped at its
        call limit or at a function it was not given, or `tool_mode="manual"`; [] after an answer."""
        return self._first("function_calls", [])

    @property
    def usage(self) -> dict:
        """Token counts (usageMetadata). When an automatic calling loop ran, the sum over every request
        of the exchange, field by field (each request is billed); else the last usageMetadata received
        (a running total while streaming). This request's own counts alone: `.request_usage`."""
        if self._steps is not None:
            model_steps = [step["response"] for step in self._steps
                           if step["kind"] == "model" and step["response"] is not None]
            if len(model_steps) > 1:
                return sum_usage(response.request_usage for response in model_steps)
        return self.request_usage

    @property
    def usage_metadata(self) -> dict:
        """`.usage` (generateContent's names), the name the views read on a Response and an Interaction."""
        return self.usage

    @property
    def request_usage(self) -> dict:
        """The last usageMetadata received for this one request (a running total while streaming)."""
        self._sync()
        return dict(self._usage)

    def code(self, language: str = "python", *, last: bool = False) -> str | None:
        """The answer's code for a notebook cell: its fenced blocks in `language` (or untagged), joined by
        a blank line (code_blocks.cell_code), or only the last one with `last=True`; None when it has none."""
        from ..code_blocks import cell_code

        return cell_code(self.text, language, last=last)

    @property
    def cost(self):
        """The estimated cost in US dollars (a `pricing.Cost`: `.total`, `.items`, `.date`; `str()` gives
        "$0.0028") from `.usage` and the model's dated prices (pricing.py, with `prices` over them); None
        when the model is not in the table (tokens only, no guessed price) or no usage arrived."""
        from ..pricing import estimate

        usage = self.usage
        for name in dict.fromkeys((self.model, self.model_version)):
            cost = estimate(usage, name, prices=self.prices, batch=self.batch)
            if cost is not None:
                return cost
        return None

    @property
    def request_count(self) -> int:
        """How many generateContent requests made this answer: 1, or the model turns of a tool exchange."""
        if self._steps is None:
            return 1
        return max(1, sum(1 for step in self._steps if step["kind"] == "model"))

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
        return not self.chunk_count or self.finish_reason is None

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

    @property
    def parsed(self) -> Any:
        """The answer as instances of the type asked for with `schema=` / `--schema` (nested dataclasses
        and models built, enums as members). Raises SchemaMismatchError naming the first problem (a JSON
        path and the expected type) when the answer is not valid JSON or does not fit; GeminiError when
        no schema was asked for (then use `.json()`)."""
        if self.answer_type is None:
            raise GeminiError("No schema was asked for: pass schema=TYPE (or --schema TYPE) to get typed "
                              "answers, or read JSON with .json().")
        if self._parse_error is None and self._parsed_value is None:
            try:
                self._parsed_value = self.answer_type.parse(self.text, self.finish_reason)
            except GeminiError as error:
                self._parse_error = error
        if self._parse_error is not None:
            raise self._parse_error
        return self._parsed_value

    def to_pandas(self):
        """`.parsed` as a pandas DataFrame: a list of records one row each (columns in schema order,
        index from 0), one record as a one-row frame. Needs pandas; raises what `.parsed` raises."""
        columns, rows = self.answer_type.records(self.parsed) if self.answer_type is not None else ([], [])
        try:
            import pandas
        except ImportError:
            raise GeminiError("to_pandas() needs pandas (pip install pandas); .parsed gives the same values "
                              "as Python objects.") from None
        return pandas.DataFrame(rows, columns=columns)

    def to_content(self) -> dict:
        """The first candidate as a Content for the next turn's history."""
        candidate = self.candidate
        return candidate.to_content() if candidate else {"role": "model", "parts": []}

    def __repr__(self) -> str:
        state = "interrupted" if self.interrupted else "incomplete" if self.incomplete else self.finish_reason
        if self.block_reason:
            state = f"blocked: {self.block_reason}"
        return f"<Response {self.model_version or self.model or ''} {state} text={short(self.text)!r}>"

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
        from .media_out import save_audio

        data = self.audio
        if data is None:
            raise GeminiError("The answer has no audio to save: ask a TTS model (such as "
                              "gemini-2.5-flash-preview-tts) for speech.")
        return save_audio(data, path)

    # -- tools and citations (issue 13; api/tools.py, citations.py) ------------------------------
    tool_note: str | None = None  # why an automatic calling loop stopped before an answer, else None
    _steps: list | None = None
    _history_contents: list | None = None

    @property
    def steps(self) -> list[dict]:
        """The exchange that led to this answer, in order: `{"kind": "model" | "tool", "content": Content,
        "response": Response | None, "calls": [{"name", "args", "id", "result" | "error", "seconds"}]}`.
        Without automatic calling, one model step: this answer."""
        if self._steps is not None:
            return list(self._steps)
        return [{"kind": "model", "content": self.to_content(), "response": self, "calls": []}]

    @property
    def calling_steps(self) -> list[dict] | None:
        """The steps of the automatic function calling loop that ended in this answer (the shape of
        `.steps`, the last one this answer), or None when no loop ran (`.steps` is then this answer alone)."""
        return None if self._steps is None else list(self._steps)

    @property
    def history_contents(self) -> list[dict]:
        """Every Content the exchange added after the user's turn (model call turns, function response
        turns, the final model turn): what a conversation commits. Without calls, `[to_content()]`."""
        if self._history_contents is not None:
            return list(self._history_contents)
        return [self.to_content()]

    @property
    def citations(self) -> list[tuple[int, int, list[dict]]]:
        """`[(start, end, sources)]` over `.text` in characters (groundingSupports and citationMetadata
        place them by UTF-8 byte offsets; see citations.py), each source `{"uri", "title"}`; sorted by
        start. The citationMetadata sources as sent are `.citation_sources`."""
        from .citations import citation_spans

        return citation_spans(self.text, self.grounding_metadata, self.citation_sources)


def sum_usage(usages: Iterable[dict]) -> dict:
    """usageMetadata dicts summed field by field: whole numbers added, per-modality lists
    (`promptTokensDetails: [{"modality", "tokenCount"}]`) added by modality; other values: the last."""
    totals: dict = {}
    for usage in usages:
        for key, value in usage.items():
            if isinstance(value, int) and not isinstance(value, bool):
                previous = totals.get(key, 0)
                totals[key] = (previous if isinstance(previous, int) else 0) + value
            elif isinstance(value, list) and all(isinstance(item, dict) and "modality" in item for item in value):
                by_modality = {item["modality"]: dict(item) for item in totals.get(key) or ()}
                for item in value:
                    known = by_modality.setdefault(item["modality"], {"modality": item["modality"], "tokenCount": 0})
                    known["tokenCount"] = int(known.get("tokenCount") or 0) + int(item.get("tokenCount") or 0)
                totals[key] = list(by_modality.values())
            else:
                totals[key] = value
    return totals


def _single_chunk_text(chunk: dict, thought: bool = False) -> str:
    """What `.text` (or `.thoughts`) gives for a response of this one chunk (merging joins text, so the join
    is the same)."""
    candidates = chunk.get("candidates")
    if not candidates:
        return ""
    first = candidates[0]
    if len(candidates) > 1:
        first = min(enumerate(candidates), key=lambda item: item[1].get("index", item[0]))[1]
    parts = (first.get("content") or {}).get("parts")
    if not parts:
        return ""
    if len(parts) == 1:  # the usual streamed chunk: one part (this runs once per chunk)
        part = parts[0]
        if "text" in part and bool(part.get("thought")) == thought:
            return part["text"]
        return ""
    return "".join(p["text"] for p in parts if "text" in p and bool(p.get("thought")) == thought)


def json_from_text(text: str) -> Any:
    """Parse JSON that a model may have wrapped in a ```json fence; raises ValueError."""
    body = text.strip()
    if body.startswith("```"):  # models sometimes fence JSON even when asked for raw JSON
        body = body.strip("`").strip()
        body = body[4:] if body.startswith("json") else body
    return json.loads(body)
