"""Tools in the Interactions API: ``function_call`` steps and ``requires_action``; grounded answers.

The same deterministic rules as generateContent (``tools.py``), over the interaction's timeline
turned into contents (``steps.to_contents``). Tools are ``{"type": "function", "name",
"description", "parameters"}`` (JSON Schema) or built-in ``{"type": "google_search"}``,
``url_context``, ``google_maps``, ``code_execution``; ``tool_choice`` is ``"auto"``, ``"any"``,
``"none"`` or ``{"allowed_tools": {"mode", "tools": [names]}}`` (top level or in
``generation_config``).

When the model calls, the output steps are (recordings/interactions/vercel_tool-call-step1_requires_action.json)::

    {"signature": "...", "type": "thought"}                    # models that think
    {"id": "zggxzq8r", "type": "function_call", "name": "getWeather", "arguments": {...}}

one ``function_call`` step per call, and ``status`` is ``requires_action``. The next request sends
``function_result`` steps ``{"type": "function_result", "call_id", "name", "result"}`` (with
``previous_interaction_id``, or the whole history when stateless); the answer is then the next
call of a chain, or a ``model_output`` written from the results ("getWeather returned ...").

With a grounding tool the ``model_output`` text is ``grounding.py``'s, its text item carrying
``annotations`` (``url_citation {start_index, end_index, url, title}``, UTF-8 byte offsets); with
Google Search a ``google_search_call {id, signature: "", arguments: {queries}}`` step and a
``google_search_result {call_id, signature: "", result: [{search_suggestions}]}`` step follow the
answer, as recorded (vercel_google-search.chunks.txt).

Streamed: a call step is ``step.start {index, step: {"id", "type": "function_call", "name"}}``,
one ``step.delta {index, delta: {"partial_arguments": "<the arguments as JSON>", "type":
"arguments_delta"}}`` and ``step.stop``; the answer's annotations come in one
``text_annotation_delta`` after its text deltas; search steps start with their ids and get their
``arguments``/``result`` in one delta each; ``interaction.completed`` carries the status.
"""

from __future__ import annotations

import json

from . import answers, grounding, tools
from .tool_config import interaction_tool_set

TOOL_USE_TOKENS = 160


def plan(body: dict, contents: list, model: str):
    """The tools' plan for this interaction (``tools.Plan``), or None when they play no part."""
    found = interaction_tool_set(body)
    if not found:
        return None
    made = tools.plan(found, contents, model) if found.declarations else None
    if made is not None:
        return made
    last = contents[-1] if contents else None
    asks = last is not None and last.role == "user" and any(p.kind == "text" for p in last.parts)
    if asks and grounding.grounds(found.built_in):
        return tools.Plan(grounding=list(found.built_in))
    return None


def answer_text(found, request) -> str | None:
    """The model_output text the plan decides (results or a grounded answer), else None."""
    if found is None:
        return None
    if found.text:
        return found.text
    if found.grounding:
        return grounding.answer_text(answers.prompt_text(request))
    return None


def finish_steps(run) -> None:
    """Shape the run's output steps for its plan: calls (requires_action) or a grounded answer."""
    found = run.plan
    if found is None:
        return
    if found.calls:
        _call_steps(run)
    elif found.grounding:
        _grounded_steps(run)


def _call_steps(run) -> None:
    calls = run.plan.calls
    for call in calls:
        call.id = call.id or tools.call_id()
    run.steps = [step for step in run.steps if step.get("type") == "thought"]
    run.steps += [{"id": call.id, "type": "function_call", "name": call.name, "arguments": call.args}
                  for call in calls]
    run.status = "requires_action"
    output = sum(answers.text_tokens(json.dumps({"name": c.name, "args": c.args}, separators=(",", ":"),
                                                ensure_ascii=False)) for c in calls)
    usage = run.usage
    usage["total_tokens"] += output - usage["total_output_tokens"]
    usage["total_output_tokens"] = output


def _grounded_steps(run) -> None:
    built_in, prompt = run.plan.grounding, answers.prompt_text(run.request)
    output = run.steps[-1]
    item = output["content"][0]
    item["annotations"] = grounding.annotations(built_in, prompt, item["text"])
    if "google_search" in built_in:
        ident = tools.call_id()
        search = grounding.query(prompt)
        run.steps.append({"id": ident, "signature": "", "type": "google_search_call",
                          "arguments": {"queries": [search]}})
        run.steps.append({"call_id": ident, "signature": "", "type": "google_search_result",
                          "result": [{"search_suggestions": grounding.entry_point(search)["renderedContent"]}]})
    usage = run.usage
    usage["total_tool_use_tokens"] = TOOL_USE_TOKENS
    usage["total_tokens"] += TOOL_USE_TOKENS
    ordered = {}
    for key, value in usage.items():  # the recorded key order: tool use details after their total
        ordered[key] = value
        if key == "total_tool_use_tokens":
            ordered["tool_use_tokens_by_modality"] = [{"modality": "text", "tokens": TOOL_USE_TOKENS}]
    run.usage = ordered


def shapes_stream(run) -> bool:
    return run.plan is not None and bool(run.plan.calls or run.plan.grounding)


def events(run) -> list[dict]:
    """The stream of an interaction whose steps the tools shaped, in the recorded order."""
    head = {"id": run.id} if run.id else {}
    found = [{"interaction": {**head, "status": "in_progress", "object": "interaction", "model": run.model},
              "event_type": "interaction.created"},
             {**({"interaction_id": run.id} if run.id else {}), "status": "in_progress",
              "event_type": "interaction.status_update"}]
    for index, step in enumerate(run.steps):
        kind = step["type"]
        delta = lambda body: found.append({"index": index, "delta": body, "event_type": "step.delta"})  # noqa: E731
        if kind == "thought":
            found.append({"index": index, "step": {"type": "thought"}, "event_type": "step.start"})
            for piece in run.summaries:
                delta({"content": {"type": "text", "text": piece}, "type": "thought_summary"})
            delta({"signature": step["signature"], "type": "thought_signature"})
        elif kind == "model_output":
            found.append({"index": index, "step": {"type": "model_output"}, "event_type": "step.start"})
            for piece in run.text_pieces:
                delta({"text": piece, "type": "text"})
            annotations = step["content"][0].get("annotations")
            if annotations:
                delta({"annotations": annotations, "type": "text_annotation_delta"})
        elif kind == "function_call":
            start = {"id": step["id"], "type": "function_call", "name": step["name"]}
            found.append({"index": index, "step": start, "event_type": "step.start"})
            delta({"partial_arguments": json.dumps(step["arguments"], ensure_ascii=False), "type": "arguments_delta"})
        else:  # google_search_call / google_search_result
            start = {key: value for key, value in step.items() if key not in ("arguments", "result")}
            found.append({"index": index, "step": start, "event_type": "step.start"})
            body = {"type": kind}
            body.update({key: step[key] for key in ("arguments", "result") if key in step})
            delta(body)
        found.append({"index": index, "event_type": "step.stop"})
    completed = {**head, "status": run.status, "usage": run.usage, "created": run.created,
                 "updated": run.created, "service_tier": "standard", "object": "interaction", "model": run.model}
    found.append({"interaction": completed, "event_type": "interaction.completed"})
    return found
