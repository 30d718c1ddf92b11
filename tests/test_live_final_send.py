"""The live view sends the whole answer once: in the final display, not in a last widget draw before it."""

from __future__ import annotations

import pytest

from gemini_magic.render import StreamView
from gemini_magic.answer.response import Response
from helpers import Recorder
from widget_comms import comms  # noqa: F401 - the fixture


def answer_draws(comms) -> list[str]:
    """Every text/plain sent to the answer's widgets so far (comm messages; empty ones left out)."""
    return [o["data"]["text/plain"] for outputs in comms.outputs_sent() for o in outputs]


def chunk(text: str, finish: str | None = None) -> dict:
    candidate = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate]}


@pytest.mark.parametrize("how", ["finish", "fail"])
def test_the_final_display_is_the_only_full_send(how, comms):
    recorder = Recorder()
    view = StreamView("gemini-2.5-flash", mode="widget", display=recorder, update_interval=60)
    view.start()
    response = Response(streamed=True)
    response.add(chunk("First words"))
    view.update(response)  # the first update draws at once; the next ones wait for the interval
    pieces = [f" word{i}" for i in range(2000)]
    for piece in pieces:
        response.add(chunk(piece))
        view.update(response)
    if how == "finish":
        response.add(chunk("", finish="STOP"))
        view.finish(response)
    else:
        view.fail(response, "Interrupted: the partial answer is kept.")
    whole = "First words" + "".join(pieces)
    drawn = answer_draws(comms)
    assert drawn == ["First words"]  # before: a last draw of the whole text, then the final display again
    assert view.render_count == 1
    sent = sum(len(text) for text in drawn)
    (final,) = [bundle for kind, bundle, _ in recorder.calls if kind == "update"]
    assert whole in final["text/plain"] and whole in final["text/markdown"]
    assert sent < len(whole) / 100
    assert view.answer.shown() == ()  # the widget is emptied, so a saved notebook stores the answer once


def test_without_a_display_handle_the_final_bundle_is_shown_instead(comms):
    shown = []

    def display(obj, **kwargs):
        shown.append((obj, kwargs))
        return None  # a frontend that gives no handle

    view = StreamView("m", mode="widget", display=display, update_interval=60)
    view.start()
    response = Response(streamed=True)
    for piece in ("a", "b", "c"):
        response.add(chunk(piece))
        view.update(response)
    response.add(chunk("", finish="STOP"))
    view.finish(response)
    assert answer_draws(comms) == ["a"]
    bundles = [obj for obj, kwargs in shown if kwargs.get("raw")]
    assert len(bundles) == 1 and "abc" in bundles[0]["text/plain"]
