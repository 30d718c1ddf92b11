"""What the emulator sees inside attachments: images, tables, audio, PDFs, text, other bytes."""

from __future__ import annotations

import io
import wave

import pytest
from PIL import Image

try:
    from .test_emulator_support import GENERATE, answer_text, call, running_emulator, inline, upload
except ImportError:
    from test_emulator_support import GENERATE, answer_text, call, running_emulator, inline, upload


@pytest.fixture
def emu():
    yield from running_emulator()


def png(width=640, height=480, mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, "PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 16), "blue").save(out, "JPEG")
    return out.getvalue()


def csv_table(rows=100, delimiter=",") -> bytes:
    lines = [delimiter.join(["name", "price", "quantity", "city"])]
    lines += [delimiter.join([f"item {i}", f"{i}.5", str(i), "Köln"]) for i in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def wav(seconds=2.0, rate=22050, channels=1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(channels)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(b"\x00\x00" * channels * int(seconds * rate))
    return out.getvalue()


def pdf(pages=3) -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count %d >>" % pages]
    objects += [b"<< /Type /Page /Parent 2 0 R >>"] * pages
    body = b"".join(b"%d 0 obj\n%s\nendobj\n" % (i + 1, o) for i, o in enumerate(objects))
    return b"%PDF-1.4\n" + body + b"%%EOF\n"


CASES = [
    ("image/png", png(), "PNG image, 640 x 480, mode RGBA"),
    ("image/jpeg", jpeg(), "JPEG image, 32 x 16, mode RGB"),
    ("image/png", b"not really a png", "could not be read as an image"),
    ("text/csv", csv_table(), "CSV table, 100 rows x 4 columns (header row not counted)"),
    ("text/csv", csv_table(7, ";"), "CSV table, 7 rows x 4 columns (header row not counted)"),
    ("audio/wav", wav(), "WAV audio, 2.00 s, 1 channel, 22050 Hz"),
    ("audio/x-wav", wav(0.5, 44100, 2), "WAV audio, 0.50 s, 2 channels, 44100 Hz"),
    ("application/pdf", pdf(3), "PDF document, 3 pages"),
    ("video/mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100, "MP4 video"),
    ("text/plain", b"one\ntwo\nthree", "text, 3 lines"),
]


@pytest.mark.parametrize("mime, data, description", CASES, ids=[c[2][:20] for c in CASES])
def test_inline_attachments_are_described(emu, mime, data, description):
    request = {"contents": [{"parts": [{"text": "What is this?"}, inline(mime, data)]}]}
    text = answer_text(call(emu, "POST", GENERATE, request).json)
    assert f"] {mime}, {len(data):,} bytes: {description}\n" in text


def test_unknown_types_get_their_size_only_and_order_is_kept(emu):
    request = {"contents": [{"parts": [inline("application/octet-stream", b"\x01" * 1234), {"text": "two"},
                                       inline("text/plain", b"x")]}]}
    text = answer_text(call(emu, "POST", GENERATE, request).json)
    first = text.index("] application/octet-stream, 1,234 bytes\n")
    assert first < text.index("] text/plain, 1 bytes: text, 1 line\n")


@pytest.mark.parametrize("mime, data, description", [CASES[0], CASES[3], CASES[5], CASES[7]],
                         ids=["png", "csv", "wav", "pdf"])
def test_uploaded_files_are_described_like_inline_data(emu, mime, data, description):
    file = upload(emu, data, mime)
    request = {"contents": [{"parts": [{"text": "Describe"},
                                       {"fileData": {"mimeType": mime, "fileUri": file["uri"]}}]}]}
    text = answer_text(call(emu, "POST", GENERATE, request).json)
    assert f"] file {file['name']} ({mime}, {len(data):,} bytes): {description}\n" in text
