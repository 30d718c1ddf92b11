"""Automatic function calling over the Interactions API: a `requires_action` interaction is answered.

When the model calls kernel functions, the interaction ends with `status: requires_action` and one
`function_call` step per call ({id, name, arguments}; recordings/interactions/
vercel_tool-call-step1_requires_action.json). The calls run in the kernel as in api/tools.py, and the
next interaction sends one `function_result` step per call ({call_id, name, result}, in order) with
`previous_interaction_id` — or, when the service keeps nothing (`store=False`), the whole input so
far, the output steps and the results. This repeats until an interaction completes, at most
`max_calls` calls. The loop is api/tools.py's one loop (`run_exchange`, `ExchangeStream`, `run_calls`);
this module gives it the Interactions API's steps (`InteractionToolLoop`).

    final = interaction_exchange(client, body, tooling)   # the last Interaction
    final.exchange_steps                 # every output step and function_result step, in order

`Chat(..., interactions=True).send(prompt, tools=[get_rainfall])` uses this.
"""

from __future__ import annotations

from typing import Any

from ..request.tools import interaction_tools, tool_set
from .interactions import function_result_step, send_interaction
from .tools import ExchangeStream, Tooling, response_part, run_calls, run_exchange, tooling_for

__all__ = ["InteractionToolLoop", "interaction_exchange", "interaction_tool_options"]

_CHOICE = {"any": "any", "none": "none"}


def interaction_tool_options(options: dict) -> tuple[list | None, Tooling | None]:
    """Take `tools`, `tool_mode`, `max_calls`, `on_call` out of `options` (Chat settings for one turn):
    the Interactions API's tool list, and the Tooling when kernel functions are to run (else None).
    A mode other than auto becomes `tool_choice` in options["generation_config"]."""
    tooling = tooling_for(options)  # takes max_calls and on_call out
    tools, mode = options.pop("tools", None), options.pop("tool_mode", None)
    if tools is None:
        return None, tooling
    found = tool_set(tools)
    word = "auto" if mode is None else str(mode).strip().lower()
    if word in _CHOICE:
        config = dict(options.get("generation_config") or {})
        config["tool_choice"] = _CHOICE[word]
        options["generation_config"] = config
    return interaction_tools(found) or None, tooling


class InteractionToolLoop:
    """The state of one exchange over the Interactions API, driven by api/tools.py's one loop
    (`run_exchange`, `ExchangeStream`): the next body, the steps so far, every call record."""

    def __init__(self, body: dict, tooling: Tooling) -> None:
        self.body = body
        self.tooling = tooling
        self.steps: list[dict] = []
        self.calls: list[dict] = []
        self.note: str | None = None
        self._next = body

    def request(self) -> dict:
        return self._next

    def after(self, result) -> bool:
        """Record a finished interaction's output steps; run the calls of a requires_action one. True
        when a function_result body is ready and the model must be asked again."""
        self.steps.extend(result.output_steps)
        calls = result.function_call_steps
        if result.status != "requires_action" or not calls or result.incomplete:
            return False
        records, self.note = run_calls(self.tooling, [{"name": step.get("name"), "args": step.get("arguments") or {},
                                                       "id": step.get("id")} for step in calls],
                                       len(self.calls), "answer it yourself with a function_result step")
        if self.note:
            return False
        results = []
        for record in records:
            self.calls.append(record)
            answer = function_result_step(response_part(record)["functionResponse"])
            if "error" in record:
                answer["is_error"] = True
            results.append(answer)
        self.steps.extend(results)
        body = self._next
        following = {key: value for key, value in body.items() if key not in ("input", "previous_interaction_id")}
        if body.get("store", True) is not False and result.id:
            following["input"] = results
            following["previous_interaction_id"] = result.id
        else:  # the service keeps nothing: everything so far goes again
            sent = body.get("input")
            sent = sent if isinstance(sent, list) else [{"type": "user_input", "content": [{"type": "text",
                                                                                          "text": str(sent)}]}]
            following["input"] = [*sent, *result.output_steps, *results]
        self._next = following
        return True

    def finish(self, result):
        result.set_exchange(self.steps, self.note)
        return result


def interaction_exchange(client: Any, body: dict, tooling: Tooling):
    """One turn's interactions until an answer, the kernel's functions answering the calls: the last
    `Interaction` (unary), or with `body["stream"]` an `ExchangeStream` of InteractionEvents. Raises
    what `send_interaction` raises, with `.steps` (the exchange so far)."""
    loop = InteractionToolLoop(body, tooling)
    send = lambda following: send_interaction(client, following)  # noqa: E731
    return ExchangeStream(loop, send) if body.get("stream") else run_exchange(loop, send)
