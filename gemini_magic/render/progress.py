"""The upload progress bar: "checking for an earlier upload…", then bytes, rate and time left, then
"processing…" until the file is ACTIVE.

An ipywidgets bar in a notebook kernel, a self-rewriting line in a terminal, one final line where
neither can show (plain). Like the answer view, the widget is replaced in place by a plain text line
when the upload ends, so a saved notebook shows the outcome without widget state.
"""

from __future__ import annotations

import math
import sys
import time

from ..escape import html_text
from ..units import human_size
from .live import detect_mode


class UploadProgress:
    """Call it as `progress(sent_bytes, total_bytes, phase)`; `finish(text)` leaves the final line."""

    def __init__(self, label: str, mode: str | None = None, interval: float = 0.1) -> None:
        self.label = label
        self.mode = mode or detect_mode()
        self.interval = interval
        self._started = time.monotonic()
        self._last = 0.0
        self._handle = None
        self._bar = self._text = None
        self._line = ""

    def __call__(self, sent: int, total: int, phase: str) -> None:
        now = time.monotonic()
        if phase == "uploading" and sent < total and now - self._last < self.interval:
            return
        self._last = now
        self._line = self.describe(sent, total, phase, now - self._started)
        if self.mode == "widget":
            self._show_widget(sent, total, phase)
        elif self.mode == "terminal":
            sys.stdout.write("\r" + self._line.ljust(78))
            sys.stdout.flush()

    @staticmethod
    def describe(sent: int, total: int, phase: str, elapsed: float) -> str:
        """The line for one report: phase "checking" (looking for an earlier upload of the same bytes),
        "uploading", "processing" (waiting until the file is ACTIVE) or "done"; sizes in bytes."""
        if phase == "checking":
            return f"checking for an earlier upload of these {human_size(total)}…"
        if phase == "processing":
            return f"{human_size(total)} uploaded · processing… (waiting until the file is ACTIVE)"
        if phase == "done":
            return f"{human_size(total)} uploaded"
        rate = sent / elapsed if elapsed > 0 else 0.0
        left = (total - sent) / rate if rate > 0 else float("inf")
        eta = f"{math.ceil(left)} s left" if left != float("inf") else "estimating…"  # never "0 s left" early
        percent = 100.0 * sent / total if total else 100.0
        return f"{percent:5.1f}% · {human_size(sent)} of {human_size(total)} · {human_size(rate)}/s · {eta}"

    def _show_widget(self, sent: int, total: int, phase: str) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        if self._bar is None:
            self._bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, description="Uploading",
                                              layout=widgets.Layout(width="40%"))
            self._text = widgets.HTML()
            box = widgets.HBox([self._bar, self._text])
            self._box = box
            self._handle = display(box, display_id=True)
        self._bar.value = sent / total if total else 1.0
        self._bar.description = {"processing": "Processing", "checking": "Checking"}.get(phase, "Uploading")
        self._bar.bar_style = "info" if phase in ("processing", "checking") else ""
        self._text.value = html_text(f"{self.label}: {self._line}")

    def discard(self) -> None:
        """Remove the bar and leave no line: the caller says in its own message how the upload ended."""
        if self._handle is not None:
            self._handle.update({"text/plain": ""}, raw=True)
            for widget in (self._box, self._bar, self._text):
                widget.close()
            self._handle = None
        elif self.mode == "terminal" and self._line:
            sys.stdout.write("\r" + " " * 78 + "\r")
            sys.stdout.flush()

    def finish(self, text: str) -> None:
        """Replace the bar by one plain line (kept in saved notebooks)."""
        if self._handle is not None:
            self._handle.update({"text/plain": text}, raw=True)
            for widget in (self._box, self._bar, self._text):
                widget.close()
            return
        if self.mode == "terminal" and self._line:
            sys.stdout.write("\r" + " " * 78 + "\r")
        print(text)
