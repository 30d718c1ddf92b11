r"""The one place that makes service-controlled strings safe to show as HTML or Markdown.

JupyterLab and Notebook 7 render the outputs of a cell run in the session as *trusted*: raw HTML
inside `text/markdown` or `text/html` is not sanitised there, so a string from the service (a finish
reason, a function name, a file's display name, a MIME type, the model's own answer) put into a view
unescaped can run script in the page. Every view goes through these helpers:

- `html_text(value)`: any value as HTML text or a quoted attribute value (`& < > " '` escaped).
- `markdown_text(value)`: any value as literal text inside Markdown (a footer, a notice, a table
  cell): `& < >` as entities and the punctuation that makes Markdown syntax (`[ ]` of links, `* _ ~`
  of emphasis, backticks, `|` of tables, `$` of math, a list or heading mark at the start)
  backslash-escaped, as CommonMark allows; line breaks made spaces. Nothing in it can
  open a tag, a link, emphasis or a cell; `gemini-2.5-flash`, dates and paths stay readable.
- `code_span(value)`: any value as an inline code span (literal, never HTML) whose backticks cannot
  close it early.
- `markdown_format(template, *args, **kwargs)`: `str.format` for Markdown: the template is ours, each
  argument is escaped with `markdown_text` (with the spec `code`: `code_span`); gives
  `(markdown, plain)`, the plain text with the arguments as they are (a `code` one in backticks).
- `markdown_row(cells, code=(0,))`: one table row, every cell escaped (pipes too, inside code spans).
- `answer_markdown(text)`: the model's Markdown, kept as Markdown but with raw HTML neutralised
  (`<` becomes `&lt;` outside code, except a few attribute-less formatting tags and `<https://...>`
  autolinks) and links whose scheme is not http, https or mailto made inert.
- `safe_url(url)`: a URL for an `href`/`src` we write ourselves: http(s) and mailto kept, anything
  else (javascript:, data:, vbscript:, file:...) replaced by "#".
- `fence_language(value)`: a code fence's info string reduced to the characters a language name has.

Pure and standard library only (layer 7), so the part kinds' own Markdown uses it too.

    >>> markdown_text("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> markdown_format("Deleted {0:code} ({1}).", "files/a`b", "STOP_*x*")
    ('Deleted ``files/a`b`` (STOP\\_\\*x\\*).', 'Deleted `files/a`b` (STOP_*x*).')
"""

from __future__ import annotations

import re
import string
from urllib.parse import unquote
from .lazy_re import lazy_compile

__all__ = ["html_text", "markdown_text", "code_span", "markdown_format", "markdown_row", "answer_markdown", "safe_url",
           "fence_language"]

# Markdown syntax characters (CommonMark lets a backslash escape any ASCII punctuation). `_` only where
# it could open or close emphasis: between two letters or digits it never does (MAX_TOKENS stays).
# Parentheses and `!` need no escape once `[` and `]` have one (no link can form); `#` only opens a
# heading at the start.
_MARKDOWN_SYNTAX = lazy_compile(r"([\\`*\[\]$|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# At the very start, a list marker, a heading/setext/quote mark or an ordered-list number.
_BLOCK_START = lazy_compile(r"^(\s*)([-+=>#]|\d+(?=[.)](?:\s|$)))")
_SAFE_SCHEMES = ("http", "https", "mailto")
#: Tags a model writes in Markdown (a line break in a table cell, sub/superscripts), kept only bare.
_ALLOWED_TAG = lazy_compile(r"</?(?:br|b|i|em|strong|sub|sup|u|s|del|kbd|mark|small|hr|p)\s*/?>", re.IGNORECASE)
_AUTOLINK = lazy_compile(r"<(?:https?://|mailto:)[^\s<>\"']*>", re.IGNORECASE)
_FENCE = lazy_compile(r"^[ ]{0,3}(`{3,}|~{3,})")
# An inline link or image destination `](url` and a reference definition `[label]: url`.
_INLINE_DESTINATION = lazy_compile(r"(\]\(\s*)(<[^>\n]*>|(?:[^\s()]|\([^\s()]*\))*)")
_REFERENCE_DEFINITION = lazy_compile(r"^([ ]{0,3}\[[^\]\n]+\]:[ \t]*)(<[^>\n]*>|\S+)", re.MULTILINE)
_CONTROL_OR_SPACE = lazy_compile(r"[\x00-\x20\x7f-\x9f]+")
_NOT_LANGUAGE = lazy_compile(r"[^A-Za-z0-9_+#.-]+")


def html_text(value: object) -> str:
    """`value` as text for HTML, attribute values included (`str()` of non-strings; None is '')."""
    # html.escape(..., quote=True), written out: importing html (and html.entities) costs a few ms at
    # %load_ext, and this is all of it that is needed here
    text = "" if value is None else str(value)
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("'", "&#x27;"))


