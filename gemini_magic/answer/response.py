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

import json
from array import array
from typing import Any, Iterable

from ..errors import GeminiError
from .candidate import Candidate, short
from .closing import ClosedOnce
from .readers import AnswerReaders, _single_chunk_text


class Response(ClosedOnce, AnswerReaders):
    """The model's answer: `.text`, `.thoughts`, `.parts`, `.usage`, `.finish_reason`, `.raw` ...

    Attributes that describe how the answer arrived: `streamed`, `incomplete` (a stream ended without
    a finish reason, or failed, or was interrupted), `interrupted` (the user stopped it), `error` (the
    exception that ended the stream, if any), `elapsed` (seconds), `request` (the request body, key
    never included), `model` (the model asked for), `closed` (the stream that filled it has ended:
    see `close`).
    """

    _kind = "response"
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
        return f"<Chunk text={short(self.text)!r}>"
