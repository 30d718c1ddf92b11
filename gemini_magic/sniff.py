"""What kind of media some bytes are, from their magic numbers. Pure; the first 64 bytes are enough.

Knows PNG, JPEG, GIF, WebP, BMP, TIFF, HEIC/HEIF, PDF, WAV, AIFF, MP3 (ID3 tag or MPEG frame sync),
AAC (ADTS), FLAC, OGG, MP4/MOV/M4A/3GP (`ftyp` box), WebM/Matroska (EBML), AVI, FLV, MPEG-PS and WMV.
Used by the uploader (wire layer) and by the converters of kernel objects (parts).
"""

from __future__ import annotations

SNIFF_BYTES = 64

_FTYP_BRANDS = {
    b"heic": "image/heic", b"heix": "image/heic", b"hevc": "image/heic", b"hevx": "image/heic",
    b"heim": "image/heic", b"heis": "image/heic", b"mif1": "image/heif", b"msf1": "image/heif",
    b"avif": "image/avif", b"qt  ": "video/quicktime", b"M4A ": "audio/mp4", b"M4B ": "audio/mp4",
    b"M4P ": "audio/mp4", b"3gp4": "video/3gpp", b"3gp5": "video/3gpp", b"3gp6": "video/3gpp",
    b"3g2a": "video/3gpp2",
}


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


def sniff_mime_type(data: bytes) -> str | None:
    """The MIME type told by the first bytes, or None.

        >>> sniff_mime_type(b"%PDF-1.7 ..."), sniff_mime_type(b"RIFF\\x24\\x00\\x00\\x00WAVEfmt "), sniff_mime_type(b"plain")
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
