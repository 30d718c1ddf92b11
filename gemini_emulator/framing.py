"""Byte-level HTTP pieces: request bodies read in pieces, and JSON encoded the way Google does.

Request bodies arrive with ``Content-Length`` or ``Transfer-Encoding: chunked`` and are read in
1 MiB pieces, so an upload chunk can go to disk as it arrives. Responses use ``to_json``.
"""

from __future__ import annotations

import json

READ_SIZE = 1024 * 1024


def to_json(obj, pretty: bool) -> bytes:
    """Google's JSON: UTF-8 kept as is, ``<`` and ``>`` escaped (see recordings/grounding)."""
    if pretty:
        text = json.dumps(obj, indent=2, ensure_ascii=False)
    else:
        text = json.dumps(obj, separators=(",", ": "), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").encode("utf-8")


class BodyReader:
    """Reads a request body in pieces: ``Content-Length`` or ``Transfer-Encoding: chunked``."""

    def __init__(self, rfile, headers: dict):
        self.rfile = rfile
        self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        self.length = None if self.chunked else int(headers.get("content-length") or 0)
        self.remaining = 0 if self.chunked else self.length
        self.done = False

    def read(self, size: int = READ_SIZE) -> bytes:
        if self.done or size <= 0:
            return b""
        if self.chunked and self.remaining == 0:
            line = self.rfile.readline(1024)
            self.remaining = int(line.split(b";")[0].strip() or b"0", 16)
            if self.remaining == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                self.done = True
                return b""
        if self.remaining == 0:
            self.done = True
            return b""
        piece = self.rfile.read(min(size, self.remaining))
        if not piece:
            raise ConnectionError("client closed the connection in the middle of the body")
        self.remaining -= len(piece)
        if self.chunked and self.remaining == 0:
            self.rfile.readline(16)  # the CRLF after the chunk's data
        return piece

    def read_all(self, limit: int) -> tuple[bytes, int]:
        """The whole body, or b"" (drained and counted) when it exceeds ``limit``."""
        pieces, size = [], 0
        while piece := self.read():
            size += len(piece)
            if size <= limit:
                pieces.append(piece)
            else:
                pieces.clear()
        return (b"".join(pieces) if size <= limit else b""), size
