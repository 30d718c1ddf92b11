"""No string from the service ever runs as script, in JupyterLab and Notebook 7.

A hostile server (tests/browser/hostile.py) puts an `<img onerror>` and a `<script>` into every
string it controls: the answer's thoughts, text and links, MIME types, file URI, code language and
outcome, finish reason and message, model version, grounding sources and queries, the search entry
point, a function name, and the file, model and batch lists. The notebook streams, shows unary and
explorer views, runs a tool cell and lists files, models and batches. A first cell shows raw HTML
with the same kind of payload on purpose, to prove that a payload that gets through is caught.
"""

from __future__ import annotations

import pytest

from .hostile import hostile_server
from .jupyter import (APPS, code_cell, open_notebook, run_cell, start_jupyter, wait_for_kernel_idle,
                      wait_for_prompt, write_notebook)

pytestmark = pytest.mark.browser

CONTROL = ("from IPython.display import HTML, display\n"
           "display(HTML('<img src=x onerror=\"(window.top.__pwned=window.top.__pwned||[]).push(`control`)\">'))")
CELLS = [
    "%load_ext gemini_magic",
    CONTROL,
    "%%gemini --show-thoughts\nHello",
    "%%gemini --no-stream --show-thoughts\nHello",
    "_gemini",
    "def get_rainfall(city: str) -> float:\n    \"\"\"Rain in mm.\"\"\"\n    return 1.0",
    "%%gemini --tools get_rainfall\nRain in Huế?",
    "%gemini files",
    "%gemini models",
    "%gemini batches",
]
ANSWER_CELLS = (2, 3, 4)


@pytest.fixture(scope="module")
def hostile_jupyter(browser_tools):
    with hostile_server() as base_url, start_jupyter(base_url) as server:
        yield server


@pytest.mark.parametrize("app", APPS)
def test_hostile_service_strings_run_no_script(page, hostile_jupyter, app):
    name = f"hostile-{app}.ipynb"
    write_notebook(hostile_jupyter.root / name, CELLS)
    open_notebook(page, hostile_jupyter, app, name)
    wait_for_kernel_idle(page, app)
    for index in range(len(CELLS)):
        run_cell(page, index)
        wait_for_prompt(page, index, index + 1)
    page.wait_for_timeout(500)  # an onerror fires once the broken image fails to load: give it time

    ran = page.evaluate("window.__pwned || []")
    assert ran == ["control"], f"script from the service ran in {app}: {ran}"

    for index in ANSWER_CELLS:  # the payloads were shown, as text
        text = code_cell(page, index).locator(".jp-Cell-outputArea").text_content()
        assert "onerror=" in text and "Hello" in text, f"cell {index} in {app}: {text[:500]!r}"
    assert page.locator('.jp-Cell-outputArea a[href^="javascript"]').count() == 0
    assert page.locator(".jp-Cell-outputArea img[onerror]").count() == 1  # the control's own
    scripts = page.evaluate("[...document.querySelectorAll('.jp-Cell-outputArea script')].map("
                            "s => s.closest('.jp-Cell').querySelector('.jp-InputArea').textContent.slice(0, 40) + ' :: ' + s.outerHTML.slice(0, 300))")
    assert scripts == [], scripts
    frames = page.locator(".jp-Cell-outputArea iframe.gemini-search-suggestions")
    assert frames.count() >= 2  # the search entry point, in its sandbox, in each answer view
    for i in range(frames.count()):
        assert "allow-scripts" not in (frames.nth(i).get_attribute("sandbox") or "allow-scripts")
    for index, word in ((6, "function-name"), (7, "file-display"), (8, "model-display"), (9, "batch-display")):
        text = code_cell(page, index).locator(".jp-Cell-outputArea").text_content()
        assert word in text, f"cell {index} in {app} shows no {word}: {text[:300]!r}"
