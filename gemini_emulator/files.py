"""The Files API: resumable uploads written to disk, File resources, their states and expiry.

Protocol (shared/API_NOTES.md "Files API"): ``start`` opens a session and announces the upload URL
and chunk granularity; ``upload`` chunks must arrive at the offset already received and, except the
last, be whole multiples of the granularity; ``upload, finalize`` (or ``finalize``) closes it and
answers ``{"file": File}``; ``query`` tells how many bytes are stored, so a client can resume.

Choices worth knowing:

* Bytes go to a temporary file as they arrive (1 MiB reads), never into memory: 1 GiB uploads are
  benchmarked.
* ``sha256Hash`` is what the real service sends (see recordings/files/cookbook_files-list.json):
  base64 of the *hex digest string*, not of the raw digest.
* When a ``drop_at_offset`` fault cuts a chunk, the bytes that arrived are kept only up to the last
  whole granularity boundary, so a resumed upload continues at an offset that is legal for a
  non-final chunk (the real service likewise confirms whole granules).
* Files expire ``file_ttl`` seconds after creation and then behave as if they never existed (the
  service's 403 "You do not have permission to access the File ...").
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from gemini_magic.constants import MAX_FILE_SIZE

from .errors import ApiError, bad_request, file_not_found
from .paging import page

READ_SIZE = 1024 * 1024
ID_ALPHABET = string.ascii_lowercase + string.digits
FILE_URI = re.compile(r"(?:^|/)files/([a-z0-9-]+)$")


def rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class StoredFile:
    """A finalized upload. ``active_at`` None means it stays PROCESSING; ``error`` means FAILED."""

    id: str
    display_name: str
    mime_type: str
    size: int
    path: str
    sha256_hex: str
    created: float
    active_at: float | None
    expires: float
    error: dict | None = None

    @property
    def name(self) -> str:
        return f"files/{self.id}"

    def state(self, now: float | None = None) -> str:
        if self.error:
            return "FAILED"
        now = time.time() if now is None else now
        return "ACTIVE" if self.active_at is not None and now >= self.active_at else "PROCESSING"

    def open(self):
        return open(self.path, "rb")

    def data(self) -> bytes:
        """The stored bytes (for tests; avoid on huge files)."""
        with self.open() as stream:
            return stream.read()

    def to_json(self, base_url: str) -> dict:
        state = self.state()
        updated = self.active_at if state == "ACTIVE" else self.created
        body = {"name": self.name}
        if self.display_name:
            body["displayName"] = self.display_name
        body.update({
            "mimeType": self.mime_type,
            "sizeBytes": str(self.size),  # int64 travels as a string
            "createTime": rfc3339(self.created),
            "updateTime": rfc3339(updated),
            "expirationTime": rfc3339(self.expires),
            "sha256Hash": base64.b64encode(self.sha256_hex.encode("ascii")).decode("ascii"),
            "uri": f"{base_url}/v1beta/files/{self.id}",
            "state": state,
            "source": "UPLOADED",
        })
        if self.error:
            body["error"] = self.error
        return body


@dataclass
class UploadSession:
    upload_id: str
    declared_size: int
    mime_type: str
    display_name: str
    path: str
    received: int = 0
    hasher: object = field(default_factory=hashlib.sha256)  # None after a truncation
    file: StoredFile | None = None
    # Held from the offset check to the last write of a chunk: of two chunks sent concurrently at
    # the same offset, the second then sees the first's bytes and gets the offset error.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


@dataclass
class ChunkResult:
    code: int = 200
    headers: dict = field(default_factory=dict)
    body: dict | None = None
    drop: bool = False


class FileStore:
    """All files and upload sessions of one emulator, kept in ``directory``."""

    def __init__(self, directory: str, granularity: int, processing_delay: float, ttl: float):
        self.directory = directory
        self.granularity = granularity
        self.processing_delay = processing_delay
        self.ttl = ttl
        self.files: dict[str, StoredFile] = {}
        self.sessions: dict[str, UploadSession] = {}
        self.stats = {"bytes_received": 0, "chunks": 0}
        self.lock = threading.RLock()

    # -- sessions -------------------------------------------------------------------------------
    def start(self, headers: dict, body: dict) -> str:
        """Open a resumable session from the start request; returns the upload id."""
        if headers.get("x-goog-upload-protocol", "").lower() != "resumable":
            raise bad_request("The emulator implements the resumable upload protocol only: send "
                              "X-Goog-Upload-Protocol: resumable.")
        if headers.get("x-goog-upload-command", "").lower() != "start":
            raise bad_request("The first request of a resumable upload must carry X-Goog-Upload-Command: start.")
        raw_size = headers.get("x-goog-upload-header-content-length", "")
        if not raw_size.strip().isdigit():
            raise bad_request("X-Goog-Upload-Header-Content-Length is required: the size of the file in bytes.",
                              [("x-goog-upload-header-content-length", "required, a whole number of bytes")])
        size = int(raw_size)
        if size > MAX_FILE_SIZE:
            raise bad_request(f"File size {size} bytes exceeds the limit of {MAX_FILE_SIZE} bytes.",
                              [("x-goog-upload-header-content-length", "too large")])
        meta = body.get("file") if isinstance(body.get("file"), dict) else {}
        display = meta.get("displayName") or meta.get("display_name") or ""
        mime = (headers.get("x-goog-upload-header-content-type") or meta.get("mimeType")
                or meta.get("mime_type") or "application/octet-stream")
        upload_id = secrets.token_urlsafe(24)
        path = os.path.join(self.directory, f"upload-{upload_id}")
        open(path, "wb").close()
        with self.lock:
            self.sessions[upload_id] = UploadSession(upload_id, size, mime, display, path)
        return upload_id

    def session(self, upload_id: str) -> UploadSession:
        with self.lock:
            found = self.sessions.get(upload_id)
        if found is None:
            raise ApiError(404, f"No upload session with upload_id {upload_id!r}; start a new upload.")
        return found

    def count(self, received: int) -> None:
        with self.lock:
            self.stats["bytes_received"] += received

    def chunk(self, session: UploadSession, command: str, offset_header: str | None, read,
              length: int | None, base_url: str, drop_at: int | None = None,
              upload_fault=None) -> ChunkResult:
        """One upload/finalize/query/cancel request; ``read(n)`` gives body bytes, b"" at the end.

        ``drop_at`` (a file offset) makes the write stop there and answer ``drop=True``.
        """
        commands = {c.strip().lower() for c in command.split(",") if c.strip()}
        if "query" in commands:
            self._drain(read)
            return self._status(session)
        if "cancel" in commands:
            self._drain(read)
            with self.lock:
                self.sessions.pop(session.upload_id, None)
            _remove(session.path)
            return ChunkResult(200, {"X-Goog-Upload-Status": "cancelled"})
        if not commands & {"upload", "finalize"}:
            self._drain(read)
            raise bad_request(f"Unknown X-Goog-Upload-Command {command!r}: use upload, finalize or query.")
        with self.lock:
            self.stats["chunks"] += 1
        with session.lock:
            return self._upload(session, commands, offset_header, read, length, base_url, drop_at,
                                upload_fault)

    def _upload(self, session, commands, offset_header, read, length, base_url, drop_at, upload_fault):
        """An upload and/or finalize chunk; the caller holds ``session.lock``."""
        if session.file is not None:
            self._drain(read)
            raise ApiError(400, "This upload is already finalized.", headers=self._status(session).headers)
        finalize = "finalize" in commands
        start = session.received
        offset = _int_or_none(offset_header)
        if (offset is None and "upload" in commands) or (offset is not None and offset != start):
            self._drain(read)
            raise self._reject(session, f"X-Goog-Upload-Offset is {offset_header or 'missing'}, but {start} "
                                        f"bytes have been received: resume at offset {start}.")
        if length is not None:
            self._check_size(session, start, length, finalize, read)
        written, dropped = self._write(session, start, read, drop_at)
        if dropped:
            return ChunkResult(drop=True)
        if length is None:  # a chunked request body: its size is known only now
            try:
                self._check_size(session, start, written, finalize, None)
            except ApiError:
                self._truncate(session, start)
                raise
        if not finalize:
            return self._status(session)
        stored = self.finalize(session, upload_fault)
        return ChunkResult(200, {"X-Goog-Upload-Status": "final"}, {"file": stored.to_json(base_url)})

    def _check_size(self, session, start, length, finalize, read):
        total = start + length
        problem = None
        if finalize and total != session.declared_size:
            problem = (f"The upload would end at {total} bytes, but X-Goog-Upload-Header-Content-Length "
                       f"declared {session.declared_size}.")
        elif not finalize and length % self.granularity:
            problem = (f"A chunk that does not finalize must be a multiple of {self.granularity} bytes "
                       f"(X-Goog-Upload-Chunk-Granularity); this one has {length}.")
        elif total > session.declared_size:
            problem = f"The upload would exceed the declared size of {session.declared_size} bytes."
        if problem:
            if read is not None:
                self._drain(read)
            raise self._reject(session, problem)

    def _reject(self, session, message: str) -> ApiError:
        return ApiError(400, message, headers=self._status(session).headers)

    def _status(self, session) -> ChunkResult:
        state = "final" if session.file is not None else "active"
        return ChunkResult(200, {"X-Goog-Upload-Status": state,
                                 "X-Goog-Upload-Size-Received": str(session.received)})

    def _write(self, session, start: int, read, drop_at):
        """Append the body to the session's file; returns (bytes written, dropped at drop_at)."""
        written = 0
        with open(session.path, "r+b") as out:
            out.seek(start)
            while True:
                want = READ_SIZE
                if drop_at is not None:
                    want = min(READ_SIZE, drop_at - session.received)
                    if want <= 0:
                        break
                piece = read(want)
                if not piece:
                    return written, False
                out.write(piece)
                if session.hasher is not None:
                    session.hasher.update(piece)
                written += len(piece)
                session.received += len(piece)
                self.count(len(piece))
        # Dropped: keep whole granules only (start is itself a granule boundary).
        arrived = min(session.received, drop_at)
        self._truncate(session, max(start, arrived // self.granularity * self.granularity))
        return written, True

    def _truncate(self, session, size: int) -> None:
        with open(session.path, "r+b") as out:
            out.truncate(size)
        session.received = size
        session.hasher = None  # recomputed from disk at finalize

    def _drain(self, read) -> None:
        while piece := read(READ_SIZE):
            self.count(len(piece))

    def finalize(self, session: UploadSession, fault=None) -> StoredFile:
        """Turn a complete session into a stored file (FAILED or stuck PROCESSING when a fault says so)."""
        if session.hasher is None:
            session.hasher = hashlib.sha256()
            with open(session.path, "rb") as stream:
                while block := stream.read(READ_SIZE):
                    session.hasher.update(block)
        now = time.time()
        file_id = "".join(secrets.choice(ID_ALPHABET) for _ in range(12))
        path = os.path.join(self.directory, f"file-{file_id}")
        os.replace(session.path, path)
        active_at, error = now + self.processing_delay, None
        if fault is not None:
            state = str(fault.get("state", "FAILED")).upper()
            if state == "FAILED":
                error = {"code": int(fault.get("code", 400)),
                         "message": fault.get("message", "File processing failed.")}
            elif state == "PROCESSING":
                active_at = None
            elif state == "ACTIVE":
                active_at = now
        stored = StoredFile(file_id, session.display_name, session.mime_type, session.received, path,
                            session.hasher.hexdigest(), now, active_at, now + self.ttl, error)
        with self.lock:
            self.files[stored.name] = stored
            session.file = stored
            session.path = path
        return stored

    # -- files ----------------------------------------------------------------------------------
    def purge_expired(self) -> None:
        now = time.time()
        with self.lock:
            gone = [name for name, f in self.files.items() if f.expires <= now]
            for name in gone:
                _remove(self.files.pop(name).path)

    def get(self, file_id: str) -> StoredFile:
        self.purge_expired()
        with self.lock:
            found = self.files.get(f"files/{file_id}")
        if found is None:
            raise file_not_found(file_id)
        return found

    def delete(self, file_id: str) -> None:
        stored = self.get(file_id)
        with self.lock:
            self.files.pop(stored.name, None)
        _remove(stored.path)

    def list(self, query: dict, base_url: str) -> dict:
        self.purge_expired()
        with self.lock:
            newest_first = list(reversed(self.files.values()))
        chosen, next_token = page(newest_first, query, 10, 100)
        body = {}
        if chosen:
            body["files"] = [f.to_json(base_url) for f in chosen]
        if next_token:
            body["nextPageToken"] = next_token
        return body

    def resolve(self, uri: str) -> StoredFile:
        """The file a ``fileData.fileUri`` names; the service's errors when it cannot be used."""
        match = FILE_URI.search(uri.split("?")[0])
        if not match:
            raise file_not_found(uri)
        stored = self.get(match.group(1))
        if stored.state() != "ACTIVE":
            raise ApiError(400, f"The File {stored.id} is not in an ACTIVE state and usage is not allowed.",
                           status="FAILED_PRECONDITION")
        return stored

    def clear(self) -> None:
        with self.lock:
            paths = [f.path for f in self.files.values()] + [s.path for s in self.sessions.values()]
            self.files.clear()
            self.sessions.clear()
            self.stats.update(bytes_received=0, chunks=0)
        for path in paths:
            _remove(path)


def _int_or_none(text):
    try:
        return int(text) if text is not None else None
    except ValueError:
        return -1


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
