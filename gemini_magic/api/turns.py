"""One exchange of a `Chat`: what a `Turn` holds, whether an answer may enter history, and its JSON form.

    why_not_complete(response)   # None, or (error class, "The prompt was blocked (SAFETY)")
    turn_to_json(turn) / turn_from_json(data)   # what Chat.save / Chat.load write and read

Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import APIConnectionError, GeminiError, PromptBlockedError
from ..answer.interaction import Interaction
from ..answer.part_kinds import kind_of
from ..answer.response import Response

#: Finish reasons of a complete answer (MAX_TOKENS: cut by the limit asked for, still a whole turn).
COMPLETE_FINISH = frozenset({"STOP", "MAX_TOKENS"})
#: Finish reasons that mean the answer was withheld by the service's filters.
BLOCKED_FINISH = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
                            "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"})
#: The "format" field of a file written by Chat.save.
SAVE_FORMAT = "gemini_magic.chat"


@dataclass
class Turn:
    """One exchange: the user's Content as sent, the model's Content as received, and the answer.

    `input_steps`/`steps` hold the Interactions steps sent and received (interactions mode only);
    `notes` say what the conversion of the user's objects changed. `exchange` holds the Contents
    between the user's turn and the reply when tools were called (model call turns and function
    response turns, in order); `contents` is the whole turn as history carries it."""

    user: dict
    reply: dict
    response: Any = field(repr=False, default=None)  # a Response or an Interaction
    cell_id: str | None = None
    model: str | None = None
    interaction_id: str | None = None
    input_steps: list = field(default_factory=list, repr=False)
    steps: list = field(default_factory=list, repr=False)
    notes: list = field(default_factory=list, repr=False)
    exchange: list = field(default_factory=list, repr=False)

    @property
    def contents(self) -> list[dict]:
        """The turn's Contents in order: user, the tool exchange (if any), the reply."""
        return [self.user, *self.exchange, self.reply]

    @property
    def usage(self) -> dict:
        """The answer's token counts (usageMetadata, or the Interaction's usage). When tools were called,
        the counts of every model turn of the exchange, summed field by field (`Response.usage`)."""
        return dict(getattr(self.response, "usage", None) or {})

    @property
    def tokens(self) -> int:
        usage = self.usage
        return int(usage.get("totalTokenCount", usage.get("total_tokens", 0)) or 0)


def why_not_complete(result: Any) -> tuple[type, str] | None:
    """Why an answer cannot enter the history (an error class and a sentence), or None when it can.
    An automatic calling loop that stopped before an answer (`tool_note`: the call limit, or a function
    not given) cannot: history would end on a call no function response answers."""
    note = getattr(result, "tool_note", None)
    if note and not getattr(result, "interrupted", False) and getattr(result, "error", None) is None:
        return GeminiError, (f"{note.rstrip('.')}. The exchange ended on a function call that no result answers, "
                             "which the next turn could not follow")
    if isinstance(result, Interaction):
        status = result.status
        if result.interrupted:
            return GeminiError, "The answer was interrupted"
        if status in (None, "in_progress", "queued"):
            return APIConnectionError, "The stream ended before the interaction completed"
        if status not in ("completed", "requires_action"):
            return GeminiError, f"The interaction ended with status {status}"
        return None
    if result.interrupted:
        return GeminiError, "The answer was interrupted"
    if result.block_reason:
        return PromptBlockedError, f"The prompt was blocked ({result.block_reason})"
    finish = result.finish_reason
    if finish is None:
        return APIConnectionError, "The answer stopped before it was complete (no finish reason arrived)"
    if finish in BLOCKED_FINISH:
        return PromptBlockedError, f"The answer was stopped by the service's filters ({finish})"
    if finish not in COMPLETE_FINISH:
        return GeminiError, f"The answer ended with finish reason {finish}"
    if not result.parts:
        return GeminiError, f"The answer is empty (finish reason {finish})"
    return None


def describe_parts(parts: list[dict]) -> str:
    """The parts on one line for a transcript: text as it is, other parts as their kind's tag
    (`"[image/png]"`, `"[call get_rainfall]"`), thoughts left out; "(nothing)" when none remain."""
    pieces = []
    for part in parts:
        if len(part) == 1 and "text" in part:  # the usual part, plain text: its tag is its text
            pieces.append(part["text"])
        elif (kind := kind_of(part)).shown(part):
            pieces.append(kind.tag(part))
    return " ".join(piece for piece in pieces if piece) or "(nothing)"


def turn_to_json(turn: Turn) -> dict:
    response = turn.response
    item = {"user": turn.user, "reply": turn.reply, "usage": turn.usage, "cell_id": turn.cell_id,
            "model": turn.model, "notes": turn.notes}
    if turn.exchange:
        item["exchange"] = turn.exchange
    if isinstance(response, Interaction):
        item.update(api="interactions", interaction_id=turn.interaction_id, status=response.status,
                    input_steps=turn.input_steps, steps=turn.steps)
    else:
        item.update(api="generate", finish_reason=getattr(response, "finish_reason", None),
                    model_version=getattr(response, "model_version", None))
    return item


def turn_from_json(item: dict) -> Turn:
    if item.get("api") == "interactions":
        resource = {"status": item.get("status"), "steps": item.get("steps") or [], "usage": item.get("usage") or {}}
        if item.get("interaction_id"):
            resource["id"] = item["interaction_id"]
        response: Any = Interaction(resource, model=item.get("model"))
    else:
        candidate = {"content": item["reply"], "finishReason": item.get("finish_reason") or "STOP", "index": 0}
        chunk = {"candidates": [candidate], "usageMetadata": item.get("usage") or {}}
        if item.get("model_version"):
            chunk["modelVersion"] = item["model_version"]
        response = Response([chunk], model=item.get("model"))
    return Turn(item["user"], item["reply"], response, item.get("cell_id"), item.get("model"),
                item.get("interaction_id"), list(item.get("input_steps") or []), list(item.get("steps") or []),
                list(item.get("notes") or []), list(item.get("exchange") or []))
