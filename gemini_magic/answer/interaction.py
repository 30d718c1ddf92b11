"""`Interaction`: one answer of the Interactions API (`POST /v1beta/interactions`), unary or streamed.

Pure: no I/O. A unary answer is the Interaction resource as received; a streamed one is built from its
events, merged as they arrive (see ../shared/recordings/interactions):

    interaction.created   {interaction: {id, status, model}}       → id, status, model
    interaction.status_update {interaction_id, status}             → status
    step.start  {index, step}                                      → steps[index] = step
    step.delta  {index, delta}                                     → merged into steps[index]:
        text                  appended to the step's last text content item (a new item after media)
        thought_summary       appended to the thought's `summary` the same way
        thought_signature     the step's `signature`, unchanged (the service needs it back as sent)
        text_annotation_delta its `annotations` added to the last text item (offsets count UTF-8 bytes)
        arguments_delta       partial JSON text, joined and parsed into `arguments` at step.stop
        image/audio/video/document  a content item of its own
        anything else         its fields set on the step (lists extended, objects updated)
    step.stop   {index}
    interaction.completed {interaction: {id, status, usage, ...}}  → the rest of the resource; the
                                                                      streamed one carries no steps

Unknown event and delta types are ignored. One commit point, as on `Response`: the stream (or the
unary send) calls `close(...)` once — complete, failed or interrupted — with its timings; after that no
event can be added. `parts` maps the steps to generateContent-style parts and `candidates` gives them
as the one `Candidate` the views read, so the views draw an Interaction as it is:

    >>> i = Interaction({"id": "v1_x", "status": "completed", "steps": [
    ...     {"type": "thought", "signature": "c2ln"},
    ...     {"type": "model_output", "content": [{"type": "text", "text": "OK"}]}]})
    >>> i.text, i.incomplete, i.parts[1]
    ('OK', False, {'text': 'OK'})
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import GeminiError
from ..escape import answer_markdown, markdown_text
from .closing import ClosedOnce

#: Statuses that end an interaction normally: an answer, or function calls for the client to run.
DONE_STATUSES = frozenset({"completed", "requires_action"})

_MEDIA = frozenset({"image", "audio", "video", "document"})
# Step types mapped to generateContent parts; every other step (search calls, url context ...) stays
# in `.steps` only, as the service's grounding metadata would.
_RESULT_OUTCOME = {False: "OUTCOME_OK", True: "OUTCOME_FAILED"}


class Interaction(ClosedOnce):
    """The answer of one interaction: `.id`, `.status`, `.steps`, `.text`, `.thoughts`, `.usage`, `.raw`.

    Attributes that describe how it arrived, as on `Response`: `streamed`, `incomplete` (the status
    is not `completed` or `requires_action`: cut short, failed, interrupted, or still running),
    `interrupted`, `error`, `request` (the body sent), `model`, `elapsed` and `time_to_first_chunk`
    (seconds, set by `close`), `closed`. After an automatic calling exchange (api/interaction_tools.py):
    `exchange_steps` (every output and function_result step, in order) and `tool_note`.
    """

    _kind = "interaction"
    exchange_steps: list | None = None
    tool_note: str | None = None

    def __init__(self, data: dict | None = None, *, streamed: bool = False, model: str | None = None,
                 request: dict | None = None) -> None:
        self._fields: dict = {}  # the resource's top-level fields, steps aside
        self._timeline: list[dict | None] = []
        self._pieces: dict[int, list[str]] = {}  # step index -> pieces of its last, still open text item
        self._open: dict[int, dict] = {}  # step index -> that text item
        self._open_keys: dict[int, str] = {}  # step index -> "content" or "summary": where it sits
        self._arguments: dict[int, list[str]] = {}  # step index -> arguments_delta pieces
        self._raw: list[dict] = []
        self.streamed = streamed
        self.model = model
        self.request = request
        if data is not None:
            self._raw.append(data)
            self._absorb_resource(data, with_steps=True)

    # --- merging ------------------------------------------------------------------------------------

    def add_event(self, event: dict) -> None:
        """Merge one streamed event (a dict with `event_type`) into the answer; GeminiError once closed."""
        if self.closed:
            raise GeminiError("This interaction is closed: its stream has ended, so no event can be added.")
        self._raw.append(event)
        kind = event.get("event_type")
        if kind in ("step.delta", "content.delta"):
            self._delta(_index(event), event.get("delta") or {})
        elif kind in ("step.start", "content.start"):
            index = _index(event)
            step = event.get("step") if kind == "step.start" else {"type": "model_output",
                                                                    "content": [event.get("content") or {}]}
            self._start(index, dict(step or {}))
        elif kind in ("step.stop", "content.stop"):
            self._stop(_index(event))
        elif kind == "interaction.status_update":
            if event.get("status"):
                self._fields["status"] = event["status"]
            if event.get("interaction_id"):
                self._fields.setdefault("id", event["interaction_id"])
        elif kind in ("interaction.created", "interaction.completed", "interaction.start", "interaction.complete"):
            data = event.get("interaction")
            if isinstance(data, dict):
                self._absorb_resource(data, with_steps=not any(self._timeline))
        elif kind == "error":
            self._fields["status"] = "failed"

    def set_exchange(self, steps: list[dict], note: str | None) -> None:
        """Record the automatic calling exchange that ended in this interaction (its steps in order, and
        why it stopped early, if it did): the tool loop hands it over here, once it is done."""
        self.exchange_steps = list(steps)
        self.tool_note = note

    def _absorb_resource(self, data: dict, *, with_steps: bool) -> None:
        for key, value in data.items():
            if key == "steps":
                if with_steps and isinstance(value, list):
                    self._timeline = [dict(step) for step in value if isinstance(step, dict)]
            else:
                self._fields[key] = value

    def _step(self, index: int) -> dict:
        steps = self._timeline
        while len(steps) <= index:
            steps.append(None)
        if steps[index] is None:
            steps[index] = {"type": "model_output"}  # a delta for a step that never started
        return steps[index]

    def _start(self, index: int, step: dict) -> None:
        self._seal(index)
        for key in ("content", "summary"):
            if isinstance(step.get(key), list):
                step[key] = [dict(item) for item in step[key]]
        self._step(index)
        self._timeline[index] = step

    def _delta(self, index: int, delta: dict) -> None:
        kind = delta.get("type")
        step = self._step(index)
        if kind == "text":
            self._add_text(index, step, "content", delta.get("text") or "")
        elif kind == "thought_summary":
            content = delta.get("content") or {}
            if content.get("type", "text") == "text":
                self._add_text(index, step, "summary", content.get("text") or "")
            else:
                self._seal(index)
                step.setdefault("summary", []).append(dict(content))
        elif kind == "thought_signature":
            step["signature"] = delta.get("signature")
        elif kind == "text_annotation_delta":
            item = self._open.get(index) or _last_text(step.get("content"))
            if item is not None:
                item.setdefault("annotations", []).extend(delta.get("annotations") or ())
        elif kind == "arguments_delta":
            piece = delta.get("partial_arguments", delta.get("arguments"))
            if isinstance(piece, str):
                self._arguments.setdefault(index, []).append(piece)
        elif kind in _MEDIA:
            self._seal(index)
            step.setdefault("content", []).append(dict(delta))
        elif kind is not None:
            for key, value in delta.items():
                if key == "type":
                    continue
                current = step.get(key)
                if isinstance(value, list) and isinstance(current, list):
                    current.extend(value)
                elif isinstance(value, dict) and isinstance(current, dict):
                    current.update(value)
                else:
                    step[key] = value

    def _add_text(self, index: int, step: dict, key: str, text: str) -> None:
        items = step.get(key)
        if not isinstance(items, list):
            items = step[key] = []
        item = self._open.get(index)
        if item is not None and self._open_keys.get(index) == key and items and items[-1] is item:
            self._pieces[index].append(text)  # the common case: one more piece of the open text
            return
        self._seal(index)
        last = items[-1] if items else None
        if isinstance(last, dict) and last.get("type") == "text":
            item, pieces = last, [last.get("text") or "", text]
        else:
            item, pieces = {"type": "text", "text": text}, [text]
            items.append(item)
        self._open[index], self._open_keys[index], self._pieces[index] = item, key, pieces

    def _seal(self, index: int) -> None:
        item = self._open.pop(index, None)
        pieces = self._pieces.pop(index, None)
        self._open_keys.pop(index, None)
        if item is not None and pieces is not None:
            item["text"] = "".join(pieces)

    def _stop(self, index: int) -> None:
        self._seal(index)
        pieces = self._arguments.pop(index, None)
        if pieces is not None and index < len(self._timeline) and self._timeline[index] is not None:
            text = "".join(pieces)
            try:
                self._timeline[index]["arguments"] = json.loads(text) if text.strip() else {}
            except ValueError:
                self._timeline[index]["arguments"] = text  # kept as sent: the view shows what came

    def _sync(self) -> None:
        for index in list(self._open):
            item, pieces = self._open[index], self._pieces[index]
            if len(pieces) > 1:
                joined = "".join(pieces)
                item["text"] = joined
                self._pieces[index] = [joined]

    # --- reading ------------------------------------------------------------------------------------

    @property
    def id(self) -> str | None:
        """The interaction's id (absent when the service kept nothing, e.g. with `store: false`)."""
        return self._fields.get("id")

    @property
    def status(self) -> str | None:
        """in_progress, requires_action, completed, failed, cancelled, incomplete, budget_exceeded ..."""
        return self._fields.get("status")

    @property
    def usage(self) -> dict:
        """Token counts as the service sends them: total_tokens, total_input_tokens, total_output_tokens,
        total_thought_tokens, total_cached_tokens, total_tool_use_tokens, per-modality lists."""
        return dict(self._fields.get("usage") or {})

    @property
    def usage_metadata(self) -> dict:
        """`usage` in generateContent's names (promptTokenCount, candidatesTokenCount, ...), for views."""
        usage = self._fields.get("usage") or {}
        names = (("total_input_tokens", "promptTokenCount"), ("total_cached_tokens", "cachedContentTokenCount"),
                 ("total_output_tokens", "candidatesTokenCount"), ("total_tool_use_tokens", "toolUsePromptTokenCount"),
                 ("total_thought_tokens", "thoughtsTokenCount"), ("total_tokens", "totalTokenCount"))
        return {camel: usage[snake] for snake, camel in names if snake in usage}

    @property
    def total_tokens(self) -> int:
        return int((self._fields.get("usage") or {}).get("total_tokens") or 0)

    @property
    def cost(self):
        """The estimated cost in US dollars from `usage_metadata` (a `pricing.Cost`, as `Response.cost`);
        None for a model without a price."""
        from ..pricing import estimate

        return estimate(self.usage_metadata, self.model_version)

    @property
    def fields(self) -> dict:
        """The resource's top-level fields other than `steps` (created, updated, service_tier ...)."""
        return dict(self._fields)

    @property
    def steps(self) -> list[dict]:
        """The steps in order, merged, as the service sent them (copies of the step dicts).

        A POST answers with the output steps; GET with `include_input` with the whole timeline."""
        self._sync()
        return [dict(step) for step in self._timeline if step is not None]

    @property
    def output_steps(self) -> list[dict]:
        """The steps the model produced (every step but `user_input`)."""
        return [step for step in self.steps if step.get("type") != "user_input"]

    @property
    def text(self) -> str:
        """The answer text (the text items of `model_output` steps), thoughts excluded."""
        self._sync()
        return "".join(item.get("text") or "" for step in self._timeline if step and step.get("type") == "model_output"
                       for item in step.get("content") or () if item.get("type") == "text")

    @property
    def thoughts(self) -> str:
        """Thought summaries (asked for with `thinking_summaries`), joined; "" when there are none."""
        self._sync()
        return "".join(item.get("text") or "" for step in self._timeline if step and step.get("type") == "thought"
                       for item in _as_list(step.get("summary")) if item.get("type", "text") == "text")

    @property
    def function_calls(self) -> list[dict]:
        """The calls to run, as on `Response`: functionCall dicts ({id, name, args})."""
        return [part["functionCall"] for part in self.parts if "functionCall" in part]

    @property
    def function_call_steps(self) -> list[dict]:
        """The `function_call` steps as sent ({id, type, name, arguments}); answer each with a
        `function_result` step ({type, call_id, name, result})."""
        return [step for step in self.steps if step.get("type") == "function_call"]

    # What `Response` offers that an interaction has no such thing for, so views can read either.
    block_reason = None
    prompt_feedback = None

    @property
    def model_version(self) -> str | None:
        return self._fields.get("model") or self.model

    @property
    def parts(self) -> list[dict]:
        """The output steps as generateContent parts: thought → {text, thought, thoughtSignature},
        model_output items → text / inlineData / fileData, function_call → functionCall,
        function_result → functionResponse, code execution → executableCode / codeExecutionResult."""
        parts: list[dict] = []
        for step in self.output_steps:
            parts.extend(step_to_parts(step))
        return parts

    @property
    def candidates(self) -> list:
        """The answer as the one generateContent `Candidate` the views read (its `parts`, `text`,
        `thoughts`; `finish_reason` "STOP" once the status is final), built on each read."""
        from .candidate import Candidate

        candidate = Candidate(0)
        data: dict[str, Any] = {"content": self.to_content()}
        if self.status in DONE_STATUSES:
            data["finishReason"] = "STOP"
        candidate._absorb(data)
        return [candidate]

    @property
    def candidate(self):
        return self.candidates[0]

    @property
    def incomplete(self) -> bool:
        """True unless the interaction ended `completed` or `requires_action` with nothing going wrong."""
        return self.interrupted or self.error is not None or self.status not in DONE_STATUSES

    @property
    def raw(self) -> list[dict]:
        """What arrived: the resource (unary) or every event (streamed), as parsed."""
        return list(self._raw)

    @property
    def chunk_count(self) -> int:
        return len(self._raw)

    def to_content(self) -> dict:
        """The answer as a generateContent Content (role model), e.g. to show it beside other turns."""
        return {"role": "model", "parts": self.parts}

    def __repr__(self) -> str:
        state = "interrupted" if self.interrupted else self.status or "no status"
        if self.error is not None and not self.interrupted:
            state = f"{state}, failed"
        text = self.text
        short = text if len(text) <= 60 else text[:59] + "…"
        return f"<Interaction {self.id or '(no id)'} {state} text={short!r}>"

    def _repr_markdown_(self) -> str:
        """The answer's Markdown (its raw HTML and unsafe links neutralised) and an escaped footer."""
        tokens = self.total_tokens
        footer = f"{self._fields.get('model') or self.model or ''} · {self.status or 'no status'}"
        footer += f" · {tokens:,} token{'s' if tokens != 1 else ''}" if tokens else ""
        return f"{answer_markdown(self.text)}\n\n*{markdown_text(footer)}*"


