"""The Interactions API client: `interact`, `get_interaction`, `delete_interaction` (functions taking a Client).

    from gemini_magic.api.interactions import interact
    first = interact(client, "gemini-3-flash-preview", "I have 2 dogs in my house.")
    second = interact(client, "gemini-3-flash-preview", "How many paws are in my house?",
                      previous_interaction_id=first.id)
    print(second.text)

    stream = interact(client, "gemini-3-flash-preview", "Explain how AI works", stream=True)
    for event in stream:
        print(event.text, end="")          # the text of `step.delta` events of type text
    stream.interaction.usage               # the merged answer (see interaction.py)

Requests carry the `Api-Revision` header the seed's samples send (../shared/seeds/003_*). `input` is
a string, a list of content items or steps (sent as they are), or kernel objects and
generateContent parts (converted: text → text items, inlineData/fileData → image/audio/video/document
items, functionResponse → function_result steps); see `to_input`.
"""

from __future__ import annotations

import json
import time
from typing import Any, Iterator
from urllib.parse import quote

from ..errors import GeminiError, error_from_text
from ..answer.interaction import Interaction
from ..answer.part_kinds import kind_of
from ..wire.sse import RawEvent
from ..units import plural
from .stream import StreamBase, broken_stream_error

#: The API revision the seed's samples pin ("to avoid breaking changes when they become default").
API_REVISION = "2026-05-20"
HEADERS = {"Api-Revision": API_REVISION}

#: Step types the service accepts in `input` (a list of dicts with one of these types is sent as is).
STEP_TYPES = frozenset({
    "user_input", "model_output", "thought", "function_call", "function_result", "code_execution_call",
    "code_execution_result", "url_context_call", "url_context_result", "google_search_call",
    "google_search_result", "google_maps_call", "google_maps_result", "file_search_call",
    "file_search_result", "mcp_server_tool_call", "mcp_server_tool_result",
})
CONTENT_TYPES = frozenset({"text", "image", "audio", "video", "document"})


def interact(client: Any, model: str, input: Any, *, previous_interaction_id: str | None = None,
             store: bool = True, stream: bool = False, system_instruction: str | None = None,
             generation_config: dict | None = None, tools: list | None = None):
    """Create one interaction: the model's answer to `input`, continuing `previous_interaction_id`.

    `generation_config` takes the API's snake_case fields (`{"thinking_level": "low"}`); `tools` its
    tool dicts (`{"type": "google_search"}`). With `store=False` the service keeps nothing: send the
    whole history as `input` (a list of steps) each turn.

    Returns an `Interaction`, or with `stream=True` an `InteractionStream` (iterate for events;
    `.interaction` is the answer merged so far). Raises the `APIError` subclasses of errors.py (a
    missing previous interaction is `NotFoundError`), `APIConnectionError`, `ConversionError`.
    """
    body = build_interaction_request(model, input, client=client, previous_interaction_id=previous_interaction_id,
                                     store=store, stream=stream, system_instruction=system_instruction,
                                     generation_config=generation_config, tools=tools)
    return send_interaction(client, body)


def send_interaction(client: Any, body: dict):
    """Send a body built by `build_interaction_request`: an `Interaction`, or an `InteractionStream`."""
    if body.get("stream"):
        return InteractionStream(client.transport, body)
    started = time.monotonic()
    http = client.transport.send("POST", "interactions", json=body, headers=HEADERS)
    interaction = Interaction(client.transport.json(http), model=body.get("model"), request=body)
    elapsed = time.monotonic() - started
    interaction.close(elapsed=elapsed, first_chunk=elapsed)  # a unary answer: whole on arrival
    return interaction


def get_interaction(client: Any, interaction_id: Any, *, include_input: bool = False) -> Interaction:
    """The stored interaction (`include_input=True`: with its input steps too). Raises NotFoundError."""
    path = _path(interaction_id)
    params = {"include_input": "true"} if include_input else None
    http = client.transport.send("GET", path, params=params, headers=HEADERS)
    return Interaction(client.transport.json(http))


def delete_interaction(client: Any, interaction_id: Any) -> None:
    """Delete a stored interaction. Raises NotFoundError when there is none with that id."""
    path = _path(interaction_id)
    client.transport.send("DELETE", path, headers=HEADERS)


