"""StreamView and final_bundle, without a kernel: widgets are real ipywidgets objects (no comm needed),
displays go to a recorder passed in the constructor, terminal output is captured with capsys."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import recording
from gemini_magic.render import StreamView, final_bundle
from gemini_magic.render.live import WIDGET_BYTES_PER_SECOND
from gemini_magic.answer.response import Response
from helpers import Recorder
from widget_comms import comms  # noqa: F401 - the fixture

# -- helpers ------------------------------------------------------------------------------------

def text_chunk(text, **extra):
    return {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, **extra}]}


def final_chunk(reason="STOP"):
    return {"candidates": [{"content": {"parts": [{"text": ""}]}, "finishReason": reason, "index": 0}],
            "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 11, "thoughtsTokenCount": 5,
                              "totalTokenCount": 23},
            "modelVersion": "gemini-2.5-flash"}


def count_outputs(comms):
    """Each draw of the answer sent to the frontend: the non-empty `outputs` an Output widget was opened
    with or updated to (comm messages, see widget_comms.py). The view empties its widgets once at the
    end, after replacing its display: that is not a draw. Read it after the stream."""
    return comms.outputs_sent()


def stream_through(view, pieces, sleep=0.0, every=1):
    response = Response(streamed=True, model="gemini-2.5-flash")
    started = time.perf_counter()
    for index, piece in enumerate(pieces):
        response.add(text_chunk(piece))
        view.update(response)
        if sleep and index % every == 0:
            time.sleep(sleep)
    response.add(final_chunk())
    view.finish(response)
    return response, time.perf_counter() - started


def sse_response(relative):
    from gemini_magic.wire.sse import SSEDecoder

    decoder = SSEDecoder()
    events = decoder.feed(recording(relative).read_bytes()) + decoder.close()
    return Response([json.loads(event.data) for event in events], streamed=True)


# -- throttling ---------------------------------------------------------------------------------

def test_5000_chunks_as_fast_as_possible_are_drawn_a_bounded_number_of_times(comms):
    recorder = Recorder()
    view = StreamView("gemini-2.5-flash", mode="widget", display=recorder)
    view.start()
    pieces = [f"w{i} " for i in range(5000)]
    response, elapsed = stream_through(view, pieces)
    sent = count_outputs(comms)
    print(f"\n5,000 chunks, no pause: {len(sent)} renders in {elapsed:.3f} s")
    assert len(sent) <= elapsed * 20 + 2
    assert len(sent) < 50
    whole = "".join(pieces)
    assert whole.startswith(sent[-1][0]["data"]["text/markdown"])
    assert view.render_count == len(sent)  # no last widget draw: the final display below is the only full send
    assert view.answer.shown() == ()  # emptied after the display was replaced: stored once
    (kind, bundle, kwargs), = [call for call in recorder.calls if call[0] == "update"]
    assert kwargs == {"raw": True}
    assert whole in bundle["text/markdown"] and whole in bundle["text/plain"]


def test_5000_chunks_with_pauses_stream_live_and_stay_under_20_renders_per_second(comms):
    view = StreamView("gemini-2.5-flash", mode="widget", display=Recorder(), update_interval=0.05)
    view.start()
    pieces = [f"token{i} " for i in range(5000)]
    response, elapsed = stream_through(view, pieces, sleep=0.002, every=10)
    sent = count_outputs(comms)
    print(f"\n5,000 chunks over {elapsed:.2f} s: {len(sent)} renders")
    assert len(sent) <= elapsed * 20 + 2
    assert len(sent) >= min(5, elapsed * 5)  # it really was live, not only a final draw
    texts = [outputs[0]["data"]["text/markdown"] for outputs in sent]
    assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:]))
    assert "".join(pieces).startswith(texts[-1])  # the whole answer goes out once, in the final display


def test_the_interval_grows_with_the_text_so_bytes_per_second_stay_bounded(comms):
    view = StreamView("m", mode="widget", display=Recorder(), update_interval=0.05)
    view.start()
    pieces = ["x" * 400 + "\n" for _ in range(3000)]  # 1.2 MB in all
    response, elapsed = stream_through(view, pieces, sleep=0.001)
    sent = count_outputs(comms)
    sizes = [len(outputs[0]["data"]["text/markdown"]) * 2 for outputs in sent]
    assert sum(sizes[:-1]) <= WIDGET_BYTES_PER_SECOND * elapsed + max(sizes)
    assert "".join(pieces).startswith(sent[-1][0]["data"]["text/plain"])


class CountingResponse(Response):
    reads = 0

    @property
    def candidates(self):
        CountingResponse.reads += 1
        return super().candidates


def test_update_does_not_read_the_response_between_draws():
    view = StreamView("m", mode="widget", display=Recorder(), update_interval=10)
    view.start()
    response = CountingResponse(streamed=True)
    response.add(text_chunk("first"))
    view.update(response)  # the first update draws at once
    reads = CountingResponse.reads
    assert reads > 0
    for i in range(1000):
        response.add(text_chunk(f" {i}"))
        view.update(response)
    assert CountingResponse.reads == reads
    assert view.render_count == 1


# -- widget mode --------------------------------------------------------------------------------

def test_widget_view_structure_and_final_replacement():
    recorder = Recorder()
    view = StreamView("gemini-2.5-pro", show_thoughts=True, mode="widget", display=recorder)
    view.start()
    (kind, box, kwargs), = recorder.calls
    assert kind == "display" and kwargs == {"display_id": True} and box is view.box
    assert box._repr_mimebundle_()["text/plain"] == "Streaming answer from gemini-2.5-pro…"
    accordion = box.children[1]
    assert accordion.selected_index is None  # thoughts collapsed
    assert "gemini-2.5-pro" in view.header.value

    response = Response(streamed=True)
    response.add({"candidates": [{"content": {"parts": [{"text": "Pondering.", "thought": True}]}}]})
    view.update(response)
    assert view.thoughts_output.outputs[0]["data"]["text/markdown"] == "Pondering."
    assert view.answer.shown() == ()
    assert "thinking" in view.header.value or "waiting" in view.header.value
    response.add(text_chunk("**Answer**"))
    time.sleep(0.11)
    view.update(response)
    assert view.answer.shown()[0]["data"] == {"text/markdown": "**Answer**", "text/plain": "**Answer**"}
    assert "streaming" in view.header.value
    assert "incomplete" not in view.footer.value
    response.add(final_chunk())
    view.finish(response)
    kind, bundle, kwargs = recorder.calls[-1]
    assert kind == "update" and kwargs == {"raw": True}
    assert "<details><summary>Thoughts</summary>\n\n> Pondering.\n\n</details>" in bundle["text/markdown"]
    assert "**Answer**" in bundle["text/markdown"]
    assert "gemini-2.5-flash · STOP · tokens: prompt 7 / answer 11 / thoughts 5 / total 23" in bundle["text/markdown"]
    assert bundle["text/markdown"].count("**Answer**") == 1
    made = [view.box, *view.box.children, view.thoughts_output, *view.answer.outputs]
    made += [w.layout for w in made] + [view.header.style]
    assert all(w.comm is None for w in made)  # closed: no widget state lingers
    view.finish(response)  # a second finish changes nothing
    assert len([c for c in recorder.calls if c[0] == "update"]) == 1


def test_widget_mode_without_a_display_handle_still_shows_the_answer():
    shown = []
    view = StreamView("m", mode="widget", display=lambda obj, **kw: shown.append((obj, kw)))
    view.start()
    response, _ = stream_through(view, ["a", "b"])
    assert shown[-1][1] == {"raw": True} and "ab" in shown[-1][0]["text/markdown"]


def test_ipywidgets_is_imported_only_when_a_widget_view_starts():
    code = (
        "import sys\n"
        "import gemini_magic.render as r\n"
        "v = r.StreamView('m', mode='widget', display=lambda *a, **k: None)\n"
        "print('ipywidgets' in sys.modules, 'IPython' in sys.modules, r.detect_mode())\n"
        "v.start()\n"
        "print('ipywidgets' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.stdout.split() == ["False", "False", "terminal", "True"]


def test_mode_detection_in_ipython_shells():
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "import gemini_magic.render as r\n"
        "class ZMQInteractiveShell(InteractiveShell): pass\n"
        "class Colab(ZMQInteractiveShell): pass\n"
        "print(r.detect_mode())\n"
        "InteractiveShell.clear_instance(); Colab.instance()\n"
        "print(r.detect_mode())\n"
    )
    code = code.replace("print(r.detect_mode())\nInteractiveShell.clear_instance()",
                        "InteractiveShell.instance(); print(r.detect_mode())\nInteractiveShell.clear_instance()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.stdout.split() == ["terminal", "widget"]


# -- terminal and plain modes -------------------------------------------------------------------

def test_terminal_mode_prints_only_new_text_then_the_footer(capsys):
    view = StreamView("gemini-2.5-flash", mode="terminal", update_interval=0.05)
    view.start()
    response = Response(streamed=True)
    pieces = ["Hello", ", ", "wor", "ld", "!\nSecond line."]
    seen = []
    for piece in pieces:
        response.add(text_chunk(piece))
        view.update(response)
        seen.append(capsys.readouterr().out)
        time.sleep(0.06)
    assert "".join(seen) == "".join(pieces)
    assert len([s for s in seen if s]) == len(pieces)  # progressive: every piece printed as it came
    response.add(final_chunk())
    view.finish(response)
    tail = capsys.readouterr().out
    assert tail == "\n\n---\ngemini-2.5-flash · STOP · tokens: prompt 7 / answer 11 / thoughts 5 / total 23 · total " \
        + tail.rsplit("total ", 1)[1]
    # the estimate: 7 prompt tokens at $0.30 and 11 + 5 answer and thinking tokens at $2.50 per 1M
    assert tail.endswith(" s · ≈ $0.000042 (prices of 2026-10-07)\n")


def test_terminal_mode_fast_stream_is_exact(capsys):
    view = StreamView("m", mode="terminal")
    pieces = [f"{i}," for i in range(3000)]
    stream_through(view, pieces)
    out = capsys.readouterr().out
    assert out.startswith("".join(pieces) + "\n\n---\n")
    assert "Warning" not in out


def test_terminal_mode_labels_thoughts_when_shown(capsys):
    view = StreamView("m", mode="terminal", show_thoughts=True)
    response = Response(streamed=True)
    response.add({"candidates": [{"content": {"parts": [{"text": "Let me think.", "thought": True}]}}]})
    view.update(response)
    time.sleep(0.11)
    response.add(text_chunk("42"))
    response.add(final_chunk())
    view.finish(response)
    out = capsys.readouterr().out
    assert out.startswith("[thinking]\nLet me think.\n\n[answer]\n42\n\n---\n")
    assert "\x1b[" not in out  # no ANSI codes when stdout is not a terminal


def test_terminal_mode_hides_thoughts_by_default_and_reports_an_empty_answer(capsys):
    view = StreamView("m", mode="terminal")
    response = Response([{"candidates": [{"content": {"parts": [{"text": "secret", "thought": True}]},
                                          "finishReason": "MAX_TOKENS"}]}], streamed=True)
    view.update(response)
    view.finish(response)
    out = capsys.readouterr().out
    assert "secret" not in out
    assert out.startswith("(no text in the answer) — finish reason MAX_TOKENS\n\n---\nMAX_TOKENS · total ")
    assert "Warning: The answer reached the output token limit" in out and "raise --max-tokens" in out


def test_plain_mode_shows_nothing_until_finish():
    recorder = Recorder()
    view = StreamView("m", mode="plain", display=recorder)
    view.start()
    response = Response(streamed=False)
    response.add(text_chunk("# Title\nbody", finishReason="STOP"))
    view.update(response)
    assert recorder.calls == []
    view.finish(response)
    (kind, bundle, kwargs), = recorder.calls
    assert kwargs == {"raw": True} and bundle["text/markdown"].startswith("# Title\nbody\n\n---\n")


def test_generated_images_are_displayed_in_order_with_the_text():
    recorder = Recorder()
    data = json.loads(recording("image_output/pydantic_gemini-2.5-flash-image_text+png_FULL.json").read_text())
    response = Response([data])
    StreamView("m", mode="plain", display=recorder).finish(response)
    text, image, footer = recorder.raw_bundles()
    assert "axolotl" in text["text/markdown"] and "image/png" not in text["text/markdown"]
    blob = data["candidates"][0]["content"]["parts"][1]["inlineData"]["data"]
    assert image["image/png"] is blob  # the base64 as received, not re-encoded
    assert footer["text/markdown"].startswith("---\n\n") and "STOP" in footer["text/plain"]


# -- fail ---------------------------------------------------------------------------------------

def test_fail_keeps_the_partial_answer_with_one_warning():
    recorder = Recorder()
    view = StreamView("m", mode="widget", display=recorder)
    view.start()
    response = Response(streamed=True)
    response.add(text_chunk("Partial ans"))
    view.update(response)
    response.interrupted = True
    view.fail(response, "Interrupted: the partial answer is kept in _gemini.")
    kind, bundle, kwargs = recorder.calls[-1]
    assert kind == "update"
    assert bundle["text/markdown"].startswith("Partial ans\n\n---\n")
    assert bundle["text/markdown"].count("⚠️") == 1
    assert bundle["text/markdown"].endswith("⚠️ Interrupted: the partial answer is kept in \\_gemini.")
    assert "Warning: Interrupted: the partial answer is kept in _gemini." in bundle["text/plain"]


def test_fail_never_raises(capsys):
    def broken_display(obj, **kwargs):
        if kwargs.get("raw"):
            raise RuntimeError("frontend gone")
        return None

    view = StreamView("m", mode="widget", display=broken_display)
    view.start()
    response = Response([text_chunk("kept text")], streamed=True)
    view.update(response)
    view.fail(response, "The connection dropped.")
    assert "kept text\nWarning: The connection dropped." in capsys.readouterr().out


def test_fail_in_terminal_mode(capsys):
    view = StreamView("m", mode="terminal")
    response = Response([text_chunk("half")], streamed=True)
    view.update(response)
    view.fail(response, "Server error 500: try again.")
    out = capsys.readouterr().out
    assert out.startswith("half\n\n---\n") and out.endswith("Warning: Server error 500: try again.\n")


# -- final_bundle: warnings ---------------------------------------------------------------------

def warnings_of(bundle):
    markdown = [line for line in bundle["text/markdown"].split("\n\n") if line.startswith("⚠️ ")]
    plain = [line for line in bundle["text/plain"].splitlines() if line.startswith("Warning: ")]
    assert [m[3:] for m in markdown] == [p[9:] for p in plain]
    return [m[3:] for m in markdown]


@pytest.mark.parametrize("reason, expected", [
    ("SAFETY", "stopped by the safety filters"),
    ("RECITATION", "recited existing material"),
    ("MAX_TOKENS", "raise --max-tokens"),
    ("MALFORMED_FUNCTION_CALL", "malformed function call"),
    ("LANGUAGE", "ended early (finish reason LANGUAGE)"),
])
def test_each_finish_reason_other_than_stop_gets_a_warning(reason, expected):
    response = Response([text_chunk("Some text", finishReason=reason)])
    lines = warnings_of(final_bundle(response))
    assert len(lines) == 1 and expected in lines[0]
    assert "Some text" in final_bundle(response)["text/markdown"]


def test_stop_has_no_warning():
    assert warnings_of(final_bundle(Response([text_chunk("fine", finishReason="STOP")]))) == []


def test_safety_warning_names_the_flagged_category():
    ratings = [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True},
               {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"}]
    response = Response([text_chunk("", finishReason="SAFETY", safetyRatings=ratings)])
    bundle = final_bundle(response)
    (line,) = warnings_of(bundle)
    assert "harassment: HIGH" in line and "hate speech" not in line
    assert "(no text in the answer) — finish reason SAFETY" in bundle["text/markdown"]


def test_safety_recording():
    data = json.loads(recording("safety_and_finish/fb_unary-finishReason-SAFETY.json").read_text())
    bundle = final_bundle(Response([data]))
    assert bundle["text/markdown"].startswith("Safety error incoming in 5, 4, 3, 2...\n\n---\n")
    assert "gemini-2.0-flash · SAFETY" in bundle["text/markdown"]
    assert warnings_of(bundle) == ["The answer was stopped by the safety filters: rephrase the prompt or adjust "
                                   "the safety settings."]


def test_recitation_recording_streamed():
    bundle = final_bundle(sse_response("safety_and_finish/fb_stream_finishReason-RECITATION.sse"))
    assert bundle["text/markdown"].startswith("text1text2text3")
    assert "RECITATION" in warnings_of(bundle)[0]


def test_unexpected_tool_call_recording_has_no_text_and_says_why():
    bundle = final_bundle(sse_response("safety_and_finish/adk_gemini-2.5-flash_UNEXPECTED_TOOL_CALL.sse"))
    assert "(no text in the answer) — finish reason UNEXPECTED_TOOL_CALL" in bundle["text/plain"]
    assert warnings_of(bundle) == ["The answer ended early (finish reason UNEXPECTED_TOOL_CALL)."]


def test_max_tokens_recording_without_parts():
    data = json.loads(recording("safety_and_finish/pydantic_gemini-2.5-pro_MAX_TOKENS_no-parts.json").read_text())
    bundle = final_bundle(Response([data]))
    assert bundle["text/markdown"].startswith("*(no text in the answer) — finish reason MAX_TOKENS*")
    (line,) = warnings_of(bundle)
    assert "raise --max-tokens" in line


def test_blocked_prompt():
    chunk = {"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": [
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]},
        "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}, "modelVersion": "gemini-2.5-flash"}
    bundle = final_bundle(Response([chunk], streamed=True))
    assert "(no text in the answer) — the prompt was blocked (SAFETY)" in bundle["text/markdown"]
    assert "gemini-2.5-flash · blocked: SAFETY" in bundle["text/plain"]
    (line,) = warnings_of(bundle)
    assert "The prompt was blocked (SAFETY)" in line and "dangerous content: HIGH" in line
    assert "rephrase the prompt or adjust the safety settings" in line


def test_stream_cut_short():
    bundle = final_bundle(Response([text_chunk("Half an ans")], streamed=True))
    assert bundle["text/markdown"].startswith("Half an ans\n\n---\n")
    assert "incomplete" in bundle["text/plain"]
    assert warnings_of(bundle) == ["The stream ended before the model finished; the partial answer is shown."]


def test_interrupted():
    response = Response([text_chunk("Half")], streamed=True)
    response.interrupted = True
    # The magic's one-line UsageError says what happened; the view repeats nothing but the footer's word.
    assert warnings_of(final_bundle(response)) == []
    assert final_bundle(response)["text/plain"].endswith("---\ninterrupted")


def test_failed_stream_names_the_error():
    response = Response([text_chunk("Half")], streamed=True)
    response.error = ConnectionError("connection reset by peer")
    (line,) = warnings_of(final_bundle(response))
    assert "ConnectionError: connection reset by peer" in line and "partial answer" in line


# -- final_bundle: content ----------------------------------------------------------------------

def test_empty_final_part_with_a_thought_signature_is_not_an_empty_bubble():
    response = Response([{"candidates": [{"content": {"parts": [{"text": "", "thoughtSignature": "c2ln"}]},
                                          "finishReason": "STOP"}]}])
    bundle = final_bundle(response)
    assert bundle["text/markdown"].startswith("*(no text in the answer) — the model returned no text")
    assert bundle["text/plain"].startswith("(no text in the answer)")


def test_final_empty_signature_chunk_keeps_the_text():
    path = recording("thinking/vercel_gemini-3-pro_final-empty-text-signature.chunks.txt")
    response = Response([json.loads(line) for line in path.read_text().splitlines() if line.strip()])
    bundle = final_bundle(response)
    assert bundle["text/markdown"].startswith('There are **3** "r"s in strawberry.')
    assert "no text" not in bundle["text/markdown"]


def test_thoughts_in_a_collapsed_details_only_when_asked():
    response = sse_response("thinking/adk_gemini-2.5-flash_includeThoughts.sse")
    hidden = final_bundle(response)["text/markdown"]
    shown = final_bundle(response, show_thoughts=True)["text/markdown"]
    assert "Calculating Prime Sum" not in hidden and "<details" not in hidden
    assert shown.startswith("<details><summary>Thoughts</summary>\n\n> **Calculating Prime Sum**")
    details_end = shown.index("</details>")
    assert shown.index("The sum of the first 50 prime numbers is 5117.") > details_end
    assert "tokens: prompt 51 / answer 745 / thoughts 1,234 / total 2,030" in shown
    assert "first token" not in shown  # no timing recorded in a replayed response
    assert "[thoughts]\n**Calculating Prime Sum**" in final_bundle(response, show_thoughts=True)["text/plain"]


def test_expanded_thoughts_stay_apart_from_the_answer():
    """Saved output: the thoughts are a block quote, so expanded they cannot run into the answer."""
    mistune = pytest.importorskip("mistune")
    thoughts = "**Reading the prompt**\n\nThe prompt asks for a haiku.\n\n\n**Writing**\n\nFive, seven, five.\n\n\n"
    response = Response([{"candidates": [{"content": {"parts": [{"text": thoughts, "thought": True},
                                                                {"text": "An old silent pond"}]},
                                          "finishReason": "STOP"}]}])
    markdown = final_bundle(response, show_thoughts=True)["text/markdown"]
    inside = markdown[:markdown.index("</details>")]
    assert all(line.startswith(">") for line in inside.split("\n\n", 1)[1].strip().splitlines())
    rendered = mistune.html(markdown)
    quote = rendered[rendered.index("<blockquote>"):rendered.index("</blockquote>")]
    assert "<strong>Reading the prompt</strong>" in quote and "Five, seven, five." in quote
    assert "An old silent pond" not in quote and rendered.index("An old silent pond") > rendered.index("</details>")


def test_several_candidates_are_numbered_from_one_under_headings_apart():
    chunk = {"candidates": [
        {"content": {"parts": [{"text": "Second answer"}]}, "finishReason": "MAX_TOKENS", "index": 1},
        {"content": {"parts": [{"text": "## Its own heading\n\nFirst answer"}]}, "finishReason": "STOP", "index": 0}]}
    bundle = final_bundle(Response([chunk]))
    markdown = bundle["text/markdown"]
    assert markdown.startswith("## Candidate 1 of 2\n\n## Its own heading\n\nFirst answer")
    assert "\n\n---\n\n## Candidate 2 of 2 (MAX_TOKENS)\n\nSecond answer" in markdown  # a rule between them
    assert "Candidate 0" not in markdown and "Candidate 0" not in bundle["text/plain"]
    assert "⚠️ The answer reached the output token limit" in markdown
    assert markdown.index("raise --max-tokens") > markdown.index("## Candidate 2 of 2")
    assert "STOP, MAX_TOKENS" in markdown
    assert bundle["text/plain"].startswith("=== Candidate 1 of 2 ===\n\n## Its own heading\n\nFirst answer\n\n"
                                           "=== Candidate 2 of 2 (MAX_TOKENS) ===\n\nSecond answer")


def test_terminal_view_numbers_the_other_candidates_from_one(capsys):
    view = StreamView("m", mode="terminal")
    chunk = {"candidates": [{"content": {"parts": [{"text": "First"}]}, "finishReason": "STOP", "index": 0},
                            {"content": {"parts": [{"text": "Second"}]}, "finishReason": "STOP", "index": 1}]}
    response = Response([chunk])
    view.update(response)
    view.finish(response)
    out = capsys.readouterr().out
    assert out.startswith("First\n\n[candidate 2 of 2]\nSecond\n\n---\n")


def test_code_execution_parts_are_shown_in_order():
    data = json.loads(recording("code_execution/fb_unary-code-execution.json").read_text())
    markdown = final_bundle(Response([data]))["text/markdown"]
    assert markdown.startswith("```python\nprime_numbers = [2, 3, 5, 7, 11]")
    assert "Output (ran OK):\n\n```\nsum_of_primes=28\n```\n\nThe first 5 prime numbers" in markdown


def test_output_format_code():
    response = Response([text_chunk("def f():\n    return 1", finishReason="STOP")])
    bundle = final_bundle(response, output_format="code")
    assert bundle["text/markdown"].startswith("```\ndef f():\n    return 1\n```\n\n---")
    assert bundle["text/plain"].startswith("def f():\n    return 1\n\n---")
    fenced = Response([text_chunk("```python\nx = 1\n```", finishReason="STOP")])
    assert final_bundle(fenced, output_format="code")["text/markdown"].startswith("```python\nx = 1\n```\n\n---")


def test_output_format_json():
    response = Response([text_chunk('{"a": [1, 2], "b": "ü"}', finishReason="STOP")])
    bundle = final_bundle(response, output_format="json")
    pretty = '{\n  "a": [\n    1,\n    2\n  ],\n  "b": "ü"\n}'
    assert bundle["text/markdown"].startswith("```json\n" + pretty + "\n```")
    assert bundle["text/plain"].startswith(pretty)
    broken = final_bundle(Response([text_chunk('{"a": ', finishReason="STOP")]), output_format="json")
    assert warnings_of(broken) == ["The answer is not valid JSON."]


def test_output_format_text_is_plain_only():
    bundle = final_bundle(Response([text_chunk("*not emphasis*", finishReason="STOP")]), output_format="text")
    assert set(bundle) == {"text/plain"} and bundle["text/plain"].startswith("*not emphasis*\n\n---\n")
    with pytest.raises(ValueError, match="output format"):
        final_bundle(Response(), output_format="html")
    with pytest.raises(ValueError, match="view mode"):
        StreamView("m", mode="browser")


def test_a_fence_inside_the_answer_cannot_close_the_code_block():
    response = Response([text_chunk("a\n```\nb", finishReason="STOP")])
    assert final_bundle(response, output_format="code")["text/markdown"].startswith("````\na\n```\nb\n````")
