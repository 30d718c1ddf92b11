"""Structured output: deterministic answers that fit a JSON Schema, and the service's schema checks.

A generate request asks for structured output with ``generationConfig.responseMimeType`` set to
``application/json`` plus ``responseJsonSchema`` (a JSON Schema subset) or ``responseSchema`` (the
older OpenAPI subset, uppercase type names), never both; ``text/x.enum`` with a string enum schema
asks for a bare label (a classification): the label the prompt's words best match
(``labels.py``; the first label when no word speaks for any). The Interactions API says the same with
``response_format: {"type": "text", "mime_type": "application/json", "schema": {...}}``.

The answer (``answer``) is JSON written with a two-space indent, in ``properties`` order (or
``propertyOrdering`` when given), built by these rules so tests can compute it independently:

* strings: the prompt's words (``\\w+`` runs of its last user turn) one per string, in order, cycling
  through the whole document (candidate ``n`` starts at word ``n``); ``minLength`` joins further
  words with spaces, ``maxLength`` cuts; ``format: date`` is 2026-01-01 plus one day per date
  value, ``date-time`` that day at 09:30:00Z, ``time`` 09:30:00 plus one hour per value;
* integers 1, 2, 3, ...; numbers 1.5, 3.0, 4.5, ... (separate counters), moved inside
  ``minimum``/``maximum``; booleans alternate true, false, ...;
* ``enum``: its first value; ``anyOf``/``oneOf``: the first branch that is not ``null``;
  a list of types or ``nullable``: the first type that is not null; ``{}``: a string;
* arrays: three items (``prefixItems`` alone: one each), within ``minItems``/``maxItems``;
* a bare object schema (no properties): the emulator's usual JSON object describing the request;
* objects: every property, required or not, except a non-required one that would re-enter a
  ``$ref`` being expanded (that is how recursion stops); a map (``additionalProperties`` without
  ``properties``) gets three entries keyed by the next words;
* ``$ref``: local references (``#/$defs/Name``, ``#``, any ``#/...`` pointer) resolved.

Streamed, the JSON is cut every ``CHUNK_BYTES`` bytes or a little more, always inside a string or
a number, so clients see real partial JSON. Schemas the service refuses (keywords it does not
accept, unknown types, ``required`` naming a missing property, cycles through required
properties...) are reported as ``(field path, description)`` violations in the service's paths,
``generation_config.response_json_schema.properties[0].value.type`` and the like.
The values are written by ``schema_values.py``, the schemas checked by ``schema_checks.py``.
Pure: no I/O; imports nothing of the client.
"""

from __future__ import annotations

import json

from .labels import choose
from .schema_checks import ENUM_MIME, JSON_MIME, schema_violations
from .schema_values import Writer, normalise, schema_type, words_of

CHUNK_BYTES = 32


# -- what a request asks for --------------------------------------------------------------------
def requested(settings: dict) -> tuple[str, object] | None:
    """("json", schema) for responseJsonSchema, ("openapi", schema) for responseSchema, else None."""
    if settings.get("responseJsonSchema") is not None:
        return "json", settings["responseJsonSchema"]
    if settings.get("responseSchema") is not None:
        return "openapi", settings["responseSchema"]
    return None


def wanted(settings: dict) -> bool:
    """True when the answer is structured output (a schema with a JSON or enum MIME type).

    A bare object schema (``{"type": "OBJECT"}``, no properties) is not: any object fits it, so the
    emulator's usual JSON object describing the request answers it."""
    found = requested(settings)
    mime = settings.get("responseMimeType")
    if found is None or mime not in (JSON_MIME, ENUM_MIME):
        return False
    root = normalise(found[1]) if found[0] == "openapi" else found[1]
    bare = isinstance(root, dict) and schema_type(root) == "object" and not root.get("properties") and \
        not isinstance(root.get("additionalProperties"), dict) and "$ref" not in root
    return mime == ENUM_MIME or not bare


def answer(settings: dict, prompt: str, candidate: int = 0) -> str | None:
    """The structured answer text for a checked request, or None when no schema was asked for.

    `prompt`: the last user turn's text (its words fill the strings); `candidate`: the candidate's
    index (candidate n starts at the prompt's word n). JSON with a two-space indent, or for
    text/x.enum the bare label that the prompt's words best match (`labels.choose`).
    """
    if not wanted(settings):
        return None
    kind, schema = requested(settings)
    root = normalise(schema) if kind == "openapi" else schema
    writer = Writer(root, words_of(prompt), candidate)
    if settings.get("responseMimeType") == ENUM_MIME:
        return str(choose(writer.labels(root), prompt))
    return json.dumps(writer.value(root), indent=2, ensure_ascii=False)


