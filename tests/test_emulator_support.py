"""Helpers for the emulator tests: plain ``http.client`` calls and raw-socket reads over loopback.

Deliberately independent of the client package (written concurrently) and of the emulator's own
code: the tests decode SSE, JSON arrays and chunked framing themselves, simply.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import time
from dataclasses import dataclass

from gemini_emulator import Emulator

KEY = "test-key"
GRANULE = 256 * 1024
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"
STREAM_SSE = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
STREAM_ARRAY = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
COUNT = "/v1beta/models/gemini-2.5-flash:countTokens"


def running_emulator():
    """Body of each module's ``emu`` fixture: a fresh emulator with a small upload granularity."""
    with Emulator(upload_granularity=GRANULE) as emulator:
        yield emulator


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def error(self):
        return self.json["error"]


def call(emu, method: str, path: str, body=None, headers=None, key: str | None = KEY, raw: bytes | None = None):
    """One request with http.client; ``body`` is JSON-encoded unless ``raw`` bytes are given.

    ``emu`` is an Emulator or a port number (for an emulator running as a subprocess).
    """
    port = emu if isinstance(emu, int) else emu.port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    sent = {"Content-Type": "application/json"}
    if key is not None:
        sent["x-goog-api-key"] = key
    sent.update(headers or {})
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def text_request(prompt="Hello emulator", **config):
    body = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
    if config:
        body["generationConfig"] = config
    return body


def inline(mime: str, data: bytes) -> dict:
    return {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}


def answer_text(response: dict, index: int = 0) -> str:
    parts = response["candidates"][index]["content"]["parts"]
    return "".join(p["text"] for p in parts if not p.get("thought"))


@dataclass
class Wire:
    """A response read off a raw socket: status line, headers, de-chunked body, and how it ended."""

    status: int
    headers: dict
    chunks: list          # the HTTP chunks' payloads, in order
    terminated: bool      # the zero-length chunk arrived
    arrival: list         # monotonic time each chunk arrived

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def raw_request(emu, method: str, path: str, body: dict | None = None, key: str | None = KEY,
                timeout: float = 10) -> Wire:
    """Send by hand and read the wire until the server closes, decoding chunked framing ourselves."""
    data = json.dumps(body).encode() if body is not None else b""
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{emu.port}", "Content-Type: application/json",
            f"Content-Length: {len(data)}"]
    if key:
        head.append(f"x-goog-api-key: {key}")
    sock = socket.create_connection(("127.0.0.1", emu.port), timeout=timeout)
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)
    buffer = b""

    def fill() -> bool:
        nonlocal buffer
        try:
            more = sock.recv(65536)
        except ConnectionResetError:
            more = b""
        buffer += more
        return bool(more)

    try:
        while b"\r\n\r\n" not in buffer:
            if not fill():
                raise ConnectionError("closed before the headers")
        header_bytes, buffer = buffer.split(b"\r\n\r\n", 1)
        lines = header_bytes.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        chunks, arrival, terminated = [], [], False
        if "chunked" not in headers.get("transfer-encoding", ""):
            length = int(headers.get("content-length", 0))
            while len(buffer) < length and fill():
                pass
            return Wire(status, headers, [buffer[:length]], True, [time.monotonic()])
        while True:
            while b"\r\n" not in buffer:
                if not fill():
                    return Wire(status, headers, chunks, False, arrival)
            size_line, rest = buffer.split(b"\r\n", 1)
            size = int(size_line, 16)
            while len(rest) < size + 2:
                buffer = size_line + b"\r\n" + rest
                if not fill():
                    return Wire(status, headers, chunks, False, arrival)
                size_line, rest = buffer.split(b"\r\n", 1)
            if size == 0:
                terminated = True
                break
            chunks.append(rest[:size])
            arrival.append(time.monotonic())
            buffer = rest[size + 2:]
        return Wire(status, headers, chunks, terminated, arrival)
    finally:
        sock.close()


def sse_events(body: bytes) -> list[dict]:
    """Events of an SSE body framed ``data: {json}\\r\\n\\r\\n``; fails on anything else."""
    events = []
    for block in body.split(b"\r\n\r\n"):
        if not block:
            continue
        assert block.startswith(b"data: "), block[:80]
        assert b"\n" not in block, "one event must be one line"
        events.append(json.loads(block[len(b"data: "):].decode("utf-8")))
    return events


def upload_start(emu, size: int, mime="application/octet-stream", name="test file", key=KEY) -> Reply:
    return call(emu, "POST", "/upload/v1beta/files", {"file": {"displayName": name}}, key=key, headers={
        "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
        "X-Goog-Upload-Header-Content-Length": str(size), "X-Goog-Upload-Header-Content-Type": mime})


def upload_path(start_reply: Reply) -> str:
    url = start_reply.headers["x-goog-upload-url"]
    return url[url.index("/upload/"):]


def send_chunk(emu, path: str, data: bytes, offset: int, finalize=False) -> Reply:
    command = "upload, finalize" if finalize else "upload"
    return call(emu, "POST", path, raw=data, headers={
        "X-Goog-Upload-Command": command, "X-Goog-Upload-Offset": str(offset),
        "Content-Type": "application/octet-stream"})


def query_upload(emu, path: str) -> Reply:
    return call(emu, "POST", path, raw=b"", headers={"X-Goog-Upload-Command": "query"})


def upload(emu, data: bytes, mime="application/octet-stream", name="test file") -> dict:
    """A whole upload in granule-sized chunks; returns the File JSON."""
    path = upload_path(upload_start(emu, len(data), mime, name))
    offset = 0
    step = 2 * GRANULE
    while len(data) - offset > step:
        assert send_chunk(emu, path, data[offset:offset + step], offset).status == 200
        offset += step
    reply = send_chunk(emu, path, data[offset:], offset, finalize=True)
    assert reply.status == 200, reply.body
    return reply.json["file"]
