"""Uploads through the Files API's resumable protocol, and the `File` handle that prompts refer to.

    file = client.upload_file("lecture.mp4")       # streams from disk, waits until ACTIVE
    client.generate("gemini-2.5-flash", ["Summarise", file])

The protocol (API_NOTES.md): a `start` request announces size and type and gets an upload URL and a
chunk granularity; chunks go to that URL at increasing offsets, each but the last a multiple of the
granularity, the last one with `upload, finalize`. After a dropped connection or a 5xx the server
is asked how much it has (`query`) and the upload continues from there, so at most one chunk is sent
twice. Memory stays flat: one chunk is in memory at a time, whatever the file size.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import mimetypes
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable

from ..constants import DEFAULT_UPLOAD_GRANULARITY, MAX_FILE_SIZE
from ..errors import (APIConnectionError, APIError, GeminiError, NotFoundError, PermissionDeniedError, ServerError,
                      UploadError)

log = logging.getLogger("gemini_magic")

#: progress(sent_bytes, total_bytes, phase) with phase "checking" (looking for an earlier upload of the
#: same content: listing files, hashing), "uploading", "processing" or "done".
Progress = Callable[[int, int, str], None]

MAX_RESUMES = 8


@dataclass
class UploadSession:
    """Where an upload stands; pass the same one again to continue an interrupted upload."""

    url: str | None = None
    chunk_size: int = DEFAULT_UPLOAD_GRANULARITY
    sent: int = 0
    total: int = 0


_HASH_BLOCK = 1024 * 1024


@dataclass
class File:
    """An uploaded file: use it in a prompt (`{name}` or a list item) to send it as fileData."""

    name: str
    uri: str = ""
    mime_type: str = ""
    size_bytes: int = 0
    display_name: str = ""
    state: str = ""
    sha256_hash: str = ""
    create_time: str = ""
    expiration_time: str = ""
    error: dict | None = None
    reused: bool = False
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict) -> "File":
        data = data.get("file", data)
        return cls(name=data.get("name", ""), uri=data.get("uri", ""), mime_type=data.get("mimeType", ""),
                   size_bytes=int(data.get("sizeBytes", 0) or 0), display_name=data.get("displayName", ""),
                   state=data.get("state", ""), sha256_hash=data.get("sha256Hash", ""),
                   create_time=data.get("createTime", ""), expiration_time=data.get("expirationTime", ""),
                   error=data.get("error"), raw=data)

    def to_part(self) -> dict:
        return {"fileData": {"mimeType": self.mime_type, "fileUri": self.uri}}

    def matches_sha256(self, digest: bytes) -> bool:
        """The service reports sha256Hash as base64 of the hex digest; accept the raw forms too."""
        hex_digest = digest.hex()
        forms = {base64.b64encode(hex_digest.encode()).decode(), base64.b64encode(digest).decode(), hex_digest}
        return self.sha256_hash in forms


class _Source:
    """What to upload, readable at any offset without copying: a path (streamed from disk), bytes-like
    data (sent from a memoryview of it), or a binary file object.

    Everything that cannot be uploaded is refused here, before anything is opened or sent: a path that
    is not a regular file (a directory, FIFO, device or socket would block or never end), a file
    without read permission, a text-mode file object, an empty or too large source.
    """

    def __init__(self, source: Any) -> None:
        self.path: Path | None = None
        self.view: memoryview | None = None
        self.stream: BinaryIO | None = None
        self._start = 0
        if isinstance(source, (str, os.PathLike)):
            self._open_path(source)
        elif isinstance(source, (bytes, bytearray, memoryview)):
            view = memoryview(source)
            if not view.c_contiguous:
                view = memoryview(view.tobytes())  # a strided view cannot be sent as it is
            self.view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
            self.size = self.view.nbytes
            self.name = ""
        elif hasattr(source, "read") and hasattr(source, "seek"):
            self._open_stream(source)
        else:
            raise UploadError(f"Cannot upload a {type(source).__name__}: pass a path, bytes or a binary file "
                              "object (open(path, 'rb')).")
        if self.size == 0:
            self.close()
            raise UploadError(f"{self.name or 'The data'} is empty: there is nothing to upload.")
        if self.size > MAX_FILE_SIZE:
            self.close()
            raise UploadError(f"{self.name or 'The data'} is {self.size / 1e9:.2f} GB; the Files API takes at most "
                              f"{MAX_FILE_SIZE / 1e9:.0f} GB per file.")

    def _open_path(self, source: Any) -> None:
        path = Path(os.fsdecode(source)).expanduser()
        self.name = display_name_of(path.name)
        shown = display_name_of(str(path))
        try:
            info = path.stat()
        except FileNotFoundError:
            raise UploadError(f"No file at {shown}. Check the path (relative paths start at {Path.cwd()}).") from None
        except OSError as error:
            raise UploadError(f"Cannot read {shown}: {error.strerror or error}.") from None
        check_regular_file(info, shown, UploadError)
        try:
            self.stream = open(path, "rb")
        except PermissionError:
            raise UploadError(f"No permission to read {shown}. Check its permissions (chmod u+r) or "
                              "upload a copy you can read.") from None
        except OSError as error:
            raise UploadError(f"Cannot open {shown}: {error.strerror or error}.") from None
        self.path = path
        self.size = os.fstat(self.stream.fileno()).st_size

    def _open_stream(self, source: Any) -> None:
        self.name = display_name_of(Path(os.fsdecode(getattr(source, "name", "") or "")).name) \
            if isinstance(getattr(source, "name", None), (str, bytes, os.PathLike)) else ""
        if isinstance(source, io.TextIOBase) or "b" not in getattr(source, "mode", "b"):
            raise UploadError(f"{self.name or 'This file'} is open in text mode; open it in binary mode to "
                              "upload it: open(path, 'rb').")
        try:
            start = source.tell()
            end = source.seek(0, io.SEEK_END)
            source.seek(start)
        except (OSError, ValueError) as error:
            raise UploadError(f"Cannot upload {self.name or 'this file object'}: it cannot seek ({error}). "
                              "Pass its path, or its bytes.") from None
        self.stream, self._start, self.size = source, start, end - start

    def read(self, offset: int, size: int):
        """`size` bytes from `offset`: a memoryview slice for data in memory (no copy), bytes from a file."""
        if self.view is not None:
            return self.view[offset:offset + size]
        self.stream.seek(self._start + offset)
        data = self.stream.read(size)
        if isinstance(data, str):
            raise UploadError(f"{self.name or 'This file'} is open in text mode; open it in binary mode to "
                              "upload it: open(path, 'rb').")
        return data

    def sha256(self) -> bytes:
        if self.view is not None:
            return hashlib.sha256(self.view).digest()
        digest = hashlib.sha256()
        offset = 0
        while block := self.read(offset, _HASH_BLOCK):
            digest.update(block)
            offset += len(block)
        return digest.digest()

    def head(self, size: int = 4096) -> bytes:
        return bytes(self.read(0, size))

    def close(self) -> None:
        if self.path is not None and self.stream is not None:
            self.stream.close()


def check_source(source: Any) -> None:
    """Raise UploadError when `source` cannot be uploaded (no file at a path, a directory, no read
    permission, empty, too large): the checks `upload_file` makes first, for a caller that wants them
    before it shows or sends anything."""
    _Source(source).close()


def display_name_of(name: str) -> str:
    """A file name as text that can be sent: bytes that are not UTF-8 (surrogate escapes) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def check_regular_file(info: os.stat_result, shown: str, error: type[Exception]) -> None:
    """Raise `error` unless `info` (os.stat) is a regular file: say what it is and what to do instead."""
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise error(f"{shown} is a directory; name the files in it one at a time.")
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    raise error(f"{shown} is {kind}, not a regular file: reading it could block or never end. Save the data "
                "to a file first, or pass its bytes.")


