"""The conversion core: `convert` one object into parts plus notes, and the context converters get."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from typing import Any

from ..constants import INLINE_REQUEST_LIMIT
from ..errors import ConversionError
from . import registry
from .builders import file_data, is_part
from .sizes import Settings, check_request_size, megabytes, part_size, settings as default_settings


@dataclass
class Conversion:
    """What an object became: the wire `parts` (in order) and human `notes` on what was changed."""

    parts: list[dict]
    notes: list[str] = field(default_factory=list)

    def describe(self) -> list[dict]:
        """`describe_part` of each part; the conversion's notes go on the last part."""
        from .describe import describe_part

        described = [describe_part(part) for part in self.parts]
        if described and self.notes:
            described[-1]["note"] = "; ".join(self.notes)
        return described


class ConversionContext:
    """Handed to every converter as its second argument.

    `client` (or None), `settings` (the budgets), `note(text)` to report a change, `convert(obj)`
    for nested objects, `upload(source, mime_type, what, size)` for data too large to send inline.
    `upload_progress(label)` makes a progress callback for those uploads (with an optional
    `finish(text)`); with `dry_run`, nothing is uploaded and a placeholder part says what would be.
    """

    def __init__(self, client: Any = None, settings: Settings | None = None, *,
                 upload_progress: Any = None, dry_run: bool = False) -> None:
        self.client = client
        self.settings = settings or default_settings
        self.upload_progress = upload_progress
        self.dry_run = dry_run
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def convert(self, obj: Any) -> list[dict]:
        """The parts of one object (a list, even for one part)."""
        func = registry.find_converter(obj)
        if func is None:
            func = _fallback(obj)
        try:
            result = func(obj, self)
        except OSError as error:  # unreadable file, truncated image...: one clear message, no traceback
            raise ConversionError(f"Could not read the {registry.type_name(type(obj))}: {error}") from None
        if isinstance(result, Conversion):
            self.notes.extend(n for n in result.notes if n not in self.notes)
            result = result.parts
        parts = result if isinstance(result, list) else [result]
        for part in parts:
            if not isinstance(part, dict):
                raise ConversionError(
                    f"The converter for {registry.type_name(type(obj))} returned a {type(part).__name__}; "
                    "a converter returns a part dict such as {'text': ...} or a list of them.")
        return parts

    def upload(self, source: Any, mime_type: str, what: str, size: int) -> dict:
        """A fileData part for data over the inline budget, uploaded through `client.upload_file`."""
        upload_file = getattr(self.client, "upload_file", None)
        if upload_file is None:
            raise ConversionError(
                f"{what} is {megabytes(size)}, too large to send inline (the request limit is 20 MB, "
                f"and one part may carry {megabytes(self.settings.inline_part_budget)}). Upload it first "
                "with %gemini_upload PATH --as NAME and use {NAME}, or with client.upload_file(...), "
                "and pass the returned file.")
        if self.dry_run:
            self.note(f"{what} ({megabytes(size)}) would be uploaded through the Files API before sending")
            return file_data(mime_type, WOULD_UPLOAD + what)
        progress = self.upload_progress(what) if self.upload_progress else None
        uploaded = upload_file(source, mime_type=mime_type, progress=progress)
        message = f"{what} ({megabytes(size)}) was uploaded through the Files API as {uploaded.name}"
        if hasattr(progress, "finish"):
            progress.finish(message)
        self.note(message)
        return file_data(uploaded.mime_type or mime_type, uploaded.uri)


#: The fileUri of a dry run's stand-in for a part that would be uploaded.
WOULD_UPLOAD = "(uploaded when sent) "


SUPPORTED = (
    "text, numbers, dict/list/tuple (as JSON; lists of images etc. element by element), "
    "PIL images, numpy arrays, pandas DataFrame/Series, matplotlib Figure/Axes, IPython.display "
    "Image/Audio/Video/Markdown/HTML/SVG/JSON, bytes of a known media type, "
    "gemini_magic.parts.Blob(data, mime_type), pathlib.Path to a file, files from %gemini_upload"
)


