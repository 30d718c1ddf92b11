"""How a `Response` shows itself in a notebook: the answer, then collapsed sections to explore it.

`response_bundle` is the display of a result (`_gemini`, `--out NAME`) once the extension is loaded
(render/display.py registers it): the answer rendered exactly like the final view of `%%gemini`
(Markdown, JSON answers highlighted, images and audio inline with their original bytes, calls as
collapsed sections, citation markers and sources, a typed answer as a table), then `<details>`
sections: Thoughts, Parts (with image thumbnails), Function calls, Records (a typed answer as an HTML
table), Safety ratings, Citations, Grounding, Usage, Prompt feedback, Request body and Raw JSON. The
search suggestions' HTML (searchEntryPoint.renderedContent) is shown by the final display of
`%%gemini`, never here, where service HTML is only escaped.
The bundle has no text/html: JupyterLab prefers HTML to Markdown, and the answer must render as
Markdown; the sections are raw HTML inside the Markdown, on one line so that Markdown keeps them whole.
`response_html` gives the same as one HTML page. Plain HTML with no JavaScript, so it works the same
in a saved notebook. Everything from the service is escaped in the sections; long strings (base64
media, signatures) are cut at 2,000 characters so a 2 MB image answer still gives a small, fast page.

    response                                      # last line of a cell: the view above
    print(response_bundle(response)["text/plain"])  # the summary a terminal shows
"""

from __future__ import annotations

import html
import json

from ..units import plural
from .final import (NO_TEXT, answer_text, candidate_heading, empty_reason, final_bundle, footer_line,
                    response_warnings)
from .formats import parse_json
from .calls import call_html, records_from_parts, steps_records
from .part_kinds import PRE as _PRE, STRING_LIMIT, cut as _cut, kind_of, part_html, thumbnail

__all__ = ["response_bundle", "response_html", "details_html", "truncate_strings", "display_format", "thumbnail",
           "STRING_LIMIT", "RAW_LIMIT"]

RAW_LIMIT = 300_000           # characters of raw JSON shown in all; `.raw` keeps everything

_TABLE = '<table style="border-collapse:collapse;font-size:smaller">'
_CELL = 'style="border:1px solid #8884;padding:2px 6px;text-align:left;vertical-align:top"'
_FLAGGED = 'style="background:#f8d7da"'


def response_bundle(response) -> dict:
    """`{"text/markdown", "text/plain"}` for a Response: the answer as the final view shows it, then details.

    text/markdown is `final_bundle`'s Markdown (JSON answers fenced as JSON) followed by the sections of
    `details_html` as raw HTML on one line; text/plain is the repr and the plain final view.
    """
    final = final_bundle(response, output_format=display_format(response), inline_media=True)
    sections = details_html(response, answers=False).replace("\n", "&#10;")  # one line: one HTML block
    return {
        "text/markdown": f"{final['text/markdown']}\n\n{sections}\n",
        "text/plain": f"{response!r}\n\n{final['text/plain']}",
    }


def display_format(response) -> str:
    """ "json" when the answer was asked for as JSON or is a JSON object or array, else "markdown"."""
    config = (getattr(response, "request", None) or {}).get("generationConfig") or {}
    if config.get("responseMimeType") == "application/json":
        return "json"
    text = response.text.strip()
    return "json" if text[:1] in ("{", "[") and parse_json(text) is not None else "markdown"


def response_html(response) -> str:
    """The answer as escaped text, the footer and warnings, then the collapsed sections (no JavaScript)."""
    candidates = response.candidates
    head = [_answer_html(response, candidates[0] if candidates else None)] if len(candidates) <= 1 else []
    return "".join(head) + _footer_html(response) + details_html(response, answers=len(candidates) > 1)


