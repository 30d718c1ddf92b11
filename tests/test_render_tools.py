"""Function calls, code execution and citations as the views show them: a collapsible section per call
(live, final, explorer), code and its outcome, markers at the right characters of non-ASCII answers,
the numbered sources and the search suggestions."""

from __future__ import annotations

import html
import json
import re

import pytest

from conftest import recording
from gemini_magic.render import StreamView, final_bundle
from gemini_magic.render.calls import call_markdown, call_text, records_from_parts
from gemini_magic.render.cited import Citations, byte_spans
from gemini_magic.render.explore import response_bundle
from gemini_magic.render.final import final_bundles, footer_line
from gemini_magic.answer.response import Response
from gemini_magic.wire.sse import SSEDecoder
from helpers import Recorder

G3 = "gemini-3-flash-preview"


def get_rainfall(city: str, month: int) -> float:
    """Average rainfall in millimetres for a city and month (1-12)."""
    return {"Huế": 795.6}.get(city, 50.0)


def get_temperature(city: str) -> float:
    """Average temperature of a city in °C."""
    raise KeyError(city)


def sse(relative):
    decoder = SSEDecoder()
    events = decoder.feed(recording(relative).read_bytes()) + decoder.close()
    return Response([json.loads(event.data) for event in events], streamed=True)


# -- function calls -------------------------------------------------------------------------------

def test_a_call_section_holds_name_arguments_result_and_seconds():
    record = {"name": "get_rainfall", "args": {"city": "Huế", "month": 10}, "result": 795.6, "seconds": 0.01234}
    markdown = call_markdown(record)
    assert markdown.startswith('<details><summary>🔧 get_rainfall({&quot;city&quot;: &quot;Huế&quot;, '
                               '&quot;month&quot;: 10}) = 795.6 · 0.012 s</summary>')
    assert '**Arguments**\n\n```json\n{\n  "city": "Huế",\n  "month": 10\n}\n```' in markdown
    assert "**Result**\n\n```json\n795.6\n```" in markdown and markdown.endswith("</details>")
    failed = {"name": "get_temperature", "args": {"city": "Huế"}, "error": "KeyError: 'Huế'", "seconds": 0.0}
    assert call_text(failed) == '→ get_temperature({"city": "Huế"}) ✗ KeyError · 0.000 s\n  error: KeyError: \'Huế\''
    assert "**Error**\n\n```\nKeyError: 'Huế'\n```" in call_markdown(failed)


def test_parallel_calls_recording_shows_one_section_per_call_not_run():
    response = sse("function_call/adk_gemini-3-flash-preview_parallel-calls.sse")
    calls = response.function_calls
    assert len(calls) >= 2
    markdown = final_bundle(response)["text/markdown"]
    assert markdown.count("<details><summary>🔧 ") == len(calls)
    for call in calls:
        assert f"🔧 {call['name']}(" in markdown
    assert markdown.count("*Not run: the call was only proposed.*") == len(calls)


def test_calls_are_paired_with_their_responses_by_id_then_name():
    parts = [{"functionCall": {"name": "a", "args": {"x": 1}, "id": "1"}},
             {"functionCall": {"name": "a", "args": {"x": 2}, "id": "2"}},
             {"functionResponse": {"name": "a", "id": "2", "response": {"result": "two"}}},
             {"functionResponse": {"name": "a", "id": "1", "response": {"error": "ValueError: one"}}}]
    assert records_from_parts(parts) == [{"name": "a", "args": {"x": 1}, "id": "1", "error": "ValueError: one"},
                                         {"name": "a", "args": {"x": 2}, "id": "2", "result": "two"}]


