"""Files: only what can be read, and a clear word when not — before anything is opened or sent.

FIFOs, devices and sockets are refused (opening a FIFO blocks forever), unreadable files and
text-mode file objects get a message, names that are not UTF-8 are sent with replacements, empty
file names are refused, bytes are uploaded from the caller's buffer without a copy.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from conftest import TEST_KEY
from gemini_magic import errors
from gemini_magic.parts import to_part
from gemini_magic.wire.upload import file_path

GRANULARITY = 256 * 1024


def finishes(call, seconds: float = 5.0, unblock: Path | None = None):
    """Run call() in a thread: (result, error). Fails (and unblocks a FIFO reader) when it hangs."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        if unblock is not None:
            os.close(os.open(unblock, os.O_WRONLY | os.O_NONBLOCK))  # let a blocked open() return
        pytest.fail(f"still running after {seconds} s: it blocked")
    return outcome.get("result"), outcome.get("error")


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.fixture
def unix_socket(tmp_path):
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    yield path
    server.close()


# --- not a regular file ------------------------------------------------------------------------------

def test_upload_of_a_fifo_is_refused_before_opening(client, emulator, fifo):
    _, error = finishes(lambda: client.upload_file(fifo, mime_type="text/plain"), unblock=fifo)
    assert isinstance(error, errors.UploadError)
    assert "is a named pipe (FIFO), not a regular file" in str(error) and "Save the data to a file" in str(error)
    assert emulator.requests == []


def test_upload_of_a_str_path_to_a_fifo_is_refused(client, emulator, fifo):
    _, error = finishes(lambda: client.upload_file(str(fifo)), unblock=fifo)
    assert isinstance(error, errors.UploadError) and "FIFO" in str(error)


