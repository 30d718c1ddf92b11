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

Given a `redaction.SecretScan` (`SSEDecoder(scan)`, as `Transport.stream_decoder` does), both
decoders hand out every event that may hold the API key with the key scrubbed from it, so no answer,
raw chunk or view built from a stream can show it: a few substring tests per network read (each
block of complete lines, or each piece of a JSON array with the end of the last), and per event only
after one hit.
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from ..errors import StreamProtocolError
from ..redaction import SecretScan

_FIELDS = (b"data", b"event", b"id", b"retry")


class DataEvent(NamedTuple):
    """One SSE event: its `data` lines joined with LF, as bytes (UTF-8)."""

    data: bytes


class RawEvent(NamedTuple):
    """Text that arrived outside SSE framing and parses as JSON (an error body mid-stream)."""

    data: bytes


class SSEDecoder:
    """Turns arbitrary byte pieces into events; keeps any incomplete line for the next piece."""

    def __init__(self, scan: SecretScan | None = None) -> None:
        self._secret_scan = scan
        self._dirty = False  # a block of complete lines may have held the key: scrub events until it is out
        self._buffer = bytearray()
        self._scan_from = 0  # bytes before this offset hold no line break (long lines arrive in pieces)
        self._data: list[bytes] = []
        self._raw: list[bytes] = []

    def feed(self, piece: bytes) -> list:
        events: list = []
        if not self._buffer and piece[-1:] == b"\n":
            # The usual case: a network read that ends at a line break, with nothing left over before it.
            if self._secret_scan is not None and self._secret_scan.found(piece, True):
                self._dirty = True  # one quick test of each block of complete lines: a key never spans lines
            self._lines(piece.splitlines(), events)
            return self._scrubbed(events) if self._dirty else events
        buffer = self._buffer
        buffer += piece
        # Complete lines end at the last line break; a CR at the very end waits: its LF may come next.
        end = len(buffer) - 1 if buffer[-1:] == b"\r" else len(buffer)
        scan = self._scan_from
        cut = max(buffer.rfind(b"\n", scan, end), buffer.rfind(b"\r", scan, end)) + 1
        if cut:
            block = bytes(buffer[:cut])
            if self._secret_scan is not None and self._secret_scan.found(block, True):
                self._dirty = True
            # bytes.splitlines breaks at CR, LF and CRLF only (str.splitlines would also break at U+2028 ...)
            self._lines(block.splitlines(), events)
            del buffer[:cut]
        self._scan_from = max(len(buffer) - 1, 0)
        return self._scrubbed(events) if self._dirty else events

    def close(self) -> list:
        """End of stream: flush a last line and event that had no terminating blank line."""
        events: list = []
        if self._buffer:
            line = bytes(self._buffer.rstrip(b"\r"))
            if self._secret_scan is not None and self._secret_scan.found(line, True):
                self._dirty = True
            self._buffer.clear()
            self._scan_from = 0
            self._line(line, events)
        self._line(b"", events)
        if self._raw:
            text = b"\n".join(self._raw).decode("utf-8", "replace")
            self._raw = []
            raise StreamProtocolError(f"The stream ended with text that is not an event: {text[:500]!r}")
        return self._scrubbed(events) if self._dirty else events

    def _scrubbed(self, events: list) -> list:
        """The events, each that may hold the key scrubbed; clean again once nothing is pending."""
        if events:
            self._secret_scan.scrub_events(events)
        if not self._data and not self._raw:
            self._dirty = False
        return events

    def _lines(self, lines: list, events: list) -> None:
        # The hot loop (once per line of every stream): `data: ` lines and the blank line that ends
        # an event are handled inline; any other line, or a blank line while raw text waits, goes to
        # _line, which handles every case.
        data = self._data
        for line in lines:
            if line[:6] == b"data: ":
                data.append(line[6:])
            elif line or not data or self._raw:
                self._line(line, events)
                data = self._data
            else:
                events.append(DataEvent(b"\n".join(data)))  # one line: join returns it as it is
                self._data = data = []

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

    Yields each element's bytes, exactly as sent, as a DataEvent as soon as it is complete (a
    RawEvent for an `{"error": ...}` element, or for a bare error object sent instead of an array).

    Linear in the input: bytes are never decoded or parsed twice beyond a bounded amount. A small
    element that arrives in pieces is tried with json's C decoder when a piece brings a closing
    bracket, up to about four times its size in all; past that, or past 64 KiB, its end is found
    by a scanner that keeps its place (depth, inside a string, after a backslash) across reads.
    """

    def __init__(self, scan: SecretScan | None = None) -> None:
        self._secret_scan = scan
        self._dirty = False  # a piece may have held the key: scrub elements until it is out
        self._tail = b""  # the stream's last bytes, tested with the next piece (a key split between them)
        self._buffer = bytearray()  # from the start of the current element (or unread separators)
        self._opened = False  # the "[" (or a bare object) was seen
        self._ended = False  # the "]" was seen
        self._in_element = False  # the buffer starts with an element that is not complete yet
        self._tried = 0  # bytes of the current element given to json's decoder so far
        self._hint_from = 0  # no closing bracket in the buffer before this offset since the last try
        self._scan: int | None = None  # scanner mode: where scanning resumes in the buffer
        self._depth = 0
        self._in_string = False
        self._window = _WINDOW  # bytes decoded for a first try at the next element

    def feed(self, piece: bytes) -> list:
        if not piece:
            return []
        scan = self._secret_scan
        if scan is not None:
            recent = self._tail + piece
            if scan.found(recent, True):
                self._dirty = True
            self._tail = recent[-scan.overlap:]
        self._buffer += piece
        events = self._drain()
        return self._scrubbed(events) if self._dirty else events

    def _scrubbed(self, events: list) -> list:
        if events:
            self._secret_scan.scrub_events(events)
        if not self._in_element:
            self._dirty = False
        return events

    def close(self) -> list:
        events = self._drain()
        if self._dirty:
            events = self._scrubbed(events)
        rest = bytes(self._buffer).strip()
        if self._in_element or rest:
            text = rest.decode("utf-8", "replace")
            raise StreamProtocolError(f"The JSON stream ended in the middle of an element: {text[:200]!r}")
        return events

    def _drain(self) -> list:
        events: list = []
        buffer = self._buffer
        pos = 0
        while True:
            if not self._in_element:
                pos = _SEPARATORS.match(buffer, pos).end()
                if pos >= len(buffer):
                    break
                byte = buffer[pos]
                if self._ended:
                    raise StreamProtocolError(f"The JSON stream went on after its end: {bytes(buffer[pos:pos + 200])!r}")
                if not self._opened and byte == _OPEN_ARRAY:
                    self._opened = True
                    pos += 1
                    continue
                if self._opened and byte == _CLOSE_ARRAY:
                    self._ended = True
                    pos += 1
                    continue
                if byte != _OPEN_OBJECT:
                    raise StreamProtocolError(f"The stream is not a JSON array of objects: "
                                              f"{bytes(buffer[pos:pos + 200])!r}")
                self._opened = True  # a bare object (an error body) instead of an array
                self._in_element, self._tried, self._scan = True, 0, None
                self._hint_from = pos
            if pos:  # keep the buffer starting at the current element
                del buffer[:pos]
                self._hint_from -= pos
                pos = 0
            end = self._element_end(buffer)
            if end is None:
                break
            data = bytes(buffer[:end])
            events.append(RawEvent(data) if _is_error(data) else DataEvent(data))
            self._in_element = False
            pos = end
        if pos:
            del buffer[:pos]
        return events

    def _element_end(self, buffer: bytearray) -> int | None:
        """Where the element at the start of the buffer ends, or None while it is incomplete."""
        size = len(buffer)
        if self._scan is None:
            if size > _SMALL or self._tried > 3 * size + _SMALL:
                self._scan, self._depth, self._in_string = 0, 0, False
            else:
                # Only a piece that brought a closing bracket can have completed the element.
                if buffer.find(b"}", self._hint_from) < 0 and buffer.find(b"]", self._hint_from) < 0:
                    return None
                self._hint_from = size
                return self._try_decode(buffer)
        return self._scan_on(buffer)

    def _try_decode(self, buffer: bytearray) -> int | None:
        # The buffer may hold many later elements too: decode a window about twice the size of the
        # last element, doubling it while the element does not fit, so each try costs O(element).
        size = len(buffer)
        window = min(size, self._window)
        while True:
            text = buffer[:window].decode("utf-8", "surrogateescape")
            try:
                _, end = _DECODER.raw_decode(text)
            except ValueError:
                if window >= size:
                    self._tried += size
                    return None
                window = min(size, 2 * window)
                continue
            end = end if text.isascii() else len(text[:end].encode("utf-8", "surrogateescape"))
            self._window = max(_WINDOW, 2 * end)
            return end

    def _scan_on(self, buffer: bytearray) -> int | None:
        pos, depth, size = self._scan, self._depth, len(buffer)
        while True:
            if self._in_string:
                pos = _STRING_BODY.match(buffer, pos).end()
                if pos >= size or buffer[pos] != _QUOTE:  # the end of what arrived, or a lone trailing "\"
                    break
                self._in_string = False
                pos += 1
                continue
            pos = _OUTSIDE_STRINGS.match(buffer, pos).end()
            if pos >= size:
                break
            byte = buffer[pos]
            pos += 1
            if byte == _QUOTE:
                self._in_string = True
            elif byte in _OPENERS:
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    self._scan = None
                    return pos
        self._scan, self._depth = pos, depth
        return None


_SMALL = 64 * 1024
_WINDOW = 512
_DECODER = json.JSONDecoder()
_SEPARATORS = re.compile(rb"[ \t\r\n,]*")
_OUTSIDE_STRINGS = re.compile(rb'[^"{}\[\]]*')
_STRING_BODY = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)
_QUOTE, _OPEN_OBJECT, _OPEN_ARRAY, _CLOSE_ARRAY = b'"{[]'
_OPENERS = b"{["


def _is_error(data: bytes) -> bool:
    """Whether an element is an `{"error": ...}` object (parsed only when the word is there)."""
    if b'"error"' not in data:
        return False
    try:
        value = json.loads(data)
    except ValueError:
        return False
    return isinstance(value, dict) and "error" in value


def _complete_utf8_prefix(data: bytes) -> int:
    """Length of the longest prefix of data that does not end inside a UTF-8 sequence."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # a lead byte or ASCII
            need = 1 if byte < 0x80 else 2 if byte >= 0xC0 and byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) if back >= need else len(data) - back
    return len(data)
