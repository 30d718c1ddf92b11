"""Function calls as people read them: one collapsible section per call (name, arguments, result or error,
seconds), in Markdown, plain text and HTML.

A call record is what the automatic calling loop keeps (`Response.steps`, api/tools.py):
`{"name", "args", "id"?, "result" | "error", "seconds"?}`. Without the loop the records come from the
answer's own parts (`records_from_parts`): each `functionCall` paired with the `functionResponse` that
answers it (by id, else by name), or left without a result when none did (manual mode).

    >>> record = {"name": "get_rainfall", "args": {"city": "Huế"}, "result": 88.5, "seconds": 0.0123}
    >>> print(call_text(record))
    → get_rainfall({"city": "Huế"}) = 88.5 · 0.012 s
"""

from __future__ import annotations

import html
import json

from ..answer.part_kinds import fence

__all__ = ["call_markdown", "call_text", "call_html", "call_summary", "records_from_parts", "steps_records"]

_PRE = '<pre style="white-space:pre-wrap;max-height:20em;overflow:auto;font-size:smaller;margin:2px 0">'
ARGUMENT_PREVIEW = 80  # characters of the arguments shown in the one-line summary


def _json(value, indent=None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, default=str)


def call_summary(record: dict) -> str:
    """One line: `get_rainfall(city="Huế") → 88.5 · 0.012 s`, with `✗` and the error's type for a failure."""
    args = _json(record.get("args") or {})
    if len(args) > ARGUMENT_PREVIEW:
        args = args[:ARGUMENT_PREVIEW - 1] + "…"
    line = f"{record.get('name') or '?'}({args})"
    if "error" in record:
        line += f" ✗ {str(record['error']).split(':', 1)[0]}"
    elif "result" in record:
        result = _json(record["result"])
        line += f" = {result if len(result) <= ARGUMENT_PREVIEW else result[:ARGUMENT_PREVIEW - 1] + '…'}"
    else:
        line += " (not run)"
    if isinstance(record.get("seconds"), (int, float)):
        line += f" · {record['seconds']:.3f} s"
    return line


def call_text(record: dict) -> str:
    """The call on one line for a terminal or text/plain, the whole error on a second line when it failed."""
    line = "→ " + call_summary(record)
    if "error" in record:
        line += f"\n  error: {record['error']}"
    return line


def call_markdown(record: dict) -> str:
    """A collapsed `<details>` with the one-line summary, the arguments as JSON and the result or error."""
    body = ["**Arguments**", fence(_json(record.get("args") or {}, indent=2), "json")]
    if "error" in record:
        body += ["**Error**", fence(str(record["error"]))]
    elif "result" in record:
        body += ["**Result**", fence(_json(record["result"], indent=2), "json")]
    else:
        body.append("*Not run: the call was only proposed.*")
    summary = html.escape("🔧 " + call_summary(record))
    return f"<details><summary>{summary}</summary>\n\n" + "\n\n".join(body) + "\n\n</details>"


def call_html(record: dict) -> str:
    """The same section as `call_markdown`, in plain HTML (everything escaped)."""
    body = [f"<b>Arguments</b>{_PRE}{html.escape(_json(record.get('args') or {}, indent=2))}</pre>"]
    if "error" in record:
        body.append(f"<b>Error</b>{_PRE}{html.escape(str(record['error']))}</pre>")
    elif "result" in record:
        body.append(f"<b>Result</b>{_PRE}{html.escape(_json(record['result'], indent=2))}</pre>")
    else:
        body.append("<i>Not run: the call was only proposed.</i>")
    return f"<details><summary>{html.escape('🔧 ' + call_summary(record))}</summary>{''.join(body)}</details>"


def records_from_parts(parts: list[dict]) -> list[dict]:
    """Call records from `functionCall` parts, each with the result of the `functionResponse` part that
    answers it (same id, else the first unanswered call of that name); an answer with no call gets a
    record of its own."""
    records: list[dict] = []
    for part in parts:
        if isinstance(part.get("functionCall"), dict):
            call = part["functionCall"]
            record = {"name": call.get("name"), "args": call.get("args") or {}}
            if call.get("id"):
                record["id"] = call["id"]
            records.append(record)
        elif isinstance(part.get("functionResponse"), dict):
            answer = part["functionResponse"]
            record = next((r for r in records if "result" not in r and "error" not in r
                           and (r.get("id") == answer.get("id") if answer.get("id") else r["name"] == answer.get("name"))),
                          None)
            if record is None:
                record = {"name": answer.get("name"), "args": {}}
                records.append(record)
            _answer(record, answer.get("response"))
    return records


def _answer(record: dict, response) -> None:
    if isinstance(response, dict) and set(response) == {"error"}:
        record["error"] = response["error"]
    elif isinstance(response, dict) and set(response) == {"result"}:
        record["result"] = response["result"]
    else:
        record["result"] = response


def steps_records(steps: list[dict]) -> list[list[dict]]:
    """For each step of an exchange, the calls to show after it: a tool step's records; a model step's
    calls that no tool step answered (the loop stopped, or manual mode); none for the others."""
    shown: list[list[dict]] = []
    for index, step in enumerate(steps):
        if step.get("kind") == "tool":
            shown.append(list(step.get("calls") or ()))
            continue
        answered = index + 1 < len(steps) and steps[index + 1].get("kind") == "tool"
        parts = (step.get("content") or {}).get("parts") or ()
        shown.append([] if answered else records_from_parts([p for p in parts if "functionCall" in p]))
    return shown