def file_path(name: Any) -> str:
    """The API path of an uploaded file: "files/abc" from "abc", "files/abc" or a File.

    Raises ValueError for an empty name or one with a slash, space or '?' in it (it would name
    another method).
    """
    name = getattr(name, "name", name)
    if not isinstance(name, str):
        raise TypeError(f"A file name must be a string such as 'files/abc123' or a File, not {type(name).__name__}.")
    bare = name.strip()
    bare = bare[len("files/"):] if bare.startswith("files/") else bare
    if not bare:
        raise UploadError("The file name is empty; pass a name such as 'files/abc123' (client.list_files() "
                          "or %gemini files lists yours).")
    if any(c in bare for c in "/?# ") or any(ord(c) < 32 for c in bare):
        raise UploadError(f"{name!r} is not a file name; pass a name such as 'files/abc123' "
                          "(client.list_files() or %gemini files lists yours).")
    return f"files/{bare}"


def get_file(transport, name: Any) -> File:
    """The File named `name` ("files/abc" or "abc"); NotFoundError "No file named ..." when there is none
    (the service answers 403 for a name that is not one of this key's files)."""
    path = file_path(name)
    try:
        return File.from_json(transport.json(transport.send("GET", path)))
    except (NotFoundError, PermissionDeniedError) as error:
        raise _no_file(path, error) from None


