"""Answers that use tools, as stream events and as the unary merge: calls, results, code, citations.

``tool_generation(request, body, model, fault, cache)`` answers a :class:`ToolGeneration` when the
request's tools shape the answer, or None (the ordinary ``responses.Generation`` answers). It raises
the service's 400 for invalid tool declarations (``tool_config.py``). Precedence: function calls
(or the text written from function results), then code execution, then grounding.

Streamed chunk patterns, following the recordings:

* calls, Gemini 3 (function_call/adk_gemini-3-flash-preview_parallel-calls.sse): one event per call
  part, the first with its ``thoughtSignature``, then a last event ``{"text": ""}`` with
  ``finishReason: STOP``; other models (adk unary, llm-gemini JSON array): one event holding every
  call part, with ``finishReason: STOP`` and ``finishMessage: "Model generated function call(s)."``
  (the unary answer carries ``finishMessage`` for every model);
* text after function results: the text in pieces of a few words; models that sign end with
  ``{"text": "", "thoughtSignature"}`` (thinking/vercel_gemini-3-pro_final-empty-text-signature),
  which the unary answer puts on the one text part (as code_execution/vercel_* does);
* code execution: the ``executableCode`` event, the ``codeExecutionResult`` event, then the text
  pieces (signed as above); usage adds ``toolUsePromptTokenCount``;
* grounding: text pieces, each event with ``groundingMetadata: {}`` (and ``urlContextMetadata`` on
  the first), the last with the full ``groundingMetadata`` (``grounding.py``).
"""

from __future__ import annotations

import json

from . import answers, code_execution, grounding, tools
from .responses import Generation
from .tool_config import tool_set

TOOL_USE_TOKENS = 160  # toolUsePromptTokenCount of code execution and grounding (cf. recordings: 160, 619)


def tool_generation(request, body: dict, model: str, fault=None, cache=None):
    """The tool-shaped answer to a generate request, or None when its tools play no part."""
    found = tool_set(body)
    if not found:
        return None
    plan = tools.plan(found, request.contents, model)
    prompt = answers.prompt_text(request)
    if plan is not None:
        chunks = call_chunks(plan.calls, model) if plan.calls else text_chunks(plan.text, model)
        return ToolGeneration(request, model, fault, cache, chunks, bool(plan.calls))
    last = request.contents[-1] if request.contents else None
    if last is None or last.role != "user" or not prompt:
        return None
    if "code_execution" in found.built_in:
        return ToolGeneration(request, model, fault, cache, code_chunks(prompt, model), tool_use=True)
    if grounding.grounds(found.built_in):
        return ToolGeneration(request, model, fault, cache, grounded_chunks(found.built_in, prompt),
                              tool_use=True)
    return None


def _chunk(parts: list, **extra) -> dict:
    return {"parts": parts, "extra": extra}


def call_chunks(calls: list, model: str) -> list[dict]:
    parts = tools.call_parts(calls, model)
    if model.startswith("gemini-3"):
        return [_chunk([part]) for part in parts] + [_chunk([{"text": ""}])]
    return [_chunk(parts)]


def _signed_text(text: str, model: str) -> list[dict]:
    chunks = [_chunk([{"text": piece}]) for piece in answers.chunk_text(text)]
    if tools.signs(model):
        chunks.append(_chunk([{"text": "", "thoughtSignature": tools.signature()}]))
    return chunks


def text_chunks(text: str, model: str) -> list[dict]:
    return _signed_text(text, model)


def code_chunks(prompt: str, model: str) -> list[dict]:
    code, result, text = code_execution.parts(prompt)
    if model.startswith("gemini-3"):
        ident = tools.call_id()
        code["executableCode"]["id"] = result["codeExecutionResult"]["id"] = ident
        code["thoughtSignature"] = tools.signature()
    return [_chunk([code]), _chunk([result])] + _signed_text(text, model)


def grounded_chunks(built_in: list, prompt: str) -> list[dict]:
    text = grounding.answer_text(prompt)
    chunks = [_chunk([{"text": piece}], groundingMetadata={}) for piece in answers.chunk_text(text)]
    url_metadata = grounding.url_metadata(built_in, prompt)
    if url_metadata is not None:
        chunks[0]["extra"]["urlContextMetadata"] = url_metadata
    chunks[-1]["extra"]["groundingMetadata"] = grounding.metadata(built_in, prompt, text)
    return chunks