def _fallback(obj: Any):
    """Converters for objects without a registered one: path-like objects, `_repr_png_` / `_repr_jpeg_`."""
    if isinstance(obj, os.PathLike):
        from .files import path_part

        return path_part
    for method, mime in (("_repr_png_", "image/png"), ("_repr_jpeg_", "image/jpeg")):
        if callable(getattr(type(obj), method, None)):
            return lambda o, ctx, method=method, mime=mime: _rich_repr_image(o, ctx, method, mime)
    name = registry.type_name(type(obj))
    raise ConversionError(
        f"Cannot send a {name} object to Gemini. Supported: {SUPPORTED}. Convert it first "
        f"(for example str(obj)), or teach gemini_magic how:\n"
        f"    from gemini_magic.parts import register_converter\n"
        f"    register_converter({name!r}, lambda obj, ctx: {{\"text\": str(obj)}})")


def _rich_repr_image(obj: Any, ctx: ConversionContext, method: str, mime: str) -> list[dict]:
    data = getattr(obj, method)()
    if isinstance(data, tuple):  # (data, metadata), as IPython allows
        data = data[0]
    if isinstance(data, str):
        data = base64.b64decode(data)
    if not data:
        raise ConversionError(f"{registry.type_name(type(obj))}.{method}() returned nothing to send.")
    from .images import image_bytes_part

    return [image_bytes_part(bytes(data), mime, ctx)]


def convert(obj: Any, *, client: Any = None) -> Conversion:
    """Convert one kernel object into wire parts, with notes on anything changed on the way.

        >>> convert({"a": 1}).parts
        [{'text': '{\\n  "a": 1\\n}'}]

    Most objects give one part; a DataFrame gives two (a text header with shape and dtypes, then
    the CSV), a list of images one per image.
    """
    context = ConversionContext(client)
    parts = context.convert(obj)
    return Conversion(parts, context.notes)


def convert_all(items: Any, *, client: Any = None, upload_progress: Any = None,
                dry_run: bool = False) -> Conversion:
    """Convert a prompt's items (strings are text, wire part dicts pass unchanged, the rest go through
    `convert`) and fit the inline limit.

    Uploads of parts too large to send inline report through `upload_progress(label)`; with
    `dry_run`, nothing is uploaded (see ConversionContext)."""
    context = ConversionContext(client, upload_progress=upload_progress, dry_run=dry_run)
    parts: list[dict] = []
    for item in items:
        if isinstance(item, str):
            if item:
                parts.append({"text": item})
        elif is_part(item):
            parts.append(item)
        else:
            parts.extend(context.convert(item))
    return Conversion(fit_inline_limit(parts, context), context.notes)


def fit_inline_limit(parts: list[dict], context: ConversionContext) -> list[dict]:
    """Parts that fit the 20 MB inline request limit.

    With a client that can upload, the largest inline parts go through the Files API (as fileData)
    until the rest fits; without one, a RequestTooLargeError says which parts are large and what to do.
    """
    sizes = [part_size(part) for part in parts]
    total = sum(sizes)
    if total <= INLINE_REQUEST_LIMIT or getattr(context.client, "upload_file", None) is None:
        check_request_size(parts)
        return parts
    parts = list(parts)
    for index in sorted(range(len(parts)), key=sizes.__getitem__, reverse=True):
        blob = parts[index].get("inlineData")
        if total <= INLINE_REQUEST_LIMIT or not isinstance(blob, dict):
            break
        data = base64.b64decode(blob.get("data") or "")
        mime_type = blob.get("mimeType") or "application/octet-stream"
        parts[index] = context.upload(data, mime_type, f"Part {index + 1} ({mime_type})", len(data))
        total -= sizes[index]
    check_request_size(parts)
    return parts


def to_part(obj: Any, *, client: Any = None):
    """One kernel object as a wire part: a dict, or a list of dicts when it takes several parts.

        >>> to_part("Hello")
        {'text': 'Hello'}

    A DataFrame, a table-sized array or a list of images take several parts, returned as a list
    (`Client.generate` accepts both). Use `convert` to also get the notes on what was changed.
    """
    parts = convert(obj, client=client).parts
    check_request_size(parts)
    return parts[0] if len(parts) == 1 else parts


def to_parts(items: Any, *, client: Any = None) -> list[dict]:
    """A prompt's items as wire parts: `to_parts(["Compare", img, "with", df])`; checks the size."""
    return convert_all(items, client=client).parts