def delete_file(transport, name: Any) -> None:
    """Delete the file named `name`; NotFoundError "No file named ..." when there is none.

    The service answers 403 (not 404) for a name that is not one of this key's files; both mean the
    same to the caller, so both raise NotFoundError.
    """
    path = file_path(name)
    try:
        transport.send("DELETE", path)
    except (NotFoundError, PermissionDeniedError) as error:
        raise _no_file(path, error) from None


def _no_file(path: str, error: APIError) -> NotFoundError:
    return NotFoundError(f"No file named {path}: it may have expired (files are kept 48 hours) or been "
                         "deleted already; client.list_files() or %gemini files lists yours.",
                         status_code=error.status_code, status=error.status, details=error.details)


def guess_mime_type(source: _Source) -> str | None:
    """From the content's magic numbers first, then the file name."""
    from ..sniff import sniff_mime_type

    found = sniff_mime_type(source.head(64))
    if found:
        return found
    guessed, _ = mimetypes.guess_type(source.name) if source.name else (None, None)
    return guessed


def upload_file(transport, source: Any, *, mime_type: str | None = None, display_name: str | None = None,
                progress: Progress | None = None, wait: bool = True, timeout: float = 600.0,
                reuse: bool = True, list_files: Callable[[], list] | None = None,
                session: UploadSession | None = None) -> File:
    """Upload `source` and return its File, ACTIVE unless `wait` is False (see the module docstring)."""
    data = _Source(source)
    try:
        mime_type = mime_type or guess_mime_type(data)
        if not mime_type:
            raise UploadError(f"Cannot tell what kind of file {data.name or 'this'} is; pass mime_type "
                              "(for example mime_type='video/mp4', or --mime video/mp4 in %gemini_upload).")
        session = session if session is not None else UploadSession()
        if reuse and list_files is not None and not session.url:
            existing = _earlier_upload(data, list_files, progress)
            if existing is not None:
                log.info("Reusing %s: the same content is already uploaded.", existing.name)
                if progress:
                    progress(data.size, data.size, "done")
                return wait_until_active(transport, existing, progress, timeout) if wait else existing
        name = display_name_of(display_name) if isinstance(display_name, str) else data.name
        file = _upload(transport, data, mime_type, name, progress, session)
    finally:
        data.close()
    return wait_until_active(transport, file, progress, timeout) if wait else file


def _earlier_upload(data: _Source, list_files: Callable[[], list], progress: Progress | None) -> File | None:
    """A live file with the same content, or None. Only files of the same size are compared, so the
    data is hashed (one pass) only when one exists; progress says "checking" meanwhile."""
    if progress:
        progress(0, data.size, "checking")
    candidates = [f for f in list_files() if f.state != "FAILED" and f.size_bytes in (0, data.size)]
    if not candidates:
        return None
    digest = data.sha256()
    for existing in candidates:
        if existing.matches_sha256(digest):
            existing.reused = True
            return existing
    return None


