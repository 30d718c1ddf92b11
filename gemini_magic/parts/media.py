"""Bytes as media: MIME types sniffed from magic numbers, `Blob` for bytes of a stated type.

`sniff(data)` knows PNG, JPEG, GIF, WebP, BMP, TIFF, HEIC/HEIF, PDF, WAV, AIFF, MP3 (ID3 tag or
MPEG frame sync), AAC (ADTS), FLAC, OGG, MP4/MOV/M4A/3GP (`ftyp` box), WebM/Matroska (EBML),
AVI, FLV, MPEG-PS and WMV. Bytes that are none of these but read as UTF-8 text become a text part;
anything else is a ConversionError asking for the MIME type through `Blob(data, mime_type)`.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConversionError
from ..sniff import sniff_mime_type as sniff
from .builders import inline

# Image types the API takes as they are; other image types are re-encoded by images.py.
API_IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}



class Blob:
    """Bytes with a MIME type, sent as they are: `Blob(data, "audio/aac")`.

    Use it for bytes whose type cannot be told from their content, or to skip any re-encoding.
    """

    def __init__(self, data: bytes | bytearray | memoryview, mime_type: str) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"Blob data must be bytes, not {type(data).__name__}.")
        if not isinstance(mime_type, str) or "/" not in mime_type:
            raise ValueError(f"Blob needs a MIME type such as 'audio/aac', not {mime_type!r}.")
        self.data = bytes(data)
        self.mime_type = mime_type

    def __repr__(self) -> str:
        return f"Blob({len(self.data):,} bytes, {self.mime_type!r})"


def as_text(data: bytes) -> str | None:
    """The bytes as text when they are UTF-8 without control characters (other than whitespace)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text[:100_000]):
        return None
    return text


def media_part(data: bytes, mime_type: str, context, what: str, source: Any = None) -> dict:
    """Inline data of a known type: images via the image rules, the rest as is (uploaded if too big)."""
    if mime_type.startswith("image/") and mime_type not in ("image/heic", "image/heif"):
        from .images import image_bytes_part

        return image_bytes_part(bytes(data), mime_type, context)
    size = memoryview(data).nbytes
    if size > context.settings.inline_part_budget:
        return context.upload(source if source is not None else data, mime_type, what, size)
    return inline(mime_type, data)


def bytes_part(obj: Any, context) -> dict:
    """bytes, bytearray or memoryview: typed by their content. Large media is uploaded from the
    caller's buffer as it is (a 200 MB bytes object is not copied)."""
    data = obj if isinstance(obj, bytes) else memoryview(obj).cast("B") if memoryview(obj).c_contiguous \
        else bytes(obj)
    mime_type = sniff(data)
    if mime_type is not None:
        return media_part(data, mime_type, context, f"These {mime_type} bytes")
    data = bytes(data)
    text = as_text(data)
    if text is not None:
        return {"text": text}
    raise ConversionError(
        f"Cannot tell what these {len(data):,} bytes are (they start with {data[:8]!r}): not an image, "
        "PDF, audio or video format gemini_magic recognises, and not UTF-8 text. Say what they are: "
        "gemini_magic.parts.Blob(data, \"audio/aac\") with the right MIME type.")


def blob_part(obj: Blob, context) -> dict:
    """A Blob is sent unchanged with its own MIME type (uploaded when over the inline budget)."""
    if len(obj.data) > context.settings.inline_part_budget:
        return context.upload(obj.data, obj.mime_type, f"This {obj.mime_type} blob", len(obj.data))
    return inline(obj.mime_type, obj.data)
