"""Typed answers (`schema=` / `--schema`): JSON shown as it grows, then records as a table or a field list.

- `pretty_partial_json(text)`: an unfinished JSON document indented as it would be when complete, in
  one pass (linear in the text), never failing: a stream shows `[\\n  {\\n    "name": "Hu` formatted.
- `records_markdown` / `records_html`: `(columns, rows)` (from `AnswerType.records`) as a table.
- `fields_markdown` / `fields_html`: one record as a list of `name: value`.
- `typed_markdown(response)`: what the final view shows for a typed answer, or None to show the text.

    >>> print(pretty_partial_json('[{"name":"Huế","mm":[1, 2'))
    [
      {
        "name": "Huế",
        "mm": [
          1,
          2
"""

from __future__ import annotations

import html
import json

from ..escape import markdown_text
from ..units import plural

__all__ = ["pretty_partial_json", "records_markdown", "records_html", "fields_markdown", "fields_html",
           "typed_view", "cell_text"]

INDENT = "  "
MAX_ROWS = 200  # rows shown in a table; the rest are counted (all of them are in .parsed)


def pretty_partial_json(text: str) -> str:
    """`text` (JSON, perhaps cut anywhere) re-indented by two spaces; strings kept as written."""
    out: list[str] = []
    depth = 0
    in_string = escaped = False
    opened = False  # a bracket was just opened: its newline waits, so that {} and [] stay on one line
    for char in text:
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char in " \t\r\n":
            continue
        if opened:
            opened = False
            if char in "}]":
                depth -= 1
                out.append(char)
                continue
            out.append("\n" + INDENT * depth)
        if char in "{[":
            out.append(char)
            depth += 1
            opened = True
        elif char in "}]":
            depth = max(depth - 1, 0)
            out.append("\n" + INDENT * depth + char)
        elif char == ",":
            out.append(",\n" + INDENT * depth)
        elif char == ":":
            out.append(": ")
        else:
            if char == '"':
                in_string = True
            out.append(char)
    return "".join(out)


def cell_text(value) -> str:
    """A table cell: "" for None, JSON for lists and dicts, str() for the rest (enum values, dates)."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _md_cell(value) -> str:
    """A cell as literal Markdown (`escape.markdown_text`: no HTML, link or pipe gets through), its
    line breaks as `<br>`."""
    return "<br>".join(markdown_text(line) for line in cell_text(value).split("\n"))


def records_markdown(columns: list[str], rows: list[list]) -> str:
    """A Markdown table (pipes and line breaks in cells escaped), at most `MAX_ROWS` rows."""
    lines = ["| " + " | ".join(_md_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n*… {plural(len(rows) - MAX_ROWS, 'more row')} (all of them are in `.parsed`).*")
    return "\n".join(lines)


_CELL = 'style="border:1px solid #8884;padding:2px 6px;text-align:left;vertical-align:top"'


def records_html(columns: list[str], rows: list[list]) -> str:
    """An HTML table of the records (everything escaped), at most `MAX_ROWS` rows."""
    head = "".join(f"<th {_CELL}>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td {_CELL}>{html.escape(cell_text(v))}</td>" for v in row) + "</tr>"
                   for row in rows[:MAX_ROWS])
    more = f"<div>… {plural(len(rows) - MAX_ROWS, 'more row')}</div>" if len(rows) > MAX_ROWS else ""
    return f'<table style="border-collapse:collapse"><tr>{head}</tr>{body}</table>{more}'


def fields_markdown(columns: list[str], row: list) -> str:
    """One record as `- **name**: value` lines."""
    return "\n".join(f"- **{_md_cell(c)}**: {_md_cell(v)}" for c, v in zip(columns, row))


def fields_html(columns: list[str], row: list) -> str:
    """One record as an HTML definition list."""
    items = "".join(f"<dt><b>{html.escape(str(c))}</b></dt><dd>{html.escape(cell_text(v))}</dd>"
                    for c, v in zip(columns, row))
    return f"<dl>{items}</dl>"


def typed_view(response):
    """For a typed JSON answer: `("table" | "fields", columns, rows)`, `("error", one_line, None)` when
    `.parsed` raises, or None (no schema, not JSON, or values that make no table)."""
    answer_type = getattr(response, "answer_type", None)
    if answer_type is None or not getattr(answer_type, "is_json", False):
        return None
    try:
        value = response.parsed
    except Exception as error:  # noqa: BLE001 - SchemaMismatchError and kin: shown, not raised (the magic raises)
        lines = str(error).strip().splitlines()
        return ("error", lines[0] if lines else type(error).__name__, None)
    try:
        columns, rows = answer_type.records(value)
    except Exception:  # noqa: BLE001 - a value with no table shape (a number, a map): the JSON shows instead
        return None
    is_list = isinstance(value, (list, tuple))
    if not columns or (columns == ["value"] and not is_list):
        return None
    return ("table" if is_list else "fields", columns, rows)
