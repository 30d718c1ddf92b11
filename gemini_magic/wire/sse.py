"""Incremental decoders for streamed answers: server-sent events, and the plain JSON-array stream.

The service sends `text/event-stream` with no charset, so bytes are decoded here, not by requests.
Lines end at CR, LF or CRLF only: `str.splitlines` would also split at U+2028, U+2029 and U+0085,
which may sit inside JSON strings. A line break is never part of a multi-byte UTF-8 sequence, so each
complete line can be decoded on its own, whatever byte the network split it at.

After a 200 the service may still report an error as raw, multi-line JSON with no `data:` prefix
(googleapis/js-genai#650). Such lines are gathered and handed out as one `RawEvent` once they form
a complete JSON document.

    decoder = SSEDecoder()
    for piece in byte_chunks:
        for event in decoder.feed(piece):
            ...                    # DataEvent(data=b'{...}') or RawEvent(data=b'{"error": ...}')
    for event in decoder.close():  # the last event may come without its blank line
        ...
"""

from __future__ import annotations

import json
from typing import NamedTuple

from ..errors import StreamProtocolError

_FIELDS = (b"data", b"event", b"id", b"retry")


class DataEvent(NamedTuple):
    """One SSE event: its `data` lines joined with LF, as bytes (UTF-8)."""

    data: bytes


class RawEvent(NamedTuple):
    """Text that arrived outside SSE framing and parses as JSON (an error body mid-stream)."""

    data: bytes


class SSEDecoder:
    """Turns arbitrary byte pieces into events; keeps any incomplete line for the next piece."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scan_from = 0  # bytes before this offset hold no line break (long lines arrive in pieces)
        self._data: list[bytes] = []
        self._raw: list[bytes] = []

    def feed(self, piece: bytes) -> list:
        events: list = []
        if not self._buffer and piece[-1:] == b"\n":
            # The usual case: a network read that ends at a line break, with nothing left over before it.
            for line in piece.splitlines():
                self._line(line, events)
            return events
        buffer = self._buffer
        buffer += piece
        # Complete lines end at the last line break; a CR at the very end waits: its LF may come next.
        end = len(buffer) - 1 if buffer[-1:] == b"\r" else len(buffer)
        scan = self._scan_from
        cut = max(buffer.rfind(b"\n", scan, end), buffer.rfind(b"\r", scan, end)) + 1
        if cut:
            # bytes.splitlines breaks at CR, LF and CRLF only (str.splitlines would also break at U+2028 ...)
            for line in bytes(buffer[:cut]).splitlines():
                self._line(line, events)
            del buffer[:cut]
        self._scan_from = max(len(buffer) - 1, 0)
        return events

    def close(self) -> list:
        """End of stream: flush a last line and event that had no terminating blank line."""
        events: list = []
        if self._buffer:
            line = bytes(self._buffer.rstrip(b"\r"))
            self._buffer.clear()
            self._scan_from = 0
            self._line(line, events)
        self._line(b"", events)
        if self._raw:
            text = b"\n".join(self._raw).decode("utf-8", "replace")
            self._raw = []
            raise StreamProtocolError(f"The stream ended with text that is not an event: {text[:500]!r}")
        return events

    def _line(self, line: bytes, events: list) -> None:
        if not line:
            if self._data:
                events.append(DataEvent(b"\n".join(self._data)))
                self._data = []
            self._flush_raw(events)
            return
        if line[:5] == b"data:":
            value = line[5:]
            self._data.append(value[1:] if value[:1] == b" " else value)
            return
        if line == b"data":
            self._data.append(b"")
            return
        if line[:1] == b":":
            return  # an SSE comment
        name = line.split(b":", 1)[0]
        if name in _FIELDS:
            return  # event/id/retry: the Gemini API sends none, and nothing here needs them
        self._raw.append(line)
        self._flush_raw(events)

    def _flush_raw(self, events: list) -> None:
        if not self._raw:
            return
        text = b"\n".join(self._raw)
        try:
            json.loads(text)
        except ValueError:
            return  # not complete yet: wait for more lines
        self._raw = []
        events.append(RawEvent(text))


class JSONArrayDecoder:
    """Decodes the stream sent without `alt=sse`: one JSON array, its elements arriving over time.

    Yields each element's bytes as a DataEvent as soon as it is complete.
    """

    def __init__(self) -> None:
        self._text = ""
        self._pending = b""
        self._decoder = json.JSONDecoder()
        self._opened = False

    def feed(self, piece: bytes) -> list:
        data = self._pending + piece
        # Keep an incomplete UTF-8 sequence at the end for the next piece.
        cut = _complete_utf8_prefix(data)
        self._pending = data[cut:]
        self._text += data[:cut].decode("utf-8")
        return self._drain()

    def close(self) -> list:
        events = self._drain()
        rest = self._text.strip().lstrip(",").strip()
        if rest not in ("", "]"):
            raise StreamProtocolError(f"The JSON stream ended in the middle of an element: {rest[:200]!r}")
        return events

    def _drain(self) -> list:
        events = []
        text = self._text
        pos = 0
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if not self._opened:
                if pos < len(text) and text[pos] == "[":
                    self._opened = True
                    pos += 1
                    continue
                if pos < len(text) and text[pos] == "{":
                    self._opened = True  # a bare object (an error body) instead of an array
                else:
                    break
            if pos >= len(text) or text[pos] == "]":
                break
            try:
                value, end = self._decoder.raw_decode(text, pos)
            except ValueError:
                break
            raw = json.dumps(value).encode("utf-8")
            events.append(RawEvent(raw) if isinstance(value, dict) and "error" in value else DataEvent(raw))
            pos = end
        self._text = text[pos:]
        return events


def _complete_utf8_prefix(data: bytes) -> int:
    """Length of the longest prefix of data that does not end inside a UTF-8 sequence."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # a lead byte or ASCII
            need = 1 if byte < 0x80 else 2 if byte >= 0xC0 and byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) if back >= need else len(data) - back
    return len(data)
