"""The live view never re-sends what is already on screen (issue 26 item 4): an image shown while the
answer streams goes to the frontend once, and what a redraw sends grows with the new content only.

What is sent is recorded at the comm level (tests/widget_comms.py: every comm_open/comm_msg the widgets
would publish, with its JSON size), while a 5-image answer of about 1 MB streams through a widget view
that is made to redraw after every chunk."""

from __future__ import annotations

import base64
import random

from gemini_magic.answer.response import Response
from gemini_magic.render import StreamView
from helpers import Recorder
from widget_comms import comms  # noqa: F401 - the fixture

IMAGES = [base64.b64encode(b"\x89PNG\r\n\x1a\n" + random.Random(n).randbytes(150_000)).decode() for n in range(5)]


def text(words: str) -> dict:
    return {"candidates": [{"content": {"role": "model", "parts": [{"text": words}]}, "index": 0}]}


def picture(data: str) -> dict:
    return {"candidates": [{"content": {"role": "model", "parts": [{"inlineData": {"mimeType": "image/png",
                                                                                    "data": data}}]}, "index": 0}]}


def chunks() -> list[dict]:
    """Text, an image, more text... five times, then the end: about 1 MB of images in all."""
    out = []
    for number, data in enumerate(IMAGES, start=1):
        out += [text(f"Step {number}, word {i}. ") for i in range(8)]
        out.append(picture(data))
    out += [text(f"Closing word {i}. ") for i in range(8)]
    return out


def stream(view, comms) -> tuple[Response, list[int]]:
    """Feed every chunk, redrawing after each; returns the response and the bytes each redraw sent."""
    response = Response(streamed=True, model="gemini-2.5-flash-image")
    sizes = []
    for chunk in chunks():
        response.add(chunk)
        view._next_draw = 0  # a redraw after every chunk, whatever the clock says
        mark = comms.mark()
        view.update(response)
        sizes.append(comms.bytes_since(mark))
    return response, sizes


def test_each_image_is_sent_once_and_redraws_grow_with_the_new_content_only(comms):
    recorder = Recorder()
    view = StreamView("gemini-2.5-flash-image", mode="widget", display=recorder)
    view.start()
    response, sizes = stream(view, comms)
    assert view.render_count == len(sizes) == 5 * 9 + 8
    for data in IMAGES:
        assert comms.count(data) == 1  # before: in every redraw after it (up to 45 times each)
    image_size = len(IMAGES[0])
    total_text = len(response.text)
    for number, (chunk, size) in enumerate(zip(chunks(), sizes)):
        new = sum(len(p.get("inlineData", {}).get("data", "")) for p in chunk["candidates"][0]["content"]["parts"])
        # the new image if any, the text piece being streamed (Markdown and plain), the header and footer
        assert size <= new + 2 * total_text + 3_000, f"redraw {number} sent {size:,} bytes"
    after_last_image = sizes[-8:]
    assert max(after_last_image) < image_size / 50  # five images on screen, none of them sent again
    assert sum(sizes) < sum(map(len, IMAGES)) * 1.05 + 3_000 * len(sizes)

    response.add({"candidates": [{"content": {"parts": [{"text": ""}]}, "finishReason": "STOP", "index": 0}]})
    view.finish(response)
    images = [b["image/png"] for b in recorder.raw_bundles() if "image/png" in b]
    assert images == IMAGES  # the final display shows every image, in order, as before
    assert view.answer.shown() == ()


def test_the_live_pieces_show_text_and_images_in_order(comms):
    view = StreamView("m", mode="widget", display=Recorder())
    view.start()
    response, _ = stream(view, comms)
    shown = view.answer.shown()
    kinds = [next(iter(o["data"])) for o in shown]
    assert kinds == ["text/markdown", "image/png"] * 5 + ["text/markdown"]
    assert [o["data"]["image/png"] for o in shown if "image/png" in o["data"]] == IMAGES
    assert shown[0]["data"]["text/plain"] == "".join(f"Step 1, word {i}. " for i in range(8))
    assert len(view.answer.outputs) == len(shown)  # one widget per piece


def pcm_chunk(seconds: float) -> dict:
    data = base64.b64encode(b"\x01\x00" * int(seconds * 24000)).decode()
    return {"candidates": [{"content": {"role": "model", "parts": [{"inlineData": {
        "mimeType": "audio/L16;codec=pcm;rate=24000", "data": data}}]}, "index": 0}]}


def test_audio_still_arriving_is_named_then_played_once(comms):
    view = StreamView("gemini-2.5-flash-preview-tts", mode="widget", display=Recorder())
    view.start()
    response = Response(streamed=True)
    for _ in range(6):
        response.add(pcm_chunk(0.5))
        view._next_draw = 0
        view.update(response)
    (growing,) = view.answer.shown()
    assert growing["data"]["text/plain"] == "<audio: 3.0 s, 24,000 Hz, mono WAV so far, still arriving>"
    assert "<audio" not in growing["data"]["text/markdown"]  # named in escaped Markdown, no player yet
    assert sum(m.size for m in comms.messages) < 30_000  # 3 s of audio is 192 KB as base64: none sent yet
    response.add(text("Done."))  # something after the audio: it stopped growing
    view._next_draw = 0
    view.update(response)
    player, after = view.answer.shown()
    assert player["data"]["text/html"].startswith('<audio controls src="data:audio/wav;base64,')
    assert after["data"]["text/plain"] == "Done."
    view._next_draw = 0
    mark = comms.mark()
    response.add(text(" More."))
    view.update(response)
    assert comms.count("data:audio/wav", since=mark) == 0 and comms.bytes_since(mark) < 3_000


def test_a_new_turn_that_has_fewer_pieces_removes_the_rest(comms):
    view = StreamView("m", mode="widget", display=Recorder())
    view.start()
    first = Response(streamed=True)
    for chunk in (text("Let me draw it."), picture(IMAGES[0]), text("There.")):
        first.add(chunk)
    view.update(first)
    assert len(view.answer.outputs) == 3
    second = Response(streamed=True)  # the next turn of a calling loop streams its own answer
    second.add(text("Now the answer"))
    second.add(picture(IMAGES[1]))
    view._next_draw = 0
    view.update(second)
    shown = view.answer.shown()
    assert [o["data"].get("text/plain") for o in shown][0] == "Now the answer"
    assert shown[1]["data"]["image/png"] == IMAGES[1] and len(shown) == 2
    assert len(view.box.children[view.box.children.index(view.answer.box)].children) == 2
    removed = [m for m in comms.messages if m.msg_type == "comm_close"]
    assert len(removed) == 1  # the third piece's widget is closed (the pieces share one layout)