def _path(interaction_id: Any) -> str:
    ident = getattr(interaction_id, "id", interaction_id)
    if not isinstance(ident, str) or not ident.strip():
        raise ValueError("No interaction id: pass the `id` of an Interaction (one created with store=False has none).")
    ident = ident.strip().removeprefix("interactions/")
    return f"interactions/{quote(ident, safe='')}"


# --- request bodies (pure, but for the conversion of kernel objects) --------------------------------

def build_interaction_request(model: str, input: Any, *, client: Any = None, previous_interaction_id: str | None = None,
                              store: bool = True, stream: bool = False, system_instruction: str | None = None,
                              generation_config: dict | None = None, tools: list | None = None) -> dict:
    """The body of `POST /v1beta/interactions` (snake_case, as the API takes it)."""
    model = (model or "").strip().removeprefix("models/")
    if not model:
        raise ValueError("The model name is empty; pass a name such as 'gemini-3-flash-preview'.")
    body: dict[str, Any] = {"model": model, "input": to_input(input, client=client)}
    if system_instruction:
        body["system_instruction"] = system_instruction
    if generation_config:
        body["generation_config"] = dict(generation_config)
    if tools:
        body["tools"] = list(tools)
    if previous_interaction_id:
        body["previous_interaction_id"] = previous_interaction_id
    if not store:
        body["store"] = False
    if stream:
        body["stream"] = True
    return body


def response_format_step(schema: Any) -> dict:
    """A Python type (or JSON Schema dict) as the Interactions API's `response_format`:
    `{"type": "text", "mime_type": ..., "schema": ...}` (the same schema generateContent gets)."""
    from ..request.answer_type import AnswerType

    config = AnswerType(schema).config
    return {"type": "text", "mime_type": config["responseMimeType"],
            "schema": config.get("responseJsonSchema") or config.get("responseSchema")}


def to_input(value: Any, *, client: Any = None) -> Any:
    """What a user passes as `input`, as the API takes it.

    A string stays a string; a list of steps or content items is sent unchanged; anything else (kernel
    objects, generateContent parts, mixed lists) is converted to parts, then by `parts_to_input`.
    """
    if isinstance(value, str):
        return value
    items = value if isinstance(value, (list, tuple)) else [value]
    if items and all(_is_step(item) for item in items):
        return list(items)
    if items and all(_is_content_item(item) for item in items):
        return list(items)
    from .user_turn import user_parts

    return parts_to_input(user_parts(items, client=client).parts)


def parts_to_input(parts: list[dict]) -> list[dict]:
    """generateContent parts as Interactions steps: functionResponse parts become `function_result`
    steps; the other parts one `user_input` step of content items, in order."""
    steps: list[dict] = []
    content: list[dict] = []
    for part in parts:
        answer = part.get("functionResponse")
        if isinstance(answer, dict):
            if content:
                steps.append({"type": "user_input", "content": content})
                content = []
            steps.append(function_result_step(answer))
        else:
            content.append(part_to_content_item(part))
    if content or not steps:
        steps.append({"type": "user_input", "content": content})
    return steps


def function_result_step(answer: dict) -> dict:
    """A functionResponse ({id, name, response}) as a function_result step ({call_id, name, result})."""
    response = answer.get("response")
    result = response.get("result", response) if isinstance(response, dict) and len(response) == 1 else response
    step = {"type": "function_result", "name": answer.get("name"), "result": result}
    if answer.get("id"):
        step["call_id"] = answer["id"]
    return step


def part_to_content_item(part: dict) -> dict:
    """One generateContent part as an Interactions content item (raises ConversionError for others)."""
    from ..errors import ConversionError

    item = kind_of(part).content_item(part)
    if item is not None:
        return item
    kinds = ", ".join(sorted(part)) or "empty"
    raise ConversionError(f"A {kinds} part has no Interactions API form; send text, media or files "
                          "(or a functionResponse to answer a function call).")


def _is_step(item: Any) -> bool:
    return isinstance(item, dict) and item.get("type") in STEP_TYPES


