"""Answer bodies decoded from bytes, Google's error object raised, the key scrubbed: a whole JSON body
(`decode_json`), a JSON Lines file (`decode_json_lines`, a batch's results) and one stream event
(`decode_event`, once per streamed chunk: the hot path). `Transport` (wire/transport.py) calls them
with its key; pure, no I/O.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import StreamProtocolError, redact
from ..redaction import secret_scan


def decode_json(content: bytes, secret: str | None = None) -> Any:
    """A response body as JSON ({} when empty), `secret` redacted from every string in it.

    Raises the APIError in it when it is Google's error object (a 200 can carry one), and
    StreamProtocolError (keeping the start of what arrived, key redacted) when it is not JSON.
    """
    from ..errors import api_error

    if not content.strip():
        return {}
    try:
        value = json.loads(content)
    except ValueError:
        text = redact(bytes(content[:2000]).decode("utf-8", "replace"), secret)
        raise StreamProtocolError(f"The service answered with something that is not JSON: {text[:300]!r}") from None
    error = api_error(value, secret=secret)
    if error is not None:
        raise error
    scan = secret_scan(secret)
    return scan.scrub(value) if scan is not None and scan.found(content) else value


def decode_json_lines(content: bytes, secret: str | None = None) -> list:
    """A JSON Lines body (a batch's results file) as a list of values, `secret` redacted from each.
    Raises StreamProtocolError (key redacted) for a line that is not JSON."""
    scan = secret_scan(secret)
    values = []
    for line in content.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            text = redact(bytes(line[:300]).decode("utf-8", "replace"), secret)
            raise StreamProtocolError(f"The service sent a line that is not JSON: {text!r}") from None
        values.append(scan.scrub(value) if scan is not None and scan.found(line) else value)
    return values


_SCAN_JSON = json.scanner.make_scanner(json.JSONDecoder())  # json's C scanner, as json.loads uses it


def _loads_event(text: str) -> Any:
    """json.loads(text), minus its two Python-level wrappers for the usual event (one JSON value with
    nothing around it); anything else (leading or trailing text, an error) goes through json.loads."""
    try:
        value, end = _SCAN_JSON(text, 0)
    except StopIteration:
        return json.loads(text)  # leading whitespace, or not JSON: json.loads says which
    if end != len(text):
        return json.loads(text)
    return value


def decode_event(data: bytes, *, secret: str | None = None) -> list:
    """The answer chunks in one stream event (SSE `data:`, a JSON-array element, or text outside SSE framing).

    A JSON object is one chunk; a JSON array is several (an answer sent as one array under an SSE
    content type). Raises the APIError when the event is Google's error object (alone or
    list-wrapped), and StreamProtocolError, keeping the start of what arrived (key redacted), when
    it is not JSON or not answer objects.
    """
    try:
        value = _loads_event(data.decode("utf-8"))  # UTF-8 by the SSE spec: skip json's encoding detection
    except ValueError:  # UnicodeDecodeError included
        text = redact(bytes(data[:300]).decode("utf-8", "replace"), secret)
        raise StreamProtocolError(f"The stream sent an event that is not JSON: {text!r}") from None
    if type(value) is dict and "error" not in value:
        return [value]  # the usual event: one answer chunk (this runs once per streamed chunk)
    from ..errors import api_error

    error = api_error(value, secret=secret)
    if error is not None:
        raise error
    chunks = value if isinstance(value, list) else [value]
    if not all(isinstance(chunk, dict) for chunk in chunks):
        text = redact(bytes(data[:300]).decode("utf-8", "replace"), secret)
        raise StreamProtocolError(f"The stream sent JSON that is not an answer: {text!r}")
    return chunks
