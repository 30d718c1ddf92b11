"""How a Response shows itself in a notebook (`response_bundle`), built from real recorded answers."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import time

import pytest

from conftest import recording
from gemini_magic.render.explore import RAW_LIMIT, response_bundle, response_html
from gemini_magic.answer.response import Response


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


def test_bundle_renders_the_answer_as_markdown_then_the_sections():
    """No text/html: JupyterLab prefers HTML to Markdown, and the answer must render like the final view."""
    response = Response([{"candidates": [{"content": {"parts": [{"text": "Hello **there**\n\n- one"}]},
                                          "finishReason": "STOP"}], "modelVersion": "gemini-2.5-flash"}])
    bundle = response_bundle(response)
    assert set(bundle) == {"text/plain", "text/markdown"}
    assert bundle["text/plain"].startswith("<Response gemini-2.5-flash STOP text='Hello **there**\\n\\n- one'>\n\n"
                                           "Hello **there**\n\n- one\n\n---\n")
    markdown = bundle["text/markdown"]
    assert markdown.startswith("Hello **there**\n\n- one\n\n---\n\ngemini-2.5-flash · STOP")
    sections = markdown.split("\n\n")[-1]
    assert sections.startswith('<div class="gemini-response"><details><summary>Parts (1)</summary>')
    assert sections.rstrip("\n").count("\n") == 0, "the HTML must stay one Markdown block: no line breaks in it"
    assert "<script" not in markdown


def test_the_sections_stay_one_html_block_in_a_markdown_renderer():
    mistune = pytest.importorskip("mistune")
    thoughts = "**Planning**\n\nFirst I think.\n\n\n**Checking**\n\nThen I check."
    response = Response([{"candidates": [{"content": {"parts": [{"text": thoughts, "thought": True},
                                                                {"text": "# Title\n\nThe *answer*."}]},
                                          "finishReason": "STOP"}]}],
                        request={"contents": [{"parts": [{"text": "line one\n\nline two"}]}]})
    rendered = mistune.html(response_bundle(response)["text/markdown"])
    assert "<h1>Title</h1>" in rendered and "<em>answer</em>" in rendered
    thoughts_section = section(rendered, "Thoughts")
    assert "**Planning**&#10;&#10;First I think." in thoughts_section  # kept raw, not parsed as Markdown
    assert "<p>" not in rendered[rendered.index('<div class="gemini-response">'):]


def test_a_json_answer_is_highlighted_as_json():
    text = '{"city": "Kraków", "rivers": ["Vistula"]}'
    response = Response([{"candidates": [{"content": {"parts": [{"text": text}]}, "finishReason": "STOP"}]}],
                        request={"generationConfig": {"responseMimeType": "application/json"}})
    markdown = response_bundle(response)["text/markdown"]
    assert markdown.startswith('```json\n{\n  "city": "Kraków",\n  "rivers": [\n    "Vistula"\n  ]\n}\n```')
    # Without the request (a Response built by hand), a whole JSON answer is still shown as JSON.
    assert response_bundle(Response(response.raw))["text/markdown"].startswith("```json\n{")
    prose = Response([{"candidates": [{"content": {"parts": [{"text": "[1] is a citation."}]}, "finishReason": "STOP"}]}])
    assert response_bundle(prose)["text/markdown"].startswith("[1] is a citation.")


def test_the_plain_html_page_escapes_the_answer():
    response = Response([{"candidates": [{"content": {"parts": [{"text": "Hello there"}]}, "finishReason": "STOP"}],
                          "modelVersion": "gemini-2.5-flash"}])
    page = response_html(response)
    assert page.startswith('<div style="white-space:pre-wrap">Hello there</div>')
    assert "gemini-2.5-flash · STOP" in page and "<script" not in page


def test_image_answer_is_small_and_fast():
    path = recording("image_output/pydantic_gemini-2.5-flash-image_text+png_FULL.json")
    response = Response([json.loads(path.read_text())])
    started = time.perf_counter()
    bundle = response_bundle(response)
    page = response_html(response)
    elapsed = time.perf_counter() - started
    assert elapsed < 2
    assert sum(len(v) for v in bundle.values()) < 1_000_000
    # The answer shows its image in place, and the Parts section its thumbnail: both at most 256 px.
    assert page.count("<img") == 1 and bundle["text/markdown"].count("<img") == 2
    markdown = bundle["text/markdown"]
    assert markdown.index("axolotl") < markdown.index("<img") < markdown.index("\n\n---\n\n")
    assert "Here&#x27;s an image of an axolotl for you!" in page
    parts = section(page, "Parts (2)")
    assert "image/png, 1.5 MB" in parts
    # The 2 MB image is shown as a real thumbnail of at most 256 px, not as 2 MB of base64.
    src = re.search(r'<img src="data:(image/\w+);base64,([^"]+)"', page)
    from PIL import Image

    thumbnail = Image.open(io.BytesIO(base64.b64decode(src.group(2))))
    assert max(thumbnail.size) <= 256 and len(src.group(2)) < 200_000
    raw = section(page, "Raw JSON (1 chunk)")
    assert "more characters)" in raw and len(raw) < 20_000
    assert "iVBORw0KGgo" in raw  # the start of the base64, cut short


def test_small_image_thumbnail_reuses_the_base64_of_the_part():
    data = png_base64()
    response = Response([{"candidates": [{"content": {"parts": [
        {"text": "A red box"}, {"inlineData": {"mimeType": "image/png", "data": data}}]}, "finishReason": "STOP"}]}])
    page = response_html(response)
    assert f'<img src="data:image/png;base64,{data}" style="max-width:256px;max-height:256px"' in page


def test_safety_ratings_table_highlights_blocked_ones():
    safety = unary("safety_and_finish/fb_unary-finishReason-SAFETY.json")
    page = response_html(safety)
    table = section(page, "Safety ratings")
    assert table.count("<tr") == 5 and "HARM_CATEGORY_HATE_SPEECH" in table
    assert "background:#f8d7da" not in table
    assert "⚠️ The answer was stopped by the safety filters" in page

    ratings = [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True},
               {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"}]
    flagged = Response([{"candidates": [{"finishReason": "SAFETY", "safetyRatings": ratings}]}])
    page = response_html(flagged)
    table = section(page, "Safety ratings ⚠️")
    rows = re.findall(r"<tr[^>]*>.*?</tr>", table)
    assert "background:#f8d7da" in rows[1] and "HARASSMENT" in rows[1]
    assert "background:#f8d7da" not in rows[2]
    assert "(no text in the answer) — finish reason SAFETY" in page


def test_max_tokens_without_parts():
    page = response_html(unary("safety_and_finish/pydantic_gemini-2.5-pro_MAX_TOKENS_no-parts.json"))
    assert "(no text in the answer) — finish reason MAX_TOKENS" in page
    assert "raise --max-tokens" in page
    assert section(page, "Parts (0)").count("<tr>") == 1  # the header row only


def test_thoughts_and_parts_of_a_thinking_stream():
    response = streamed("thinking/adk_gemini-2.5-flash_includeThoughts.sse")
    page = response_html(response)
    thoughts = section(page, "Thoughts")
    assert "**Calculating Prime Sum**" in thoughts and "5117" in thoughts
    parts = section(page, "Parts")
    kinds = re.findall(r"<td [^>]*>(thought|text)</td>", parts)
    assert kinds[0] == "thought" and "text" in kinds
    usage = section(page, "Usage")
    assert "thoughtsTokenCount" in usage and "1,234" in usage and "TEXT 51" in usage
    assert section(page, "Raw JSON (19 chunks)").count('"candidates"') == 19


def test_code_execution_parts():
    page = response_html(unary("code_execution/fb_unary-code-execution.json"))
    parts = section(page, "Parts (3)")
    for kind in ("code", "code output", "text"):
        assert f">{kind}</td>" in parts
    assert html.escape("print(f'{sum_of_primes=}')") in parts
    assert "OUTCOME_OK" in parts and "sum_of_primes=28" in parts
    failed = response_html(unary("code_execution/vercel_code-exec_failed_with-id.json"))
    assert "OUTCOME_FAILED" in section(failed, "Parts") and "ZeroDivisionError" in failed


def test_google_search_grounding():
    page = response_html(unary("grounding/fb_unary-google-search.json"))
    grounding = section(page, "Grounding")
    assert "Searched: current weather in London" in grounding
    assert '<a href="https://www.google.com/search?q=weather+in+London" target="_blank" rel="noopener">' \
           "Weather information for locality: London</a>" in grounding
    assert "groundingSupports" in grounding
    assert "<style" not in page  # searchEntryPoint.renderedContent is shown as escaped JSON, never as HTML


def test_url_context_and_file_search_streams():
    page = response_html(streamed("grounding/fb_stream_url-context.sse"))
    assert '<a href="https://google.com"' in section(page, "Grounding")
    page = response_html(streamed("grounding/pydantic_gemini-2.5-pro_file-search.sse"))
    assert ">code</td>" in section(page, "Parts") and "The capital of France is Paris" in page


def test_everything_from_the_service_is_escaped():
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = Response([{"candidates": [{"content": {"parts": [{"text": evil}, {"functionCall": {
        "name": "<b>f</b>", "args": {"q": evil}}}]}, "finishReason": evil,
        "groundingMetadata": {"groundingChunks": [{"web": {"uri": "javascript:alert(1)", "title": evil}}]}}],
        "modelVersion": evil}], request={"contents": [{"parts": [{"text": evil}]}]})
    page = response_html(response)
    assert "<script" not in page and "onerror=alert(1)>" not in page and "<b>f</b>" not in page
    assert 'href="javascript' not in page  # shown in the JSON, never as a link
    assert html.escape(evil) in page


def test_request_body_is_shown_truncated():
    response = Response([{"candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}]}],
                        request={"contents": [{"role": "user", "parts": [{"text": "y" * 5000}]}],
                                 "generationConfig": {"temperature": 0.2}})
    body = section(response_html(response), "Request body")
    assert '"temperature": 0.2' in body and "(3,000 more characters)" in body


def test_several_candidates_get_a_section_each_numbered_from_one():
    chunk = {"candidates": [
        {"content": {"parts": [{"text": "First <answer>"}]}, "finishReason": "STOP", "index": 0},
        {"content": {"parts": [{"text": "Second answer"}]}, "finishReason": "MAX_TOKENS", "index": 1}]}
    page = response_html(Response([chunk]))
    first = section(page, "Candidate 1 of 2")
    assert "First &lt;answer&gt;" in first and "Parts (1)" in first
    assert page.index("Candidate 1 of 2") < page.index("Candidate 2 of 2")
    assert "Second answer" in page[page.index("Candidate 2 of 2"):]
    assert "Candidate 0" not in page
    markdown = response_bundle(Response([chunk]))["text/markdown"]
    assert "First <answer>" not in markdown  # the model's raw HTML is text, never a tag
    assert markdown.index("## Candidate 1 of 2") < markdown.index("First &lt;answer>") < markdown.index(
        "---\n\n## Candidate 2 of 2 (MAX_TOKENS)") < markdown.index("Second answer")
    sections = markdown[markdown.index('<div class="gemini-response">'):]
    assert "<b>Candidate 2 of 2</b> · MAX_TOKENS" in sections
    assert "pre-wrap\">Second answer" not in sections  # the answers are shown once, above


def test_parts_table_uses_the_labels_of_the_part_kinds():
    parts = [{"text": "Thinking", "thought": True, "thoughtSignature": "c2ln"}, {"text": "1 answer"},
             {"functionCall": {"name": "get_rainfall", "args": {"city": "Kraków"}}},
             {"functionResponse": {"name": "get_rainfall", "response": {"mm": 3}}},
             {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}},
             {"fileData": {"mimeType": "video/mp4", "fileUri": "https://x/files/v"}},
             {"toolCall": {"id": "1"}}]
    page = response_html(Response([{"candidates": [{"content": {"parts": parts}, "finishReason": "STOP"}]}]))
    rows = re.findall(r"<tr><td [^>]*>(\d+)</td><td [^>]*>([^<]*)</td><td [^>]*>(.*?)</td></tr>", section(page, "Parts"), re.S)
    assert [(number, label) for number, label, _ in rows] == [
        ("1", "thought"), ("2", "text"), ("3", "function call"), ("4", "function response"), ("5", "audio"),
        ("6", "file"), ("7", "toolCall")]
    contents = [content for _, _, content in rows]
    assert contents[0].startswith("8 characters: &#x27;Thinking&#x27;")
    assert contents[0].endswith("(thought signature, 4 characters)</span>")
    assert contents[1] == "8 characters: &#x27;1 answer&#x27;"
    assert "get_rainfall({&quot;city&quot;: &quot;Kraków&quot;})" in contents[2]
    assert "&quot;mm&quot;: 3" in contents[3]
    assert contents[4] == "audio/wav, 4 bytes"
    assert contents[5] == "uploaded file https://x/files/v"
    assert "&quot;id&quot;: &quot;1&quot;" in contents[6]


def test_raw_json_of_a_long_stream_is_capped():
    response = Response([{"candidates": [{"content": {"parts": [{"text": f"piece {i} " * 20}]}}]}
                         for i in range(5000)], streamed=True)
    started = time.perf_counter()
    page = response_html(response)
    assert time.perf_counter() - started < 2
    raw = section(page, "Raw JSON (5,000 chunks)")
    assert len(raw) < RAW_LIMIT * 1.5
    assert re.search(r"… \d(?:,\d{3})* more chunks not shown \(all of them are in \.raw\)", raw)
    assert "(incomplete)" not in page and "The stream ended before the model finished" in page


def test_truncate_strings_is_used_for_json_views():
    from gemini_magic.render.explore import truncate_strings

    payload = {"parts": [{"inlineData": {"mimeType": "image/png", "data": "A" * 5000}}, {"text": "short"}], "n": 3}
    cut = truncate_strings(payload)
    assert cut["parts"][0]["inlineData"]["data"] == "A" * 2000 + "… (3,000 more characters)"
    assert cut["parts"][1] == {"text": "short"} and cut["n"] == 3
    assert payload["parts"][0]["inlineData"]["data"] == "A" * 5000  # the original is untouched