def step_to_parts(step: dict) -> list[dict]:
    """One Interactions step as generateContent parts ([] for steps that have no part kind)."""
    kind = step.get("type")
    if kind == "thought":
        summary = "".join(item.get("text") or "" for item in _as_list(step.get("summary"))
                          if item.get("type", "text") == "text")
        part: dict[str, Any] = {"text": summary, "thought": True}
        if step.get("signature"):
            part["thoughtSignature"] = step["signature"]
        return [part]
    if kind in ("model_output", "user_input"):
        return [content_item_to_part(item) for item in _as_list(step.get("content"))]
    if kind == "function_call":
        call = {"name": step.get("name"), "args": step.get("arguments") or {}}
        if step.get("id"):
            call = {"id": step["id"], **call}
        return [{"functionCall": call}]
    if kind == "function_result":
        result = step.get("result")
        answer = {"name": step.get("name"), "response": result if isinstance(result, dict) else {"result": result}}
        if step.get("call_id"):
            answer = {"id": step["call_id"], **answer}
        return [{"functionResponse": answer}]
    if kind == "code_execution_call":
        arguments = step.get("arguments") or {}
        language = str(arguments.get("language") or "python").upper()
        return [{"executableCode": {"language": language, "code": arguments.get("code") or ""}}]
    if kind == "code_execution_result":
        outcome = _RESULT_OUTCOME[bool(step.get("is_error"))]
        return [{"codeExecutionResult": {"outcome": outcome, "output": _text_of(step.get("result"))}}]
    return []


def content_item_to_part(item: dict) -> dict:
    """An Interactions content item ({type: text|image|audio|video|document, ...}) as a part."""
    kind = item.get("type")
    if kind == "text":
        return {"text": item.get("text") or ""}
    mime_type = item.get("mime_type")
    if item.get("data") is not None:
        return {"inlineData": {"mimeType": mime_type or _default_mime(kind), "data": item["data"]}}
    if item.get("uri"):
        data = {"mimeType": mime_type, "fileUri": item["uri"]} if mime_type else {"fileUri": item["uri"]}
        return {"fileData": data}
    return {"text": _text_of(item)}


def _default_mime(kind: str | None) -> str:
    return {"image": "image/png", "audio": "audio/wav", "video": "video/mp4",
            "document": "application/pdf"}.get(kind or "", "application/octet-stream")


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _as_list(value: Any) -> list[dict]:
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    if isinstance(value, dict):
        return [value]
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    return []


def _last_text(items: Any) -> dict | None:
    for item in reversed(items if isinstance(items, list) else ()):
        if isinstance(item, dict) and item.get("type") == "text":
            return item
    return None


def _index(event: dict) -> int:
    index = event.get("index")
    return index if isinstance(index, int) and index >= 0 else 0