def _upload(transport, data: _Source, mime_type: str, display_name: str, progress: Progress | None,
            session: UploadSession) -> File:
    offset = 0
    if session.url and session.total == data.size:
        try:
            offset = _received(transport, session.url, data.size)
            log.info("Continuing the upload at byte %d of %d.", offset, data.size)
        except GeminiError:
            session.url = None  # the server forgot it (expired): start again
    if not session.url:
        session.url, session.chunk_size = _start(transport, data, mime_type, display_name)
        session.total = data.size
    upload_url, chunk_size = session.url, session.chunk_size
    resumes = 0
    while True:
        reply = chunk = None  # free the previous chunk (reply.request.body holds it too): one in memory, not two
        chunk = data.read(offset, chunk_size)
        if len(chunk) < min(chunk_size, data.size - offset):
            raise UploadError(f"{data.name or 'The data'} changed during the upload (it is shorter than the "
                              f"{data.size:,} bytes announced). Upload it again once it is complete.")
        last = offset + len(chunk) >= data.size
        try:
            reply = transport.send("POST", upload_url, data=chunk, retry=False, headers={
                "X-Goog-Upload-Command": "upload, finalize" if last else "upload",
                "X-Goog-Upload-Offset": str(offset), "Content-Type": "application/octet-stream"})
        except (APIConnectionError, ServerError) as error:
            resumes += 1
            if resumes > MAX_RESUMES:
                raise UploadError(f"The upload failed {resumes} times in a row ({error}); {offset} of "
                                  f"{data.size} bytes were received. Run the upload again.") from None
            transport.sleep(min(0.5 * 2 ** (resumes - 1), 8.0))
            offset = _received(transport, upload_url, data.size)
            log.info("Upload resumed at byte %d after: %s", offset, error)
            continue
        offset += len(chunk)
        session.sent = offset
        if progress:
            progress(offset, data.size, "uploading")
        if last:
            session.url = None
            return File.from_json(transport.json(reply))


def _start(transport, data: _Source, mime_type: str, display_name: str) -> tuple[str, int]:
    """Open a resumable upload: its URL and the chunk size (the server's granularity)."""
    start = transport.send("POST", f"/upload/{transport.api_version}/files", json={"file": {"displayName": display_name}},
                           headers={"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
                                    "X-Goog-Upload-Header-Content-Length": str(data.size),
                                    "X-Goog-Upload-Header-Content-Type": mime_type})
    upload_url = start.headers.get("X-Goog-Upload-URL")
    if not upload_url:
        raise UploadError("The service did not return an upload URL (X-Goog-Upload-URL); the upload cannot start.")
    return upload_url, int(start.headers.get("X-Goog-Upload-Chunk-Granularity") or DEFAULT_UPLOAD_GRANULARITY)


def _received(transport, upload_url: str, total: int) -> int:
    """Ask the server how many bytes it kept (X-Goog-Upload-Command: query)."""
    reply = transport.send("POST", upload_url, headers={"X-Goog-Upload-Command": "query"})
    received = int(reply.headers.get("X-Goog-Upload-Size-Received", 0))
    if received > total:
        raise UploadError(f"The server reports {received} bytes received of {total}; start the upload again.")
    return received


def wait_until_active(transport, file: File, progress: Progress | None = None, timeout: float = 600.0) -> File:
    """Poll the file with growing delays until it is ACTIVE; a FAILED file or the timeout is an UploadError."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    while file.state == "PROCESSING":
        if progress:
            progress(file.size_bytes, file.size_bytes, "processing")
        if time.monotonic() + delay > deadline:
            raise UploadError(f"{file.name} is still PROCESSING after {timeout:.0f} s. Check later with "
                              f"client.get_file({file.name!r}) or %gemini files.")
        transport.sleep(delay)
        delay = min(delay * 1.5, 5.0)
        reused = file.reused
        file = File.from_json(transport.json(transport.send("GET", file_path(file.name))))
        file.reused = reused
    if file.state == "FAILED":
        reason = (file.error or {}).get("message", "no reason given")
        raise UploadError(f"The service could not process {file.display_name or file.name}: {reason}")
    if progress:
        progress(file.size_bytes, file.size_bytes, "done")
    return file