def details_html(response, *, answers: bool = False) -> str:
    """The collapsed sections, in a `<div class="gemini-response">`.

    One candidate: its sections, then the response's. Several: a section per candidate, numbered from
    1, holding the candidate's answer (when `answers`) and its sections.
    """
    candidates = response.candidates
    out = ['<div class="gemini-response">']
    if len(candidates) == 1:
        out.append(_candidate_sections(candidates[0]))
        out.append(_calls_section(response))
        out.append(_records_section(response))
    else:
        for number, candidate in enumerate(candidates, start=1):
            heading = html.escape(candidate_heading(number, len(candidates)))
            reason = html.escape(candidate.finish_reason or "incomplete")
            answer = _answer_html(response, candidate) if answers else ""
            out.append(f'<details open><summary><b>{heading}</b> · {reason}</summary>'
                       f'<div style="margin-left:1em">{answer}{_candidate_sections(candidate)}</div></details>')
    out.append(_usage_section(response.usage_metadata))
    feedback = response.prompt_feedback
    if feedback:
        out.append(_details("Prompt feedback", _safety_table(feedback.get("safetyRatings") or ())
                            + _json_pre({k: v for k, v in feedback.items() if k != "safetyRatings"})))
    if getattr(response, "request", None):
        out.append(_details("Request body", _json_pre(response.request)))
    out.append(_details(f"Raw JSON ({plural(len(response.raw), 'chunk')})", _raw_json(response.raw)))
    out.append("</div>")
    return "".join(out)


def _answer_html(response, candidate) -> str:
    text = answer_text(candidate, markdown=False) if candidate is not None else ""
    if not text.strip():
        text = f"{NO_TEXT} — {empty_reason(response, candidate)}"
        return f'<div style="white-space:pre-wrap;font-style:italic">{html.escape(text)}</div>'
    return f'<div style="white-space:pre-wrap">{html.escape(text)}</div>'


def _footer_html(response) -> str:
    lines = [f'<div style="font-size:smaller;opacity:0.7">{html.escape(footer_line(response))}</div>']
    lines += [f"<div>⚠️ {html.escape(line)}</div>" for line in response_warnings(response)]
    return "".join(lines)


def _candidate_sections(candidate) -> str:
    parts = candidate.parts
    out = []
    if candidate.thoughts:
        out.append(_details("Thoughts", f'<div style="white-space:pre-wrap">{html.escape(candidate.thoughts)}</div>'))
    out.append(_details(f"Parts ({len(parts)})", _parts_table(parts)))
    if candidate.safety_ratings:
        flagged = any(_is_flagged(r) for r in candidate.safety_ratings)
        out.append(_details("Safety ratings" + (" ⚠️" if flagged else ""), _safety_table(candidate.safety_ratings)))
    if candidate.citations:
        out.append(_details(f"Citations ({len(candidate.citations)})", _json_pre(candidate.citations)))
    if candidate.grounding_metadata:
        out.append(_details("Grounding", _sources(candidate.grounding_metadata)
                            + _json_pre(candidate.grounding_metadata)))
    if candidate.url_context_metadata:
        out.append(_details("URL context", _json_pre(candidate.url_context_metadata)))
    if candidate.finish_message:
        out.append(f"<div>Finish message: {html.escape(candidate.finish_message)}</div>")
    return "".join(out)


def _calls_section(response) -> str:
    """Every function call of the exchange (the automatic calling loop's steps, else the answer's parts)."""
    steps = getattr(response, "calling_steps", None)  # an Interaction has none
    records = [r for shown in steps_records(steps) for r in shown] if steps else records_from_parts(response.parts)
    if not records:
        return ""
    return _details(f"Function calls ({len(records)})", "".join(call_html(r) for r in records))


def _records_section(response) -> str:
    """A typed answer (`schema=`) as an HTML table of its records, or one record as a field list."""
    from .typed import fields_html, records_html, typed_view

    typed = typed_view(response)
    if typed is None or typed[0] == "error":
        return ""
    kind, columns, rows = typed
    body = records_html(columns, rows) if kind == "table" else fields_html(columns, rows[0])
    return _details(f"Records ({plural(len(rows), 'row')})" if kind == "table" else "Record", body)


