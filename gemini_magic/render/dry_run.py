"""`%%gemini --dry-run`: the parts a prompt would send, with sizes, thumbnails and the token count.

Nothing is generated. The display is ordinary Markdown + HTML (thumbnails as data URIs of the bytes
that would be sent), so it survives in a saved notebook.
"""

from __future__ import annotations

import html

from ..escape import markdown_row, markdown_text
from ..parts import describe_part
from ..units import plural
from .part_kinds import part_thumbnail


def dry_run_rows(body: dict) -> list[dict]:
    """One description per part of every turn, in order (plus the system instruction's parts)."""
    rows = []
    for part in (body.get("systemInstruction") or {}).get("parts", []):
        rows.append({"turn": "system", **describe_part(part), "part": part})
    for turn_index, content in enumerate(body.get("contents", [])):
        for part in content.get("parts", []):
            rows.append({"turn": content.get("role", "user"), **describe_part(part), "part": part})
    return rows


def dry_run_bundle(model: str, body: dict, tokens, notes: list[str] = (), cost=None) -> dict:
    """`{"text/plain", "text/markdown", "text/html"}`: a head line, a table of the parts (numbered from 1)
    and the conversion notes. `tokens` is a TokenCount (`.total`) or the reason the count failed; `cost`
    the estimate (pricing.Cost, of the prompt and of the answer's token limit when one is set) or None."""
    rows = dry_run_rows(body)
    total_bytes = sum(row["bytes"] for row in rows)
    token_text = (f"{plural(tokens.total, 'token')} (countTokens)" if hasattr(tokens, "total")
                  else f"token count unavailable: {tokens}")
    if hasattr(tokens, "total"):
        limited = (body.get("generationConfig") or {}).get("maxOutputTokens")
        what = "the prompt and at most the answer's token limit" if limited else "the prompt (the answer is extra)"
        token_text += (f", {cost.footer()} for {what}" if cost is not None
                       else f", no price for {model} in the table (tokens only)")
    head = (f"Dry run for {model}: {plural(len(rows), 'part')}, {plural(total_bytes, 'byte')}, {token_text}. "
            "Nothing was generated.")
    lines = [markdown_text(head), "", "| # | turn | kind | MIME type | bytes | what |", "|---:|---|---|---|---:|---|"]
    plain = [head, *lines[1:]]
    html_rows = []
    for index, row in enumerate(rows, start=1):
        what = row["summary"] + (f" ({row['note']})" if row.get("note") else "")
        md, text = markdown_row((index, row["turn"], row["kind"], row["mime_type"], f"{row['bytes']:,}", what))
        lines.append(md)
        plain.append(text)
        html_rows.append(
            f"<tr><td>{index}</td><td>{html.escape(str(row['turn']))}</td><td>{html.escape(row['kind'])}</td>"
            f"<td>{html.escape(row['mime_type'])}</td><td style='text-align:right'>{row['bytes']:,}</td>"
            f"<td>{html.escape(what)}</td><td>{part_thumbnail(row['part'])}</td></tr>")
    lines.extend(f"- {markdown_text(note)}" for note in notes)
    plain.extend(f"- {note}" for note in notes)
    notes_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    page = (f"<p><b>{html.escape(head)}</b></p><table><tr><th>#</th><th>turn</th><th>kind</th><th>MIME type</th>"
            f"<th>bytes</th><th>what</th><th></th></tr>{''.join(html_rows)}</table>"
            + (f"<ul>{notes_html}</ul>" if notes else ""))
    return {"text/plain": "\n".join(plain), "text/markdown": "\n".join(lines), "text/html": page}


def show_dry_run(model: str, body: dict, tokens, notes: list[str] = (), cost=None) -> None:
    from IPython.display import display

    display(dry_run_bundle(model, body, tokens, notes, cost), raw=True)