def test_the_automatic_loop_shows_each_call_live_and_in_the_final_display(client, emulator):
    recorder = Recorder()
    view = StreamView(G3, mode="widget", display=recorder)
    view.start()
    stream = client.stream(G3, "get_rainfall for Huế in month 10 and get_temperature for Huế",
                           tools=[get_rainfall, get_temperature], on_call=view.add_call)
    drawn = []
    for _ in stream:
        view.update(stream.response)
        view._next_draw = 0
        drawn.append(json.dumps(view.answer.shown(), ensure_ascii=False))
    assert not any("Not run" in d for d in drawn)  # proposed calls read as lines while streaming
    assert any("→ function call: `get_rainfall(" in d for d in drawn)
    assert view.calls_output.value.count("<details>") == 2  # both calls shown live, as they ran
    assert "get_rainfall(" in view.calls_output.value and "KeyError" in view.calls_output.value
    response = stream.response
    view.finish(response)
    (kind, final, _), = [call for call in recorder.calls if call[2].get("raw")]
    markdown = final["text/markdown"]
    assert kind == "update" and markdown.count("<details><summary>🔧 ") == 2
    assert "= 795.6 · " in markdown and "✗ KeyError" in markdown
    assert markdown.index("get_rainfall(") < markdown.index(response.text[:20])  # the calls, then the answer
    assert view.calls_output.value == ""  # emptied: the final display holds the calls once


def test_the_explorer_lists_every_call_of_the_exchange(client, emulator):
    response = client.generate(G3, "What is get_rainfall for Huế in month 10?", tools=[get_rainfall])
    markdown = response_bundle(response)["text/markdown"]
    assert "<summary>Function calls (1)</summary>" in markdown
    assert "= 795.6 · " in markdown and "get_rainfall returned 795.6" in markdown


def test_terminal_view_prints_a_line_per_call(capsys):
    view = StreamView("m", mode="terminal")
    view.add_call({"name": "f", "args": {}, "result": [1, 2], "seconds": 0.5})
    assert capsys.readouterr().out == "→ f({}) = [1, 2] · 0.500 s\n"


# -- code execution -------------------------------------------------------------------------------

def test_code_execution_recordings_show_code_output_and_outcome():
    ok = json.loads(recording("code_execution/fb_unary-code-execution.json").read_text())
    markdown = final_bundle(Response([ok]))["text/markdown"]
    assert markdown.startswith("```python\nprime_numbers = [2, 3, 5, 7, 11]")
    assert "Output (ran OK):\n\n```\nsum_of_primes=28\n```" in markdown
    failed = json.loads(recording("code_execution/vercel_code-exec_failed_with-id.json").read_text())
    markdown = final_bundle(Response([failed]))["text/markdown"]
    assert markdown.startswith("```python\nprint('ok')\nprint(1/0)\n```\n\nOutput (failed):\n\n```\nstdout: ok")
    assert "ZeroDivisionError" in markdown


