"""The server side of RFC 6455 for the emulator's Live endpoint, on the HTTP handler's own socket.

Written here, not taken from the client's library, so that a framing mistake on one side cannot be
mirrored on the other (DESIGN.md). What it does: the upgrade answer (101 with Sec-WebSocket-Accept, no
extensions), masked client frames read in a thread of their own (text and binary, fragmented
messages joined, pings answered, a close answered and reported), unmasked frames written (binary or
text), and a close with a code and reason (then the TCP connection ends, as the server should).
"""

from __future__ import annotations

import base64
import hashlib
import queue
import socket
import struct
import threading

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


def accept_value(key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def is_upgrade(headers: dict) -> bool:
    return "websocket" in headers.get("upgrade", "").lower() and "upgrade" in headers.get("connection", "").lower()


class Closed(Exception):
    """The client closed the socket (or it dropped): `code` (1006 when no close frame came)."""

    def __init__(self, code: int = 1006, reason: str = ""):
        super().__init__(f"closed {code} {reason}")
        self.code, self.reason = code, reason


class TooBig(Exception):
    """A client message over the size limit (answered with close 1009)."""


class WebSocket:
    """One upgraded connection. `inbox` receives ("message", data) items and finally ("closed", Closed)."""

    def __init__(self, rfile, connection: socket.socket, max_size: int):
        self.rfile = rfile
        self.connection = connection
        self.max_size = max_size
        self.inbox: queue.Queue = queue.Queue()
        self._write_lock = threading.Lock()
        self.close_sent = False
        self.close_received = threading.Event()
        self.received_frames = 0
        self._reader = threading.Thread(target=self._read, name="emulator-live-reader", daemon=True)
        self._reader.start()

    # -- reading (the reader thread) -----------------------------------------------------------
    def _read(self) -> None:
        try:
            while True:
                message = self._message()
                if message is not None:
                    self.inbox.put(("message", message))
        except TooBig:
            self.inbox.put(("too_big", None))
        except Closed as closed:
            self.inbox.put(("closed", closed))
        except (OSError, ValueError):
            self.inbox.put(("closed", Closed(1006)))

    def _exactly(self, count: int) -> bytes:
        data = self.rfile.read(count) if count else b""
        if len(data) < count:
            raise Closed(1006)
        return data

    def _frame(self) -> tuple[bool, int, bytes]:
        first, second = self._exactly(2)
        fin, opcode = bool(first & 0x80), first & 0x0F
        masked, length = bool(second & 0x80), second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._exactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._exactly(8))[0]
        if length > self.max_size:
            raise TooBig()
        mask = self._exactly(4) if masked else b""
        payload = self._exactly(length)
        if masked:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if length < 64 else _unmask(payload, mask)
        self.received_frames += 1
        return fin, opcode, payload

    def _message(self):
        """One whole data message (str for text, bytes for binary), or None after a control frame."""
        fin, opcode, payload = self._frame()
        if opcode == PING:
            self._write(PONG, payload)
            return None
        if opcode == PONG:
            return None
        if opcode == CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            reason = payload[2:].decode("utf-8", "replace")
            self.close_received.set()
            if not self.close_sent:
                self.close(code if code not in (1005, 1006) else 1000, "")
            raise Closed(code, reason)
        pieces, total = [payload], len(payload)
        while not fin:
            fin, more_opcode, more = self._frame()
            if more_opcode in (PING, PONG, CLOSE):  # control frames may sit between fragments
                if more_opcode == PING:
                    self._write(PONG, more)
                elif more_opcode == CLOSE:
                    self.close_received.set()
                    raise Closed(1000)
                continue
            total += len(more)
            if total > self.max_size:
                raise TooBig()
            pieces.append(more)
        data = b"".join(pieces)
        return data.decode("utf-8") if opcode == TEXT else data

    # -- writing ---------------------------------------------------------------------------------
    def _write(self, opcode: int, payload: bytes) -> None:
        length = len(payload)
        if length < 126:
            head = struct.pack("!BB", 0x80 | opcode, length)
        elif length < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 126, length)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, length)
        with self._write_lock:
            self.connection.sendall(head + payload)

    def send_binary(self, data: bytes) -> None:
        self._write(BINARY, data)

    def send_text(self, text: str) -> None:
        self._write(TEXT, text.encode("utf-8"))

    def close(self, code: int = 1000, reason: str = "", wait: float = 1.0) -> None:
        """Send a close frame (once), wait briefly for the client's, then end the TCP connection."""
        if not self.close_sent:
            self.close_sent = True
            data = struct.pack("!H", code) + reason.encode("utf-8")[:120]
            try:
                self._write(CLOSE, data)
            except OSError:
                pass
        if threading.current_thread() is not self._reader:
            self.close_received.wait(wait)
            self.drop()

    def drop(self) -> None:
        """End the TCP connection with no close frame (the client sees 1006)."""
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _unmask(payload: bytes, mask: bytes) -> bytes:
    """XOR with the 4-byte mask, fast: as integers over the whole payload."""
    count = len(payload)
    repeated = (mask * (count // 4 + 1))[:count]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(count, "little")
