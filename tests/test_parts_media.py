"""Bytes, Blob, paths, uploaded files and IPython.display objects: typed by content, sent intact."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from gemini_magic.errors import ConversionError
from gemini_magic.parts import Blob, convert, sniff, to_part
from test_parts_helpers import inline_bytes, open_image, optional, photo

Image = pytest.importorskip("PIL.Image")


# --- real minimal files of each type ----------------------------------------------------------------

def image_bytes(fmt: str, size=(32, 24), **options) -> bytes:
    buffer = io.BytesIO()
    img = photo(*size)
    (img.convert("P") if fmt == "GIF" else img).save(buffer, fmt, **options)
    return buffer.getvalue()


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x01\x00" * int(seconds * rate))
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    """A valid one-page PDF with a correct cross-reference table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 413  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz
MEDIA = {
    "image/png": lambda: image_bytes("PNG"),
    "image/jpeg": lambda: image_bytes("JPEG"),
    "image/gif": lambda: image_bytes("GIF"),
    "image/webp": lambda: image_bytes("WEBP"),
    "image/bmp": lambda: image_bytes("BMP"),
    "image/tiff": lambda: image_bytes("TIFF"),
    "application/pdf": pdf_bytes,
    "audio/wav": wav_bytes,
    "audio/mpeg": lambda: b"ID3\x04\x00\x00\x00\x00\x00\x00" + MP3_FRAME,
    "audio/aac": lambda: b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 64,
    "audio/flac": lambda: b"fLaC\x80\x00\x00\x22" + b"\x00" * 34,
    "audio/ogg": lambda: b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x1e\x01vorbis" + b"\x00" * 30,
    "audio/aiff": lambda: b"FORM\x00\x00\x00\x2eAIFFCOMM" + b"\x00" * 30,
    "video/mp4": lambda: box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41") + box(b"mdat", b"\x00" * 16),
    "video/quicktime": lambda: box(b"ftyp", b"qt  \x00\x00\x02\x00qt  ") + box(b"mdat", b""),
    "image/heic": lambda: box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + box(b"meta", b"\x00" * 8),
    "video/webm": lambda: b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm" + b"\x00" * 8,
    "video/avi": lambda: b"RIFF\x24\x00\x00\x00AVI LIST" + b"\x00" * 28,
}
SENT_AS_IS = [m for m in MEDIA if m not in ("image/gif", "image/bmp", "image/tiff")]


@pytest.mark.parametrize("mime", list(MEDIA))
def test_sniff_tells_each_type_from_its_first_bytes(mime):
    assert sniff(MEDIA[mime]()) == mime


def test_a_bare_mp3_frame_without_id3_is_mp3():
    assert sniff(MP3_FRAME * 2) == "audio/mpeg"


@pytest.mark.parametrize("mime", SENT_AS_IS)
@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
def test_bytes_of_a_known_type_are_sent_unchanged(mime, wrap):
    data = MEDIA[mime]()
    assert inline_bytes(to_part(wrap(data))) == (mime, data)


@pytest.mark.parametrize("mime", ["image/gif", "image/bmp", "image/tiff"])
def test_image_types_the_api_does_not_take_are_re_encoded(mime):
    result = convert(MEDIA[mime]())
    sent_mime, sent = open_image(result.parts[0])
    assert sent_mime == "image/png" and sent.size == (32, 24)
    assert "re-encoded (the API takes PNG, JPEG, WebP, HEIC and HEIF)" in result.notes[0]


def test_utf8_bytes_are_text():
    assert to_part("Grüße, 東京\n".encode()) == {"text": "Grüße, 東京\n"}


def test_unknown_bytes_ask_for_a_mime_type():
    with pytest.raises(ConversionError) as caught:
        to_part(b"\x00\x01\x02\x03\xfe\xfd garbage")
    message = str(caught.value)
    assert "Cannot tell what these 14 bytes are" in message
    assert 'gemini_magic.parts.Blob(data, "audio/aac")' in message


