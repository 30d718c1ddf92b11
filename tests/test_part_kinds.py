"""The one table of part kinds: every view reads a part the same way, and a new kind is one entry."""

from __future__ import annotations

import base64
import html
import io
import json
import re

import pytest

from gemini_magic.answer import part_kinds
from gemini_magic.answer.part_kinds import KINDS, PartKind, kind_named, kind_of
from gemini_magic.parts import describe_part
from gemini_magic.render import final_bundle, image_bundles
from gemini_magic.render.dry_run import dry_run_bundle
from gemini_magic.render.explore import response_html
from gemini_magic.render.part_kinds import part_html, part_thumbnail
from gemini_magic.answer.response import Response

PNG_1PX = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

ONE_OF_EACH = [
    ({"text": "Hello"}, "text", "text"),
    ({"text": "Hmm", "thought": True, "thoughtSignature": "c2ln"}, "thought", "thought"),
    ({"inlineData": {"mimeType": "image/png", "data": PNG_1PX}}, "image", "image"),
    ({"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}}, "audio", "audio"),
    ({"inlineData": {"mimeType": "video/mp4", "data": "AAAA"}}, "video", "video"),
    ({"inlineData": {"mimeType": "application/pdf", "data": "JVBERg=="}}, "inline data", "inline data"),
    ({"fileData": {"mimeType": "video/mp4", "fileUri": "https://x/files/v"}}, "file", "file"),
    ({"functionCall": {"name": "get_rainfall", "args": {"city": "Kraków"}}}, "function call", "function call"),
    ({"functionResponse": {"name": "get_rainfall", "response": {"mm": 3}}}, "function response", "function response"),
    ({"executableCode": {"language": "PYTHON", "code": "print(1)\nprint(2)"}}, "executable code", "code"),
    ({"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n2\n"}}, "code execution result", "code output"),
    ({"toolCall": {"id": "7"}}, "unknown", "toolCall"),
]


@pytest.mark.parametrize("part, name, label", ONE_OF_EACH, ids=[label for _, _, label in ONE_OF_EACH])
def test_every_part_has_exactly_one_kind_with_a_label(part, name, label):
    kind = kind_of(part)
    assert kind.name == name and kind.label_for(part) == label
    assert kind is kind_named(name)
    assert sum(1 for k in KINDS[:-1] if k.matches(part)) == (0 if name == "unknown" else 1)


def test_how_each_kind_reads_in_an_answer():
    reads = {label: (kind_of(part).markdown(part), kind_of(part).text(part)) for part, _, label in ONE_OF_EACH}
    assert reads["text"] == ("Hello", "Hello")
    assert reads["image"] == ("\\[image/png, 70 bytes\\]", "[image/png, 70 bytes]")
    assert reads["function call"] == ('→ function call: `get_rainfall({"city": "Kraków"})`',
                                      '→ function call: get_rainfall({"city": "Kraków"})')
    assert reads["function response"][0] == "→ function response: `get_rainfall`"
    assert reads["code"][0] == "```python\nprint(1)\nprint(2)\n```"
    assert reads["code output"][0] == "Output (ran OK):\n\n```\n1\n2\n```"
    assert reads["file"] == ("\\[file video/mp4: https://x/files/v\\]", "[file video/mp4: https://x/files/v]")
    assert reads["toolCall"] == ("\\[toolCall\\]", "[toolCall]")
    assert not kind_named("thought").in_answer


HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.mark.parametrize("part", [
    {"inlineData": {"mimeType": HOSTILE, "data": "AA=="}},
    {"inlineData": {"mimeType": "image/" + HOSTILE, "data": "AA=="}},
    {"fileData": {"mimeType": HOSTILE, "fileUri": "javascript:alert(1)//" + HOSTILE}},
    {"functionCall": {"name": "f`" + HOSTILE, "args": {"x": "`" + HOSTILE}}},
    {"functionResponse": {"name": "``" + HOSTILE, "response": {}}},
    {"executableCode": {"language": HOSTILE, "code": "print(1)"}},
    {"codeExecutionResult": {"outcome": HOSTILE, "output": "1"}},
    {HOSTILE: 1},
], ids=lambda part: next(iter(part)))
def test_a_service_string_in_a_part_never_reads_as_html_in_markdown(part):
    """Every kind's Markdown keeps a hostile string literal: escaped, in a code span, or dropped."""
    markdown = kind_of(part).markdown(part)
    if markdown.startswith("```") or "\n```" in markdown:  # a fence: its info string holds a language name only
        fence_line = next(line for line in markdown.splitlines() if line.startswith("```"))
        assert "<" not in fence_line
        markdown = markdown[:markdown.index("```")] if not markdown.startswith("```") else ""
    outside_code = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", markdown)
    assert "<img" not in outside_code and "<" not in outside_code
    if "functionCall" in part or "functionResponse" in part:  # in one code span that no backtick closes early
        ticks = re.match(r".*?: (`+)", markdown).group(1)
        assert markdown.endswith(ticks) and markdown.count(ticks) == 2


def test_summaries_count_in_proper_singular_and_plural():
    assert kind_of({"text": "A"}).summary({"text": "A"}) == "1 character: 'A'"
    code = {"executableCode": {"language": "LANGUAGE_UNSPECIFIED", "code": "x = 1"}}
    assert kind_of(code).summary(code) == "code, 1 line"
    assert kind_of({"inlineData": {"mimeType": "audio/ogg", "data": "AA=="}}).summary(
        {"inlineData": {"mimeType": "audio/ogg", "data": "AA=="}}) == "audio/ogg, 1 byte"


def test_html_is_built_from_the_table_and_escaped():
    call = {"functionCall": {"name": "<b>f</b>", "args": {"q": "<script>"}}}
    assert part_html(call) == html.escape('<b>f</b>({"q": "<script>"})')
    code = part_html({"executableCode": {"language": "PYTHON", "code": "if a < b: print('x')"}})
    assert code.startswith("python, 1 line<pre ") and "if a &lt; b: print(&#x27;x&#x27;)</pre>" in code
    image = {"inlineData": {"mimeType": "image/png", "data": PNG_1PX}}
    assert part_thumbnail(image).startswith(f'<img src="data:image/png;base64,{PNG_1PX}"')
    assert "(no preview: the image could not be decoded" in part_thumbnail(
        {"inlineData": {"mimeType": "image/tiff", "data": "AAAA"}})
    assert part_thumbnail({"text": "no image"}) == ""


def test_an_image_type_browsers_cannot_show_gets_a_converted_thumbnail():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (600, 300), "blue").save(buffer, format="TIFF")
    tiff = {"inlineData": {"mimeType": "image/tiff", "data": base64.b64encode(buffer.getvalue()).decode()}}
    src = re.search(r'<img src="data:(image/\w+);base64,([^"]+)"', part_thumbnail(tiff))
    assert src.group(1) == "image/jpeg"
    assert Image.open(io.BytesIO(base64.b64decode(src.group(2)))).size == (256, 128)
    response = Response([{"candidates": [{"content": {"parts": [tiff]}, "finishReason": "STOP"}]}])
    assert image_bundles(response) == []  # shown in the explorer's thumbnail, not as TIFF display data


