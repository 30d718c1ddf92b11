"""Bytes as media: MIME types sniffed from magic numbers, `Blob` for bytes of a stated type.

`sniff(data)` knows PNG, JPEG, GIF, WebP, BMP, TIFF, HEIC/HEIF, PDF, WAV, AIFF, MP3 (ID3 tag or
MPEG frame sync), AAC (ADTS), FLAC, OGG, MP4/MOV/M4A/3GP (`ftyp` box), WebM/Matroska (EBML),
AVI, FLV, MPEG-PS and WMV. Bytes that are none of these but read as UTF-8 text become a text part;
anything else is a ConversionError asking for the MIME type through `Blob(data, mime_type)`.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConversionError
from .core import inline

SNIFF_BYTES = 64
# Image types the API takes as they are; other image types are re-encoded by images.py.
API_IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}

_FTYP_BRANDS = {
    b"heic": "image/heic", b"heix": "image/heic", b"hevc": "image/heic", b"hevx": "image/heic",
    b"heim": "image/heic", b"heis": "image/heic", b"mif1": "image/heif", b"msf1": "image/heif",
    b"avif": "image/avif", b"qt  ": "video/quicktime", b"M4A ": "audio/mp4", b"M4B ": "audio/mp4",
    b"M4P ": "audio/mp4", b"3gp4": "video/3gpp", b"3gp5": "video/3gpp", b"3gp6": "video/3gpp",
    b"3g2a": "video/3gpp2",
}


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


def _mpeg_audio(head: bytes) -> str | None:
    """MP3 or ADTS AAC from an MPEG audio frame header (11 sync bits)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    if layer == 0:  # ADTS: 12 sync bits, layer 00
        return "audio/aac" if head[1] & 0xF0 == 0xF0 else None
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    if version != 1 and bitrate not in (0, 15) and rate != 3:
        return "audio/mpeg"
    return None


def sniff(data: bytes) -> str | None:
    """The MIME type told by the first bytes, or None.

        >>> sniff(b"%PDF-1.7 ..."), sniff(b"RIFF\\x24\\x00\\x00\\x00WAVEfmt "), sniff(b"plain")
        ('application/pdf', 'audio/wav', None)
    """
    head = bytes(data[:SNIFF_BYTES])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and len(head) >= 12:
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/avi"}.get(head[8:12])
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"OggS"):
        return "video/ogg" if b"theora" in head else "audio/ogg"
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12], "video/mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head else "video/x-matroska"
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head.startswith(b"BM") and len(head) >= 26 and head[6:10] == b"\x00\x00\x00\x00":
        return "image/bmp"
    if head.startswith(b"FLV\x01"):
        return "video/x-flv"
    if head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):
        return "video/mpeg"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "video/wmv"
    return _mpeg_audio(head)


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

        return image_bytes_part(data, mime_type, context)
    if len(data) > context.settings.inline_part_budget:
        return context.upload(source if source is not None else data, mime_type, what, len(data))
    return inline(mime_type, data)


def bytes_part(obj: Any, context) -> dict:
    """bytes, bytearray or memoryview: typed by their content."""
    data = bytes(obj)
    mime_type = sniff(data)
    if mime_type is not None:
        return media_part(data, mime_type, context, f"These {mime_type} bytes")
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
