"""Function calling in the Interactions API: ``function_call`` steps and ``requires_action``.

The same deterministic rules as generateContent (``tools.py``), over the interaction's timeline
turned into contents (``steps.to_contents``). Tools are ``{"type": "function", "name",
"description", "parameters"}`` (JSON Schema); ``tool_choice`` is ``"auto"``, ``"any"``, ``"none"``
or ``{"allowed_tools": {"mode", "tools": [names]}}`` (top level or in ``generation_config``).

When the model calls, the output steps are (recordings/interactions/vercel_tool-call-step1_requires_action.json)::

    {"signature": "...", "type": "thought"}                    # models that think
    {"id": "zggxzq8r", "type": "function_call", "name": "getWeather", "arguments": {...}}

one ``function_call`` step per call, and ``status`` is ``requires_action``. The next request sends
``function_result`` steps ``{"type": "function_result", "call_id", "name", "result"}`` (with
``previous_interaction_id``, or the whole history when stateless); the answer is then the next
call of a chain, or a ``model_output`` written from the results ("get_weather returned ...").

Streamed, a call step is ``step.start {index, step: {"id", "type": "function_call", "name"}}``,
one ``step.delta {index, delta: {"partial_arguments": "<the arguments as JSON>", "type":
"arguments_delta"}}`` and ``step.stop``; ``interaction.completed`` carries ``requires_action``.
"""

from __future__ import annotations

import json

from . import answers, tools
from .tool_config import interaction_tool_set


def plan(body: dict, contents: list, model: str):
    """The tools' plan for this interaction (``tools.Plan``), or None when they play no part."""
    found = interaction_tool_set(body)
    if not found.declarations:
        return None
    return tools.plan(found, contents, model)


def call_steps(run) -> None:
    """Replace the run's model_output step by its function_call steps; status requires_action."""
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


def events(run) -> list[dict]:
    """The stream of a calling interaction, in the order of an ordinary one (see the docstring)."""
    head = {"id": run.id} if run.id else {}
    found = [{"interaction": {**head, "status": "in_progress", "object": "interaction", "model": run.model},
              "event_type": "interaction.created"},
             {**({"interaction_id": run.id} if run.id else {}), "status": "in_progress",
              "event_type": "interaction.status_update"}]
    for index, step in enumerate(run.steps):
        if step["type"] == "thought":
            found.append({"index": index, "step": {"type": "thought"}, "event_type": "step.start"})
            found.append({"index": index, "delta": {"signature": step["signature"], "type": "thought_signature"},
                          "event_type": "step.delta"})
        else:
            start = {"id": step["id"], "type": "function_call", "name": step["name"]}
            found.append({"index": index, "step": start, "event_type": "step.start"})
            arguments = json.dumps(step["arguments"], ensure_ascii=False)
            found.append({"index": index, "delta": {"partial_arguments": arguments, "type": "arguments_delta"},
                          "event_type": "step.delta"})
        found.append({"index": index, "event_type": "step.stop"})
    completed = {**head, "status": run.status, "usage": run.usage, "created": run.created,
                 "updated": run.created, "service_tier": "standard", "object": "interaction", "model": run.model}
    found.append({"interaction": completed, "event_type": "interaction.completed"})
    return found
