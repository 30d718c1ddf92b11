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


def test_the_transcript_the_interactions_input_and_live_turns_ask_the_table_too(monkeypatch):
    """The same new kind reaches a chat transcript (`tag`), the Interactions input (`content_item`)
    and a tool result's text (`as_text`) by its row alone."""
    from gemini_magic.api.interactions import part_to_content_item
    from gemini_magic.api.turns import describe_parts
    from gemini_magic.errors import ConversionError

    class RainfallKind(PartKind):
        name = label = "rainfall"

        def matches(self, part):
            return "rainfall" in part

        def tag(self, part):
            return f"[{part['rainfall']['mm']} mm]"

        def content_item(self, part):
            return {"type": "text", "text": self.tag(part)}

    part = {"rainfall": {"mm": 12}}
    with pytest.raises(ConversionError, match="A rainfall part has no Interactions API form"):
        part_to_content_item(part)
    assert describe_parts([{"text": "Rain?"}, part]) == "Rain? [rainfall]"
    monkeypatch.setattr(part_kinds, "KINDS", (RainfallKind(), *KINDS))
    assert describe_parts([{"text": "Rain?"}, part]) == "Rain? [12 mm]"
    assert part_to_content_item(part) == {"type": "text", "text": "[12 mm]"}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# part → (tag, as_text, content_item) from the table
TABLE_ROWS = [
    ({"text": "Hello"}, "Hello", "Hello", {"type": "text", "text": "Hello"}),
    ({"text": "Hmm", "thought": True}, "Hmm", "Hmm", None),
    ({"inlineData": {"mimeType": "image/png", "data": PNG_1PX}}, "[image/png]", None,
     {"type": "image", "data": PNG_1PX, "mime_type": "image/png"}),
    ({"inline_data": {"mime_type": "audio/wav", "data": "UklGRg=="}}, "[audio/wav]", None,
     {"type": "audio", "data": "UklGRg==", "mime_type": "audio/wav"}),
    ({"inlineData": {"mimeType": "application/json", "data": _b64(b'{"a": 1}')}}, "[application/json]", '{"a": 1}',
     {"type": "document", "data": _b64(b'{"a": 1}'), "mime_type": "application/json"}),
    ({"inlineData": {"mimeType": "text/csv", "data": _b64("é,1\n".encode())}}, "[text/csv]", "é,1\n",
     {"type": "document", "data": _b64("é,1\n".encode()), "mime_type": "text/csv"}),
    ({"fileData": {"mimeType": "video/mp4", "fileUri": "https://x/files/v"}}, "[file https://x/files/v]", None,
     {"type": "video", "uri": "https://x/files/v", "mime_type": "video/mp4"}),
    ({"file_data": {"file_uri": "https://youtu.be/x"}}, "[file https://youtu.be/x]", None,
     {"type": "document", "uri": "https://youtu.be/x"}),
    ({"functionCall": {"name": "get_rainfall", "args": {}}}, "[call get_rainfall]", None, None),
    ({"functionResponse": {"name": "get_rainfall", "response": {"mm": 3}}}, "[result of get_rainfall]", None, None),
    ({"executableCode": {"language": "PYTHON", "code": "print(1)"}}, "[executableCode]", None, None),
    ({"toolCall": {"id": "7"}}, "[toolCall]", None, None),
]


@pytest.mark.parametrize("part, tag, text, item", TABLE_ROWS, ids=[str(row[1]) for row in TABLE_ROWS])
def test_each_kind_gives_its_tag_text_and_interactions_item(part, tag, text, item):
    kind = kind_of(part)
    assert (kind.tag(part), kind.as_text(part), kind.content_item(part)) == (tag, text, item)
    assert kind.is_call == (kind.name in ("function call", "function response"))
    assert (kind.data(part) is not None) == (kind.name in ("image", "audio", "inline data"))


def test_thoughts_text_and_images_are_left_out_of_the_answer():
    from gemini_magic.render import answer_text

    thought_image = {"inlineData": {"mimeType": "image/png", "data": PNG_1PX}, "thought": True}
    assert not kind_of(thought_image).shown(thought_image) and kind_of(thought_image).name == "image"
    response = Response([{"candidates": [{"content": {"parts": [
        {"text": "Plan", "thought": True}, thought_image, {"text": "Answer"}]}, "finishReason": "STOP"}]}])
    assert answer_text(response.candidate) == "Answer"
    assert final_bundle(response)["text/plain"].startswith("Answer")
