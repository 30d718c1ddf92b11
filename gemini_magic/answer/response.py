"""`Response`: one answer of the model, whether it arrived in one piece or as a stream of chunks.

Pure: no I/O (files are written by media_out.py, which `save_images`/`save_audio` call). Chunks are kept exactly as received (`.raw`). A streamed answer keeps the JSON bytes of
its chunks back to back in one growing buffer, with one end offset per chunk, and merges each chunk
at once; `.raw` parses them when it is first read. Bytes are not tracked by Python's garbage
collector and one buffer costs no object per chunk, so a 1M-chunk stream stays light and does not
slow down as it grows.

Reading the answer so far costs O(new text), not O(all text): each candidate keeps its answer text
and its thoughts as running strings, extended in place as pieces arrive (CPython extends a str in
place when nothing else refers to it). A caller that keeps every version of `.text` gets a copy per
version instead, as with any immutable string. Citation sources are looked up by hash (then
compared with ==), not by a scan of the list so far.

Merging rules (what the service sends, see ../shared/recordings):
- consecutive text parts of the same kind (answer or thought) are joined into one part; a part that
  carries a `thoughtSignature` starts a new part and keeps its signature unchanged, since the service
  needs it back as it was sent;
- every other part (functionCall, inlineData, executableCode, codeExecutionResult, fileData, ...) is
  kept in order, unchanged;
- `usageMetadata` is a running total: the LAST one wins (counts can go down between chunks);
- citation sources are kept in order of arrival, each once;
- a streamed answer that ended with no finishReason was cut short: `incomplete` is True.

One commit point: the stream that fills a `Response` calls `close(...)` once, when the answer is
complete, failed or interrupted; after that no chunk can be added. History reads closed answers only.

    >>> r = Response([{"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]},
    ...               {"candidates": [{"content": {"parts": [{"text": "lo"}]}, "finishReason": "STOP"}]}])
    >>> r.text, r.finish_reason, r.incomplete
    ('Hello', 'STOP', False)
"""

from __future__ import annotations

import base64
import json
from array import array
from typing import Any, Iterable

from ..errors import GeminiError, PromptBlockedError

_TEXT_KEYS = {"text", "thought", "thoughtSignature"}


