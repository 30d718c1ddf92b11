"""Resumable uploads through the Files API, against the emulator over loopback."""

from __future__ import annotations

import io
import random
import signal
import threading
import time

import pytest
from IPython.core.error import UsageError

from conftest import TEST_KEY
from gemini_magic import Client
from gemini_magic.errors import UploadError
from gemini_magic.wire.upload import UploadSession

GRANULARITY = 256 * 1024  # the conftest emulator's


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def stored(emulator, file) -> bytes:
    return emulator.files[file.name].data()


@pytest.mark.parametrize("size", [1, 1000, GRANULARITY - 1, GRANULARITY, 2 * GRANULARITY, 3 * GRANULARITY + 12345])
def test_sizes_arrive_intact(client, emulator, tmp_path, size):
    path = tmp_path / "blob.bin"
    path.write_bytes(payload(size, size))
    file = client.upload_file(path, mime_type="application/octet-stream")
    assert file.state == "ACTIVE" and file.size_bytes == size and file.uri.endswith(file.name.split("/")[1])
    assert stored(emulator, file) == path.read_bytes()
    chunks = [r for r in emulator.requests if r.headers.get("x-goog-upload-command", "").startswith("upload")]
    assert len(chunks) == max(1, -(-size // GRANULARITY))
    assert chunks[-1].headers["x-goog-upload-command"] == "upload, finalize"
    assert all(r.body_size == GRANULARITY for r in chunks[:-1])
    assert emulator.upload_stats["bytes_received"] == size


def test_bytes_and_file_objects(client, emulator):
    data = payload(GRANULARITY + 5)
    from_bytes = client.upload_file(data, mime_type="application/octet-stream", display_name="raw bytes", reuse=False)
    stream = io.BytesIO(b"xx" + data)
    stream.seek(2)
    from_stream = client.upload_file(stream, mime_type="application/octet-stream", reuse=False)
    assert stored(emulator, from_bytes) == stored(emulator, from_stream) == data
    assert from_bytes.display_name == "raw bytes"


def test_mime_type_sniffed_and_sent(client, emulator):
    png = b"\x89PNG\r\n\x1a\n" + payload(100)
    file = client.upload_file(png)
    assert file.mime_type == "image/png"
    start = [r for r in emulator.requests if r.headers.get("x-goog-upload-command") == "start"][0]
    assert start.headers["x-goog-upload-header-content-type"] == "image/png"
    assert start.headers["x-goog-upload-header-content-length"] == str(len(png))
    assert TEST_KEY not in start.path and start.headers["x-goog-api-key"] == TEST_KEY


@pytest.mark.parametrize("seed", range(4))
def test_resume_after_dropped_connection_at_random_offsets(client, emulator, tmp_path, seed):
    size = 6 * GRANULARITY + 777
    rng = random.Random(seed)
    drops = sorted(rng.sample(range(1, size), 2))
    path = tmp_path / "video.bin"
    path.write_bytes(payload(size, seed))
    for offset in drops:
        emulator.inject("drop_at_offset", match="upload_chunk", offset=offset)
    file = client.upload_file(path, mime_type="video/mp4")
    assert stored(emulator, file) == path.read_bytes()
    resent = emulator.upload_stats["bytes_received"] - size
    assert 0 <= resent <= len(drops) * GRANULARITY
    queries = [r for r in emulator.requests if r.headers.get("x-goog-upload-command") == "query"]
    assert len(queries) == len(drops)


def test_resume_after_5xx_on_a_chunk(client, emulator):
    data = payload(3 * GRANULARITY)
    emulator.inject("status", code=503, match="upload_chunk")
    file = client.upload_file(data, mime_type="application/octet-stream")
    assert stored(emulator, file) == data
    assert emulator.upload_stats["bytes_received"] - len(data) <= GRANULARITY


def test_waits_for_processing_then_active(emulator):
    client = Client(api_key=TEST_KEY, base_url=emulator.base_url)
    emulator.configure(file_processing_delay=0.6)
    try:
        phases = []
        started = time.monotonic()
        file = client.upload_file(payload(10), mime_type="video/mp4", progress=lambda s, t, p: phases.append(p))
        assert file.state == "ACTIVE" and time.monotonic() - started >= 0.6
        assert "processing" in phases and phases[-1] == "done"
        quick = client.upload_file(payload(11), mime_type="video/mp4", wait=False)
        assert quick.state == "PROCESSING"
    finally:
        emulator.configure(file_processing_delay=0.0)


def test_failed_processing_is_a_clear_error(client, emulator):
    emulator.inject("upload_status", state="FAILED", message="Video codec not supported")
    with pytest.raises(UploadError, match="Video codec not supported"):
        client.upload_file(payload(10), mime_type="video/mp4")


def test_same_content_is_reused(client, emulator):
    data = payload(GRANULARITY + 1, 42)
    first = client.upload_file(data, mime_type="application/octet-stream")
    before = len(emulator.requests)
    second = client.upload_file(data, mime_type="application/octet-stream")
    assert second.name == first.name and second.reused and not first.reused
    assert not [r for r in emulator.requests[before:] if r.path.startswith("/upload/")]


def test_interrupted_upload_continues_with_the_same_session(client, emulator):
    data = payload(4 * GRANULARITY)
    session = UploadSession()

    def stop_after_two_chunks(sent, total, phase):
        if phase == "uploading" and sent >= 2 * GRANULARITY:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        client.upload_file(data, mime_type="application/octet-stream", progress=stop_after_two_chunks,
                           session=session, reuse=False)
    assert session.url and session.sent == 2 * GRANULARITY
    file = client.upload_file(data, mime_type="application/octet-stream", session=session, reuse=False)
    assert stored(emulator, file) == data
    assert emulator.upload_stats["bytes_received"] == len(data)  # nothing sent twice


def test_get_list_all_pages_and_delete(client, emulator):
    names = {client.upload_file(payload(5, i), mime_type="text/plain", reuse=False).name for i in range(12)}
    listed = client.list_files(page_size=5)
    assert {f.name for f in listed} == names
    assert sum(1 for r in emulator.requests if r.path.endswith("/files") and r.method == "GET") == 3
    one = sorted(names)[0]
    assert client.get_file(one).name == one
    client.delete_file(one)
    assert one not in {f.name for f in client.list_files()}


def test_bad_inputs(client, tmp_path):
    with pytest.raises(UploadError, match="No file at"):
        client.upload_file(tmp_path / "missing.mp4")
    with pytest.raises(UploadError, match="is a directory"):
        client.upload_file(tmp_path)
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(UploadError, match="empty"):
        client.upload_file(empty)
    unknown = tmp_path / "data.unknownext"
    unknown.write_bytes(b"\x00\x01\x02 not a known format")
    with pytest.raises(UploadError, match="mime_type"):
        client.upload_file(unknown)
    huge = tmp_path / "huge.mp4"
    with open(huge, "wb") as f:  # sparse: takes no disk space
        f.truncate(2 * 1000 * 1000 * 1000 + 1)
    with pytest.raises(UploadError, match="at most 2 GB"):
        client.upload_file(huge)
    assert huge.exists() and unknown.exists()  # files stay on disk


# --- the magic ---------------------------------------------------------------------------------------

def test_magic_uploads_binds_and_prompt_uses_it(shell, emulator, tmp_path, capsys):
    import wave

    path = tmp_path / "Lecture 01.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 16000)
    shell.run_line_magic("gemini_upload", f'"{path}"')
    file = shell.user_ns["lecture_01"]
    assert file.state == "ACTIVE" and file.mime_type == "audio/wav"
    assert "Bound to `lecture_01`" in capsys.readouterr().out
    shell.run_cell_magic("gemini", "-o r", "Summarise {lecture_01} please.")
    parts = emulator.requests[-1].json["contents"][0]["parts"]
    assert parts[1] == {"fileData": {"mimeType": "audio/wav", "fileUri": file.uri}}
    assert "2.00 s" in shell.user_ns["r"].text


def test_magic_accepts_a_variable_and_options(shell, emulator):
    shell.user_ns["clip_bytes"] = b"\x1a\x45\xdf\xa3" + payload(1000)
    shell.run_line_magic("gemini_upload", "{clip_bytes} --mime video/webm --as clip --display-name 'My clip' --no-wait")
    file = shell.user_ns["clip"]
    assert file.mime_type == "video/webm" and file.display_name == "My clip"


def test_magic_reports_reuse(shell, emulator, tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("hello " * 100)
    shell.run_line_magic("gemini_upload", str(path))
    shell.run_line_magic("gemini_upload", f"{path} --as again")
    assert shell.user_ns["again"].name == shell.user_ns["notes"].name
    assert "already uploaded" in capsys.readouterr().out


def test_magic_bad_input_is_one_message(shell, tmp_path):
    with pytest.raises(UsageError, match="No file at"):
        shell.run_line_magic("gemini_upload", str(tmp_path / "nope.mp4"))
    with pytest.raises(UsageError, match="--mime"):
        (tmp_path / "x.weird").write_bytes(b"\x00\x01")
        shell.run_line_magic("gemini_upload", str(tmp_path / "x.weird"))


def test_magic_interrupt_then_continue(shell, emulator, tmp_path):
    import _thread

    path = tmp_path / "big.bin"
    path.write_bytes(payload(6 * GRANULARITY))
    emulator.inject("slow", delay=0.4, match="upload_chunk", times=3)
    signal_handler = signal.signal(signal.SIGINT, signal.default_int_handler)  # even if CI ignores SIGINT
    timer = threading.Timer(0.9, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(UsageError, match="continue from byte"):
            shell.run_line_magic("gemini_upload", f"{path} --mime application/octet-stream")
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, signal_handler)
    shell.run_line_magic("gemini_upload", f"{path} --mime application/octet-stream")
    assert emulator.files[shell.user_ns["big"].name].data() == path.read_bytes()
    assert emulator.upload_stats["bytes_received"] <= path.stat().st_size + GRANULARITY


def test_files_subcommand_lists_and_deletes(shell, emulator, capsys):
    shell.user_ns["a"] = b"%PDF-1.4 tiny"
    shell.run_line_magic("gemini_upload", "{a} --as doc --display-name Report")
    capsys.readouterr()
    shell.run_line_magic("gemini", "files")
    out = capsys.readouterr().out
    assert "Report" in out and "application/pdf" in out and "ACTIVE" in out and " h " in out
    shell.run_line_magic("gemini", "files delete doc")
    assert "Deleted 1 file: doc" in capsys.readouterr().out
    assert emulator.files == {}
    shell.run_line_magic("gemini", "files delete --all")
    assert "No files to delete" in capsys.readouterr().out


def test_a_request_over_the_inline_limit_uploads_its_largest_parts(client, emulator):
    from gemini_magic.parts import Blob

    big = Blob(payload(9_000_000, 1), "audio/wav")
    bigger = Blob(payload(10_000_000, 2), "video/mp4")
    small = Blob(payload(1000, 3), "audio/wav")
    response = client.generate("gemini-2.5-flash", ["Compare", big, bigger, small])
    parts = [r for r in emulator.requests if r.path.endswith(":generateContent")][-1].json["contents"][0]["parts"]
    kinds = [next(iter(p)) for p in parts]
    # 19 MB of bytes is ~25 MB as base64: the largest part goes through the Files API, the rest fits inline
    assert kinds == ["text", "inlineData", "fileData", "inlineData"]
    uploaded = emulator.files[parts[2]["fileData"]["fileUri"].rsplit("/v1beta/", 1)[1]]
    assert uploaded.data() == bigger.data and uploaded.mime_type == "video/mp4"
    assert "video/mp4, 10,000,000 bytes" in response.text


def test_magic_keeps_the_variable_it_uploads(shell, emulator):
    shell.user_ns["video_bytes"] = b"\x1a\x45\xdf\xa3" + payload(500)
    shell.run_line_magic("gemini_upload", "{video_bytes} --mime video/webm")
    assert isinstance(shell.user_ns["video_bytes"], bytes)
    assert shell.user_ns["video_bytes_file"].mime_type == "video/webm"


def test_file_that_shrinks_during_upload_is_an_error_not_a_loop(client, emulator, tmp_path):
    path = tmp_path / "growing.bin"
    path.write_bytes(payload(3 * GRANULARITY))

    def shrink(sent, total, phase):
        if phase == "uploading" and sent == GRANULARITY:
            path.write_bytes(payload(GRANULARITY + 10))

    with pytest.raises(UploadError, match="changed during the upload"):
        client.upload_file(path, mime_type="application/octet-stream", progress=shrink, reuse=False)
