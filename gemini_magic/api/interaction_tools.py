"""Automatic function calling over the Interactions API: a `requires_action` interaction is answered.

When the model calls kernel functions, the interaction ends with `status: requires_action` and one
`function_call` step per call ({id, name, arguments}; recordings/interactions/
vercel_tool-call-step1_requires_action.json). The calls run in the kernel as in api/tools.py, and the
next interaction sends one `function_result` step per call ({call_id, name, result}, in order) with
`previous_interaction_id` — or, when the service keeps nothing (`store=False`), the whole input so
far, the output steps and the results. This repeats until an interaction completes, at most
`max_calls` calls.

    exchange = InteractionExchange(client, body, tooling)
    final = exchange.send()              # the last Interaction
    final.exchange_steps                 # every output step and function_result step, in order

`Chat(..., interactions=True).send(prompt, tools=[get_rainfall])` uses this.
"""

from __future__ import annotations

from typing import Any, Iterator

from ..errors import GeminiError
from ..request.tools import interaction_tools, tool_set
from .interactions import function_result_step, send_interaction
from .tools import Tooling, calls_refused, response_part, run_call, tooling_for

__all__ = ["InteractionExchange", "interaction_tool_options"]

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


class InteractionExchange:
    """One turn's interactions until an answer: `send()` (unary) or iterate (streamed events).
    `.response` is the current Interaction; `.calls` every call record; `.note` why it stopped early."""

    def __init__(self, client: Any, body: dict, tooling: Tooling) -> None:
        self._client = client
        self.body = body
        self.tooling = tooling
        self.steps: list[dict] = []
        self.calls: list[dict] = []
        self.note: str | None = None
        self._inner = send_interaction(client, body) if body.get("stream") else None
        self.response = self._inner.response if self._inner is not None else None

    def send(self):
        """Unary: the last Interaction, with `.exchange_steps` and `.tool_note`."""
        body = self.body
        while True:
            result = send_interaction(self._client, body)
            self.response = result
            body = self._next(result, body)
            if body is None:
                return self._finish(result)

    def __iter__(self) -> Iterator:
        body = self.body
        while True:
            yield from self._inner
            result = self._inner.response
            body = self._next(result, body)
            if body is None:
                self._finish(result)
                return
            self._inner = send_interaction(self._client, body)
            self.response = self._inner.response

    def _next(self, result, body: dict) -> dict | None:
        """Run the calls of a requires_action interaction; the next body, or None when done."""
        self.steps.extend(result.output_steps)
        calls = result.function_call_steps
        if result.status != "requires_action" or not calls or result.incomplete:
            return None
        functions = self.tooling.found.functions
        self.note = calls_refused(self.tooling, [step.get("name") for step in calls], len(self.calls),
                                  "answer it yourself with a function_result step")
        if self.note:
            return None
        results = []
        for step in calls:
            record = run_call(functions, {"name": step.get("name"), "args": step.get("arguments") or {},
                                          "id": step.get("id")})
            self.calls.append(record)
            if self.tooling.on_call is not None:
                self.tooling.on_call(record)
            answer = function_result_step(response_part(record)["functionResponse"])
            if "error" in record:
                answer["is_error"] = True
            results.append(answer)
        self.steps.extend(results)
        following = {key: value for key, value in body.items() if key not in ("input", "previous_interaction_id")}
        if body.get("store", True) is not False and result.id:
            following["input"] = results
            following["previous_interaction_id"] = result.id
        else:  # the service keeps nothing: everything so far goes again
            sent = body.get("input")
            sent = sent if isinstance(sent, list) else [{"type": "user_input", "content": [{"type": "text",
                                                                                          "text": str(sent)}]}]
            following["input"] = [*sent, *result.output_steps, *results]
        return following

    def _finish(self, result):
        result.exchange_steps = list(self.steps)
        result.tool_note = self.note
        return result

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()

    def until_done(self):
        for _ in self:
            pass
        return self.response

    @property
    def text(self) -> str:
        if self.response is None:
            raise GeminiError("Nothing was received yet.")
        return self.response.text