# -- streaming ------------------------------------------------------------------------------------
def chunks(text: str, size: int = CHUNK_BYTES) -> list[str]:
    """`text` cut every `size` UTF-8 bytes or a little later, each cut inside a string or a number
    (never inside an escape or a character); ``"".join(chunks(text)) == text``."""
    inside = _inside_positions(text)
    pieces, start, start_byte, position_byte = [], 0, 0, 0
    for index, char in enumerate(text):
        if index > start and position_byte - start_byte >= size and inside[index]:
            pieces.append(text[start:index])
            start, start_byte = index, position_byte
        position_byte += len(char.encode("utf-8"))
    pieces.append(text[start:])
    return [piece for piece in pieces if piece] or [text]


def _inside_positions(text: str) -> list[bool]:
    """inside[i]: a cut before character i falls strictly inside a JSON string or number."""
    inside = [False] * (len(text) + 1)
    index = 0
    while index < len(text):
        char = text[index]
        if char == '"':
            start = index + 1
            index = start
            while index < len(text) and text[index] != '"':
                index += 2 if text[index] == "\\" else 1
            for position in range(start + 1, min(index, len(text))):
                inside[position] = text[position - 1] != "\\" or _escaped_backslash(text, position - 1)
            index += 1
        elif char in "-0123456789":
            start = index
            while index < len(text) and text[index] in "-+.eE0123456789":
                index += 1
            for position in range(start + 1, index):
                inside[position] = True
        else:
            index += 1
    return inside


def _escaped_backslash(text: str, position: int) -> bool:
    """Is the backslash at `position` itself escaped (the second of a pair)?"""
    run = 0
    while position - run >= 0 and text[position - run] == "\\":
        run += 1
    return run % 2 == 0


# -- the service's checks -------------------------------------------------------------------------
def check(settings: dict, where: str = "generation_config.", names: dict | None = None) -> list[tuple[str, str]]:
    """Violations (field path, description) of the structured-output settings, for a 400.

    `where` prefixes the field paths; `names` may rename the fields in them ({"json":
    "response_format.schema", "mime": "response_format.mime_type"} for the Interactions API).
    Malformed responseSchema fields (unknown names, unknown type names) are refused at once, as the
    service refuses them while parsing: raises ApiError (400 INVALID_ARGUMENT).
    """
    names = {"json": where + "response_json_schema", "openapi": where + "response_schema",
             "mime": where + "response_mime_type", **(names or {})}
    has_json = settings.get("responseJsonSchema") is not None
    has_openapi = settings.get("responseSchema") is not None
    if not has_json and not has_openapi:
        return []
    mime = settings.get("responseMimeType")
    if has_json and has_openapi:
        return [(names["openapi"], "response_schema and response_json_schema cannot both be set; send only "
                                   "one of them.")]
    field = names["json"] if has_json else names["openapi"]
    if mime not in (JSON_MIME, ENUM_MIME):
        return [(names["mime"], f"a response schema needs response_mime_type \"{JSON_MIME}\" (or "
                                f"\"{ENUM_MIME}\" for an enum); got \"{mime or 'text/plain'}\".")]
    kind = "json" if has_json else "openapi"
    return schema_violations(kind, settings["responseJsonSchema" if has_json else "responseSchema"], field, mime)


# -- the Interactions API -------------------------------------------------------------------------
def interaction_settings(body: dict) -> dict:
    """generationConfig-style settings from an interaction's ``response_format`` (and the older
    top-level ``response_mime_type``): responseMimeType and responseJsonSchema when a schema is given.

    Forms read: {"type": "text", "mime_type": ..., "schema": {...}}, a list of such entries (the
    text one is used), and the legacy response_mime_type + response_format holding the schema.
    """
    form = body.get("response_format")
    mime = body.get("response_mime_type")
    if isinstance(form, list):
        form = next((item for item in form if isinstance(item, dict) and item.get("type") == "text"), None)
    settings: dict = {}
    if isinstance(form, dict) and (form.get("type") == "text" or "mime_type" in form or "schema" in form):
        mime = form.get("mime_type") or mime
        if form.get("schema") is not None:
            settings["responseJsonSchema"] = form["schema"]
    elif isinstance(form, dict) and form:
        settings["responseJsonSchema"] = form  # legacy: the schema itself, with response_mime_type
    if mime:
        settings["responseMimeType"] = mime
    return settings
