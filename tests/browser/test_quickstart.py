"""A newcomer's first minutes: notebooks/quickstart.ipynb in JupyterLab and in Notebook 7, with no API key.

The Jupyter server here is started as on a fresh machine (no key, no base URL), so the quickstart's
first cell starts the emulator inside the kernel and says so. The cells are run as a reader runs
them, Shift+Enter from the top, up to and including the first `%%gemini` answer; the test then
checks that the answer streamed (several growing states of the live widget) and was left as one
rendered Markdown output. Screenshots: quickstart-{lab,notebook7}.png in the screenshots folder (tests/browser/conftest.py).
"""

from __future__ import annotations

import json
import shutil
import time

import pytest

from gemini_magic.constants import EMULATOR_MARKER

from .jupyter import (EXPECT_TIMEOUT, MARKDOWN, PROJECT_ROOT, WIDGET_ANSWER, assert_streamed, cell_error, code_cell,
                      expect_final_markdown, expect_rich_markdown, open_notebook, run_cell, screenshot_cell,
                      start_jupyter, wait_for_kernel_idle, wait_for_prompt, watch_cell)

pytestmark = pytest.mark.browser

QUICKSTART = PROJECT_ROOT / "notebooks" / "quickstart.ipynb"
SCREENSHOT_NAMES = {"lab": "quickstart-lab.png", "notebook": "quickstart-notebook7.png"}


@pytest.fixture(scope="module")
def newcomer_server(browser_tools, timings):
    """A Jupyter server whose kernels have no key and no base URL, as after the README's first command."""
    started = time.monotonic()
    with start_jupyter(None, newcomer=True) as server:
        timings.record("setup: jupyter server without a key", time.monotonic() - started)
        yield server


def first_answer_cell() -> int:
    """The index, among code cells, of the quickstart's first `%%gemini` cell."""
    notebook = json.loads(QUICKSTART.read_text(encoding="utf-8"))
    sources = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    return next(index for index, source in enumerate(sources) if source.startswith("%%gemini"))


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_quickstart_first_answer_streams_and_renders(app, page, newcomer_server, screenshots, timings):
    from playwright.sync_api import expect

    started = time.monotonic()
    name = f"quickstart-{app}.ipynb"  # one copy per app, so the two never share a kernel session
    shutil.copy(QUICKSTART, newcomer_server.root / name)
    answer = first_answer_cell()
    open_notebook(page, newcomer_server, app, name)
    wait_for_kernel_idle(page, app)

    for index in range(answer):
        run_cell(page, index)
        wait_for_prompt(page, index, index + 1)
        problem = cell_error(page, index)
        assert not problem, f"quickstart code cell {index} failed in {app}:\n{problem}"
    backend = code_cell(page, 0).locator(f".jp-Cell-outputArea {MARKDOWN}")
    expect(backend).to_contain_text("Using the local Gemini emulator", timeout=EXPECT_TIMEOUT)

    run_cell(page, answer)
    states = watch_cell(page, answer, WIDGET_ANSWER, count=answer + 1)
    cell = code_cell(page, answer)

    def quickstart_checks(final):
        expect(final).to_contain_text("how a rainbow forms")  # the quickstart's own prompt, echoed
        expect_rich_markdown(final)

    final = expect_final_markdown(page, cell, f"quickstart-{app}", extra=quickstart_checks)
    assert final.inner_text().lstrip().startswith(EMULATOR_MARKER), "the emulator must label its answer"
    assert not cell_error(page, answer), cell_error(page, answer)

    assert_streamed(states, final.inner_text(), f" in {app}")

    screenshot_cell(page, cell, screenshots / SCREENSHOT_NAMES[app])
    timings.record(f"test_quickstart[{app}] ({len(states)} live states)", time.monotonic() - started)
