"""The progress of many rows (`%%gemini --over`, `Client.map`, embeddings) and of a batch job.

    progress = RowProgress("Classifying reviews")
    answers = client.map(template, reviews, model=..., progress=progress)   # progress(done, total, errors, tokens)
    progress.finish()                                                        # the final line stays

A small HTML display updated in place in a notebook kernel (`display(..., display_id=True)` then
`update`, no ipywidgets, so a saved notebook keeps it), a self-rewriting line in a terminal, and
only the final line where neither can show ("plain"). Updates are throttled to `interval` seconds;
the last report always shows. `finish()` leaves the final state as plain display data (text/plain
and text/html).
"""

from __future__ import annotations

import html
import math
import sys
import time

from ..units import plural
from .live import default_display, detect_mode

_BAR_WIDTH = 24


def _duration(seconds: float, took: bool = False) -> str:
    """ "42 s", "3 min 5 s", "1 h 2 min" (rounded up: never "0 s" while work is left); `took`: a time
    already spent, to a tenth of a second below 10 s ("0.3 s")."""
    if took and seconds < 10:
        return f"{max(0.0, seconds):.1f} s"
    seconds = max(0, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class RowProgress:
    """Call it as `progress(done, total, errors=0, tokens=0)`; `finish(text=None)` leaves the final line.

    `label`: what is being done ("rows", "Embedding"). `mode`: "html", "terminal" or "plain"
    (default: "html" in a notebook kernel, else "terminal"). `interval`: seconds between redraws.
    """

    def __init__(self, label: str = "Rows", mode: str | None = None, interval: float = 0.25, unit: str = "row") -> None:
        self.label, self.unit = label, unit
        self.mode = mode or ("html" if detect_mode() == "widget" else "terminal")
        self.interval = interval
        self.started = time.monotonic()
        self.state = (0, 0, 0, 0)
        self._first_done: int | None = None  # rows answered from the cache count for nothing in the rate
        self._last = 0.0
        self._handle = None
        self._drawn = False
        self._stopped = False  # finish(state=...): an interrupted run, no time left to tell

    def __call__(self, done: int, total: int, errors: int = 0, tokens: int = 0) -> None:
        now = time.monotonic()
        if self._first_done is None:
            self._first_done, self.started = done, now
        self.state = (done, total, errors, tokens)
        if done < total and self._drawn and now - self._last < self.interval:
            return
        self._last, self._drawn = now, True
        self._draw(self.line(now - self.started), done, total, final=False)

    def line(self, elapsed: float) -> str:
        """The status: "12 of 40 rows · 3.1 rows/s · 9 s left · 1 error · 2,345 tokens"."""
        done, total, errors, tokens = self.state
        parts = [f"{done:,} of {plural(total, self.unit)}"]
        fresh = done - (self._first_done or 0)
        rate = fresh / elapsed if elapsed > 0 else 0.0
        if done < total and self._stopped:
            parts.append("interrupted")
        elif done < total:
            if fresh > 0 and rate > 0:
                parts.append(f"{rate:.1f} {self.unit}s/s")
                parts.append(f"{_duration((total - done) / rate)} left")
            else:
                parts.append("estimating…")
        else:
            parts.append(_duration(elapsed, took=True))
        if errors:
            parts.append(plural(errors, "error"))
        if tokens:
            parts.append(f"{tokens:,} tokens")
        return " · ".join(parts)

    def _draw(self, text: str, done: int, total: int, final: bool) -> None:
        if self.mode == "html":
            bundle = self._bundle(text, done, total)
            if self._handle is None:
                self._handle = default_display()(bundle, raw=True, display_id=True)
                if self._handle is None:  # no display to update in place: only the final line shows
                    self.mode = "plain"
            else:
                self._handle.update(bundle, raw=True)
        elif self.mode == "terminal" and not final:
            sys.stdout.write("\r" + f"{self.label}: {text}".ljust(78))
            sys.stdout.flush()

    def _bundle(self, text: str, done: int, total: int) -> dict:
        fraction = done / total if total else 1.0
        filled = round(fraction * _BAR_WIDTH)
        plain = f"{self.label}: [{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {text}"
        bar = (f'<div style="display:inline-block;width:14em;height:0.8em;background:#e0e0e0;border-radius:3px;'
               f'vertical-align:middle"><div style="width:{100 * fraction:.1f}%;height:100%;background:#4285f4;'
               f'border-radius:3px"></div></div>')
        markup = (f'<div class="gemini-row-progress"><b>{html.escape(self.label)}</b> {bar} '
                  f'<span>{html.escape(text)}</span></div>')
        return {"text/plain": plain, "text/html": markup}

    def finish(self, text: str | None = None, state: tuple | None = None) -> str:
        """Show the final state (or `text`) as plain display data in place of the bar; returns it.
        `state`: (done, total, errors, tokens) of an interrupted run (the rows that landed after the
        interrupt count), so the final line says what the message says, and "interrupted" in place of
        the time left."""
        if state is not None:
            self.state = tuple(state)
            self._stopped = True
        line = text or f"{self.label}: {self.line(time.monotonic() - self.started)}"
        if self.mode == "html" and self._handle is not None:
            self._handle.update({"text/plain": line, "text/html": f"<div>{html.escape(line)}</div>"}, raw=True)
            return line
        if self.mode == "terminal" and self._drawn:
            sys.stdout.write("\r" + " " * 78 + "\r")
            sys.stdout.flush()
        default_display()({"text/plain": line}, raw=True)
        return line


    def discard(self) -> None:
        """Take the bar away without a final line (nothing was done: an error said why)."""
        if self.mode == "html" and self._handle is not None:
            self._handle.update({"text/plain": ""}, raw=True)
        elif self.mode == "terminal" and self._drawn:
            sys.stdout.write("\r" + " " * 78 + "\r")
            sys.stdout.flush()


class BatchProgress(RowProgress):
    """Call it as `progress(job)` with a BatchJob: its state and counts, redrawn at every poll."""

    def __init__(self, label: str = "Batch", mode: str | None = None) -> None:
        super().__init__(label, mode, interval=0.0, unit="request")
        self.job_state = ""

    def __call__(self, job) -> None:  # type: ignore[override]
        counts = job.counts
        self.job_state = job.state
        done = counts["succeeded"] + counts["failed"]
        self.state = (done, counts["requests"], counts["failed"], 0)
        self._drawn = True
        self._draw(self.line(time.monotonic() - self.started), done, counts["requests"], final=False)

    def line(self, elapsed: float) -> str:
        done, total, failed, _ = self.state
        parts = [self.job_state or "PENDING", f"{done:,} of {plural(total, 'request')} done"]
        if failed:
            parts.append(f"{failed:,} failed")
        finished = self.job_state in ("SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED")
        parts.append(_duration(elapsed, took=True) if finished else f"{_duration(elapsed, took=True)} so far")
        return " · ".join(parts)
