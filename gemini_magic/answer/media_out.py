"""Media the model makes, kept as it came: PCM speech wrapped into WAV, images written unchanged.

Pure but for `save_images` and `save_audio`, the answer model's only file output. No Pillow: image bytes are written as received (no
re-encoding), and the WAV header is built with the standard library's `wave`.

    >>> wav = pcm_to_wav(b"\\x00\\x00" * 24000, "audio/L16;codec=pcm;rate=24000")   # one second
    >>> wav[:4], wav[8:12], len(wav)
    (b'RIFF', b'WAVE', 48044)

TTS models answer `inlineData` with `audio/L16;codec=pcm;rate=24000`: raw 16-bit mono samples with no
header (little-endian, as the service sends them and as Google's own samples write them to WAV).
"""

from __future__ import annotations

import io
import re
import wave
from pathlib import Path
from typing import Iterable

from ..errors import GeminiError

DEFAULT_SAMPLE_RATE = 24000
PCM_TYPES = ("audio/l16", "audio/pcm")
IMAGE_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/jpg": ".jpg", "image/webp": ".webp",
                    "image/gif": ".gif", "image/heic": ".heic", "image/heif": ".heif", "image/bmp": ".bmp",
                    "image/tiff": ".tiff", "image/svg+xml": ".svg"}


def audio_parameters(mime_type: str) -> tuple[int, int]:
    """(sample rate in Hz, channels) of a PCM mimeType such as `audio/L16;codec=pcm;rate=24000`.

    Raises GeminiError when the type is not raw 16-bit PCM or a parameter is not a positive number."""
    base, *params = [piece.strip() for piece in str(mime_type or "").split(";")]
    if base.lower() not in PCM_TYPES:
        raise GeminiError(f"{mime_type!r} is not raw 16-bit PCM audio (audio/L16 or audio/pcm), so it cannot be "
                          "wrapped into WAV; save its bytes as they are instead.")
    values = {}
    for param in params:
        name, _, value = param.partition("=")
        values[name.strip().lower()] = value.strip()
    rate, channels = values.get("rate", str(DEFAULT_SAMPLE_RATE)), values.get("channels", "1")
    if not re.fullmatch(r"\d+", rate) or not re.fullmatch(r"\d+", channels) or int(rate) < 1 or int(channels) < 1:
        raise GeminiError(f"The audio type {mime_type!r} has an unreadable rate or channel count; expected e.g. "
                          "audio/L16;codec=pcm;rate=24000.")
    return int(rate), int(channels)


def is_pcm(mime_type: str) -> bool:
    """True for raw PCM types (`audio/L16...`, `audio/pcm...`) that need a WAV header to be played."""
    return str(mime_type or "").split(";")[0].strip().lower() in PCM_TYPES


def pcm_to_wav(data: bytes, mime_type: str = f"audio/L16;codec=pcm;rate={DEFAULT_SAMPLE_RATE}") -> bytes:
    """WAV file bytes (RIFF, 16-bit PCM) around the raw samples `data`, with the sample rate and
    channel count read from `mime_type`. A trailing odd byte (half a sample) is dropped.

    Raises GeminiError when `mime_type` is not raw 16-bit PCM."""
    rate, channels = audio_parameters(mime_type)
    frame = 2 * channels
    data = bytes(data[:len(data) - len(data) % frame])
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data)
    return buffer.getvalue()


def image_extension(mime_type: str) -> str:
    """The usual file extension of an image mimeType (`.png`, `.jpg`, ...); `.bin` when unknown."""
    base = str(mime_type or "").split(";")[0].strip().lower()
    return IMAGE_EXTENSIONS.get(base, ".bin")


def save_images(blobs: Iterable[dict], folder, prefix: str = "image") -> list[Path]:
    """Write each image blob (`{"mimeType", "data": bytes}`, as `Response.inline_data` gives them) to
    `folder` as `image-1.png`, `image-2.jpg`, ... with its original bytes. Files already there are
    not overwritten: numbering continues after them. Non-image blobs are skipped. The folder is
    created when missing. Returns the paths written, in order.

    Raises OSError when the folder cannot be created or written."""
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    number = 0
    for blob in blobs:
        mime = str(blob.get("mimeType") or "")
        if not mime.lower().startswith("image/"):
            continue
        extension = image_extension(mime)
        while True:
            number += 1
            path = folder / f"{prefix}-{number}{extension}"
            try:
                with open(path, "xb") as out:  # "x": never overwrite what is there
                    out.write(blob["data"])
                break
            except FileExistsError:
                continue
        written.append(path)
    return written


def mp4_duration(source) -> float | None:
    """Seconds of an MP4/QuickTime file (`moov/mvhd` timescale and duration), or None when it has none.

    `source` is a path or bytes; only the box headers and the `mvhd` box are read.

        >>> mp4_duration(b"\\x00\\x00\\x00\\x08ftyp") is None
        True
    """
    import struct

    if isinstance(source, (bytes, bytearray, memoryview)):
        stream = io.BytesIO(bytes(source))
    else:
        stream = open(source, "rb")
    with stream:
        def boxes(end: int | None):
            while end is None or stream.tell() + 8 <= end:
                start = stream.tell()
                head = stream.read(8)
                if len(head) < 8:
                    return
                size, kind = struct.unpack(">I4s", head)
                if size == 1:
                    size = struct.unpack(">Q", stream.read(8))[0]
                elif size == 0:
                    size = (end if end is not None else 1 << 62) - start
                if size < 8:
                    return
                yield kind, start, size
                stream.seek(start + size)

        for kind, start, size in boxes(None):
            if kind != b"moov":
                continue
            stream.seek(start + 8)
            for inner, inner_start, _ in boxes(start + size):
                if inner != b"mvhd":
                    continue
                stream.seek(inner_start + 8)
                version = stream.read(4)[:1]
                if version == b"\x01":
                    stream.read(16)
                    timescale, duration = struct.unpack(">IQ", stream.read(12))
                else:
                    stream.read(8)
                    timescale, duration = struct.unpack(">II", stream.read(8))
                return duration / timescale if timescale else None
    return None


def save_audio(data: bytes, path) -> Path:
    """Write a playable audio file (`Response.audio`: WAV for PCM) to `path` (`~` expanded); returns it
    as a Path. Raises OSError when the file cannot be written."""
    target = Path(path).expanduser()
    target.write_bytes(data)
    return target
