"""What a person sees in JupyterLab: `%%gemini` streams into a live widget, then leaves rendered Markdown.

The emulator is paced (about 4 s for its ~50 chunks) so the live view is drawn many times; the test
polls the widget's text every 50 ms, requires several distinct growing states, then checks that the
widget was replaced in place by one Markdown output with a heading, bold text and a code block.
Screenshots (streaming-partial.png, streaming-answer.png) go to the screenshots folder (tests/browser/conftest.py).
"""

from __future__ import annotations

import time

import pytest

from .jupyter import (LAST_SENTENCE, assert_streamed, code_cell, expect_final_markdown, expect_rich_markdown,
                      input_prompt, screenshot_cell, stream_gemini_cell)

pytestmark = pytest.mark.browser

def test_answer_streams_then_renders_as_markdown(page, jupyter_server, screenshots, timings):
    started = time.monotonic()
    partial_shot = screenshots / "streaming-partial.png"

    def screenshot_mid_stream(states):
        # Once, when a few lines are in (the heading and some bold text) and much is still to come.
        if not partial_shot.exists() and len(states) >= 3 and "Prompt:" in states[-1]:
            page.screenshot(path=str(partial_shot))

    partial_shot.unlink(missing_ok=True)

    states = stream_gemini_cell(page, jupyter_server, "lab", "streaming-lab.ipynb",
                                on_change=screenshot_mid_stream)
    cell = code_cell(page, 1)
    outputs = cell.locator(".jp-Cell-outputArea")
    final = expect_final_markdown(page, cell, "lab-final", extra=expect_rich_markdown)
    assert_streamed(states, final.inner_text())
    assert outputs.inner_text().count(LAST_SENTENCE) == 1, "the answer is shown more than once"
    assert input_prompt(page, 1) == "[2]:"
    assert partial_shot.exists(), "no mid-stream screenshot was taken"

    screenshot_cell(page, cell, screenshots / "streaming-answer.png")
    timings.record(f"test_streaming_lab ({len(states)} live states)", time.monotonic() - started)
