"""`describe_part`: what a wire part holds, in a few words, for `--dry-run` displays.

    >>> describe_part({"text": "Hello"})
    {'kind': 'text', 'mime_type': 'text/plain', 'bytes': 5, 'summary': "5 characters: 'Hello'", 'note': None}
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
import wave

_KINDS = (("image/", "image"), ("audio/", "audio"), ("video/", "video"), ("text/csv", "table"),
          ("application/pdf", "document"), ("text/", "text"))
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z0-9])")


def _kind(mime_type: str) -> str:
    for prefix, kind in _KINDS:
        if mime_type.startswith(prefix):
            return kind
    return "data"


def _preview(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= width else flat[:width - 1] + "…")


def _summary(mime_type: str, data: bytes) -> str:
    kind = _kind(mime_type)
    try:
        if kind == "image":
            from PIL import Image

            with Image.open(io.BytesIO(data)) as img:
                return f"{img.format} {img.width}x{img.height}"
        if kind == "table":
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
            columns = len(rows[0]) if rows else 0
            return f"CSV {max(0, len(rows) - 1):,} rows x {columns} columns"
        if mime_type in ("audio/wav", "audio/x-wav", "audio/wave"):
            with wave.open(io.BytesIO(data)) as audio:
                seconds = audio.getnframes() / audio.getframerate()
                return f"WAV {seconds:.2f} s, {audio.getnchannels()} ch, {audio.getframerate()} Hz"
        if kind == "document":
            return f"PDF {len(_PDF_PAGE.findall(data))} pages"
        if kind == "text":
            return f"{mime_type} {_preview(data.decode('utf-8', errors='replace'))}"
    except Exception:  # a summary is best effort: unreadable content still has a size
        pass
    return f"{mime_type}, {len(data):,} bytes"


def describe_part(part: dict) -> dict:
    """`{"kind", "mime_type", "bytes", "summary", "note"}` for a wire part.

    kind is text, image, table, audio, video, document, data, file (uploaded, type unknown) or other;
    mime_type is always a str ("" when the part has none); bytes is what the part carries inside the
    request (decoded size of inline data, UTF-8 size of text, 0 for an uploaded file); note is None
    here (Conversion.describe fills it with what the conversion changed).
    """
    if "text" in part and isinstance(part["text"], str):
        text = part["text"]
        return {"kind": "text", "mime_type": "text/plain", "bytes": len(text.encode("utf-8")),
                "summary": f"{len(text):,} characters: {_preview(text)}", "note": None}
    inline = part.get("inlineData") or part.get("inline_data")
    if isinstance(inline, dict):
        mime_type = inline.get("mimeType") or inline.get("mime_type") or "application/octet-stream"
        try:
            data = base64.b64decode(inline.get("data") or "", validate=True)
        except (binascii.Error, ValueError):
            return {"kind": "data", "mime_type": mime_type, "bytes": len(inline.get("data") or ""),
                    "summary": "inline data that is not valid base64", "note": None}
        return {"kind": _kind(mime_type), "mime_type": mime_type, "bytes": len(data),
                "summary": _summary(mime_type, data), "note": None}
    file_data = part.get("fileData") or part.get("file_data")
    if isinstance(file_data, dict):
        mime_type = file_data.get("mimeType") or file_data.get("mime_type")
        uri = file_data.get("fileUri") or file_data.get("file_uri")
        kind = _kind(mime_type) if mime_type else "file"
        return {"kind": kind, "mime_type": mime_type or "", "bytes": 0,
                "summary": f"uploaded file {uri}", "note": None}
    name = next(iter(part), "empty")
    return {"kind": "other", "mime_type": "", "bytes": len(json.dumps(part, default=str).encode("utf-8")),
            "summary": f"{name} part", "note": None}