def markdown_text(value: object) -> str:
    """`value` as literal text inside Markdown: nothing in it is read as HTML or Markdown syntax."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    text = _MARKDOWN_SYNTAX.sub(r"\\\1", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BLOCK_START.sub(_escape_block_start, text, count=1)


def _escape_block_start(match: re.Match) -> str:
    mark = match.group(2)  # "12" of "12. item": the backslash goes before its "." or ")"
    return match.group(1) + (mark + "\\" if mark.isdigit() else "\\" + mark)


def code_span(value: object, *, in_table: bool = False) -> str:
    """`value` as an inline code span: shown literally (HTML inside is text), on one line.
    `in_table`: inside a GFM table cell, where a `|` splits the cell even within code unless escaped."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    if in_table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.strip()) else ""
    return f"{ticks}{pad}{text}{pad}{ticks}" if text else "` `"


class _Formatter(string.Formatter):
    """`str.format` whose fields are escaped for Markdown (`escape=True`) or left as they are."""

    def __init__(self, escape: bool) -> None:
        self.escape = escape

    def format_field(self, value, spec: str) -> str:
        if spec == "code":
            return code_span(value) if self.escape else f"`{value}`"
        text = format(value, spec)
        return markdown_text(text) if self.escape else text


_MARKDOWN, _PLAIN = _Formatter(True), _Formatter(False)


def markdown_format(template: str, /, *args, **kwargs) -> tuple[str, str]:
    """`(markdown, plain)`: `template.format(...)` with every argument escaped for Markdown (`{name:code}`
    makes it a code span), and with the arguments as they are for text/plain. The template is ours
    and may hold Markdown; the arguments are data. Conversions (`!r`) apply before escaping."""
    return _MARKDOWN.vformat(template, args, kwargs), _PLAIN.vformat(template, args, kwargs)


def markdown_row(cells, *, code=()) -> tuple[str, str]:
    """`(markdown, plain)` of one GFM table row: each cell escaped (`markdown_text`), the cells whose
    indices are in `code` as code spans; the plain row has the values as they are (code in backticks)."""
    cells = list(cells)
    markdown = [code_span(c, in_table=True) if i in code else markdown_text(c) for i, c in enumerate(cells)]
    plain = [f"`{c}`" if i in code else ("" if c is None else str(c)) for i, c in enumerate(cells)]
    return "| " + " | ".join(markdown) + " |", "| " + " | ".join(plain) + " |"


def safe_url(url: object) -> str:
    """`url` when its scheme is http, https or mailto (or it has none: a relative link), else '#'."""
    text = "" if url is None else str(url)
    return text if _scheme_is_safe(text) else "#"


def fence_language(value: object) -> str:
    """A fence's info string (`python`, `c++`, `json`) with anything else dropped: an info string is
    written into the page as a class name, so nothing but a language name goes there."""
    return _NOT_LANGUAGE.sub("", "" if value is None else str(value))[:40]


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
    import html  # only here: see html_text

    decoded = _CONTROL_OR_SPACE.sub("", unquote(html.unescape(url.replace("\\", ""))))
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", decoded)
    if scheme is None:
        return ":" not in decoded.split("/", 1)[0]  # relative, or a colon only after the first slash
    return scheme.group(1).lower() in _SAFE_SCHEMES
