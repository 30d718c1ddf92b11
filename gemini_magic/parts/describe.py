"""`describe_part`: what a wire part holds, in a few words, for `--dry-run` displays.

The kind and the short summary come from the one table of part kinds (`gemini_magic.answer.part_kinds`);
media (inline or uploaded) is named by its MIME type, and inline media is looked into for a better
summary than its size: an image's format and pixels, a CSV's rows, a WAV's length, a PDF's pages.

    >>> describe_part({"text": "Hello"})
    {'kind': 'text', 'mime_type': 'text/plain', 'bytes': 5, 'summary': "5 characters: 'Hello'", 'note': None}
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
import wave

from ..answer.part_kinds import FileDataKind, InlineDataKind, kind_of, preview
from ..units import plural

# Media kinds by MIME type, more precise than the table's (a CSV is a table, a PDF a document).
_MEDIA = (("image/", "image"), ("audio/", "audio"), ("video/", "video"), ("text/csv", "table"),
          ("application/pdf", "document"), ("text/", "text"))
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z0-9])")


def media_kind(mime_type: str) -> str:
    """image, audio, video, table, document, text or data, from a MIME type."""
    for prefix, kind in _MEDIA:
        if mime_type.startswith(prefix):
            return kind
    return "data"


def _summary(mime_type: str, data: bytes) -> str:
    kind = media_kind(mime_type)
    try:
        if kind == "image":
            from PIL import Image

            with Image.open(io.BytesIO(data)) as img:
                return f"{img.format} {img.width}x{img.height}"
        if kind == "table":
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
            columns = len(rows[0]) if rows else 0
            return f"CSV {plural(max(0, len(rows) - 1), 'row')} x {plural(columns, 'column')}"
        if mime_type in ("audio/wav", "audio/x-wav", "audio/wave"):
            with wave.open(io.BytesIO(data)) as audio:
                seconds = audio.getnframes() / audio.getframerate()
                return f"WAV {seconds:.2f} s, {audio.getnchannels()} ch, {audio.getframerate()} Hz"
        if kind == "document":
            return f"PDF {plural(len(_PDF_PAGE.findall(data)), 'page')}"
        if kind == "text":
            return f"{mime_type} {preview(data.decode('utf-8', errors='replace'))}"
    except Exception:  # a summary is best effort: unreadable content still has a size
        pass
    return f"{mime_type}, {plural(len(data), 'byte')}"


def describe_part(part: dict) -> dict:
    """`{"kind", "mime_type", "bytes", "summary", "note"}` for a wire part.

    kind is the table's label ("text", "function call", ...), except for media, which is named by its
    MIME type: image, table, audio, video, document, text or data (inline data), or file for an upload
    of unknown type; mime_type is always a str ("" when the part has none); bytes is what the part
    carries inside the request (decoded size of inline data, UTF-8 size of text, 0 for an uploaded
    file, the JSON size of other parts); note is None here (Conversion.describe fills it with what the
    conversion changed).
    """
    kind = kind_of(part)
    described = {"kind": kind.label_for(part), "mime_type": kind.mime_type(part), "bytes": kind.size(part),
                 "summary": kind.summary(part), "note": None}
    if isinstance(kind, InlineDataKind):
        inline = part.get("inlineData") or part.get("inline_data")
        mime_type = described["mime_type"]
        try:
            data = base64.b64decode(inline.get("data") or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            return {**described, "kind": "data", "bytes": len(str(inline.get("data") or "")),
                    "summary": "inline data that is not valid base64"}
        return {**described, "kind": media_kind(mime_type), "bytes": len(data), "summary": _summary(mime_type, data)}
    if isinstance(kind, FileDataKind):
        mime_type = described["mime_type"]
        described["kind"] = media_kind(mime_type) if mime_type else "file"
    return described
