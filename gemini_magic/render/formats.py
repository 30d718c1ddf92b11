"""An answer's text shown as asked (`--format markdown|text|code|json`): Markdown as is, code fenced,
JSON pretty-printed when it parses. Pure; used by the final display and the live view.

    >>> print(formatted('{"a": 1}', "json", markdown=True))
    ```json
    {
      "a": 1
    }
    ```
"""

from __future__ import annotations

import json

from ..escape import answer_markdown
from ..answer.part_kinds import fence
from ..answer.readers import json_from_text

__all__ = ["formatted", "parse_json"]


def formatted(text: str, output_format: str, *, markdown: bool) -> str:
    """`text` shown as asked: Markdown as is (the callers neutralise the model's HTML first, with
    `escape.answer_markdown`), code in a fence, JSON pretty-printed when it parses."""
    if output_format in ("markdown", "text"):
        return text
    if output_format == "json":
        parsed = parse_json(text)
        if parsed is not None:
            text = json.dumps(parsed, indent=2, ensure_ascii=False)
        elif _is_fenced(text):
            return answer_markdown(text) if markdown else text
        return fence(text, "json") if markdown else text
    if _is_fenced(text):  # "code": the model often fences its code already (what lies between is neutralised)
        return answer_markdown(text) if markdown else text
    return fence(text) if markdown else text


def parse_json(text: str):
    """`text` parsed as JSON (a ```json fence around it is allowed), or None."""
    try:
        return json_from_text(text)
    except ValueError:
        return None


def _is_fenced(text: str) -> bool:
    body = text.strip()
    return body.startswith("```") and body.endswith("```") and len(body) > 6
