"""The Interactions API: create (unary and streamed), get and delete, kept in memory and chained.

Shapes follow shared/recordings/interactions (Vercel's captures of the real service) and seed 003:

* ``POST /v1beta/interactions`` takes ``model``, ``input`` (see ``steps.normalise``),
  ``system_instruction`` (a string), ``generation_config`` (``max_output_tokens``,
  ``stop_sequences``, ``thinking_level``, ``thinking_summaries``, ``temperature``, ...),
  ``previous_interaction_id``, ``store`` (default true), ``stream``, ``tools``,
  ``response_format``, ``response_modalities``. All snake_case.
* The answer: ``id`` (absent when ``store`` is false, as recorded), ``status``, ``usage``,
  ``created``, ``updated``, ``service_tier``, ``steps`` (the output steps: a ``thought`` step with
  its ``signature`` (and ``summary`` when ``thinking_summaries`` is ``"auto"``) for thinking
  models, then one ``model_output``), ``object: "interaction"``, ``model``.
* Streamed (``?alt=sse`` or ``"stream": true``): ``interaction.created`` →
  ``interaction.status_update`` → per step ``step.start {index, step: {type}}`` →
  ``step.delta {index, delta}`` (``thought_summary {content: {type: text, text}}``,
  ``thought_signature {signature}``, ``text {text}``) → ``step.stop {index}`` →
  ``interaction.completed {interaction: {..., usage}}``; every event names itself in
  ``event_type``. A mid-stream failure is ``{"error": {code, message, status}, "event_type": "error"}``.
* ``GET /v1beta/interactions/{id}`` answers the stored interaction with its whole timeline in
  ``steps`` (its input steps, then its output steps); ``?include_input=true`` adds ``input`` as
  received. ``DELETE`` answers ``{}``. An unknown id is the service's 404 NOT_FOUND.

History: with ``previous_interaction_id`` the stored chain (inputs and outputs, oldest first) comes
before the new input. ``system_instruction``, ``generation_config`` and ``tools`` are not inherited:
they belong to the interaction that names them. The answer text is generateContent's, with the
conversation lines of ``history.py``; input tokens count the whole history the model reads.

Tools are ``interaction_tools.py``'s: ``function_call`` steps and ``requires_action``, then the answer
written from the ``function_result`` steps; grounded answers with ``url_citation`` annotations.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from dataclasses import dataclass, field

from . import answers, history, interaction_tools, models, steps, structured
from .errors import DEFAULT_MESSAGES, ApiError, bad_request
from .validation import GenerateRequest, ReceivedPart

FIELDS = {"model", "agent", "input", "system_instruction", "generation_config", "tools", "tool_choice",
          "response_format", "response_mime_type", "response_modalities", "previous_interaction_id",
          "store", "background", "stream", "agent_config", "service_tier"}
CONFIG_FIELDS = {"max_output_tokens", "stop_sequences", "temperature", "top_p", "top_k", "seed",
                 "thinking_level", "thinking_summaries", "presence_penalty", "frequency_penalty",
                 "tool_choice", "speech_config", "image_config"}
THINKING_LEVELS = ("minimal", "low", "medium", "high")
PRO_LEVELS = ("low", "high")  # Gemini 3 Pro refuses the others (recordings/errors/vercel_400_*)
STREAM_FAULTS = ("cut", "drop_after", "error_mid_stream")


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class StoredInteraction:
    """One kept interaction: what came in (as steps) and what went out."""

    id: str
    model: str
    status: str
    created: str
    input_steps: list
    steps: list
    usage: dict
    raw_input: object = None
    previous_id: str | None = None

    def to_json(self, include_input: bool = False) -> dict:
        body = {"id": self.id, "status": self.status, "usage": self.usage, "created": self.created,
                "updated": self.created, "service_tier": "standard",
                "steps": self.input_steps + self.steps, "object": "interaction", "model": self.model}
        if self.previous_id:
            body["previous_interaction_id"] = self.previous_id
        if include_input:
            body["input"] = self.raw_input
        return body


@dataclass
class InteractionStore:
    """Interactions by id, thread-safe; ``chain`` walks ``previous_interaction_id`` links."""

    items: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, item: StoredInteraction) -> None:
        with self.lock:
            self.items[item.id] = item

    def get(self, interaction_id: str) -> StoredInteraction:
        with self.lock:
            item = self.items.get(interaction_id)
        if item is None:
            raise ApiError(404, DEFAULT_MESSAGES[404])
        return item

    def delete(self, interaction_id: str) -> None:
        with self.lock:
            if self.items.pop(interaction_id, None) is None:
                raise ApiError(404, DEFAULT_MESSAGES[404])

    def chain(self, interaction_id: str) -> list[StoredInteraction]:
        """The interaction and its ancestors, oldest first; 404 when one of them is gone."""
        found, seen = [], set()
        while interaction_id and interaction_id not in seen:
            seen.add(interaction_id)
            item = self.get(interaction_id)
            found.append(item)
            interaction_id = item.previous_id
        return found[::-1]

    def clear(self) -> None:
        with self.lock:
            self.items.clear()

    def __len__(self) -> int:
        with self.lock:
            return len(self.items)


def _config(value, model: str) -> tuple[dict, dict]:
    """``generation_config`` checked: (as received, camelCase settings for the answer code)."""
    if value is None:
        return {}, {}
    if not isinstance(value, dict):
        raise bad_request("Invalid value at 'generation_config': expected an object.")
    settings = {}
    for key, item in value.items():
        if key not in CONFIG_FIELDS:
            message = f'Invalid JSON payload received. Unknown name "{key}" at \'generation_config\': ' \
                      "Cannot find field."
            raise bad_request(message, [("generation_config", message)])
        settings[key] = item
    limit = settings.get("max_output_tokens")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise bad_request("max_output_tokens must be a positive integer.",
                          [("generation_config.max_output_tokens", "must be a positive integer")])
    stops = settings.get("stop_sequences")
    if stops is not None and (not isinstance(stops, list) or len(stops) > 5
                              or not all(isinstance(s, str) for s in stops)):
        raise bad_request("stop_sequences must be a list of at most 5 strings.",
                          [("generation_config.stop_sequences", "at most 5 strings")])
    temperature = settings.get("temperature")
    if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                                    or not 0 <= temperature <= 2):
        raise bad_request("temperature must be in the range [0.0, 2.0]",
                          [("generation_config.temperature", "must be in the range [0.0, 2.0]")])
    level = settings.get("thinking_level")
    if level is not None:
        if level not in THINKING_LEVELS:
            raise bad_request(f"Invalid value at 'generation_config.thinking_level' (TYPE_ENUM), \"{level}\"",
                              [("generation_config.thinking_level", f'Invalid value "{level}"')])
        if model.startswith("gemini-3-pro") and level not in PRO_LEVELS:
            raise ApiError(400, f"Thinking level {level.upper()} is not supported for this model. "
                                "Please retry with other thinking level.")
    summaries = settings.get("thinking_summaries")
    if summaries is not None and summaries not in ("auto", "none"):
        raise bad_request(f"Invalid value at 'generation_config.thinking_summaries' (TYPE_ENUM), \"{summaries}\"",
                          [("generation_config.thinking_summaries", f'Invalid value "{summaries}"')])
    camel = {"maxOutputTokens": limit, "stopSequences": stops}
    return value, {k: v for k, v in camel.items() if v is not None}


def _model(body: dict) -> str:
    model, agent = body.get("model"), body.get("agent")
    if model and agent:
        raise bad_request("Give either model or agent, not both.")
    if agent:
        raise bad_request(f"The gemini_magic emulator does not run agents ({agent}); give a model instead.")
    if not model or not isinstance(model, str):
        raise bad_request("model is required: name a model such as gemini-3-flash-preview.",
                          [("model", "model is not specified")])
    name = model.removeprefix("models/")
    row = models.find(name)
    if row is None or "generateContent" not in row[4]:
        raise ApiError(404, f"models/{name} is not found for API version v1beta, or is not supported for "
                            "interactions. Call ListModels to see the list of available models and their "
                            "supported methods.")
    return name


class InteractionRun:
    """One create request, answered: the output steps, usage, events and what is kept."""

    def __init__(self, body: dict, resolve_file, book: InteractionStore, stream: bool = False,
                 fault=None):
        for key in body:
            if key not in FIELDS:
                raise bad_request(f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
        self.model = _model(body)
        self.stream = stream or body.get("stream") is True
        self.fault = fault
        self.keep = body.get("store", True) is not False
        config, settings = _config(body.get("generation_config"), self.model)
        settings.update(structured.interaction_settings(body))  # response_format: MIME type, schema
        violations = structured.check(settings, "", {"json": "response_format.schema",
                                                     "mime": "response_format.mime_type"})
        if violations:
            raise bad_request("".join(f"* {path}: {text}\n" for path, text in violations), violations)
        self.previous_id = body.get("previous_interaction_id") or None
        earlier = book.chain(self.previous_id) if self.previous_id else []
        self.input_steps = steps.normalise(body.get("input"))
        timeline = [step for item in earlier for step in item.input_steps + item.steps] + self.input_steps
        contents = steps.to_contents(timeline, resolve_file)
        history.check_turns(contents, self.model)
        self.plan = interaction_tools.plan(body, contents, self.model)  # tools: calls, their results, grounding
        system = body.get("system_instruction")
        if system is not None and not isinstance(system, str):
            raise bad_request("system_instruction must be a string.")
        system_parts = [ReceivedPart("text", text=system)] if system else None
        self.request = GenerateRequest(contents, system_parts, config, settings)
        self._answer(config)
        self.id = "v1_" + secrets.token_urlsafe(48) if self.keep else None
        self.created = now()
        if self.keep:
            book.put(StoredInteraction(self.id, self.model, self.status, self.created, self.input_steps,
                                       self.steps, self.usage, body.get("input"), self.previous_id))

    def _answer(self, config: dict) -> None:
        request, found = self.request, answers.attachments(self.request)
        text = interaction_tools.answer_text(self.plan, request) or answers.answer_text(request, self.model, found)
        text, finish = answers.apply_limits(text, request.settings)
        self.status = "completed" if finish == "STOP" else "incomplete"
        thinks = models.thinks(self.model)
        summaries = answers.thought_chunks(request, found) if thinks else []
        show = config.get("thinking_summaries") == "auto" or (self.fault is not None
                                                               and self.fault.kind == "thoughts")
        self.summaries = summaries if show else []
        self.signature = base64.b64encode(f"gemini_magic emulator signature {secrets.token_hex(8)}"
                                          .encode()).decode() if thinks else None
        self.text_pieces = structured.chunks(text) if structured.wanted(request.settings) else \
            answers.chunk_text(text)
        input_tokens, details = answers.prompt_tokens(request)
        output_tokens = answers.text_tokens(text)
        thought_tokens = answers.text_tokens("".join(summaries)) if thinks else 0
        self.usage = {
            "total_tokens": input_tokens + output_tokens + thought_tokens,
            "total_input_tokens": input_tokens,
            "input_tokens_by_modality": [{"modality": item["modality"].lower(), "tokens": item["tokenCount"]}
                                         for item in details],
            "total_cached_tokens": 0,
            "total_output_tokens": output_tokens,
            "total_tool_use_tokens": 0,
            "total_thought_tokens": thought_tokens,
        }
        self.steps = []
        if thinks:
            thought = {"signature": self.signature}
            if self.summaries:
                thought["summary"] = [{"type": "text", "text": piece} for piece in self.summaries]
            thought["type"] = "thought"
            self.steps.append(thought)
        self.steps.append({"content": [{"text": text, "type": "text"}], "type": "model_output"})
        interaction_tools.finish_steps(self)  # function_call steps (requires_action) or grounded ones

    # -- answers --------------------------------------------------------------------------------
    def _head(self) -> dict:
        return {"id": self.id} if self.id else {}

    def unary(self) -> dict:
        body = {**self._head(), "status": self.status, "usage": self.usage, "created": self.created,
                "updated": self.created, "service_tier": "standard", "steps": self.steps,
                "object": "interaction", "model": self.model}
        if self.previous_id:
            body["previous_interaction_id"] = self.previous_id
        return body

    def events(self) -> list[dict]:
        """Every event of the stream, in the recorded order and key order."""
        if interaction_tools.shapes_stream(self):
            return interaction_tools.events(self)
        events = [{"interaction": {**self._head(), "status": "in_progress", "object": "interaction",
                                   "model": self.model}, "event_type": "interaction.created"},
                  {**({"interaction_id": self.id} if self.id else {}), "status": "in_progress",
                   "event_type": "interaction.status_update"}]
        index = 0
        if self.signature:
            events.append({"index": index, "step": {"type": "thought"}, "event_type": "step.start"})
            for piece in self.summaries:
                events.append({"index": index, "delta": {"content": {"type": "text", "text": piece},
                                                         "type": "thought_summary"}, "event_type": "step.delta"})
            events.append({"index": index, "delta": {"signature": self.signature, "type": "thought_signature"},
                           "event_type": "step.delta"})
            events.append({"index": index, "event_type": "step.stop"})
            index += 1
        events.append({"index": index, "step": {"type": "model_output"}, "event_type": "step.start"})
        for piece in self.text_pieces:
            events.append({"index": index, "delta": {"text": piece, "type": "text"}, "event_type": "step.delta"})
        events.append({"index": index, "event_type": "step.stop"})
        completed = {**self._head(), "status": self.status, "usage": self.usage, "created": self.created,
                     "updated": self.created, "service_tier": "standard", "object": "interaction",
                     "model": self.model}
        events.append({"interaction": completed, "event_type": "interaction.completed"})
        return events

    def wire_events(self) -> list[dict]:
        """The events to send, with a stream fault applied (cut short, or ended by an error event)."""
        events = self.events()
        kind = self.fault.kind if self.fault is not None else None
        if kind not in STREAM_FAULTS:
            return events
        keep = self.fault.get("chunks")
        events = events[:max(1, len(events) // 2) if keep is None else int(keep)]
        if kind == "error_mid_stream":
            code = int(self.fault.get("code", 500))
            error = ApiError(code, self.fault.get("message") or DEFAULT_MESSAGES.get(code, f"Error {code}."))
            events.append({**error.body(), "event_type": "error"})
        return events