def _is_content_item(item: Any) -> bool:
    return isinstance(item, dict) and item.get("type") in CONTENT_TYPES


# --- streaming ----------------------------------------------------------------------------------------

class InteractionEvent:
    """One streamed event: `.event_type`, `.index`, `.delta` (a dict, {} if none), `.data` (all of it),
    and for convenience `.text` (a text delta's text) and `.thought` (a thought summary's text)."""

    __slots__ = ("data",)

    def __init__(self, data: dict) -> None:
        self.data = data

    event_type = property(lambda self: self.data.get("event_type"))
    index = property(lambda self: self.data.get("index"))
    delta = property(lambda self: self.data.get("delta") or {})

    @property
    def text(self) -> str:
        delta = self.data.get("delta")
        return (delta.get("text") or "") if delta and delta.get("type") == "text" else ""

    @property
    def thought(self) -> str:
        delta = self.data.get("delta")
        if delta and delta.get("type") == "thought_summary":
            return (delta.get("content") or {}).get("text") or ""
        return ""

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __repr__(self) -> str:
        return f"<InteractionEvent {self.event_type}{'' if self.index is None else f' {self.index}'}>"


class InteractionStream(StreamBase):
    """A streamed interaction. Iterate for `InteractionEvent`s; `.interaction` is the answer so far.

    The connection opens on first iteration and closes when the stream ends, fails, is closed or the
    kernel is interrupted. It is retried only before any event arrived. Any error raised carries the
    partial answer in `error.response`; `.interaction` keeps it too (`incomplete` True, `interrupted`
    True after Ctrl-C). A stream that ends before `interaction.completed` raises nothing: its
    interaction's status is still `in_progress`, so `incomplete` is True.
    """

    def __init__(self, transport: Any, body: dict) -> None:
        self._transport = transport
        self.interaction = Interaction(streamed=True, model=body.get("model"), request=body)
        self._http = None
        self._started = False
        self._first: float | None = None  # seconds to the first event, given to the Interaction at close

    @property
    def response(self) -> Interaction:
        """The same as `.interaction` (the name `ResponseStream` uses)."""
        return self.interaction

    def __iter__(self) -> Iterator[InteractionEvent]:
        return self._received("interaction")

    def _receive(self, started: float) -> Iterator[InteractionEvent]:
        import requests

        self._http = http = self._transport.send("POST", "interactions", json=self.interaction.request,
                                                 params={"alt": "sse"}, headers=HEADERS, stream=True, retry=False)
        decoder = self._transport.stream_decoder()  # scrubs the key from every event
        interaction = self.interaction
        try:
            for piece in http.iter_content(chunk_size=None if http.raw.chunked else 1024):
                for event in decoder.feed(piece):
                    data = self._event(event)
                    if data is not None:
                        if self._first is None:
                            self._first = time.monotonic() - started
                        interaction.add_event(data)
                        yield InteractionEvent(data)
            for event in decoder.close():
                data = self._event(event)
                if data is not None:
                    interaction.add_event(data)
                    yield InteractionEvent(data)
        except requests.RequestException as exc:
            received = interaction.chunk_count
            raise broken_stream_error(self._transport, exc, plural(received, "event"), "the interaction",
                                      kept=bool(received)) from None

    def _event(self, event) -> dict | None:
        if event.data.strip() == b"[DONE]":
            return None
        if isinstance(event, RawEvent):
            raise error_from_text(self._transport.redact(event.data.decode("utf-8", "replace")))
        try:
            data = json.loads(event.data.decode("utf-8"))
        except ValueError:
            raise GeminiError(f"The stream sent an event that is not JSON: {event.data[:200]!r}") from None
        if not isinstance(data, dict):
            return None
        if data.get("event_type") == "error" or ("error" in data and "event_type" not in data):
            self.interaction.add_event(data)
            error = data.get("error") or {"message": "The service reported an error in the stream."}
            # Parsed from the redacted text, so no field of the error can carry the key.
            raise error_from_text(self._transport.redact(json.dumps({"error": error}, ensure_ascii=False)))
        return data

    def close(self) -> None:
        """Close the connection (the answer so far stays in `.interaction`)."""
        if self._http is not None:
            self._http.close()
            self._http = None
