"""The one place that makes service-controlled strings safe to show as HTML or Markdown.

JupyterLab and Notebook 7 render the outputs of a cell run in the session as *trusted*: raw HTML
inside `text/markdown` or `text/html` is not sanitised there, so a string from the service (a finish
reason, a function name, a file's display name, a MIME type, the model's own answer) put into a view
unescaped can run script in the page. Every view goes through these helpers:

- `html_text(value)`: any value as HTML text or a quoted attribute value (`& < > " '` escaped).
- `markdown_text(value)`: any value as literal text inside Markdown (a footer, a notice, a table
  cell): HTML-escaped and every ASCII punctuation mark backslash-escaped (CommonMark allows that for
  all of them), line breaks made spaces, so nothing in it can open a tag, a link, emphasis or a cell.
- `answer_markdown(text)`: the model's Markdown, kept as Markdown but with raw HTML neutralised
  (`<` becomes `&lt;` outside code, except a few attribute-less formatting tags and `<https://...>`
  autolinks) and links whose scheme is not http, https or mailto made inert.
- `safe_url(url)`: a URL for an `href`/`src` we write ourselves: http(s) and mailto kept, anything
  else (javascript:, data:, vbscript:, file:...) replaced by "#".

    >>> markdown_text("<img src=x onerror=alert(1)>")
    '&lt;img src\\\\=x onerror\\\\=alert\\\\(1\\\\)&gt;'
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

__all__ = ["html_text", "markdown_text", "answer_markdown", "safe_url"]

_PUNCTUATION = re.compile(r"([!\"#$%'()*+,\-./:;=?@\[\\\]^_`{|}~])")
_SAFE_SCHEMES = ("http", "https", "mailto")
#: Tags a model writes in Markdown (a line break in a table cell, sub/superscripts), kept only bare.
_ALLOWED_TAG = re.compile(r"</?(?:br|b|i|em|strong|sub|sup|u|s|del|kbd|mark|small|hr|p)\s*/?>", re.IGNORECASE)
_AUTOLINK = re.compile(r"<(?:https?://|mailto:)[^\s<>\"']*>", re.IGNORECASE)
_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")
# An inline link or image destination `](url` and a reference definition `[label]: url`.
_INLINE_DESTINATION = re.compile(r"(\]\(\s*)(<[^>\n]*>|(?:[^\s()]|\([^\s()]*\))*)")
_REFERENCE_DEFINITION = re.compile(r"^([ ]{0,3}\[[^\]\n]+\]:[ \t]*)(<[^>\n]*>|\S+)", re.MULTILINE)
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f]+")


def html_text(value: object) -> str:
    """`value` as text for HTML, attribute values included (`str()` of non-strings; None is '')."""
    return html.escape("" if value is None else str(value), quote=True)


def markdown_text(value: object) -> str:
    """`value` as literal text inside Markdown: nothing in it is read as HTML or Markdown syntax."""
    text = "" if value is None else str(value)
    text = _PUNCTUATION.sub(r"\\\1", text.replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: object) -> str:
    """`url` when its scheme is http, https or mailto (or it has none: a relative link), else '#'."""
    text = "" if url is None else str(url)
    return text if _scheme_is_safe(text) else "#"


def answer_markdown(text: str) -> str:
    """The model's Markdown with raw HTML and unsafe links neutralised; code spans and blocks untouched.

    A fence left open (a streamed answer so far) keeps the rest as code, as Markdown renders it.
    """
    if "<" not in text and ":" not in text:
        return text  # the common case while streaming: nothing to neutralise
    out: list[str] = []
    prose: list[str] = []
    fence = None
    for line in text.splitlines(keepends=True):
        match = _FENCE.match(line)
        if fence is None and match:
            out.append(_prose("".join(prose)))
            prose = []
            fence = match.group(1)
            out.append(line)
        elif fence is not None:
            out.append(line)
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                fence = None
        else:
            prose.append(line)
    out.append(_prose("".join(prose)))
    return "".join(out)


def _prose(text: str) -> str:
    """Markdown outside fenced code: inline code spans kept, HTML and unsafe links neutralised between them."""
    if not text:
        return text
    pieces, position = [], 0
    for span in _code_spans(text):
        pieces.append(_neutralise(text[position:span[0]]))
        pieces.append(text[span[0]:span[1]])
        position = span[1]
    pieces.append(_neutralise(text[position:]))
    return "".join(pieces)


def _code_spans(text: str):
    """(start, end) of each inline code span: a run of backticks closed by a run of the same length."""
    position = 0
    while True:
        start = text.find("`", position)
        if start < 0:
            return
        end = start
        while end < len(text) and text[end] == "`":
            end += 1
        run = text[start:end]
        close = re.compile(r"(?<!`)" + re.escape(run) + r"(?!`)").search(text, end)
        if close is None:
            position = end  # an unmatched run is literal backticks
            continue
        yield start, close.end()
        position = close.end()


def _neutralise(text: str) -> str:
    if "<" in text:
        text = _escape_tags(text)
    if ":" in text:
        text = _INLINE_DESTINATION.sub(_inert_destination, text)
        text = _REFERENCE_DEFINITION.sub(_inert_destination, text)
    return text


def _escape_tags(text: str) -> str:
    out, position = [], 0
    while True:
        start = text.find("<", position)
        if start < 0:
            out.append(text[position:])
            return "".join(out)
        out.append(text[position:start])
        kept = _ALLOWED_TAG.match(text, start) or _AUTOLINK.match(text, start)
        if kept:
            out.append(kept.group(0))
            position = kept.end()
        else:
            out.append("&lt;")
            position = start + 1


def _inert_destination(match: re.Match) -> str:
    destination = match.group(2)
    bare = destination[1:-1] if destination.startswith("<") and destination.endswith(">") else destination
    return match.group(0) if _scheme_is_safe(bare) else match.group(1) + "#"


def _scheme_is_safe(url: str) -> bool:
    # Browsers and Markdown renderers decode entities and percent-escapes and ignore control characters
    # and spaces in a scheme ("jav&#x61;script:", "java\tscript:"): judge the scheme as they will read it.
    decoded = _CONTROL_OR_SPACE.sub("", unquote(html.unescape(url.replace("\\", ""))))
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", decoded)
    if scheme is None:
        return ":" not in decoded.split("/", 1)[0]  # relative, or a colon only after the first slash
    return scheme.group(1).lower() in _SAFE_SCHEMES
