"""Deterministic tool use: which functions the emulator calls, with what, and what it says after.

A function is *named* by the last user turn when its name appears in the text (``get_rainfall``),
or when every significant word of its name does ("rainfall" names ``get_rainfall``; "get", "fetch",
"list"... are not significant). Each naming is one call, in the order written, so "get_weather for
Huế and get_weather for Hà Nội" makes two calls; identical calls are made once. The word "then"
between two names splits them into steps of a chain: "get_city then get_weather then get_forecast"
calls get_city, and after its result get_weather, and after that get_forecast. Calls of one step
go out together (parallel calls in one model turn). Arguments come from ``arguments.py``.

``plan(tool_set, contents, model)`` answers a :class:`Plan` (calls, or the final text written from
the function results) or None when tools play no part (the ordinary answer follows):

* last turn from the user, mode AUTO: call the first step's functions when any is named;
  mode ANY: always call (the first allowed function when none is named); NONE: never call;
* last turn of function responses: call the next step of the chain; when none is left, answer
  "<name> returned <result>" for every result of the current turn (mode ANY calls the last step
  again instead, as the service keeps calling in ANY mode; a client's call limit then ends it).

Wire shapes, as recorded (recordings/function_call/): a call part is ``{"functionCall": {"name",
"args"}}`` plus ``"id"`` (8 lower-case letters and digits) for Gemini 3 models; models that think
put a ``thoughtSignature`` on the first call part of each model turn (Gemini 3 always). See
``answer_chunks`` for how calls are streamed.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
from dataclasses import dataclass, field

from gemini_magic.constants import EMULATOR_MARKER

from . import arguments, history, models

GENERIC_WORDS = {"get", "set", "fetch", "list", "find", "make", "do", "run", "call", "compute", "calculate",
                 "lookup", "look", "up", "the", "a", "an", "to", "of", "for", "by", "from", "tool", "fn",
                 "func", "function"}
FINISH_MESSAGE = "Model generated function call(s)."


@dataclass
class Call:
    name: str
    args: dict
    id: str | None = None


@dataclass
class Plan:
    """Calls to make now (one model turn), the final ``text`` written from the results, or grounding."""

    calls: list = field(default_factory=list)
    text: str = ""
    grounding: list = field(default_factory=list)  # built-in grounding tools (Interactions API)


def signature() -> str:
    """An opaque thought signature (base64), unique per model turn."""
    return base64.b64encode(f"gemini_magic emulator signature {secrets.token_hex(12)}".encode()).decode()


def call_id() -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))


def signs(model: str) -> bool:
    """Models that attach thought signatures to calls: Gemini 3, and thinking models (recorded)."""
    return model.startswith("gemini-3") or models.thinks(model)


def _name_words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    words = [w.lower() for w in re.split(r"[\s_.\-]+", spaced) if w]
    return [w for w in words if w not in GENERIC_WORDS and not w.isdigit()]


def namings(text: str, declarations: list) -> list[tuple[int, int, object]]:
    """(start, end, declaration) of each place the text names a function, in text order."""
    found = []
    for declaration in declarations:
        exact = [(m.start(), m.end(), declaration) for m in
                 re.finditer(rf"(?i)(?<![\w.]){re.escape(declaration.name)}(?![\w])", text)] if declaration.name else []
        if exact:
            found += exact
            continue
        words = _name_words(declaration.name)
        spans = [re.search(rf"(?i)\b{re.escape(w)}(?:e?s)?\b", text) for w in words]
        if words and all(spans):
            first = min(spans, key=lambda m: m.start())
            found.append((first.start(), first.end(), declaration))
    found.sort(key=lambda item: (item[0], -item[1]))
    kept, reach = [], -1
    for start, end, declaration in found:
        if start >= reach:  # one naming per stretch of text
            kept.append((start, end, declaration))
            reach = end
    return kept


def steps(text: str, declarations: list, results: list | None = None) -> list[list[Call]]:
    """The calls a prompt asks for, grouped into the steps of a chain (split at "then")."""
    found = namings(text, declarations)
    candidates = arguments.Candidates(text, [(start, end) for start, end, _ in found])
    groups: list[list[Call]] = []
    for number, (start, end, declaration) in enumerate(found):
        following = found[number + 1][0] if number + 1 < len(found) else len(text)
        if not groups or re.search(r"(?i)\bthen\b", text[found[number - 1][1]:start]):
            groups.append([])
        filler = arguments.Filler(candidates, (end, following), list(results or []), declaration.schema)
        call = Call(declaration.name, filler.arguments(declaration.schema))
        if all(c.name != call.name or c.args != call.args for c in groups[-1]):
            groups[-1].append(call)
    return groups


def _prompt(content) -> str:
    return " ".join(p.text for p in content.parts if p.kind == "text" and not p.thought)


def _responses(content) -> list[tuple[str, object]]:
    found = []
    for part in content.parts:
        if part.kind == "function_response":
            payload = part.raw.get("functionResponse") or part.raw.get("function_response") or {}
            found.append((part.name, payload.get("response")))
    return found


def plan(tool_set, contents: list, model: str) -> Plan | None:
    """What the model does with its function tools now (see the module docstring); None: nothing."""
    callable_ = tool_set.callable()
    last = contents[-1] if contents else None
    if last is None or not tool_set.declarations:
        return None
    start = history.current_turn_start(contents)
    opening = _prompt(contents[start]) if contents[start].role == "user" else ""
    answering = last.role == "user" and any(p.kind == "function_response" for p in last.parts)
    results = [value for name, response in _responses(last) for value in arguments.result_values(response)] \
        if answering else []
    chain = steps(opening, callable_, results) if tool_set.mode != "NONE" else []
    if tool_set.mode == "ANY" and not chain and callable_:
        chain = [[_default_call(callable_[0], opening, results)]]
    if not answering:
        return Plan(calls=chain[0]) if chain else None
    done = sum(1 for c in contents[start:] if c.role == "model" and any(p.kind == "function_call" for p in c.parts))
    if done < len(chain):
        return Plan(calls=chain[done])
    if tool_set.mode == "ANY" and chain:
        return Plan(calls=chain[-1])
    turn_results = [item for content in contents[start:] if content.role == "user"
                    for item in _responses(content)]
    return Plan(text=results_text(turn_results))


def _default_call(declaration, text: str, results: list) -> Call:
    candidates = arguments.Candidates(text)
    filler = arguments.Filler(candidates, (0, len(text)), results, declaration.schema)
    return Call(declaration.name, filler.arguments(declaration.schema))


def _shown(response) -> str:
    if isinstance(response, dict) and len(response) == 1:
        (key, value), = response.items()
        if key in ("result", "output", "value", "content"):
            response = value
    if isinstance(response, str):
        return response
    return json.dumps(response, ensure_ascii=False, separators=(", ", ": "))


def results_text(results: list[tuple[str, object]]) -> str:
    """The final answer: one line per function result of the turn, in order."""
    count = len(results)
    lines = [f"{EMULATOR_MARKER} This answer is written from the {count} function "
             f"result{'s' if count != 1 else ''} received, not by a Gemini model.", ""]
    for name, response in results:
        if isinstance(response, dict) and set(response) == {"error"}:
            lines.append(f"- {name} failed: {_shown(response['error'])}")
        else:
            lines.append(f"- {name} returned {_shown(response)}")
    return "\n".join(lines) + "\n"


def call_parts(calls: list[Call], model: str) -> list[dict]:
    """The model turn's parts: one functionCall part per call, the first signed when the model signs."""
    parts = []
    for number, call in enumerate(calls):
        body = {"name": call.name, "args": call.args}
        if model.startswith("gemini-3"):
            call.id = call.id or call_id()
            body["id"] = call.id
        part = {"functionCall": body}
        if number == 0 and signs(model):
            part["thoughtSignature"] = signature()
        parts.append(part)
    return parts