def test_a_fifo_in_a_prompt_is_refused_before_opening(client, emulator, fifo):
    _, error = finishes(lambda: to_part(fifo, client=client), unblock=fifo)
    assert isinstance(error, errors.ConversionError) and "named pipe (FIFO)" in str(error)
    assert emulator.requests == []


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_devices_are_refused(client, emulator, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    _, error = finishes(lambda: client.upload_file(device, mime_type="application/octet-stream"))
    assert isinstance(error, errors.UploadError) and "is a device, not a regular file" in str(error)
    _, error = finishes(lambda: to_part(Path(device)))
    assert isinstance(error, errors.ConversionError) and "is a device" in str(error)
    assert emulator.requests == []


def test_sockets_are_refused(client, unix_socket):
    with pytest.raises(errors.UploadError, match="is a socket, not a regular file"):
        client.upload_file(unix_socket, mime_type="text/plain")
    with pytest.raises(errors.ConversionError, match="is a socket"):
        to_part(unix_socket)


def test_directories_and_missing_files(client, tmp_path, emulator):
    with pytest.raises(errors.UploadError, match="is a directory"):
        client.upload_file(tmp_path)
    with pytest.raises(errors.UploadError, match="No file at"):
        client.upload_file(tmp_path / "missing.bin")
    assert emulator.requests == []


def test_magic_upload_of_a_fifo_is_one_clear_message(shell, emulator, fifo):
    _, error = finishes(lambda: shell.run_line_magic("gemini_upload", f"{fifo} --mime text/plain"), unblock=fifo)
    assert isinstance(error, UsageError) and "FIFO" in str(error)
    assert not [r for r in emulator.requests if r.path.startswith("/upload/")]


def test_magic_prompt_with_a_fifo_is_one_clear_message(shell, emulator, fifo):
    shell.user_ns["p"] = fifo
    _, error = finishes(lambda: shell.run_cell_magic("gemini", "", "Summarise {p}"), unblock=fifo)
    assert isinstance(error, UsageError) and "FIFO" in str(error)
    assert not [r for r in emulator.requests if "generateContent" in r.path]


# --- unreadable files --------------------------------------------------------------------------------

UNREADABLE = """
import os, sys
from gemini_magic import Client
from gemini_magic.errors import GeminiError
client = Client(api_key=sys.argv[2], base_url=sys.argv[3])
try:
    client.upload_file(sys.argv[1], mime_type="text/plain")
except GeminiError as error:
    print(type(error).__name__ + ": " + str(error))
"""


def test_a_file_root_cannot_read_either_is_a_clear_message(client, emulator):
    """A write-only sysctl file: a regular file that even root gets EACCES for when opening it to read."""
    path = Path("/proc/sys/vm/drop_caches")
    try:
        open(path, "rb").close()
        pytest.skip(f"{path} is readable here")
    except PermissionError:
        pass
    except OSError:
        pytest.skip(f"no {path} here")
    with pytest.raises(errors.UploadError, match=r"^No permission to read /proc/sys/vm/drop_caches\. .*chmod u\+r"):
        client.upload_file(path, mime_type="text/plain")
    assert emulator.requests == []


def test_a_file_without_read_permission_is_a_clear_message(tmp_path, emulator):
    path = tmp_path / "secret.txt"
    path.write_text("private")
    path.chmod(0o000)
    tmp_path.chmod(0o755)
    if os.geteuid() == 0:  # root reads anything: check as an unprivileged user, in a child process
        try:
            done = subprocess.run([sys.executable, "-c", UNREADABLE, str(path), TEST_KEY, emulator.base_url],
                                  capture_output=True, text=True, timeout=60, user=65534,
                                  env={**os.environ, "NO_PROXY": "127.0.0.1"})
        except (PermissionError, OSError) as error:
            pytest.skip(f"cannot run a child as an unprivileged user here: {error}")
        if "Permission denied" in done.stderr and "python" in done.stderr.lower():
            pytest.skip("the unprivileged user cannot run this Python")
        out = done.stdout.strip()
    else:
        from gemini_magic import Client, RetryPolicy

        try:
            Client(api_key=TEST_KEY, base_url=emulator.base_url, retry=RetryPolicy(max_retries=0)).upload_file(
                path, mime_type="text/plain")
        except errors.GeminiError as error:
            out = f"{type(error).__name__}: {error}"
    assert out.startswith("UploadError: No permission to read") and "chmod u+r" in out, out
    assert not [r for r in emulator.requests if r.path.startswith("/upload/")]


# --- names, file objects, bytes ----------------------------------------------------------------------

def test_a_name_that_is_not_utf8_is_uploaded_with_replacements(client, emulator, tmp_path):
    raw = os.path.join(os.fsencode(tmp_path), b"\xff\xfe-notes.txt")
    with open(raw, "wb") as out:
        out.write(b"plain text")
    file = client.upload_file(Path(os.fsdecode(raw)))
    assert file.display_name == "\ufffd\ufffd-notes.txt" and file.mime_type == "text/plain"
    assert emulator.files[file.name].data() == b"plain text"
    part = to_part(Path(os.fsdecode(raw)))
    assert part["text"].startswith("File: \ufffd\ufffd-notes.txt\n")


def test_a_text_mode_file_object_says_to_open_it_in_binary_mode(client, emulator, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with open(path) as text_file:
        with pytest.raises(errors.UploadError, match=r"open in text mode; open it in binary mode.*'rb'"):
            client.upload_file(text_file, mime_type="text/plain")
    with pytest.raises(errors.UploadError, match="binary mode"):
        client.upload_file(io.StringIO("hello"), mime_type="text/plain")
    assert emulator.requests == []


def test_a_file_object_that_cannot_seek_is_a_clear_message(client, emulator):
    read_end, write_end = os.pipe()
    os.write(write_end, b"data")
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        with pytest.raises(errors.UploadError, match="cannot seek.*Pass its path, or its bytes"):
            client.upload_file(pipe, mime_type="text/plain")
    assert emulator.requests == []


def strided(data: bytes) -> memoryview:
    """A non-contiguous view whose bytes are `data` (every other byte of a buffer twice as long)."""
    buffer = bytearray(2 * len(data))
    buffer[::2] = data
    return memoryview(buffer)[::2]


@pytest.mark.parametrize("make", [bytes, bytearray, memoryview, strided])
def test_bytes_like_sources_arrive_intact(client, emulator, make):
    data = os.urandom(2 * GRANULARITY + 99)
    file = client.upload_file(make(data), mime_type="application/octet-stream", reuse=False)
    assert emulator.files[file.name].data() == data


def test_uploading_bytes_makes_no_copy_of_them(client, emulator):
    data = os.urandom(8 * 1024 * 1024)
    client.upload_file(b"warm-up: first imports and connection", mime_type="text/plain", wait=False)
    tracemalloc.start()
    try:
        client.upload_file(data, mime_type="application/octet-stream", wait=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(data) / 4, f"{peak:,} bytes allocated while uploading {len(data):,}"


def test_large_bytes_in_a_prompt_are_uploaded_without_a_copy(client, emulator, parts_settings):
    parts_settings.inline_part_budget = 1024 * 1024
    data = b"\x1a\x45\xdf\xa3" + b"webm" + os.urandom(6 * 1024 * 1024)
    to_part(b"\x1a\x45\xdf\xa3webm" + bytes(2 * 1024 * 1024), client=client)  # warm-up: first imports
    emulator.reset()
    tracemalloc.start()
    try:
        part = to_part(data, client=client)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert part["fileData"]["mimeType"] == "video/webm"
    assert peak < len(data) / 4, f"{peak:,} bytes allocated for {len(data):,}"
    uploaded = [f for f in emulator.files.values()]
    assert len(uploaded) == 1 and uploaded[0].data() == data


def test_progress_says_checking_and_hashes_only_when_a_same_size_file_exists(client, emulator, monkeypatch):
    from gemini_magic.wire import upload

    hashed = []
    original = upload._Source.sha256
    monkeypatch.setattr(upload._Source, "sha256", lambda self: hashed.append(self.size) or original(self))
    phases = []
    first = client.upload_file(os.urandom(1000), mime_type="text/plain", progress=lambda s, t, p: phases.append(p))
    assert phases[0] == "checking" and "uploading" in phases and phases[-1] == "done"
    assert hashed == []  # no live file of 1,000 bytes: nothing to compare, no hash
    data = os.urandom(2000)
    client.upload_file(data, mime_type="text/plain", reuse=False)
    again = client.upload_file(data, mime_type="text/plain")
    assert again.reused and hashed == [2000]
    other = client.upload_file(os.urandom(2000), mime_type="text/plain")
    assert not other.reused and other.name != first.name and hashed == [2000, 2000]


# --- file names --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["", "  ", "files/", "files/ "])
def test_empty_file_names_are_refused_and_nothing_is_sent(client, emulator, name):
    with pytest.raises(errors.UploadError, match="file name is empty"):
        client.get_file(name)
    with pytest.raises(errors.UploadError, match="file name is empty"):
        client.delete_file(name)
    assert emulator.requests == []


@pytest.mark.parametrize("name", ["files/a/b", "a?b", "x y", "files/../models"])
def test_names_that_would_reach_another_method_are_refused(client, emulator, name):
    with pytest.raises(errors.UploadError, match="is not a file name"):
        client.get_file(name)
    assert emulator.requests == []


def test_file_path_forms():
    assert file_path("abc") == file_path("files/abc") == file_path(" files/abc ") == "files/abc"
    with pytest.raises(TypeError, match="must be a string"):
        file_path(3)


def test_deleting_or_getting_a_file_that_does_not_exist_says_so(client, emulator):
    with pytest.raises(errors.NotFoundError, match="No file named files/nothing123: it may have expired"):
        client.delete_file("nothing123")
    with pytest.raises(errors.NotFoundError, match="No file named files/nothing123"):
        client.get_file("files/nothing123")
    assert len(emulator.requests) == 2  # one each: not retried


def test_an_error_object_in_an_upload_reply_is_an_api_error(client, emulator):
    """A 200 whose body is Google's error object (list-wrapped here) is read like any other error."""
    from test_hardening_keys import EchoServer

    body = b'[{"error": {"code": 400, "message": "Upload refused", "status": "FAILED_PRECONDITION"}}]'

    def answer(handler):
        if handler.headers.get("X-Goog-Upload-Command") == "start":
            handler.send_response(200)
            handler.send_header("X-Goog-Upload-URL", f"http://127.0.0.1:{handler.server.server_address[1]}/u/1")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return None
        return 200, "application/json", body

    with EchoServer(answer) as server:
        from gemini_magic import Client

        echo = Client(api_key=TEST_KEY, base_url=server.base_url)
        with pytest.raises(errors.BadRequestError, match="Upload refused") as caught:
            echo.upload_file(b"abc", mime_type="text/plain", reuse=False)
    assert caught.value.status == "FAILED_PRECONDITION"


def test_magic_upload_of_an_unreadable_file_is_one_clear_message(shell, emulator):
    path = Path("/proc/sys/vm/drop_caches")  # write-only: even root cannot open it to read
    try:
        open(path, "rb").close()
        pytest.skip(f"{path} is readable here")
    except PermissionError:
        pass
    except OSError:
        pytest.skip(f"no {path} here")
    with pytest.raises(UsageError, match="No permission to read /proc/sys/vm/drop_caches"):
        shell.run_line_magic("gemini_upload", f"{path} --mime text/plain")
    assert not [r for r in emulator.requests if r.path.startswith("/upload/")]


def test_magic_upload_of_a_name_that_is_not_utf8(shell, emulator, tmp_path, capsys):
    raw = os.path.join(os.fsencode(tmp_path), b"\xff\xfe-notes.txt")
    with open(raw, "wb") as out:
        out.write(b"plain text")
    shell.run_line_magic("gemini_upload", os.fsdecode(raw) + " --as notes")
    out = capsys.readouterr().out
    assert "Uploaded \ufffd\ufffd-notes.txt as files/" in out and "Bound to `notes`" in out
    assert shell.user_ns["notes"].display_name == "\ufffd\ufffd-notes.txt"
    assert emulator.files[shell.user_ns["notes"].name].data() == b"plain text"
