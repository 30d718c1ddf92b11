"""Look inside received bytes, so an answer can prove they arrived intact.

``describe(mime_type, stream)`` returns a short phrase such as "PNG image, 640 x 480, mode RGBA",
"CSV table, 100 rows x 4 columns (header row not counted)", "WAV audio, 2.00 s, 1 channel,
22050 Hz", "PDF document, 3 pages" or "text, 12 lines"; None when only the size can be told.
It reads from a binary file object so a 1 GiB uploaded file is scanned in pieces, never loaded whole;
inline data uses the same code through ``io.BytesIO``, so both paths describe equal bytes equally.

``look(mime_type, stream)`` gives the same phrase with a kind and a short summary, for the one-line
echo of an attachment: ``("image", "640x480", "PNG image, 640 x 480, mode RGB")`` becomes
``[image 1: 640x480]``.
"""

from __future__ import annotations

import csv
import io
import re
import wave

BLOCK = 1024 * 1024
WAV_TYPES = {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}
CSV_TYPES = {"text/csv", "application/csv", "text/comma-separated-values"}
TEXT_TYPES = {"application/json", "application/xml", "application/x-yaml"}
# "/Type /Page" marks one page object; "/Type /Pages" is the page tree and must not count.
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z0-9])")


def describe(mime_type: str, stream) -> str | None:
    """A phrase describing the content of ``stream`` (binary, seekable), or None for size only."""
    return look(mime_type, stream)[2]


def look(mime_type: str, stream) -> tuple[str, str | None, str | None]:
    """(kind, short summary or None, phrase or None) of the content of ``stream`` (binary, seekable).

    Kinds: image, audio, video, table, document, text, file."""
    mime = (mime_type or "").split(";")[0].strip().lower()
    stream.seek(0)
    if mime.startswith("image/"):
        return ("image", *_image(stream))
    if mime in WAV_TYPES:
        return ("audio", *_wav(stream))
    if mime in CSV_TYPES:
        phrase = _csv(stream)
        summary = phrase[len("CSV table, "):].split(" (")[0] if phrase.startswith("CSV table, ") else None
        return "table", summary, phrase
    if mime == "application/pdf":
        phrase = _pdf(stream)
        return "document", phrase[len("PDF document, "):], phrase
    if mime == "video/mp4":
        return "video", None, "MP4 video"
    if mime.startswith("text/") or mime in TEXT_TYPES:
        phrase = _text(stream)
        return "text", phrase[len("text, "):], phrase
    kind = next((name for prefix, name in (("audio/", "audio"), ("video/", "video")) if mime.startswith(prefix)),
                "file")
    return kind, None, None


def _image(stream) -> tuple[str | None, str]:
    try:
        from PIL import Image  # imported late: the emulator starts without touching Pillow

        with Image.open(stream) as image:
            return (f"{image.width}x{image.height}",
                    f"{image.format} image, {image.width} x {image.height}, mode {image.mode}")
    except Exception:  # Pillow raises many kinds for bad bytes; all mean "not an image"
        return None, "could not be read as an image"


def _wav(stream) -> tuple[str | None, str]:
    try:
        with wave.open(stream, "rb") as audio:
            channels, rate, frames = audio.getnchannels(), audio.getframerate(), audio.getnframes()
    except (wave.Error, EOFError):
        return None, "could not be read as WAV audio"
    seconds = frames / rate if rate else 0.0
    plural = "channel" if channels == 1 else "channels"
    return f"{seconds:.2f} s", f"WAV audio, {seconds:.2f} s, {channels} {plural}, {rate} Hz"


def _csv(stream) -> str:
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
    try:
        sample = text.read(64 * 1024)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        text.seek(0)
        rows = columns = 0
        for index, row in enumerate(csv.reader(text, dialect)):
            if index == 0:
                # The first row is always taken as the header: predictable, and what pandas writes.
                columns = len(row)
            elif any(cell.strip() for cell in row):
                rows += 1
    except csv.Error:
        return "could not be read as a CSV table"
    finally:
        text.detach()
    return f"CSV table, {rows:,} rows x {columns} columns (header row not counted)"


def _pdf(stream) -> str:
    pages, tail = 0, b""
    while block := stream.read(BLOCK):
        window = tail + block
        # Count matches that end in the new block only, so one spanning the boundary counts once.
        pages += sum(1 for m in PDF_PAGE.finditer(window) if m.end() > len(tail))
        tail = window[-32:]
    return f"PDF document, {pages} page{'s' if pages != 1 else ''}"


def _text(stream) -> str:
    lines, last, total = 0, b"", 0
    while block := stream.read(BLOCK):
        lines += block.count(b"\n")
        total += len(block)
        last = block[-1:]
    if total and last != b"\n":
        lines += 1  # a last line without a newline still counts
    return f"text, {lines:,} line{'s' if lines != 1 else ''}"