class Candidate:
    """One candidate answer (`-n 2` asks for several); `Response` shows the first."""

    # Defaults live on the class so that creating a candidate stays cheap.
    role = "model"
    finish_reason: str | None = None
    finish_message: str | None = None
    grounding_metadata: dict | None = None
    url_context_metadata: dict | None = None
    avg_logprobs: float | None = None
    logprobs_result: dict | None = None
    _open_start: int | None = None  # where the open (last, still growing) text part starts in its buffer
    _open_thought = False  # whether that open text part is a thought

    def __init__(self, index: int) -> None:
        self.index = index
        self.safety_ratings: list[dict] = []
        self.citations: list[dict] = []
        self._citation_index: dict = {}  # hash of a source -> its position in citations (a list on collision)
        # Part dicts in order. The open text part's "text" is stale: its text is the tail of
        # _answer or _thoughts from _open_start, filled in when the part is sealed or copied out.
        self._parts: list[dict] = []
        self._answer = ""  # every answer text piece so far, joined (extended in place)
        self._thoughts = ""  # every thought text piece so far, joined

    def _absorb(self, data: dict) -> None:
        # One pass over the keys that are there: this runs once per streamed chunk.
        for key, value in data.items():
            if key == "content":
                self.role = value.get("role", self.role)
                for part in value.get("parts") or ():
                    if len(part) == 1 and self._open_start is not None and not self._open_thought and "text" in part:
                        # The usual streamed piece, continuing the answer: extended in place, as in _extend.
                        text, self._answer = self._answer, ""
                        text += part["text"]
                        self._answer = text
                    else:
                        self._add_part(part)
            elif key == "index":
                continue
            elif key == "finishReason":
                self.finish_reason = value or self.finish_reason
            elif key == "finishMessage":
                self.finish_message = value
            elif key == "safetyRatings":
                self.safety_ratings = list(value)
            elif key == "citationMetadata":
                self._add_citations((value or {}).get("citationSources") or ())
            elif key == "groundingMetadata":
                if value or self.grounding_metadata is None:  # the first chunk may carry an empty {}
                    self.grounding_metadata = value
            elif key == "urlContextMetadata":
                self.url_context_metadata = value
            elif key == "avgLogprobs":
                self.avg_logprobs = value
            elif key == "logprobsResult":
                self.logprobs_result = value

    def _add_citations(self, sources) -> None:
        # Equal (==) sources are kept once, as a list-membership test would, but found by hash.
        index, citations = self._citation_index, self.citations
        for source in sources:
            key = _citation_hash(source)
            found = index.get(key)
            if found is None:
                index[key] = len(citations)
            elif isinstance(found, int):
                if citations[found] == source:
                    continue
                index[key] = [found, len(citations)]
            elif any(citations[i] == source for i in found):
                continue
            else:
                found.append(len(citations))
            citations.append(source)

    def _add_part(self, part: dict) -> None:
        if "text" not in part:
            self._seal()
            self._parts.append(dict(part))
            return
        if len(part) == 1 and self._open_start is not None and not self._open_thought:
            # The usual streamed piece, continuing the answer: extended in place, as in _extend.
            text, self._answer = self._answer, ""
            text += part["text"]
            self._answer = text
            return
        thought = bool(part.get("thought"))
        mergeable = len(part) == 1 or part.keys() <= _TEXT_KEYS
        if (mergeable and self._open_start is not None and thought == self._open_thought
                and "thoughtSignature" not in part):
            self._extend(part["text"], thought)
            return
        self._seal()
        self._parts.append(dict(part))
        if mergeable:
            self._open_start = len(self._thoughts if thought else self._answer)
            self._open_thought = thought
        self._extend(part["text"], thought)

    def _extend(self, piece: str, thought: bool) -> None:
        # The attribute is cleared first so that the local is the only reference and `+=` can
        # resize the string in place (CPython), which keeps reading the text so far O(new text).
        if thought:
            text, self._thoughts = self._thoughts, ""
            text += piece
            self._thoughts = text
        else:
            text, self._answer = self._answer, ""
            text += piece
            self._answer = text

    def _open_text(self) -> str:
        return (self._thoughts if self._open_thought else self._answer)[self._open_start:]

    def _seal(self) -> None:
        if self._open_start is not None:
            self._parts[-1]["text"] = self._open_text()
            self._open_start = None

    @property
    def parts(self) -> list[dict]:
        """The merged parts, in order (copies: changing them does not change the response)."""
        parts = [dict(p) for p in self._parts]
        if self._open_start is not None:
            parts[-1]["text"] = self._open_text()
        return parts

    @property
    def text(self) -> str:
        """The answer text, thoughts excluded; "" when there is none."""
        return self._answer

    @property
    def thoughts(self) -> str:
        """Thought summaries (asked for with includeThoughts), joined; "" when there are none."""
        return self._thoughts

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
    exception that ended the stream, if any), `elapsed` (seconds), `request` (the request body, key
    never included), `model` (the model asked for), `closed` (the stream that filled it has ended:
    see `close`).
    """

    interrupted = False
    error: BaseException | None = None
    elapsed: float | None = None
    time_to_first_chunk: float | None = None
    closed = False
    answer_type: Any = None  # what was asked for with schema= (request/answer_type.py), else None
    _parsed_value: Any = None
    _parse_error: BaseException | None = None
    _usage: dict = {}
    _prompt_feedback: dict | None = None
    _model_version: str | None = None
    _response_id: str | None = None
    _first_index: int | None = None  # the lowest candidate index seen
    prices: Any = None  # price overrides for `.cost` (a Client's `prices`); None: the table of pricing.py
    batch = False  # answered through the Batch API (billed at its discount)

    def __init__(self, chunks: Iterable[dict] = (), *, streamed: bool = False, model: str | None = None,
                 request: dict | None = None, answer_type: Any = None, prices: Any = None,
                 batch: bool = False) -> None:
        self._dicts: list[dict] = list(chunks)  # chunks given as dicts (the constructor, `add`)
        self._pending: list[dict] = list(self._dicts)  # chunks added but not merged yet
        # Made by the first add_received (a unary answer needs neither): the JSON bytes of received
        # chunks back to back, and one entry per chunk in order: the end offset of its bytes in
        # _buffer (>= 0), or ~i for _dicts[i]. While _order is None, the chunks are _dicts in order.
        self._buffer: bytearray | None = None
        self._order: array | None = None
        self._parsed: list[dict] = []  # .raw parsed so far (the first len(_parsed) chunks)
        self._parsed_to = 0  # where the next unparsed chunk's bytes start in _buffer
        self._candidates: dict[int, Candidate] = {}
        self.streamed = streamed
        self.model = model
        if answer_type is not None:
            self.answer_type = answer_type
        self.request = request
        if prices:
            self.prices = prices
        if batch:
            self.batch = True

    def add(self, chunk: dict) -> None:
        """Add one chunk as received (merged when a property is next read); GeminiError once closed."""
        self._check_open()
        if self._order is not None:
            self._order.append(~len(self._dicts))
        self._dicts.append(chunk)
        self._pending.append(chunk)

    def add_received(self, chunk: dict, data: bytes) -> None:
        """Add a streamed chunk and the JSON bytes it was parsed from (UTF-8): merged now, kept as bytes.

        Raises GeminiError once the response is closed."""
        if self.closed:
            self._check_open()
        if self._pending:
            self._sync()
        buffer = self._buffer
        if buffer is None:
            buffer = self._buffer = bytearray()
            self._order = array("q", [~i for i in range(len(self._dicts))])
        buffer += data
        self._order.append(len(buffer))
        self._merge(chunk)

    def close(self, *, error: BaseException | None = None, interrupted: bool = False,
              elapsed: float | None = None, first_chunk: float | None = None) -> None:
        """The one commit point of an answer: it is complete, failed (`error`) or was interrupted.
        Sets those fields, the timings (seconds: `elapsed` in all, `first_chunk` until the first chunk,
        kept when already set) and `closed`; adding chunks afterwards raises GeminiError, and so does
        closing twice. A unary answer is closed at once by the client that received it."""
        if self.closed:
            raise GeminiError("This response is already closed; a stream closes its response once.")
        if error is not None:
            self.error = error
        if interrupted:
            self.interrupted = True
        if elapsed is not None:
            self.elapsed = elapsed
        if first_chunk is not None and self.time_to_first_chunk is None:
            self.time_to_first_chunk = first_chunk
        self.closed = True

    def set_exchange(self, steps: list[dict], history_contents: list[dict], note: str | None) -> None:
        """Record the automatic calling exchange that ended in this answer (`steps`, the Contents it
        added after the user's turn, why it stopped early if it did): the tool loop hands it over here."""
        self._steps = list(steps)
        self._history_contents = list(history_contents)
        self.tool_note = note

    def _check_open(self) -> None:
        if self.closed:
            raise GeminiError("This response is closed: its stream has ended, so no chunk can be added.")

    @property
    def raw(self) -> list[dict]:
        """The chunks as received (one dict for a unary answer)."""
        parsed, order = self._parsed, self._order
        if order is None:
            return list(self._dicts)
        if len(parsed) < len(order):
            buffer, start = self._buffer, self._parsed_to
            for entry in order[len(parsed):]:
                if entry < 0:
                    parsed.append(self._dicts[~entry])
                else:
                    parsed.append(json.loads(buffer[start:entry]))
                    start = entry
            self._parsed_to = start
        return list(parsed)

    @property
    def chunk_count(self) -> int:
        return len(self._dicts) if self._order is None else len(self._order)

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
                        if self._first_index is None or index < self._first_index:
                            self._first_index = index
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

    def code(self, language: str = "python") -> str | None:
        """The answer's code for a notebook cell: its fenced blocks in `language` (or untagged), joined by
        a blank line (code_blocks.cell_code); None when it has none."""
        from ..code_blocks import cell_code

        return cell_code(self.text, language)

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

class Chunk:
    """One streamed chunk, as a stream yields it: `.text` (this chunk's answer text), `.thoughts`,
    `.raw` (the chunk dict as received) and `.response` (the whole answer so far, or None).

    Cheap: built from the chunk dict with no merging. Any other attribute of a one-chunk answer
    (`.parts`, `.usage`, `.finish_reason`, `.function_calls`, ...) is read from a `Response` of this
    chunk alone, built on first use.

        Chunk(chunk_dict, response)
    """

    __slots__ = ("raw", "response", "_alone")

    def __init__(self, raw: dict, response: Response | None = None) -> None:
        self.raw = raw
        self.response = response
        self._alone: Response | None = None

    @property
    def text(self) -> str:
        """This chunk's answer text (its first candidate's text parts, thoughts excluded)."""
        return _single_chunk_text(self.raw)

    @property
    def thoughts(self) -> str:
        """This chunk's thought text (its first candidate's thought parts)."""
        return _single_chunk_text(self.raw, thought=True)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._alone is None:
            self._alone = Response((self.raw,), streamed=True,
                                   model=self.response.model if self.response is not None else None)
        return getattr(self._alone, name)

    def __repr__(self) -> str:
        return f"<Chunk text={_short(self.text)!r}>"


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


def _citation_hash(source: dict) -> int:
    """A hash equal for equal (==) citation sources, whatever their key order."""
    try:
        return hash(frozenset(source.items()))
    except TypeError:  # a nested value (publicationDate is a dict)
        return hash(json.dumps(source, sort_keys=True, default=repr))


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


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
