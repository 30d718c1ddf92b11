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
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable

from ..constants import DEFAULT_UPLOAD_GRANULARITY, MAX_FILE_SIZE
from ..errors import APIConnectionError, GeminiError, ServerError, UploadError
from .transport import decode_json

log = logging.getLogger("gemini_magic")

#: progress(sent_bytes, total_bytes, phase) with phase "uploading", "processing" or "done".
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
    """What to upload, readable at any offset: a path (streamed from disk), bytes, or a binary file object."""

    def __init__(self, source: Any) -> None:
        self.path: Path | None = None
        if isinstance(source, (str, os.PathLike)):
            path = Path(source).expanduser()
            if not path.exists():
                raise UploadError(f"No file at {path}. Check the path (relative paths start at {Path.cwd()}).")
            if path.is_dir():
                raise UploadError(f"{path} is a directory; upload the files in it one at a time.")
            self.path = path
            self.stream: BinaryIO = open(path, "rb")
            self.size = path.stat().st_size
            self.name = path.name
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self.stream = io.BytesIO(bytes(source))
            self.size = len(self.stream.getbuffer())
            self.name = ""
        elif hasattr(source, "read") and hasattr(source, "seek"):
            self.stream = source
            start = source.tell()
            self.size = source.seek(0, io.SEEK_END) - start
            source.seek(start)
            self._start = start
            self.name = Path(getattr(source, "name", "") or "").name
        else:
            raise UploadError(f"Cannot upload a {type(source).__name__}: pass a path, bytes or a binary file object.")
        self._start = getattr(self, "_start", 0)
        if self.size == 0:
            raise UploadError(f"{self.name or 'The data'} is empty: there is nothing to upload.")
        if self.size > MAX_FILE_SIZE:
            raise UploadError(f"{self.name or 'The data'} is {self.size / 1e9:.2f} GB; the Files API takes at most "
                              f"{MAX_FILE_SIZE / 1e9:.0f} GB per file.")

    def read(self, offset: int, size: int) -> bytes:
        self.stream.seek(self._start + offset)
        return self.stream.read(size)

    def sha256(self) -> bytes:
        digest = hashlib.sha256()
        self.stream.seek(self._start)
        while block := self.stream.read(_HASH_BLOCK):
            digest.update(block)
        return digest.digest()

    def head(self, size: int = 4096) -> bytes:
        return self.read(0, size)

    def close(self) -> None:
        if self.path is not None:
            self.stream.close()


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
            digest = data.sha256()
            for existing in list_files():
                if existing.matches_sha256(digest) and existing.state != "FAILED":
                    existing.reused = True
                    log.info("Reusing %s: the same content is already uploaded.", existing.name)
                    if progress:
                        progress(data.size, data.size, "done")
                    return wait_until_active(transport, existing, progress, timeout) if wait else existing
        file = _upload(transport, data, mime_type, display_name or data.name, progress, session)
    finally:
        data.close()
    return wait_until_active(transport, file, progress, timeout) if wait else file


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
            return File.from_json(reply.json())


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
        file = File.from_json(decode_json(transport.send("GET", file.name).content))
        file.reused = reused
    if file.state == "FAILED":
        reason = (file.error or {}).get("message", "no reason given")
        raise UploadError(f"The service could not process {file.display_name or file.name}: {reason}")
    if progress:
        progress(file.size_bytes, file.size_bytes, "done")
    return file
