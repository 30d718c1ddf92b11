"""The voice widget's direct channel: microphone frames from the page to the kernel over a WebSocket on
loopback, one frame a message, past ipykernel's comm machinery (widget.py says why: about 3.6 ms of the
kernel's CPU per comm message).

    channel = DirectChannel(on_frame=link.direct_frame, on_close=link.direct_closed, on_control=link.direct_control)
    channel.offer()        # {"type": "direct", "port": ..., "token": ...}: a custom comm message to the page
    channel.close()        # the server, its connection and its threads gone

The server (websockets' sync server) listens on 127.0.0.1 only, on an ephemeral port, in a daemon thread
named "gemini-voice-direct"; each connection's threads are renamed "gemini-voice-direct-client" (the
handler: frames forwarded there) and "gemini-voice-direct-reader" (websockets' reading of the socket).
The protocol, page -> kernel:

- the first message is the token (text), within AUTH_TIMEOUT seconds of connecting. The server compares
  it with `hmac.compare_digest` and answers "ok", or closes with 1008 (policy violation): a wrong token,
  no token in time, or a second page while one is authenticated (one client at a time).
- then each binary message is one microphone frame: 8 bytes of little-endian float64, the page's time
  of the frame in ms since the epoch (performance.timeOrigin + performance.now()), then its 16 kHz
  16-bit mono PCM (20-40 ms: 640-1,280 bytes). Anything larger than MAX_MESSAGE closes the connection
  (1009).
- a text message after the token is a control word, kept in order with the frames: "activity_start",
  "activity_end" (push-to-talk) or "audio_end" (the microphone stopped); `on_control(word)` gets it, and
  any other text is ignored.

The token (`secrets.token_urlsafe(32)`, fresh per channel) goes to the page only in the offer, never in
a widget trait (traits are saved with the notebook), a repr, or a log: the websockets logger here is
pinned at INFO, so its debug lines, which show message contents, are never made.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from typing import Callable

log = logging.getLogger("gemini_magic.voice")
# websockets' own lines (connections, handshakes), never its DEBUG ones: they show the messages, the token too.
QUIET = logging.getLogger("gemini_magic.voice.direct")
QUIET.setLevel(logging.INFO)

HOST = "127.0.0.1"
AUTH_TIMEOUT = 2.0          # seconds from connecting to the token, else closed
MAX_MESSAGE = 64 * 1024     # bytes per message (a frame is <= 8 + 1,280)
POLICY_VIOLATION = 1008
CONTROL_WORDS = ("activity_start", "activity_end", "audio_end")   # text the page may send after the token


class DirectChannel:
    """One loopback WebSocket server for one voice widget (see the module docstring). `on_frame(payload)`
    is called in the connection's thread for each binary message of the authenticated page (bytes:
    the 8-byte time and the PCM), `on_control(word)` for each of CONTROL_WORDS it sends as text;
    `on_close()` when that page's connection ends. `port`: the port it
    listens on. Raises OSError when no port can be bound."""

    def __init__(self, on_frame: Callable[[bytes], None], on_close: Callable[[], None],
                 on_control: Callable[[str], None] | None = None) -> None:
        from websockets.sync.server import serve

        self._token = secrets.token_urlsafe(32)
        self._on_frame, self._on_close, self._on_control = on_frame, on_close, on_control
        self._lock = threading.Lock()
        self._client = None
        self.closed = False
        self._server = serve(self._handle, HOST, 0, max_size=MAX_MESSAGE, compression=None,
                             open_timeout=AUTH_TIMEOUT, close_timeout=1, ping_interval=None, logger=QUIET)
        self.port: int = self._server.socket.getsockname()[1]
        # The handlers' threads are made by this one, so they are daemon threads too (a kernel can exit).
        self._thread = threading.Thread(target=self._server.serve_forever, name="gemini-voice-direct", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<voice direct channel on {HOST}:{self.port}: {state}>"

    def offer(self) -> dict:
        """The custom comm message that tells the page where to connect and with what token."""
        return {"type": "direct", "port": self.port, "token": self._token}

    def _handle(self, connection) -> None:
        from websockets.exceptions import ConnectionClosed

        threading.current_thread().name = "gemini-voice-direct-client"
        reader = getattr(connection, "recv_events_thread", None)   # websockets' reading thread, so it is found
        if reader is not None:
            reader.name = "gemini-voice-direct-reader"
        try:
            token = connection.recv(timeout=AUTH_TIMEOUT)
        except (TimeoutError, ConnectionClosed):
            connection.close(POLICY_VIOLATION, "no token")
            return
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(), self._token.encode()):
            connection.close(POLICY_VIOLATION, "wrong token")
            return
        with self._lock:
            busy = self._client is not None or self.closed
            if not busy:
                self._client = connection
        if busy:
            connection.close(POLICY_VIOLATION, "another page has the channel")
            return
        try:
            connection.send("ok")
            for message in connection:
                if isinstance(message, bytes):
                    self._on_frame(message)
                elif message in CONTROL_WORDS and self._on_control is not None:
                    self._on_control(message)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._client = None
            self._on_close()

    def close(self) -> None:
        """Stop listening, close the page's connection (1001) and join the threads; from one of the
        connection threads (a frame whose forwarding ended the session), in a thread of its own.
        Closing twice does nothing."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
        if threading.current_thread() in self._server.handler_threads:
            threading.Thread(target=self._shut, name="gemini-voice-direct-close", daemon=True).start()
        else:
            self._shut()

    def _shut(self) -> None:
        try:
            self._server.shutdown()
        except Exception:  # the server's own failure must not stop the session's end
            log.debug("the voice direct channel did not shut down cleanly", exc_info=True)
        self._thread.join(2)


__all__ = ["AUTH_TIMEOUT", "CONTROL_WORDS", "DirectChannel", "MAX_MESSAGE"]
