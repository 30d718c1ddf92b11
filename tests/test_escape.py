"""The one escaping helper (gemini_magic/escape.py): hostile strings stay text; ordinary ones stay readable."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from gemini_magic.escape import (answer_markdown, code_span, fence_language, html_text, markdown_format,
                                 markdown_row, markdown_text, safe_url)

HOSTILE = '<img src=x onerror="alert(1)">'


def test_html_text_escapes_text_and_attribute_values():
    assert html_text(HOSTILE) == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    assert html_text(None) == "" and html_text(3) == "3" and html_text("it's") == "it&#x27;s"


def test_markdown_text_keeps_ordinary_strings_readable():
    for text in ("gemini-2.5-flash", "MAX_TOKENS", "2026-12-07T10:00:00Z", "total 3.1 s (incomplete)", "795.6"):
        assert markdown_text(text) == text


@pytest.mark.parametrize("text, expected", [
    (HOSTILE, '&lt;img src=x onerror="alert(1)"&gt;'),
    ("[click](javascript:alert(1))", "\\[click\\](javascript:alert(1))"),
    ("*bold* _it_ `code` ~~gone~~ $x$ a|b", "\\*bold\\* \\_it\\_ \\`code\\` \\~\\~gone\\~\\~ \\$x\\$ a\\|b"),
    ("- item", "\\- item"), ("# heading", "\\# heading"), ("12. item", "12\\. item"), ("> quote", "&gt; quote"),
    ("line one\nline two", "line one line two"),
    ("&lt;img&gt;", "&amp;lt;img&amp;gt;"),
])
def test_markdown_text_leaves_no_markdown_or_html_syntax(text, expected):
    assert markdown_text(text) == expected


@given(st.text())
def test_markdown_text_never_lets_a_tag_or_link_through(text):
    escaped = markdown_text(text)
    assert "<" not in escaped and ">" not in escaped and "\n" not in escaped
    assert not re.search(r"(?<!\\)[\[\]`|]", escaped.replace("\\\\", ""))


def test_code_span_cannot_be_closed_early_and_escapes_pipes_in_tables():
    assert code_span("files/abc") == "`files/abc`"
    assert code_span("a`b" + HOSTILE) == "``a`b" + HOSTILE + "``"
    assert code_span("`x`") == "`` `x` ``"
    assert code_span("a|b", in_table=True) == "`a\\|b`" and code_span("a|b") == "`a|b`"


def test_markdown_format_escapes_the_arguments_only():
    markdown, plain = markdown_format("**Job** {0:code} is {1} ({2:,} rows).", "batches/x`y", "<b>DONE</b>", 12345)
    assert markdown == "**Job** ``batches/x`y`` is &lt;b&gt;DONE&lt;/b&gt; (12,345 rows)."
    assert plain == "**Job** `batches/x`y` is <b>DONE</b> (12,345 rows)."


def test_markdown_row_escapes_every_cell():
    markdown, plain = markdown_row(("files/a|" + HOSTILE, "x | y", None), code=(0,))
    assert markdown == '| `files/a\\|' + HOSTILE + '` | x \\| y |  |'
    assert plain == "| `files/a|" + HOSTILE + "` | x | y |  |"


@pytest.mark.parametrize("url, safe", [
    ("https://example.com/a?b=1", True), ("http://x", True), ("mailto:a@b.c", True), ("/relative/path", True),
    ("javascript:alert(1)", False), ("JaVaScRiPt:alert(1)", False), ("java\tscript:alert(1)", False),
    ("jav&#x61;script:alert(1)", False), ("%6Aavascript:alert(1)", False), ("data:text/html,<script>", False),
    ("vbscript:x", False), ("file:///etc/passwd", False),
])
def test_safe_url_keeps_web_links_only(url, safe):
    assert (safe_url(url) == url) is safe
    assert safe or safe_url(url) == "#"


def test_fence_language_is_a_language_name_only():
    assert fence_language("python") == "python" and fence_language("c++") == "c++"
    assert fence_language(HOSTILE) == "imgsrcxonerroralert1"


def test_answer_markdown_keeps_markdown_and_neutralises_html_and_script_links():
    text = ("**Rain** in *Huế*: <br> see [docs](https://ai.google.dev) and [x](javascript:alert(1)) "
            "and [y](<jav&#x61;script:alert(1)>) " + HOSTILE + " <https://example.com>\n\n"
            "[ref]: javascript:alert(2)\n")
    out = answer_markdown(text)
    assert "**Rain** in *Huế*: <br> see [docs](https://ai.google.dev)" in out
    assert "[x](#)" in out and "[y](#)" in out and "[ref]: #" in out
    assert "&lt;img src=x" in out and "<img" not in out and "<https://example.com>" in out


def test_answer_markdown_leaves_code_alone():
    text = "Use `<b>` tags:\n\n```html\n<img src=x onerror=alert(1)>\n```\n\nthen <script>x</script>"
    out = answer_markdown(text)
    assert "`<b>`" in out and "```html\n<img src=x onerror=alert(1)>\n```" in out
    assert out.endswith("then &lt;script>x&lt;/script>")
    assert answer_markdown("```\n<img>\n") == "```\n<img>\n"  # a fence still open while streaming stays code
    assert answer_markdown("plain text, nothing to do") == "plain text, nothing to do"


def test_an_interaction_shows_the_answer_markdown_and_an_escaped_footer():
    from gemini_magic.answer.interaction import Interaction

    interaction = Interaction({"id": "v1_x", "status": HOSTILE, "model": "gemini-3-flash-preview", "steps": [
        {"type": "model_output", "content": [{"type": "text", "text": "**Hi** " + HOSTILE}]}]})
    markdown = interaction._repr_markdown_()
    assert markdown.startswith("**Hi** &lt;img") and "<img" not in markdown
    assert "gemini-3-flash-preview · &lt;img" in markdown
