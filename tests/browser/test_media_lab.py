"""What a person sees of an image answer and a spoken answer in JupyterLab: the picture drawn inline,
and an audio player that holds the answer's WAV, both left in the cell's outputs (so in the saved
notebook). Screenshot: media-answers.png in the screenshots folder (tests/browser/conftest.py).
"""

from __future__ import annotations

import time

import pytest

from .jupyter import (cell_error, code_cell, open_notebook, run_cell, wait_for_kernel_idle, wait_for_prompt,
                      wait_until, write_notebook)

pytestmark = pytest.mark.browser

CELLS = [
    "%load_ext gemini_magic",
    "%%gemini --image --aspect-ratio 16:9 -m gemini-2.5-flash-image -o picture\n"
    "A red lantern over Hội An at dusk.",
    "%%gemini --speak Puck -m gemini-2.5-flash-preview-tts -o voice\nWelcome to the class!",
]


def test_an_image_answer_and_an_audio_player_in_jupyterlab(page, jupyter_server, screenshots, timings):
    started = time.monotonic()
    write_notebook(jupyter_server.root / "media-lab.ipynb", CELLS)
    open_notebook(page, jupyter_server, "lab", "media-lab.ipynb")
    wait_for_kernel_idle(page, "lab")
    for index in range(3):
        run_cell(page, index)
        wait_for_prompt(page, index, index + 1)
        problem = cell_error(page, index)
        assert not problem, f"cell {index} failed:\n{problem}"

    image_cell, audio_cell = code_cell(page, 1), code_cell(page, 2)
    image = image_cell.locator(".jp-Cell-outputArea img")
    wait_until(page, lambda: image.count() > 0 and image.first.evaluate("i => i.complete && i.naturalWidth"), 30,
               "the answer's image to be drawn")
    width, height = image.first.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert width > height, (width, height)  # 16:9, drawn from the answer's own PNG bytes

    audio = audio_cell.locator(".jp-Cell-outputArea audio")
    wait_until(page, lambda: audio.count() > 0, 30, "an audio player for the spoken answer")
    source = audio.first.evaluate("a => a.currentSrc || a.src || (a.querySelector('source') || {}).src || ''")
    assert source.startswith("data:audio/wav;base64,"), source[:60]
    duration = wait_until(page, lambda: audio.first.evaluate("a => isFinite(a.duration) && a.duration"), 30,
                          "the player to read the WAV's duration")
    assert 0 < duration < 10, duration

    _screenshot_cells(page, image_cell, audio_cell, screenshots / "media-answers.png")
    timings.record("test_media_lab", time.monotonic() - started)


def _screenshot_cells(page, first, last, path) -> None:
    """The page from the top of `first` to the bottom of `last`, in a viewport tall enough for both."""
    page.set_viewport_size({"width": page.viewport_size["width"], "height": 1400})
    page.wait_for_timeout(300)
    first.scroll_into_view_if_needed()
    first.evaluate("cell => cell.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    top, bottom = first.bounding_box(), last.bounding_box()
    y = max(0, int(top["y"]) - 10)
    height = min(1400 - y, int(bottom["y"] + bottom["height"]) + 20 - y)
    page.screenshot(path=str(path), clip={"x": 0, "y": y, "width": page.viewport_size["width"], "height": height})