def _part_tokens(part: dict) -> int:
    if "text" in part:
        return answers.text_tokens(part["text"])
    shown = {k: v for k, v in part.items() if k != "thoughtSignature"}
    return answers.text_tokens(json.dumps(shown, separators=(",", ":"), ensure_ascii=False))


class ToolGeneration(Generation):
    """A ``Generation`` whose answer is the given chunks (faults, thoughts and usage as usual)."""

    def __init__(self, request, model: str, fault, cache, chunks: list[dict], calls: bool = False,
                 tool_use: bool = False):
        super().__init__(request, model, fault, cache)
        self.media = None  # tools answer with their own parts, never with images or speech
        self.chunks = chunks
        self.calls = calls
        self.tool_use = tool_use

    def _usage(self, answer_tokens: int, thought_tokens: int) -> dict:
        usage = super()._usage(answer_tokens, thought_tokens)
        if not self.tool_use:
            return usage
        ordered = {}
        for key, value in usage.items():
            if key == "thoughtsTokenCount":
                ordered.update(self._tool_usage())
            ordered[key] = value
        if "toolUsePromptTokenCount" not in ordered:
            ordered.update(self._tool_usage())
        ordered["totalTokenCount"] += TOOL_USE_TOKENS
        return ordered

    @staticmethod
    def _tool_usage() -> dict:
        return {"toolUsePromptTokenCount": TOOL_USE_TOKENS,
                "toolUsePromptTokensDetails": [{"modality": "TEXT", "tokenCount": TOOL_USE_TOKENS}]}

    def _answer_events(self) -> list[dict]:
        events, tokens = [], 0
        for number, chunk in enumerate(self.chunks):
            tokens += sum(_part_tokens(part) for part in chunk["parts"])
            candidate = {"content": {"parts": [dict(part) for part in chunk["parts"]], "role": "model"}}
            last = number == len(self.chunks) - 1
            if last:
                candidate["finishReason"] = "STOP"
            candidate["index"] = 0
            if last and self.calls and not self.model.startswith("gemini-3"):
                candidate["finishMessage"] = tools.FINISH_MESSAGE
            candidate.update(chunk["extra"])
            events.append(self._event([candidate], self._usage(tokens, self.thought_tokens)))
        return events

    def _finish_early(self, events: list[dict]) -> None:
        reason = str(self.fault.get("reason", "SAFETY"))
        for candidate in events[-1].get("candidates", []):
            index = candidate.pop("index")
            candidate.pop("finishReason", None)
            candidate["finishReason"] = reason
            candidate["index"] = index

    def unary(self) -> dict:
        """The events merged: adjacent text pieces joined (a signature lands on the joined part)."""
        events = self.events()
        if self.kind == "block_prompt":
            return events[0]
        parts: list[dict] = []
        extra: dict = {}
        finish = None
        for event in events:
            for candidate in event.get("candidates", []):
                for part in candidate.get("content", {}).get("parts", []):
                    previous = parts[-1] if parts else None
                    if ("text" in part and previous is not None and "text" in previous
                            and bool(part.get("thought")) == bool(previous.get("thought"))
                            and "thoughtSignature" not in previous):
                        previous["text"] += part["text"]
                        if "thoughtSignature" in part:
                            previous["thoughtSignature"] = part["thoughtSignature"]
                    else:
                        parts.append(dict(part))
                finish = candidate.get("finishReason", finish)
                extra.update({k: v for k, v in candidate.items()
                              if k not in ("content", "finishReason", "index") and v != {}})
        parts = [p for p in parts if p.get("text") != "" or "thoughtSignature" in p or len(parts) == 1]
        candidate = {"content": {"parts": parts, "role": "model"}}
        if finish is not None:
            candidate["finishReason"] = finish
        candidate["index"] = 0
        if self.calls and finish == "STOP":
            candidate["finishMessage"] = tools.FINISH_MESSAGE
        candidate.update({k: v for k, v in extra.items() if k != "finishMessage"})
        return self._event([candidate], events[-1]["usageMetadata"])
