"""What a person sees of an answer with images while it streams, in JupyterLab: text, image, text, image,
text in order in the live view (one Output widget per piece, each image sent once), then the final
display with every image. The kernel feeds synthetic `Response` chunks (real PNGs made with Pillow)
through `StreamView`, pausing between them. Screenshot: live-pieces.png in the screenshots folder."""

from __future__ import annotations

import time

import pytest

from .jupyter import (cell_error, code_cell, dump_page, open_notebook, run_cell, wait_for_kernel_idle, wait_for_prompt,
                      wait_until, write_notebook)

pytestmark = pytest.mark.browser

STREAM = '''\
import base64, io, time
from PIL import Image
from gemini_magic.answer.response import Response
from gemini_magic.render import StreamView

def png(color):
    out = io.BytesIO()
    Image.new("RGB", (160, 90), color).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()

def text(words):
    return {"candidates": [{"content": {"role": "model", "parts": [{"text": words}]}, "index": 0}]}

def picture(color):
    return {"candidates": [{"content": {"role": "model", "parts": [
        {"inlineData": {"mimeType": "image/png", "data": png(color)}}]}, "index": 0}]}

view = StreamView("gemini-2.5-flash-image", update_interval=0.05)
response = Response(streamed=True, model="gemini-2.5-flash-image")
for number, color in enumerate(("red", "green", "blue"), start=1):
    for word in ("Picture", str(number), "comes", "next."):
        response.add(text(word + " "))
        view.update(response)
        time.sleep(0.1)
    response.add(picture(color))
    view.update(response)
    time.sleep(0.3)
response.add(text("All done."))
view.update(response)
time.sleep(3)  # the live view stays on screen a while before the final display replaces it
view._next_draw = 0
view.update(response)
response.add({"candidates": [{"content": {"parts": [{"text": ""}]}, "finishReason": "STOP", "index": 0}]})
view.finish(response)
'''

_LIVE = """(cell) => Array.from(cell.querySelectorAll('.widget-output'), node =>
    node.querySelector('img') ? 'img' : node.innerText.trim())"""


def test_a_streaming_answer_shows_its_images_in_order_then_the_final_display(page, jupyter_server, screenshots,
                                                                              timings):
    started = time.monotonic()
    write_notebook(jupyter_server.root / "live-pieces.ipynb", ["%load_ext gemini_magic", STREAM])
    open_notebook(page, jupyter_server, "lab", "live-pieces.ipynb")
    wait_for_kernel_idle(page, "lab")
    run_cell(page, 0)
    wait_for_prompt(page, 0, 1)
    run_cell(page, 1)
    cell = code_cell(page, 1)
    handle = cell.element_handle()
    states: list[list[str]] = []

    def live_complete():
        state = handle.evaluate(_LIVE)
        if state and state != (states[-1] if states else None):
            states.append(state)
        return state.count("img") == 3 and "All done." in state[-1]

    wait_until(page, live_complete, 60, "the live view to show three images and the closing text", interval=0.05)
    live = states[-1]
    assert live == ["Picture 1 comes next.", "img", "Picture 2 comes next.", "img", "Picture 3 comes next.", "img",
                    "All done."], live
    assert any(s.count("img") == 1 for s in states) and any(s.count("img") == 2 for s in states), states
    images = cell.locator(".widget-output img")
    sizes = images.evaluate_all("nodes => nodes.map(i => i.complete && [i.naturalWidth, i.naturalHeight])")
    assert sizes == [[160, 90]] * 3, sizes
    page.set_viewport_size({"width": page.viewport_size["width"], "height": 1400})
    outputs = cell.locator(".jp-Cell-outputArea")
    outputs.scroll_into_view_if_needed()
    outputs.screenshot(path=str(screenshots / "live-pieces.png"))

    wait_for_prompt(page, 1, 2)
    assert not cell_error(page, 1), cell_error(page, 1)
    try:
        wait_until(page, lambda: cell.locator(".widget-output").count() == 0, 30, "the live view to be replaced")
        final = cell.locator(".jp-Cell-outputArea img")
        wait_until(page, lambda: final.count() == 3, 30, "the final display's three images")
    except Exception as error:  # noqa: BLE001 - keep the page for whoever reads the failure
        raise AssertionError(f"{error}\npage HTML: {dump_page(page, 'live-pieces')}") from None
    text = cell.locator(".jp-Cell-outputArea").inner_text()
    assert text.count("All done.") == 1 and "STOP" in text
    timings.record("test_live_pieces_lab", time.monotonic() - started)
