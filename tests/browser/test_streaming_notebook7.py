"""The same `%%gemini` stream in Notebook 7 (`/notebooks/<path>`): live growing states, then Markdown.

Notebook 7 shares JupyterLab's notebook and output widgets, so the selectors are the same; only the
kernel readiness check differs (no status bar: see `kernel_is_idle`).
"""

from __future__ import annotations

import re
import time

import pytest

from .jupyter import (LAST_SENTENCE, MARKDOWN, WIDGET_ANSWER, code_cell, dump_page, growing_states,
                      screenshot_cell, stream_gemini_cell, visible_words)

pytestmark = pytest.mark.browser

EXPECT_TIMEOUT = 30_000  # ms


def test_answer_streams_then_renders_in_notebook7(page, jupyter_server, screenshots, timings):
    from playwright.sync_api import expect

    started = time.monotonic()
    states = stream_gemini_cell(page, jupyter_server, "notebook", "streaming-notebook7.ipynb")
    cell = code_cell(page, 1)
    final = cell.locator(f".jp-Cell-outputArea {MARKDOWN}:not({WIDGET_ANSWER} *)")
    try:
        expect(cell.locator(WIDGET_ANSWER)).to_have_count(0, timeout=EXPECT_TIMEOUT)
        expect(final).to_have_count(1, timeout=EXPECT_TIMEOUT)
        expect(final).to_contain_text(LAST_SENTENCE, timeout=EXPECT_TIMEOUT)
        expect(final.get_by_role("heading", name=re.compile("What I received"))).to_be_visible()
        expect(final.locator("pre code")).to_contain_text("def greet")
    except AssertionError as error:
        raise AssertionError(f"{error}\npage HTML: {dump_page(page, 'notebook7-final')}") from None

    problems = growing_states(states, final.inner_text())
    distinct = {visible_words(state) for state in states}
    assert len(distinct) >= 3, f"only {len(distinct)} distinct states of the live widget: {states!r}"
    assert not problems, "the live widget did not grow like a stream:\n" + "\n".join(problems)

    screenshot_cell(page, cell, screenshots / "notebook7-answer.png")
    timings.record(f"test_streaming_notebook7 ({len(states)} live states)", time.monotonic() - started)
