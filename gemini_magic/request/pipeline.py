"""The turn pipeline's first step, shared by `Client.generate/stream/count_tokens` and `%%gemini`:
what the user gives (text, kernel objects, wire parts, a whole conversation) → parts (converters) →
fit to the 20 MB inline limit (uploading what is too big, keeping the notes) → a request body from one
validated `GenerationSettings`, plus history, tools and cache.

    turn = prepare_turn(["Describe", photo], model="gemini-2.5-flash",
                        settings=GenerationSettings.from_options(temperature=0.2), client=client)
    turn.body     # the GenerateContentRequest to send
    turn.notes    # what was changed on the way ("Part 2 (video/mp4) was uploaded ...")

No I/O but the uploads of parts too large to send inline (through `client.upload_file`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ConversionError, SettingsError
from ..parts import convert_all
from ..parts.builders import is_content
from ..parts.core import ConversionContext, fit_inline_limit
from .body import build_body, check_model
from .settings import GenerationSettings


@dataclass
class PreparedTurn:
    """A request ready to send: the `model`, the GenerateContentRequest `body`, the conversion `notes`,
    and `content`, the user turn this request adds (the last entry of `body["contents"]`)."""

    model: str
    body: dict
    notes: list[str] = field(default_factory=list)
    answer_type: Any = None  # request/answer_type.AnswerType when a schema was asked for

    @property
    def content(self) -> dict:
        return self.body["contents"][-1]


def prepare_turn(contents: Any, *, model: str, settings: GenerationSettings | None = None,
                 system: Any = None, history: list[dict] | None = None, tools: list | None = None,
                 tool_config: dict | None = None, cached_content: str | None = None, client: Any = None,
                 upload_progress: Any = None, dry_run: bool = False, schema: Any = None) -> PreparedTurn:
    """Prepare one turn. `contents`: a string, one object, a list of strings/objects/wire parts (one
    user turn), or a list of Content dicts (a whole conversation, sent as given). `history`: Content
    dicts that come before it. `system`: text, objects or parts for the system instruction. `schema`:
    a Python type (or JSON Schema dict) the answer must have (request/answer_type.py).

    Raises SettingsError (bad model or settings), SchemaError (a type that cannot be described),
    ConversionError (nothing to send, an object that cannot be sent, a request too large); uploads may
    raise the Files API's errors."""
    model = check_model(model)
    if settings is not None and not isinstance(settings, GenerationSettings):
        raise SettingsError(f"settings must be a GenerationSettings; got {type(settings).__name__}.")
    answer_type = None
    if schema is not None:
        from .answer_type import AnswerType

        answer_type = AnswerType(schema)
        settings = (settings or GenerationSettings()).merged(GenerationSettings.from_options(config=answer_type.config))
    if contents is None:
        raise ConversionError("Nothing to send: pass contents (a string, objects, or a list of turns).")
    context = ConversionContext(client, upload_progress=upload_progress, dry_run=dry_run)
    if is_content(contents) or (isinstance(contents, (list, tuple)) and contents
                                and all(is_content(item) for item in contents)):
        turns = [contents] if isinstance(contents, dict) else list(contents)
        new = _fit_contents(turns, context)
    else:
        items = list(contents) if isinstance(contents, (list, tuple)) else [contents]
        conversion = convert_all(items, client=client, upload_progress=upload_progress, dry_run=dry_run)
        context.notes.extend(conversion.notes)
        if not conversion.parts:
            raise ConversionError("Nothing to send: the prompt is empty.")
        new = [{"role": "user", "parts": conversion.parts}]
    system_parts = None
    if system is not None and system != "":
        if is_content(system):
            system_parts = list(system["parts"])
        else:
            items = list(system) if isinstance(system, (list, tuple)) else [system]
            # The same upload rules as the prompt's objects: reported, noted, and never in a dry run.
            conversion = convert_all(items, client=client, upload_progress=upload_progress, dry_run=dry_run)
            context.notes.extend(conversion.notes)
            system_parts = conversion.parts or None
    body = build_body(list(history or ()) + new, system_parts=system_parts, settings=settings,
                      tools=tools, tool_config=tool_config, cached_content=cached_content)
    return PreparedTurn(model, body, context.notes, answer_type)


def _fit_contents(turns: list[dict], context: ConversionContext) -> list[dict]:
    """A conversation given as Content dicts, with its inline parts fitted to the limit (copies)."""
    counts = [len(turn.get("parts") or []) for turn in turns]
    parts = fit_inline_limit([p for turn in turns for p in turn.get("parts") or []], context)
    fitted, start = [], 0
    for turn, count in zip(turns, counts):
        fitted.append({**turn, "parts": parts[start:start + count]})
        start += count
    return fitted