def test_describe_uses_the_table_and_names_media_by_type():
    assert describe_part({"functionResponse": {"name": "f", "response": {}}})["kind"] == "function response"
    assert describe_part({"toolCall": {"id": "7"}})["kind"] == "toolCall"
    text = describe_part({"text": "é"})
    assert (text["kind"], text["bytes"], text["summary"]) == ("text", 2, "1 character: 'é'")
    csv = describe_part({"inlineData": {"mimeType": "text/csv", "data": base64.b64encode(b"a\n1\n").decode()}})
    assert (csv["kind"], csv["summary"]) == ("table", "CSV 1 row x 1 column")
    broken = describe_part({"inlineData": {"mimeType": "image/png", "data": "not base64!"}})
    assert (broken["kind"], broken["summary"]) == ("data", "inline data that is not valid base64")


def test_a_new_kind_is_one_entry_in_the_table(monkeypatch):
    """A kind the views have never heard of shows in the answer, the explorer and the dry run at once."""

    class RainfallKind(PartKind):
        name = label = "rainfall"

        def matches(self, part):
            return "rainfall" in part

        def summary(self, part):
            return f"{part['rainfall']['mm']} mm of rain"

        def detail(self, part):
            return None

        def markdown(self, part):
            return f"🌧️ **{self.summary(part)}**"

        text = summary

    monkeypatch.setattr(part_kinds, "KINDS", (RainfallKind(), *KINDS))
    part = {"rainfall": {"mm": 12}}
    response = Response([{"candidates": [{"content": {"parts": [{"text": "Today:"}, part]}, "finishReason": "STOP"}]}])
    bundle = final_bundle(response)
    assert bundle["text/markdown"].startswith("Today:\n\n🌧️ **12 mm of rain**")
    assert bundle["text/plain"].startswith("Today:\n\n12 mm of rain")
    assert ">rainfall</td><td " in response_html(response) and "12 mm of rain</td>" in response_html(response)
    dry = dry_run_bundle("m", {"contents": [{"role": "user", "parts": [part]}]}, "offline")
    assert "| 1 | user | rainfall |  | " in dry["text/markdown"] and "12 mm of rain" in dry["text/markdown"]
    assert describe_part(part)["bytes"] == len(json.dumps(part).encode())