def test_images_the_code_made_are_shown_as_images_after_its_output():
    png = "iVBORw0KGgo="
    response = Response([{"candidates": [{"content": {"parts": [
        {"executableCode": {"language": "PYTHON", "code": "plt.plot([1, 2])"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": ""}},
        {"inlineData": {"mimeType": "image/png", "data": png}},
        {"text": "The plot rises."}]}, "finishReason": "STOP"}]}])
    bundles = final_bundles(response)
    assert [next(iter(b)) for b in bundles] == ["text/markdown", "image/png", "text/markdown"]
    assert bundles[0]["text/markdown"].startswith("```python\nplt.plot([1, 2])\n```\n\nOutput (ran OK):")
    assert bundles[1]["image/png"] == png and bundles[2]["text/markdown"].startswith("The plot rises.")


# -- citations ------------------------------------------------------------------------------------

TEXT = "Huế mưa nhiều vào tháng 10. 🌧️ Mùa mưa kéo dài đến tháng 12. Hà Nội khô hơn."
SENTENCES = ["Huế mưa nhiều vào tháng 10.", "🌧️ Mùa mưa kéo dài đến tháng 12.", "Hà Nội khô hơn."]


def grounded(text=TEXT, sentences=SENTENCES, indices=([0], [0, 1], [2]), entry=None):
    supports = []
    for sentence, chunks in zip(sentences, indices):
        start = text.index(sentence)
        supports.append({"segment": {"startIndex": len(text[:start].encode()),
                                     "endIndex": len(text[:start + len(sentence)].encode()), "text": sentence},
                         "groundingChunkIndices": list(chunks)})
    metadata = {"groundingChunks": [{"web": {"uri": "https://a.example/hue", "title": "Huế"}},
                                    {"web": {"uri": "https://b.example/mua", "title": "Mùa mưa"}},
                                    {"web": {"uri": "https://c.example/hn", "title": "Hà Nội"}}],
                "groundingSupports": supports, "webSearchQueries": ["mưa Huế"]}
    if entry:
        metadata["searchEntryPoint"] = {"renderedContent": entry}
    return Response([{"candidates": [{"content": {"parts": [{"text": text}]}, "finishReason": "STOP",
                                      "groundingMetadata": metadata}]}])


def test_markers_follow_each_supported_segment_at_the_right_characters():
    plain = final_bundle(grounded())["text/plain"]
    assert plain.startswith("Huế mưa nhiều vào tháng 10.[1] 🌧️ Mùa mưa kéo dài đến tháng 12.[1][2] "
                            "Hà Nội khô hơn.[3]\n\nSources:\n[1] Huế — https://a.example/hue\n"
                            "[2] Mùa mưa — https://b.example/mua\n[3] Hà Nội — https://c.example/hn\n\n---")
    markdown = final_bundle(grounded())["text/markdown"]
    assert markdown.startswith("Huế mưa nhiều vào tháng 10.[\\[1\\]](https://a.example/hue) 🌧️ Mùa mưa")
    assert "12.[\\[1\\]](https://a.example/hue)[\\[2\\]](https://b.example/mua) Hà Nội" in markdown
    assert "**Sources**\n\n1. [Huế](https://a.example/hue)\n2. [Mùa mưa](https://b.example/mua)\n3. [Hà Nội]" in markdown


def test_markers_land_right_when_the_text_arrives_in_several_parts():
    first, second = TEXT[:12], TEXT[12:]
    chunks = [{"candidates": [{"content": {"parts": [{"text": first, "thoughtSignature": "s1"}]}}]},
              {"candidates": [{"content": {"parts": [{"text": second, "thoughtSignature": "s2"}]},
                               "finishReason": "STOP",
                               "groundingMetadata": grounded().grounding_metadata}]}]
    response = Response(chunks, streamed=True)
    assert len(response.parts) == 2
    plain = final_bundle(response)["text/plain"]
    assert plain.startswith("Huế mưa nhiều vào tháng 10.[1] 🌧️ Mùa mưa kéo dài đến tháng 12.[1][2] Hà Nội")


def test_the_fallback_converter_places_byte_offsets_as_characters():
    response = grounded()
    spans = byte_spans(TEXT, response.grounding_metadata)
    assert [TEXT[a:b] for a, b, _ in spans] == SENTENCES
    cited = Citations(spans)
    assert cited.marks == {len(SENTENCES[0]): [1], TEXT.index("Hà") - 1: [1, 2], len(TEXT): [3]}


def test_search_suggestions_are_shown_as_html_after_the_sources():
    entry = '<style>.chip{color:red}</style><div class="container"><a class="chip" href="https://g">mưa Huế</a></div>'
    bundles = final_bundles(grounded(entry=entry))
    assert [next(iter(b)) for b in bundles] == ["text/markdown", "text/html", "text/markdown"]
    assert bundles[1]["text/plain"] == "Google Search suggestions: mưa Huế"
    frame = bundles[1]["text/html"]  # the service's HTML only inside a sandboxed frame, never in the page
    assert frame.startswith("<iframe ") and frame.endswith("</iframe>") and "<style" not in frame
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in frame and "allow-scripts" not in frame
    assert html.unescape(frame.split('srcdoc="')[1].split('"')[0]) == '<base target="_blank">' + entry
    assert "Sources" in bundles[0]["text/markdown"] and bundles[2]["text/markdown"].startswith("---")
    assert "<style" not in response_bundle(grounded(entry=entry))["text/markdown"]  # the explorer escapes it


def test_google_search_recording_is_cited_and_shows_its_suggestions():
    data = json.loads(recording("grounding/fb_unary-google-search.json").read_text())
    response = Response([data])
    bundles = final_bundles(response)
    text = bundles[0]["text/plain"]
    assert text.startswith("The current weather in London, United Kingdom is cloudy.[1] The temperature is "
                           "67°F (19°C), but it feels like 75°F (24°C).[2]")
    assert re.search(r"Sources:\n\[1\] ", text)
    rendered = data["candidates"][0]["groundingMetadata"]["searchEntryPoint"]["renderedContent"]
    assert any(html.escape(rendered, quote=True) in b.get("text/html", "") for b in bundles)


def test_emulator_search_answer_in_vietnamese_gets_its_markers(client):
    response = client.generate("gemini-2.5-flash", "Mùa mưa ở Huế?", tools=["google_search"])
    plain = final_bundle(response)["text/plain"]
    for start, end, sources in response.citations:
        assert response.text[start:end] in plain
    body = plain.split("\n\nSources:")[0]
    markers = re.findall(r"\[\d\]", body)
    assert len(markers) >= len(response.citations)
    first_end = response.citations[0][1]
    assert body[first_end:first_end + 3] == "[1]"  # right after the first segment, not shifted by bytes


def test_terminal_view_of_the_loop_prints_each_turn_and_call_once(client, emulator, capsys):
    view = StreamView(G3, mode="terminal", update_interval=0)
    stream = client.stream(G3, "What is get_rainfall for Huế in month 10?", tools=[get_rainfall],
                           on_call=view.add_call)
    for _ in stream:
        view.update(stream.response)
        view._next_draw = 0
    view.finish(stream.response)
    out = capsys.readouterr().out
    answer = stream.response.text
    assert out.count('→ get_rainfall({"city": "Huế", "month": 10}) = 795.6 · ') == 1
    assert out.count(answer.strip()) == 1 and out.index("→ get_rainfall") < out.index(answer.strip())


# -- every shared recording of what the model makes ---------------------------------------------------

def _recorded(path):
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        return Response(data if isinstance(data, list) else [data])
    decoder = SSEDecoder()
    events = decoder.feed(path.read_bytes()) + decoder.close()
    return Response([json.loads(event.data) for event in events], streamed=True)


def _made_recordings():
    from conftest import all_recordings

    folders = ("function_call", "code_execution", "grounding", "image_output")
    return [p for p in all_recordings(".json", ".sse") if p.parent.name in folders]


@pytest.mark.parametrize("path", _made_recordings(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_recording_of_calls_code_grounding_and_images_renders_whole_and_in_order(path):
    response = _recorded(path)
    bundles = final_bundles(response)
    plain = "\n\n".join(b.get("text/plain", "") for b in bundles)
    unmarked = re.sub(r"\[\d+\]", "", plain)
    pieces = [p["text"] for p in response.parts if p.get("text") and not p.get("thought")]
    position = 0
    for piece in pieces:  # every text part, in order, each once
        found = unmarked.find(piece.strip(), position)
        assert found >= 0, piece[:60]
        position = found
    images = [p["inlineData"]["data"] for p in response.parts if p.get("inlineData", {}).get("mimeType") == "image/png"]
    assert [b["image/png"] for b in bundles if "image/png" in b] == images
    calls = response.function_calls
    assert plain.count("→ ") >= len(calls)
    for call in calls:
        assert f"→ {call['name']}(" in plain
    assert plain.rstrip().splitlines()[-1] == footer_line(response)
