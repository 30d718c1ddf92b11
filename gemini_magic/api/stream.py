"""`ResponseStream`: one streamed answer, from the request to the closed `Response`.

The stream owns its state: the prepared request it sends, the connection, and the `Response` it fills
by merging each chunk. It is retried only before any data arrived (the wire's one retry policy), and
the Response is closed at one commit point — complete, error or interrupted — which is what
conversation history and row results read.
"""

from __future__ import annotations

import json
import time
from typing import Any, Iterator

from ..errors import APIConnectionError, APITimeoutError, GeminiError
from ..request.body import model_path
from ..request.pipeline import PreparedTurn
from ..answer.response import Chunk, Response
from ..units import plural
from ..wire.transport import Transport, map_request_exception


class StreamBase:
    """What every stream of the client offers besides iteration: `.response` (the answer so far; each
    subclass says what it is), `.text`, `until_done()`, `close()` and use in a `with` block."""

    response: Any = None

    def close(self) -> None:
        """Close the connection (the answer so far stays in `.response`)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def until_done(self):
        """Consume the stream and return the whole answer."""
        for _ in self:
            pass
        return self.response

    @property
    def text(self) -> str:
        return self.response.text

    def _received(self, whole: str) -> Iterator:
        """Iterate `self._receive(started)` once, through the wire's one retry policy, and close
        `self.response` at its one commit point: complete, failed (the error carries the answer in
        `error.response`) or interrupted. `whole` names the attribute to use after a second iteration."""
        if self._started:
            raise GeminiError(f"A stream can be iterated once; use .{whole} for the whole answer.")
        self._started = True
        started = time.monotonic()
        answer = self.response
        try:
            # Retried only while nothing has arrived: a retry after the first chunk would send the
            # user a second, different answer.
            for attempt in self._transport.attempts(retry=lambda error: not answer.chunk_count):
                with attempt:
                    try:
                        yield from self._receive(started)
                    finally:
                        self.close()
        except KeyboardInterrupt:
            answer.close(interrupted=True, elapsed=time.monotonic() - started, first_chunk=self._first)
            raise
        except GeminiError as error:
            error.response = answer
            answer.close(error=error, elapsed=time.monotonic() - started, first_chunk=self._first)
            raise
        answer.close(elapsed=time.monotonic() - started, first_chunk=self._first)


class ResponseStream(StreamBase):
    """A streamed answer. Iterate for one `Chunk` per chunk (`.text`: that chunk's text); `.response` is
    the whole answer so far, closed (response.close) when the stream ends, fails or is interrupted.

    The connection opens on first iteration and closes when the stream ends, fails, is closed or
    the kernel is interrupted. Any error raised carries the partial answer in `error.response`, and
    `.response` keeps it too (`incomplete` True, `interrupted` True after Ctrl-C / kernel interrupt).
    `.turn` is the prepared request (`.turn.body`, `.turn.notes`).
    """

    def __init__(self, transport: Transport, turn: PreparedTurn, *, prices: Any = None) -> None:
        self._transport = transport
        self.turn = turn
        self.model = turn.model
        self.response = Response(streamed=True, model=turn.model, request=turn.body, answer_type=turn.answer_type,
                                 prices=prices)
        self._http = None
        self._started = False
        self._first: float | None = None  # seconds to the first chunk, given to the Response at close

    def __iter__(self) -> Iterator[Chunk]:
        return self._received("response")

    def _receive(self, started: float) -> Iterator[Chunk]:
        import requests

        self._http = http = self._transport.send(
            "POST", f"{model_path(self.model)}:streamGenerateContent", json=self.turn.body,
            params={"alt": "sse"}, stream=True, retry=False)  # retried by __iter__, before any data only
        content_type = http.headers.get("Content-Type", "")
        decoder = self._transport.stream_decoder(content_type)  # scrubs the key from every event
        response = self.response
        decode, add = self._transport.decode_event, response.add_received
        try:
            for piece in http.iter_content(chunk_size=None if http.raw.chunked else 1024):
                for event in decoder.feed(piece):
                    # The hot loop, once per event: the usual event is one JSON object, one chunk.
                    data = event.data
                    chunks = decode(data)
                    if len(chunks) != 1 or data[:1] != b"{":
                        pairs = self._chunks(data, chunks)
                    elif self._first is not None:
                        add(chunks[0], data)
                        yield Chunk(chunks[0], response)
                        continue
                    else:
                        pairs = ((chunks[0], data),)
                    for chunk, data in pairs:
                        if self._first is None:
                            self._first = time.monotonic() - started
                        add(chunk, data)
                        yield Chunk(chunk, response)
            for event in decoder.close():
                for chunk, data in self._chunks(event.data, decode(event.data)):
                    response.add_received(chunk, data)
                    yield Chunk(chunk, response)
        except requests.RequestException as exc:
            received = response.chunk_count
            raise broken_stream_error(self._transport, exc, plural(received, "chunk"), "the answer",
                                      kept=bool(received)) from None

    @staticmethod
    def _chunks(data: bytes, chunks: list) -> list:
        """(chunk, its JSON bytes) for each answer chunk decoded from an event's data. Only Google's error
        object is an API error; a JSON array sent under an SSE content type is an answer
        (wire.decode.decode_event)."""
        if len(chunks) == 1 and (data[:1] == b"{" or data.lstrip()[:1] == b"{"):
            return [(chunks[0], data)]
        return [(chunk, json.dumps(chunk, ensure_ascii=False).encode("utf-8")) for chunk in chunks]

    def close(self) -> None:
        """Close the connection (the answer so far stays in `.response`)."""
        if self._http is not None:
            self._http.close()
            self._http = None



def broken_stream_error(transport: Transport, exc: BaseException, received: str, what: str, *,
                        kept: bool) -> GeminiError:
    """The error for a stream whose body broke off after `received` ("3 chunks") of `what` ("the
    answer"): an APITimeoutError, not retried, when the read timed out (it already cost the whole
    timeout), else an APIConnectionError; the key redacted. `kept`: whether a partial answer stays."""
    tail = "; the partial answer is kept" if kept else ""
    if isinstance(map_request_exception(exc, "The stream failed"), APITimeoutError):
        error = APITimeoutError(f"No data from {transport.base_url} for {transport.timeout[1]:g} s after {received} "
                                f"of {what}{tail}.")
        error.retryable = False
        return error
    return APIConnectionError(transport.redact(
        f"The connection dropped after {received} of {what} ({exc.__class__.__name__}){tail}."))
