"""How a `Response` shows itself in a notebook: the answer, then collapsed sections to explore it.

`Response._repr_mimebundle_` calls `response_bundle`, so evaluating `_gemini` (or `--out NAME`) in a
cell shows the answer first and, below it, `<details>` sections: Parts (with image thumbnails),
Usage, Safety ratings, Citations, Grounding, Thoughts, Prompt feedback, Request body and Raw JSON.
Plain HTML with no JavaScript, so it works the same in a saved notebook. Everything from the
service is escaped; long strings (base64 media, signatures) are cut at 2,000 characters so a 2 MB
image answer still gives a small, fast page.

    response                                      # last line of a cell: the view above
    print(response_bundle(response)["text/plain"])  # the summary a terminal shows
"""

from __future__ import annotations

import base64
import html
import json

from .final import (NO_TEXT, answer_text, base64_size, empty_reason, final_bundle, footer_line,
                           human_size, response_warnings)

STRING_LIMIT = 2_000          # characters kept of each long string in the JSON sections
RAW_LIMIT = 300_000           # characters of raw JSON shown in all; `.raw` keeps everything
THUMBNAIL_PX = 256
THUMBNAIL_REUSE_LIMIT = 200_000  # base64 characters: smaller images are shown with their own bytes

_TABLE = '<table style="border-collapse:collapse;font-size:smaller">'
_CELL = 'style="border:1px solid #8884;padding:2px 6px;text-align:left;vertical-align:top"'
_FLAGGED = 'style="background:#f8d7da"'
_PRE = '<pre style="white-space:pre-wrap;max-height:30em;overflow:auto;font-size:smaller">'


def response_bundle(response) -> dict:
    """`{"text/plain", "text/markdown", "text/html"}` for a Response: the answer, then the details."""
    final = final_bundle(response)
    return {
        "text/plain": f"{response!r}\n\n{final['text/plain']}",
        "text/markdown": final["text/markdown"],
        "text/html": response_html(response),
    }


def response_html(response) -> str:
    """The answer as escaped text, the footer and warnings, then collapsed sections (no JavaScript)."""
    candidates = response.candidates
    out = ['<div class="gemini-response">']
    if len(candidates) <= 1:
        candidate = candidates[0] if candidates else None
        out.append(_answer_html(response, candidate))
        out.append(_footer_html(response))
        if candidate is not None:
            out.append(_candidate_sections(candidate))
    else:
        out.append(_footer_html(response))
        for candidate in candidates:
            reason = html.escape(candidate.finish_reason or "incomplete")
            out.append(f'<details open><summary><b>Candidate {candidate.index}</b> · {reason}</summary>'
                       f'<div style="margin-left:1em">{_answer_html(response, candidate)}'
                       f"{_candidate_sections(candidate)}</div></details>")
    out.append(_usage_section(response.usage))
    feedback = response.prompt_feedback
    if feedback:
        out.append(_details("Prompt feedback", _safety_table(feedback.get("safetyRatings") or ())
                            + _json_pre({k: v for k, v in feedback.items() if k != "safetyRatings"})))
    if response.request:
        out.append(_details("Request body", _json_pre(response.request)))
    out.append(_details(f"Raw JSON ({len(response.raw)} chunk{'s' * (len(response.raw) != 1)})",
                        _raw_json(response.raw)))
    out.append("</div>")
    return "".join(out)


def _answer_html(response, candidate) -> str:
    text = answer_text(candidate) if candidate is not None else ""
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


def _parts_table(parts: list[dict]) -> str:
    rows = [f"<tr><th {_CELL}>#</th><th {_CELL}>kind</th><th {_CELL}>content</th></tr>"]
    for index, part in enumerate(parts):
        kind, content = _describe_part(part)
        if "thoughtSignature" in part:
            content += f' <span style="opacity:0.6">(thought signature, {len(part["thoughtSignature"]):,} chars)</span>'
        rows.append(f"<tr><td {_CELL}>{index}</td><td {_CELL}>{html.escape(kind)}</td><td {_CELL}>{content}</td></tr>")
    return _TABLE + "".join(rows) + "</table>"


