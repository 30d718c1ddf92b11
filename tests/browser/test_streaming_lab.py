"""What a person sees in JupyterLab: `%%gemini` streams into a live widget, then leaves rendered Markdown.

The emulator is paced (about 4 s for its ~50 chunks) so the live view is drawn many times; the test
polls the widget's text every 50 ms, requires several distinct growing states, then checks that the
widget was replaced in place by one Markdown output with a heading, bold text and a code block.
Screenshots go to tests/browser/screenshots/ (streaming-partial.png, streaming-answer.png).
"""

from __future__ import annotations

import re
import time

import pytest

from .jupyter import (LAST_SENTENCE, MARKDOWN, WIDGET_ANSWER, code_cell, dump_page, growing_states,
                      input_prompt, screenshot_cell, stream_gemini_cell, visible_words)

pytestmark = pytest.mark.browser

EXPECT_TIMEOUT = 30_000  # ms


def test_answer_streams_then_renders_as_markdown(page, jupyter_server, screenshots, timings):
    from playwright.sync_api import expect

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
    final = outputs.locator(f"{MARKDOWN}:not({WIDGET_ANSWER} *)")
    try:
        expect(cell.locator(WIDGET_ANSWER)).to_have_count(0, timeout=EXPECT_TIMEOUT)
        expect(final).to_have_count(1, timeout=EXPECT_TIMEOUT)
        expect(final).to_contain_text(LAST_SENTENCE, timeout=EXPECT_TIMEOUT)
        expect(final).to_contain_text("STOP")
        expect(final.get_by_role("heading", name=re.compile("What I received"))).to_be_visible()
        expect(final.locator("strong").first).to_be_visible()
        expect(final.locator("pre code")).to_contain_text("def greet")
        expect(final.locator("table")).to_contain_text("alpha")
    except AssertionError as error:
        raise AssertionError(f"{error}\npage HTML: {dump_page(page, 'lab-final')}") from None

    problems = growing_states(states, final.inner_text())
    distinct = {visible_words(state) for state in states}
    assert len(distinct) >= 3, f"only {len(distinct)} distinct states of the live widget: {states!r}"
    assert not problems, "the live widget did not grow like a stream:\n" + "\n".join(problems)
    assert outputs.inner_text().count(LAST_SENTENCE) == 1, "the answer is shown more than once"
    assert input_prompt(page, 1) == "[2]:"
    assert partial_shot.exists(), "no mid-stream screenshot was taken"

    screenshot_cell(page, cell, screenshots / "streaming-answer.png")
    timings.record(f"test_streaming_lab ({len(states)} live states)", time.monotonic() - started)
