"""The same `%%gemini` stream in Notebook 7 (`/notebooks/<path>`): live growing states, then Markdown.

Notebook 7 shares JupyterLab's notebook and output widgets, so the selectors are the same; only the
kernel readiness check differs (no status bar: see `kernel_is_idle`).
"""

from __future__ import annotations

import time

import pytest

from .jupyter import assert_streamed, code_cell, expect_final_markdown, screenshot_cell, stream_gemini_cell

pytestmark = pytest.mark.browser

def test_answer_streams_then_renders_in_notebook7(page, jupyter_server, screenshots, timings):
    started = time.monotonic()
    states = stream_gemini_cell(page, jupyter_server, "notebook", "streaming-notebook7.ipynb")
    cell = code_cell(page, 1)
    final = expect_final_markdown(page, cell, "notebook7-final")
    assert_streamed(states, final.inner_text())

    screenshot_cell(page, cell, screenshots / "notebook7-answer.png")
    timings.record(f"test_streaming_notebook7 ({len(states)} live states)", time.monotonic() - started)