def test_a_blob_is_sent_with_its_mime_type_unchanged():
    data = b"\x00\x01\x02 not sniffable"
    assert inline_bytes(to_part(Blob(data, "audio/aac"))) == ("audio/aac", data)
    png = MEDIA["image/png"]()
    assert inline_bytes(to_part(Blob(png, "image/png"))) == ("image/png", png)
    with pytest.raises(ValueError):
        Blob(data, "aac")
    with pytest.raises(TypeError):
        Blob("text", "text/plain")


# --- paths --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mime,name", [
    ("image/png", "pic.png"), ("image/jpeg", "pic.jpg"), ("image/webp", "pic.webp"),
    ("application/pdf", "doc.pdf"), ("audio/wav", "sound.wav"), ("audio/mpeg", "song.mp3"),
    ("audio/flac", "a.flac"), ("audio/ogg", "a.ogg"), ("video/mp4", "clip.mp4"), ("video/webm", "clip.webm"),
    ("application/pdf", "misnamed.txt"),  # content wins over the suffix
])
def test_a_path_is_read_and_typed_by_content(tmp_path, mime, name):
    data = MEDIA[mime]()
    path = tmp_path / name
    path.write_bytes(data)
    assert inline_bytes(to_part(path)) == (mime, data)


class StoredArtifact:
    """Not a pathlib.Path: any os.PathLike is read as a path too."""

    def __init__(self, path):
        self.path = path

    def __fspath__(self):
        return str(self.path)


def test_any_os_pathlike_is_a_path(tmp_path):
    data = MEDIA["application/pdf"]()
    (tmp_path / "report.pdf").write_bytes(data)
    assert inline_bytes(to_part(StoredArtifact(tmp_path / "report.pdf"))) == ("application/pdf", data)


@pytest.mark.parametrize("name,language", [("analysis.py", "python"), ("notes.md", "markdown"),
                                           ("data.json", "json"), ("main.rs", "rust"), ("query.sql", "sql"),
                                           ("README", "")])
def test_text_and_code_files_are_text_prefixed_with_the_file_name(tmp_path, name, language):
    path = tmp_path / name
    path.write_text("def f():\n    return {'é': 1}\n", encoding="utf-8")
    assert to_part(path) == {"text": f"File: {name}\n```{language}\ndef f():\n    return {{'é': 1}}\n```"}


def test_a_fence_is_longer_than_any_backticks_inside(tmp_path):
    path = tmp_path / "guide.md"
    path.write_text("Run:\n```bash\nls\n```", encoding="utf-8")
    assert to_part(path)["text"] == "File: guide.md\n````markdown\nRun:\n```bash\nls\n```\n````"


def test_text_that_is_not_utf8_is_sent_with_replacements_and_a_note(tmp_path):
    path = tmp_path / "legacy.txt"
    path.write_bytes("café".encode("latin-1"))
    result = convert(path)
    assert result.parts == [{"text": "File: legacy.txt\n```\ncaf\ufffd\n```"}]
    assert result.notes == ["legacy.txt is not valid UTF-8; undecodable bytes were replaced"]


