"""`ClosedOnce`: the one commit point that every answer model shares (`Response`, `Interaction`).

The stream that fills an answer calls `close(...)` once, when it is complete, failed or was
interrupted; after that nothing can be added, and closing again raises GeminiError.
"""

from __future__ import annotations

from ..errors import GeminiError


class ClosedOnce:
    """`close` and the fields it sets; `_kind` names the answer in the error ("response", ...)."""

    _kind = "answer"
    interrupted = False
    error: BaseException | None = None
    elapsed: float | None = None
    time_to_first_chunk: float | None = None
    closed = False

    def close(self, *, error: BaseException | None = None, interrupted: bool = False,
              elapsed: float | None = None, first_chunk: float | None = None) -> None:
        """The one commit point of an answer: it is complete, failed (`error`) or was interrupted.
        Sets those fields, the timings (seconds: `elapsed` in all, `first_chunk` until the first chunk
        or event, kept when already set) and `closed`; adding to the answer afterwards raises
        GeminiError, and so does closing twice. A unary answer is closed at once by its client."""
        if self.closed:
            raise GeminiError(f"This {self._kind} is already closed; a stream closes its {self._kind} once.")
        if error is not None:
            self.error = error
        if interrupted:
            self.interrupted = True
        if elapsed is not None:
            self.elapsed = elapsed
        if first_chunk is not None and self.time_to_first_chunk is None:
            self.time_to_first_chunk = first_chunk
        self.closed = True