def _describe_part(part: dict) -> tuple[str, str]:
    """(kind, HTML describing the part) for one row of the parts table."""
    if "text" in part:
        text = part["text"]
        return ("thought" if part.get("thought") else "text"), f"{len(text):,} chars: {_preview(text)}"
    if "inlineData" in part:
        blob = part["inlineData"]
        mime = str(blob.get("mimeType", ""))
        data = blob.get("data", "")
        label = html.escape(f"{mime}, {human_size(base64_size(data))}")
        preview = thumbnail(mime, data) if mime.startswith("image/") else ""
        return "inlineData", label + (f"<br>{preview}" if preview else "")
    if "executableCode" in part:
        code = part["executableCode"]
        return "executableCode", html.escape(str(code.get("language", ""))) + _PRE + html.escape(code.get("code", "")) + "</pre>"
    if "codeExecutionResult" in part:
        result = part["codeExecutionResult"]
        return "codeExecutionResult", (html.escape(str(result.get("outcome", ""))) + _PRE
                                       + html.escape(_cut(result.get("output", ""))) + "</pre>")
    if "functionCall" in part:
        call = part["functionCall"]
        args = json.dumps(truncate_strings(call.get("args", {})), ensure_ascii=False)
        return "functionCall", f"<code>{html.escape(str(call.get('name', '?')))}({html.escape(args)})</code>"
    if "fileData" in part:
        data = part["fileData"]
        return "fileData", html.escape(f"{data.get('mimeType', '')} {data.get('fileUri', '')}".strip())
    kind = next((k for k in part if k != "thoughtSignature"), "empty")
    return kind, _json_pre({k: v for k, v in part.items() if k != "thoughtSignature"})


def thumbnail(mime: str, data: str) -> str:
    """An `<img>` at most 256 px: the part's own base64 when small, else a shrunk copy (Pillow)."""
    if not data:
        return ""
    if len(data) > THUMBNAIL_REUSE_LIMIT:
        # Embedding megabytes to draw 256 px would make every display (and the saved notebook) huge.
        try:
            mime, data = _shrink(data)
        except Exception:  # noqa: BLE001 - an undecodable image just gets no preview
            return '<i>(no preview: the image could not be decoded; see <code>.images</code>)</i>'
    style = f"max-width:{THUMBNAIL_PX}px;max-height:{THUMBNAIL_PX}px"
    return f'<img src="data:{html.escape(mime)};base64,{html.escape(data)}" style="{style}" alt="{html.escape(mime)}">'


def _shrink(data: str) -> tuple[str, str]:
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(base64.b64decode(data)))
    image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    buffer = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P"):
        image.save(buffer, format="PNG", optimize=True)
        mime = "image/png"
    else:
        image.convert("RGB").save(buffer, format="JPEG", quality=85)
        mime = "image/jpeg"
    return mime, base64.b64encode(buffer.getvalue()).decode("ascii")


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
            pieces.append(f"… {len(raw) - index} more chunks not shown (all of them are in .raw)")
            break
        pieces.append(text)
        size += len(text)
    return _PRE + html.escape(",\n".join(pieces), quote=False) + "</pre>"


def _json_pre(value) -> str:
    return _PRE + html.escape(json.dumps(truncate_strings(value), indent=2, ensure_ascii=False), quote=False) + "</pre>"


def truncate_strings(value, limit: int = STRING_LIMIT):
    """A copy of a JSON value with every string longer than `limit` cut short, saying how much is left.

        >>> truncate_strings({"data": "A" * 2005, "n": [1, "ok"]}, limit=3)
        {'data': 'AAA… (2,002 more chars)', 'n': [1, 'ok']}
    """
    if isinstance(value, str):
        return _cut(value, limit)
    if isinstance(value, dict):
        return {key: truncate_strings(item, limit) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [truncate_strings(item, limit) for item in value]
    return value


def _cut(text: str, limit: int = STRING_LIMIT) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more chars)"


def _preview(text: str, limit: int = 200) -> str:
    short = text if len(text) <= limit else text[:limit] + "…"
    return f"<code>{html.escape(short)}</code>"


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{html.escape(summary)}</summary>{body}</details>" if body else ""
