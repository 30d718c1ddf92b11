"""End to end: kernel objects through Client.generate over loopback to the emulator, which describes
what arrived (one line per attachment), proving the bytes came through intact and typed right."""

from __future__ import annotations

import re

import pytest

from gemini_magic.parts import convert
from test_parts_helpers import optional, photo
from test_parts_media import MEDIA, pdf_bytes, wav_bytes

Image = pytest.importorskip("PIL.Image")


def attachments(text: str) -> list[str]:
    """The emulator's "- [kind N: summary] mime, N bytes: description" lines, without their label."""
    block = text.split("**Attachments:**", 1)[1].split("\n\n", 1)[0]
    return [line.split("] ", 1)[1] for line in block.splitlines() if line.startswith("- [")]


def ask(client, *objects) -> list[str]:
    response = client.generate("gemini-2.5-flash", ["Describe", *objects])
    return attachments(response.text)


def test_images_arrive_with_their_size_mode_and_original_bytes(client, tmp_path):
    rgba = Image.new("RGBA", (640, 480), (10, 20, 30, 128))
    path = tmp_path / "photo.jpg"
    photo(300, 200).save(path, quality=85)
    lines = ask(client, rgba, Image.open(path))
    assert re.fullmatch(r"image/png, [\d,]+ bytes: PNG image, 640 x 480, mode RGBA", lines[0])
    assert lines[1] == f"image/jpeg, {path.stat().st_size:,} bytes: JPEG image, 300 x 200, mode RGB"


def test_a_huge_image_arrives_scaled_down(client):
    lines = ask(client, photo(4000, 3000))
    assert re.fullmatch(r"image/jpeg, [\d,]+ bytes: JPEG image, 3072 x 2304, mode RGB", lines[0])


def test_a_dataframe_arrives_as_a_csv_table_after_its_header(client):
    pd = optional("pandas")
    df = pd.DataFrame({"a": range(100), "b": 1.5, "c": "é", "d": True})
    response = client.generate("gemini-2.5-flash", ["Describe", df])
    assert "pandas DataFrame: 100 rows x 4 columns" in response.text
    (line,) = attachments(response.text)
    # the default RangeIndex is not sent: the header, the CSV and the emulator all count 4 columns
    assert re.fullmatch(r"text/csv, [\d,]+ bytes: CSV table, 100 rows x 4 columns.*", line)
    labelled = client.generate("gemini-2.5-flash", ["Describe", df.set_index("a")])
    assert re.search(r"pandas DataFrame: 100 rows x 3 columns \(CSV below\)\. "
                     r"Index: (Range)?Index 'a', int64, as the first CSV column\.", labelled.text)
    (line,) = attachments(labelled.text)
    assert re.fullmatch(r"text/csv, [\d,]+ bytes: CSV table, 100 rows x 4 columns.*", line)


def test_audio_pdf_and_figures_arrive_described(client, tmp_path):
    matplotlib = optional("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3))
    fig.add_subplot().plot([1, 3, 2])
    (tmp_path / "report.pdf").write_bytes(pdf_bytes())
    lines = ask(client, wav_bytes(2.0), tmp_path / "report.pdf", fig)
    assert lines[0] == "audio/wav, 32,044 bytes: WAV audio, 2.00 s, 1 channel, 8000 Hz"
    assert lines[1] == f"application/pdf, {len(pdf_bytes()):,} bytes: PDF document, 1 page"
    assert re.fullmatch(r"image/png, [\d,]+ bytes: PNG image, \d+ x \d+, mode RGBA", lines[2])


def test_a_file_over_the_inline_budget_is_uploaded_and_sent_as_file_data(client, tmp_path, parts_settings):
    parts_settings.inline_part_budget = 10_000
    path = tmp_path / "talk.wav"
    path.write_bytes(wav_bytes(3.0))
    result = convert(path, client=client)
    (part,) = result.parts
    assert part["fileData"]["mimeType"] == "audio/wav" and "/files/" in part["fileData"]["fileUri"]
    assert "uploaded through the Files API" in result.notes[0]
    (line,) = ask(client, path)
    assert re.fullmatch(r"file files/\w+ \(audio/wav, 48,044 bytes\): WAV audio, 3\.00 s, 1 channel, 8000 Hz", line)


def test_sniffed_bytes_keep_their_type_on_the_wire(client):
    lines = ask(client, MEDIA["video/mp4"](), MEDIA["audio/mpeg"]())
    assert lines[0].startswith("video/mp4, ") and lines[1].startswith("audio/mpeg, ")