def _parts_table(parts: list[dict]) -> str:
    rows = [f"<tr><th {_CELL}>#</th><th {_CELL}>kind</th><th {_CELL}>content</th></tr>"]
    for number, part in enumerate(parts, start=1):
        content = part_html(part)
        if "thoughtSignature" in part:
            signature = plural(len(part["thoughtSignature"]), "character")
            content += f' <span style="opacity:0.6">(thought signature, {signature})</span>'
        label = html.escape(kind_of(part).label_for(part))
        rows.append(f"<tr><td {_CELL}>{number}</td><td {_CELL}>{label}</td><td {_CELL}>{content}</td></tr>")
    return _TABLE + "".join(rows) + "</table>"


def _usage_section(usage: dict) -> str:
    if not usage:
        return ""
    rows = []
    for key, value in usage.items():
        if isinstance(value, list):  # [{"modality": "TEXT", "tokenCount": 51}, ...]
            value = ", ".join(f"{d.get('modality', '?')} {d.get('tokenCount', 0):,}" if isinstance(d, dict) else str(d)
                              for d in value)
        elif isinstance(value, int):
            value = f"{value:,}"
        rows.append(f"<tr><td {_CELL}>{html.escape(key)}</td><td {_CELL}>{html.escape(str(value))}</td></tr>")
    return _details("Usage", _TABLE + "".join(rows) + "</table>")


def _safety_table(ratings) -> str:
    if not ratings:
        return ""
    columns = list(dict.fromkeys(key for rating in ratings for key in rating))
    rows = ["<tr>" + "".join(f"<th {_CELL}>{html.escape(c)}</th>" for c in columns) + "</tr>"]
    for rating in ratings:
        flagged = f" {_FLAGGED}" if _is_flagged(rating) else ""
        cells = "".join(f"<td {_CELL}>{html.escape(str(rating.get(c, '')))}</td>" for c in columns)
        rows.append(f"<tr{flagged}>{cells}</tr>")
    return _TABLE + "".join(rows) + "</table>"


def _is_flagged(rating: dict) -> bool:
    return bool(rating.get("blocked")) or rating.get("probability") in ("MEDIUM", "HIGH")


def _sources(grounding: dict) -> str:
    """The grounding sources as links (http and https only)."""
    links = []
    for chunk in grounding.get("groundingChunks") or ():
        source = chunk.get("web") or chunk.get("retrievedContext") or {}
        uri = str(source.get("uri", ""))
        title = html.escape(str(source.get("title") or uri or "source"))
        if uri.startswith(("https://", "http://")):
            links.append(f'<li><a href="{html.escape(uri)}" target="_blank" rel="noopener">{title}</a></li>')
        elif title:
            links.append(f"<li>{title}</li>")
    queries = grounding.get("webSearchQueries") or ()
    head = f"<div>Searched: {html.escape(', '.join(map(str, queries)))}</div>" if queries else ""
    return head + (f"<ol>{''.join(links)}</ol>" if links else "")


def _raw_json(raw: list[dict]) -> str:
    pieces, size = [], 0
    for index, chunk in enumerate(raw):
        text = json.dumps(truncate_strings(chunk), indent=2, ensure_ascii=False)
        if size + len(text) > RAW_LIMIT and pieces:
            pieces.append(f"… {plural(len(raw) - index, 'more chunk')} not shown (all of them are in .raw)")
            break
        pieces.append(text)
        size += len(text)
    return _PRE + html.escape(",\n".join(pieces), quote=False) + "</pre>"


def _json_pre(value) -> str:
    return _PRE + html.escape(json.dumps(truncate_strings(value), indent=2, ensure_ascii=False), quote=False) + "</pre>"


def truncate_strings(value, limit: int = STRING_LIMIT):
    """A copy of a JSON value with every string longer than `limit` cut short, saying how much is left.

        >>> truncate_strings({"data": "A" * 2005, "n": [1, "ok"]}, limit=3)
        {'data': 'AAA… (2,002 more characters)', 'n': [1, 'ok']}
    """
    if isinstance(value, str):
        return _cut(value, limit)
    if isinstance(value, dict):
        return {key: truncate_strings(item, limit) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [truncate_strings(item, limit) for item in value]
    return value


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{html.escape(summary)}</summary>{body}</details>" if body else ""
