"""The ``/emulator/...`` control endpoints, for an emulator running as a subprocess.

Notebooks and browser tests cannot call ``Emulator.inject`` across a process boundary, so the
same controls are offered over HTTP (no API key needed; the server listens on loopback only):

* ``POST /emulator/faults``   ``{"kind": "status", "match": "generate", "times": 1, "code": 503, ...}``
* ``POST /emulator/replay``   ``{"body": "<base64>", "status": 200, "content_type": ..., "headers": {},
  "chunk_size": 64, "chunk_delay": 0.01, "match": "stream", "times": 1}`` (``"text"`` instead of
  ``"body"`` for a UTF-8 body)
* ``GET  /emulator/requests`` the request log as a JSON list; bodies over 64 KiB are summarised, and
  the API key header is shown as ``[REDACTED]``; a generate request's ``response_id`` is the
  ``responseId`` of the answer it got
* ``GET  /emulator/live``     what the Live endpoint heard and saw: connections (open or not), audio
  messages and bytes, the seconds of each spoken turn, video frames (bytes, width, height, arrival
  time), interruptions (emulator/live.py)
* ``POST /emulator/reset``    forget faults, replays, requests and files
* ``POST /emulator/config``   ``{"pace": 0.1, "file_processing_delay": 2}``; ``GET`` shows the
  settings, upload counters and the number of queued faults
"""

from __future__ import annotations

import base64
import binascii
import json

SUMMARY_LIMIT = 64 * 1024
LONG_STRING = 256


def handle(emulator, method: str, path: str, query: dict, body: bytes) -> tuple[int, object]:
    """Answer one control request: (HTTP code, JSON value)."""
    try:
        payload = json.loads(body.decode("utf-8")) if body.strip() else {}
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object")
        if path == "/emulator/faults" and method == "POST":
            params = dict(payload)
            kind = params.pop("kind", None)
            if not kind:
                raise ValueError("'kind' is required")
            emulator.inject(kind, **params)
            return 200, {"queued": kind, "pending": emulator.pending()}
        if path == "/emulator/replay" and method == "POST":
            params = dict(payload)
            if "text" in params:
                data = str(params.pop("text")).encode("utf-8")
            else:
                data = base64.b64decode(params.pop("body", ""), validate=True)
            emulator.replay(data, **params)
            return 200, {"queued": "replay", "bytes": len(data), "pending": emulator.pending()}
        if path == "/emulator/requests" and method == "GET":
            return 200, [summarise(r) for r in emulator.requests]
        if path == "/emulator/live" and method == "GET":
            return 200, emulator.live.describe()
        if path == "/emulator/reset" and method == "POST":
            emulator.reset()
            return 200, {}
        if path == "/emulator/config":
            if method == "POST":
                emulator.configure(**payload)
            return 200, emulator.describe()
    except (ValueError, TypeError, binascii.Error) as error:
        return 400, {"error": {"code": 400, "message": f"Bad emulator control request: {error}",
                               "status": "INVALID_ARGUMENT"}}
    return 404, {"error": {"code": 404, "message": f"No emulator control endpoint {method} {path}.",
                           "status": "NOT_FOUND"}}


def summarise(request) -> dict:
    """A recorded request as JSON; a big body is replaced by its size and long strings are cut."""
    item = {"method": request.method, "path": request.path, "query": request.query,
            "headers": redact_headers(request.headers), "body_size": request.body_size,
            "response_id": request.response_id}
    if request.body_size <= SUMMARY_LIMIT:
        item["body"] = request.body.decode("utf-8", "replace")
        item["json"] = request.json
    else:
        item["body"] = None
        item["body_summary"] = f"{request.body_size:,} bytes (over {SUMMARY_LIMIT // 1024} KiB, not shown)"
        item["json"] = _shorten(request.json)
    return item


SECRET_HEADERS = ("x-goog-api-key", "authorization")


def redact_headers(headers: dict) -> dict:
    """Headers as served on the request log: a key is never shown to other local processes."""
    return {name: "[REDACTED]" if name.lower() in SECRET_HEADERS and value else value
            for name, value in headers.items()}


def _shorten(value):
    if isinstance(value, str) and len(value) > LONG_STRING:
        return value[:64] + f"... ({len(value):,} characters)"
    if isinstance(value, dict):
        return {key: _shorten(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shorten(item) for item in value]
    return value
