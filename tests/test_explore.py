"""How a Response shows itself in a notebook (`response_bundle`), built from real recorded answers."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import time

from conftest import recording
from gemini_magic.render.explore import RAW_LIMIT, response_bundle
from gemini_magic.response import Response


def unary(relative):
    return Response([json.loads(recording(relative).read_text())])


def streamed(relative):
    from gemini_magic.wire.sse import SSEDecoder

    decoder = SSEDecoder()
    events = decoder.feed(recording(relative).read_bytes()) + decoder.close()
    return Response([json.loads(event.data) for event in events], streamed=True)


def section(page, title):
    """The body of the first <details> whose summary starts with `title`."""
    match = re.search(r"<details(?: open)?><summary>(?:<b>)?" + re.escape(title) + r".*?</summary>(.*?)</details>",
                      page, re.S)
    assert match, f"no section {title!r}"
    return match.group(1)


def png_base64(size=(8, 6), mode="RGB"):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new(mode, size, "red").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_bundle_keys_and_plain_text():
    response = Response([{"candidates": [{"content": {"parts": [{"text": "Hello there"}]}, "finishReason": "STOP"}],
                          "modelVersion": "gemini-2.5-flash"}])
    bundle = response._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/markdown", "text/html"}
    assert bundle["text/plain"].startswith("<Response gemini-2.5-flash STOP text='Hello there'>\n\nHello there\n\n---\n")
    assert bundle["text/markdown"].startswith("Hello there\n\n---\n\ngemini-2.5-flash · STOP")
    page = bundle["text/html"]
    assert '<div style="white-space:pre-wrap">Hello there</div>' in page
    assert "<script" not in page


def test_image_answer_is_small_and_fast():
    path = recording("image_output/pydantic_gemini-2.5-flash-image_text+png_FULL.json")
    response = Response([json.loads(path.read_text())])
    started = time.perf_counter()
    bundle = response_bundle(response)
    elapsed = time.perf_counter() - started
    page = bundle["text/html"]
    assert elapsed < 2
    assert sum(len(v) for v in bundle.values()) < 1_000_000
    assert page.count("<img") == 1
    assert "Here&#x27;s an image of an axolotl for you!" in page
    parts = section(page, "Parts (2)")
    assert "image/png, 1.5 MB" in parts
    # The 2 MB image is shown as a real thumbnail of at most 256 px, not as 2 MB of base64.
    src = re.search(r'<img src="data:(image/\w+);base64,([^"]+)"', page)
    from PIL import Image

    thumbnail = Image.open(io.BytesIO(base64.b64decode(src.group(2))))
    assert max(thumbnail.size) <= 256 and len(src.group(2)) < 200_000
    raw = section(page, "Raw JSON (1 chunk)")
    assert "more chars)" in raw and len(raw) < 20_000
    assert "iVBORw0KGgo" in raw  # the start of the base64, cut short


def test_small_image_thumbnail_reuses_the_base64_of_the_part():
    data = png_base64()
    response = Response([{"candidates": [{"content": {"parts": [
        {"text": "A red box"}, {"inlineData": {"mimeType": "image/png", "data": data}}]}, "finishReason": "STOP"}]}])
    page = response_bundle(response)["text/html"]
    assert f'<img src="data:image/png;base64,{data}" style="max-width:256px;max-height:256px"' in page


def test_safety_ratings_table_highlights_blocked_ones():
    safety = unary("safety_and_finish/fb_unary-finishReason-SAFETY.json")
    page = response_bundle(safety)["text/html"]
    table = section(page, "Safety ratings")
    assert table.count("<tr") == 5 and "HARM_CATEGORY_HATE_SPEECH" in table
    assert "background:#f8d7da" not in table
    assert "⚠️ The answer was stopped by the safety filters" in page

    ratings = [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True},
               {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"}]
    flagged = Response([{"candidates": [{"finishReason": "SAFETY", "safetyRatings": ratings}]}])
    page = response_bundle(flagged)["text/html"]
    table = section(page, "Safety ratings ⚠️")
    rows = re.findall(r"<tr[^>]*>.*?</tr>", table)
    assert "background:#f8d7da" in rows[1] and "HARASSMENT" in rows[1]
    assert "background:#f8d7da" not in rows[2]
    assert "(no text in the answer) — finish reason SAFETY" in page


def test_max_tokens_without_parts():
    page = response_bundle(unary("safety_and_finish/pydantic_gemini-2.5-pro_MAX_TOKENS_no-parts.json"))["text/html"]
    assert "(no text in the answer) — finish reason MAX_TOKENS" in page
    assert "raise --max-tokens" in page
    assert section(page, "Parts (0)").count("<tr>") == 1  # the header row only


def test_thoughts_and_parts_of_a_thinking_stream():
    response = streamed("thinking/adk_gemini-2.5-flash_includeThoughts.sse")
    page = response_bundle(response)["text/html"]
    thoughts = section(page, "Thoughts")
    assert "**Calculating Prime Sum**" in thoughts and "5117" in thoughts
    parts = section(page, "Parts")
    kinds = re.findall(r"<td [^>]*>(thought|text)</td>", parts)
    assert kinds[0] == "thought" and "text" in kinds
    usage = section(page, "Usage")
    assert "thoughtsTokenCount" in usage and "1,234" in usage and "TEXT 51" in usage
    assert section(page, "Raw JSON (19 chunks)").count('"candidates"') == 19


def test_code_execution_parts():
    page = response_bundle(unary("code_execution/fb_unary-code-execution.json"))["text/html"]
    parts = section(page, "Parts (3)")
    for kind in ("executableCode", "codeExecutionResult", "text"):
        assert f">{kind}</td>" in parts
    assert html.escape("print(f'{sum_of_primes=}')") in parts
    assert "OUTCOME_OK" in parts and "sum_of_primes=28" in parts
    failed = response_bundle(unary("code_execution/vercel_code-exec_failed_with-id.json"))["text/html"]
    assert "OUTCOME_FAILED" in section(failed, "Parts") and "ZeroDivisionError" in failed


def test_google_search_grounding():
    page = response_bundle(unary("grounding/fb_unary-google-search.json"))["text/html"]
    grounding = section(page, "Grounding")
    assert "Searched: current weather in London" in grounding
    assert '<a href="https://www.google.com/search?q=weather+in+London" target="_blank" rel="noopener">' \
           "Weather information for locality: London</a>" in grounding
    assert "groundingSupports" in grounding
    assert "<style" not in page  # searchEntryPoint.renderedContent is shown as escaped JSON, never as HTML


def test_url_context_and_file_search_streams():
    page = response_bundle(streamed("grounding/fb_stream_url-context.sse"))["text/html"]
    assert '<a href="https://google.com"' in section(page, "Grounding")
    page = response_bundle(streamed("grounding/pydantic_gemini-2.5-pro_file-search.sse"))["text/html"]
    assert "executableCode" in section(page, "Parts") and "The capital of France is Paris" in page


def test_everything_from_the_service_is_escaped():
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = Response([{"candidates": [{"content": {"parts": [{"text": evil}, {"functionCall": {
        "name": "<b>f</b>", "args": {"q": evil}}}]}, "finishReason": evil,
        "groundingMetadata": {"groundingChunks": [{"web": {"uri": "javascript:alert(1)", "title": evil}}]}}],
        "modelVersion": evil}], request={"contents": [{"parts": [{"text": evil}]}]})
    page = response_bundle(response)["text/html"]
    assert "<script" not in page and "onerror=alert(1)>" not in page and "<b>f</b>" not in page
    assert 'href="javascript' not in page  # shown in the JSON, never as a link
    assert html.escape(evil) in page


def test_request_body_is_shown_truncated():
    response = Response([{"candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}]}],
                        request={"contents": [{"role": "user", "parts": [{"text": "y" * 5000}]}],
                                 "generationConfig": {"temperature": 0.2}})
    body = section(response_bundle(response)["text/html"], "Request body")
    assert '"temperature": 0.2' in body and "(3,000 more chars)" in body


def test_several_candidates_get_a_section_each():
    chunk = {"candidates": [
        {"content": {"parts": [{"text": "First <answer>"}]}, "finishReason": "STOP", "index": 0},
        {"content": {"parts": [{"text": "Second answer"}]}, "finishReason": "MAX_TOKENS", "index": 1}]}
    page = response_bundle(Response([chunk]))["text/html"]
    first = section(page, "Candidate 0")
    assert "First &lt;answer&gt;" in first and "Parts (1)" in first
    assert page.index("Candidate 0") < page.index("Candidate 1")
    assert "Second answer" in page[page.index("Candidate 1"):]


def test_raw_json_of_a_long_stream_is_capped():
    response = Response([{"candidates": [{"content": {"parts": [{"text": f"piece {i} " * 20}]}}]}
                         for i in range(5000)], streamed=True)
    started = time.perf_counter()
    page = response_bundle(response)["text/html"]
    assert time.perf_counter() - started < 2
    raw = section(page, "Raw JSON (5000 chunks)")
    assert len(raw) < RAW_LIMIT * 1.5
    assert re.search(r"… \d+ more chunks not shown \(all of them are in \.raw\)", raw)
    assert "(incomplete)" not in page and "The stream ended before the model finished" in page


def test_truncate_strings_is_used_for_json_views():
    from gemini_magic.render.explore import truncate_strings

    payload = {"parts": [{"inlineData": {"mimeType": "image/png", "data": "A" * 5000}}, {"text": "short"}], "n": 3}
    cut = truncate_strings(payload)
    assert cut["parts"][0]["inlineData"]["data"] == "A" * 2000 + "… (3,000 more chars)"
    assert cut["parts"][1] == {"text": "short"} and cut["n"] == 3
    assert payload["parts"][0]["inlineData"]["data"] == "A" * 5000  # the original is untouched
