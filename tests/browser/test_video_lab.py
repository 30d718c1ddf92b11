"""What a person sees of `%%gemini --video` in JupyterLab and Notebook 7: a player that really plays the video.

Two videos: a small one embedded in the output as data, and one over `Video.embed_limit`, saved
beside the notebook and linked by a relative path that JupyterLab resolves. Each <video> must load
its data (readyState >= 2, HAVE_CURRENT_DATA) and know a duration > 0. Screenshot:
tests/browser/screenshots/video-answer.png.
"""

from __future__ import annotations

import time

import pytest

from .jupyter import (cell_error, code_cell, open_notebook, run_cell, screenshot_cell, wait_for_kernel_idle,
                      wait_for_prompt, wait_until, write_notebook)

pytestmark = pytest.mark.browser

CELLS = [
    "%load_ext gemini_magic\n%config GeminiMagics.video_poll = 0.05",
    "%%gemini --video --aspect-ratio 16:9 -o clip\nA lighthouse at dawn, waves rolling in.",
    "from gemini_magic.api.video import Video\nVideo.embed_limit = 1000\n\n%gemini --video --new -o big A second lighthouse",
]


def _player_state(video):
    return video.evaluate("v => [v.readyState, isFinite(v.duration) ? v.duration : 0, v.currentSrc.slice(0, 80)]")


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_an_inline_video_plays(page, jupyter_server, screenshots, timings, app):
    started = time.monotonic()
    write_notebook(jupyter_server.root / f"video-{app}.ipynb", CELLS)
    open_notebook(page, jupyter_server, app, f"video-{app}.ipynb")
    wait_for_kernel_idle(page, app)
    for index in range(len(CELLS)):
        run_cell(page, index)
        wait_for_prompt(page, index, index + 1)
        problem = cell_error(page, index)
        assert not problem, f"cell {index} failed:\n{problem}"

    sources = []
    for index in (1, 2):
        video = code_cell(page, index).locator(".jp-Cell-outputArea video")
        wait_until(page, lambda: video.count() == 1, 30, f"a video player in cell {index}")
        state = wait_until(page, lambda: (lambda s: s if s[0] >= 2 and s[1] > 0 else None)(_player_state(video.first)),
                           30, f"the video of cell {index} to load")
        assert state[1] == pytest.approx(2.0, abs=0.1), state
        sources.append(state[2])
    assert sources[0].startswith("data:video/mp4;base64,"), sources
    assert "/files/gemini_videos/" in sources[1] and sources[1].startswith("http"), sources
    assert (jupyter_server.root / "gemini_videos").is_dir()
    if app == "lab":
        screenshot_cell(page, code_cell(page, 1), screenshots / "video-answer.png")
    timings.record(f"test_video_{app}", time.monotonic() - started)