def test_a_csv_file_is_csv_inline_data(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_bytes("region,amount\nNord,1\nSüd,2\n".encode())
    assert inline_bytes(to_part(path)) == ("text/csv", path.read_bytes())


def test_a_missing_path_and_a_directory_are_clear_errors(tmp_path):
    with pytest.raises(ConversionError, match=r"^No file at .*nothing\.png\."):
        to_part(tmp_path / "nothing.png")
    with pytest.raises(ConversionError, match="is a directory"):
        to_part(tmp_path)


def test_an_unknown_binary_file_asks_for_its_type(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ConversionError, match=r"Cannot tell what kind of file blob\.bin is .*Blob\("):
        to_part(path)


def test_a_file_over_the_inline_budget_without_a_client_says_how_to_upload(tmp_path, parts_settings):
    parts_settings.inline_part_budget = 1000
    path = tmp_path / "long.wav"
    path.write_bytes(wav_bytes(seconds=2.0))
    with pytest.raises(ConversionError) as caught:
        to_part(path)
    message = str(caught.value)
    assert "long.wav is 32.0 kB" in message and "20 MB" in message
    assert "%gemini_upload" in message and "client.upload_file" in message


class RecordingClient:
    """Stands in for Client where only upload_file matters; the real one is tested in test_parts_e2e."""

    def __init__(self):
        self.calls = []

    def upload_file(self, source, mime_type=None, progress=None):
        from types import SimpleNamespace

        self.calls.append((source, mime_type))
        return SimpleNamespace(name="files/abc123", uri="https://example.invalid/files/abc123",
                               mime_type=mime_type)


def test_a_file_over_the_inline_budget_is_uploaded_through_the_client(tmp_path, parts_settings):
    parts_settings.inline_part_budget = 1000
    path = tmp_path / "long.wav"
    path.write_bytes(wav_bytes(seconds=2.0))
    client = RecordingClient()
    result = convert(path, client=client)
    assert client.calls == [(path, "audio/wav")]
    assert result.parts == [{"fileData": {"mimeType": "audio/wav", "fileUri": "https://example.invalid/files/abc123"}}]
    assert "uploaded through the Files API as files/abc123" in result.notes[0]


def test_an_uploaded_file_handle_is_file_data():
    from gemini_magic.wire.upload import File

    handle = File(name="files/x1", uri="https://generativelanguage.googleapis.com/v1beta/files/x1",
                  mime_type="video/mp4", state="ACTIVE")
    assert to_part(handle) == {"fileData": {"mimeType": "video/mp4", "fileUri": handle.uri}}
    with pytest.raises(ConversionError, match="failed processing"):
        to_part(File(name="files/x2", uri="u", mime_type="video/mp4", state="FAILED"))


# --- IPython.display objects ------------------------------------------------------------------------

display = pytest.importorskip("IPython.display")


def test_ipython_image_from_data_or_file_sends_the_bytes(tmp_path):
    png = MEDIA["image/png"]()
    assert inline_bytes(to_part(display.Image(data=png))) == ("image/png", png)
    path = tmp_path / "p.jpg"
    path.write_bytes(MEDIA["image/jpeg"]())
    assert inline_bytes(to_part(display.Image(filename=str(path)))) == ("image/jpeg", path.read_bytes())
    with pytest.raises(ConversionError, match="only points to https://example.invalid/x.png"):
        to_part(display.Image(url="https://example.invalid/x.png"))


def test_ipython_audio_from_samples_is_wav_of_the_right_length():
    np = optional("numpy")
    samples = np.sin(np.linspace(0, 440 * 2 * np.pi, 16000))
    mime, data = inline_bytes(to_part(display.Audio(samples, rate=8000)))
    with wave.open(io.BytesIO(data)) as audio:
        assert mime == "audio/wav" and audio.getnframes() / audio.getframerate() == 2.0


def test_ipython_video_from_file_and_from_data(tmp_path):
    data = MEDIA["video/mp4"]()
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    assert inline_bytes(to_part(display.Video(str(path)))) == ("video/mp4", data)
    assert inline_bytes(to_part(display.Video(data, embed=True, mimetype="video/mp4"))) == ("video/mp4", data)


def test_ipython_text_objects_are_text_parts():
    assert to_part(display.Markdown("# Title\n*x*")) == {"text": "# Title\n*x*"}
    assert to_part(display.HTML("<b>bold</b>")) == {"text": "<b>bold</b>"}
    assert to_part(display.Latex(r"$\alpha$")) == {"text": r"$\alpha$"}
    assert to_part(display.JSON({"a": [1, "é"]})) == {"text": '{\n  "a": [\n    1,\n    "é"\n  ]\n}'}
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    result = convert(display.SVG(svg))
    assert result.parts == [{"text": svg}] and "image/svg+xml" in result.notes[0]


def test_youtube_video_is_a_file_data_url():
    assert to_part(display.YouTubeVideo("dQw4w9WgXcQ")) == {
        "fileData": {"fileUri": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"}}
