"""The Live API's wire: one WebSocket per connection of a session (BidiGenerateContent).

    connection = LiveConnection.open(base_url, "v1beta", key)
    connection.send({"setup": {"model": "models/gemini-live-2.5-flash-preview", ...}})
    message = connection.receive()          # {"setupComplete": {}}: a dict, every top-level key kept

- The URL is the base URL with `https` → `wss`, `http` → `ws` and the path
  `/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent` after the base's
  own path (a gateway's prefix stays).
- The key goes only in the `x-goog-api-key` header of the upgrade request: never in the URL, and
  never in an error, repr or log line (websockets' debug log of the handshake is redacted).
- One JSON object per text frame out; in, text or binary frames (the service sends binary frames of
  UTF-8 JSON, sometimes pretty-printed, sometimes with several keys: `decode_message` reads both).
- A close becomes one `LiveError` with the close code and the server's reason (`close_error`);
  a refused upgrade (an HTTP status) is the APIError of its body; a connection that cannot be made
  is an APIConnectionError (APITimeoutError when it took too long).

`websockets` is imported when a connection opens, not before (`%load_ext` stays cheap).
"""

from __future__ import annotations

import inspect
import json
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .._version import __version__
from ..constants import API_KEY_HEADER, LIVE_MAX_MESSAGE_BYTES, LIVE_PATH
from ..errors import (KEY_IN_REQUEST, APIConnectionError, APITimeoutError, GeminiError, LiveError, RequestError,
                      StreamProtocolError, api_error, error_from_text, redact)
from ..redaction import secret_scan

log = logging.getLogger("gemini_magic.live")

#: What a close code means, for messages (RFC 6455 and the Live API's use of them).
CLOSE_MEANINGS = {1000: "closed normally", 1001: "going away", 1006: "dropped without a close frame",
                  1007: "invalid argument", 1008: "policy violation", 1009: "message too big",
                  1011: "internal error or unavailable"}
#: What to do about each, when the reason itself does not say.
CLOSE_HINTS = {
    1007: "A setting or message of the session was refused; check the model's modalities, the voice and "
          "the tools, then open a new session.",
    1008: "Use a Live model (one whose supportedGenerationMethods list bidiGenerateContent; "
          "%gemini models lists them), and check the key may use it.",
    1009: "Send smaller messages: audio in chunks of a second or so, video frames of about 768 px.",
    1011: "The service failed or was unavailable; open the session again (resume=True continues it).",
}
#: The service's reason for TEXT answers asked of a model that only speaks.
AUDIO_ONLY_REASON = "Cannot extract voices from a non-audio request"
_MAX_RECEIVED = 64 * 1024 * 1024  # bytes in one server message (audio chunks are far smaller)
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode  # one encoder for every message sent


def live_url(base_url: str, api_version: str) -> str:
    """The WebSocket URL of BidiGenerateContent for a REST base URL (no key in it, ever).

        >>> live_url("https://generativelanguage.googleapis.com", "v1beta")
        'wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent'
        >>> live_url("http://127.0.0.1:8080/proxy", "v1alpha")[:42]
        'ws://127.0.0.1:8080/proxy/ws/google.ai.gen'
    """
    parts = urlsplit(base_url)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme.lower())
    if scheme is None:
        raise RequestError(f"The base URL {base_url!r} is not http(s), so it has no Live (WebSocket) endpoint.")
    path = parts.path.rstrip("/") + LIVE_PATH.format(version=api_version.strip("/"))
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def decode_message(data: Any, secret: str | None = None) -> dict:
    """One received frame (text, or binary UTF-8) as a dict of its top-level keys.

    Pretty-printed JSON and several keys in one frame are fine; `secret` is scrubbed from every
    string of a message that echoes it (redaction.SecretScan). Raises the APIError inside when the
    frame is Google's error object, and StreamProtocolError (the start of the frame, key redacted)
    when it is not a JSON object."""
    scan = secret_scan(secret)
    try:
        value = json.loads(data)
        if type(value) is dict and "error" not in value:
            # The usual message: two substring tests for the key (a server echoing it), nothing more.
            # The quick test (the key, its long prefix and suffix as written, JSON escapes): an audio
            # message is kilobytes of base64, where each of the full test's eight forms costs a scan.
            return scan.scrub(value) if scan is not None and scan.found(data, True) else value
    except (ValueError, UnicodeDecodeError):
        text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else str(data)
        raise StreamProtocolError(f"The Live server sent a frame that is not JSON: "
                                  f"{redact(text[:200], secret)!r}") from None
    error = api_error(value, secret=secret)
    if error is not None:
        raise error
    if not isinstance(value, dict):
        raise StreamProtocolError(f"The Live server sent JSON that is not an object: "
                                  f"{redact(json.dumps(value)[:200], secret)}")
    return value


def close_error(code: int | None, reason: str, secret: str | None = None) -> LiveError:
    """The LiveError for a close: `code` (None: no close frame, 1006) and the server's reason."""
    code = 1006 if code is None else int(code)
    reason = redact(reason or "", secret)
    meaning = CLOSE_MEANINGS.get(code, "closed")
    if AUDIO_ONLY_REASON.lower() in reason.lower():
        hint = ("This model answers only in speech: open the session with response='audio' (the default; "
                "turn.text is the transcript of what it says), or choose a Live model that writes text.")
    else:
        hint = CLOSE_HINTS.get(code, "Open the session again.")
    said = f": {reason.rstrip('. ')}" if reason else ""
    return LiveError(f"The Live session was closed by the server ({code} {meaning}){said}. {hint}",
                     code=code, reason=reason)


class _RedactingLogger(logging.LoggerAdapter):
    """websockets' logger, with the key scrubbed from every line (its debug log shows the handshake)."""

    def __init__(self, logger: logging.Logger, secret: str) -> None:
        super().__init__(logger, {})
        self.secret = secret

    def log(self, level, msg, *args, **kwargs):
        if self.isEnabledFor(level):
            text = str(msg) % args if args else str(msg)
            kept = {k: v for k, v in kwargs.items() if k in ("exc_info", "stack_info", "stacklevel")}
            self.logger.log(level, redact(text, self.secret).replace(self.secret, "[REDACTED]"), **kept)


class LiveConnection:
    """One open WebSocket to BidiGenerateContent. `send` and `receive` may run in different threads
    (the session's reader receives while the caller sends); `close` ends it at once."""

    def __init__(self, socket: Any, url: str, secret: str | None) -> None:
        from websockets.exceptions import ConnectionClosed

        self._closed_error = ConnectionClosed  # looked up once: send is on the audio path
        self._socket = socket
        self.url = url  # no key in it
        self._secret = secret
        self.sent_messages = 0
        self.received_messages = 0

    def __repr__(self) -> str:
        return f"LiveConnection({self.url!r}, api_key=<hidden>)"

    @classmethod
    def open(cls, base_url: str, api_version: str, api_key: str, *, timeout: float = 10.0) -> "LiveConnection":
        """Connect (the upgrade request carries the key in its header). Raises APIError for a refused
        upgrade (Google's error body when there is one), APITimeoutError, APIConnectionError."""
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
        from websockets.sync.client import connect

        url = live_url(base_url, api_version)
        # websockets 17 warns unless a connection made without `with` says so (legacy=True: the same
        # plain connection as before, which the session's reader thread owns).
        direct = {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}
        logger = _RedactingLogger(logging.getLogger("gemini_magic.live.websockets"), api_key)
        try:
            socket = connect(url, additional_headers={API_KEY_HEADER: api_key},
                             user_agent_header=f"gemini-magic/{__version__}", open_timeout=timeout,
                             compression=None,  # base64 audio does not compress; deflate only costs CPU
                             max_size=_MAX_RECEIVED, logger=logger, close_timeout=2, **direct)
        except InvalidStatus as error:
            response = error.response
            body = response.body.decode("utf-8", "replace") if response.body else ""
            raise error_from_text(body or f"The Live endpoint refused the connection (HTTP {response.status_code}).",
                                  response.status_code, response.headers.get("Retry-After"),
                                  secret=api_key) from None
        except InvalidURI as error:
            raise RequestError(f"The Live URL cannot be used: {redact(str(error), api_key)}") from None
        except TimeoutError:
            raise APITimeoutError(f"No Live connection to {redact(base_url, api_key)} within {timeout:g} s.") from None
        except (InvalidHandshake, ConnectionClosed) as error:  # closed during the handshake: a server going away
            raise APIConnectionError(f"The Live handshake with {redact(base_url, api_key)} failed: "
                                     f"{redact(str(error), api_key)}") from None
        except OSError as error:
            raise APIConnectionError(f"Could not reach {redact(base_url, api_key)} for a Live session: "
                                     f"{redact(str(error), api_key)}") from None
        return cls(socket, url, api_key)

    def send(self, message: dict) -> int:
        """Send one message as one JSON text frame; returns its size in bytes. Raises RequestError
        (nothing sent) for a message over the size limit or one that holds the API key, LiveError when
        the socket is closed."""
        text = _ENCODE(message)
        if self._secret and len(self._secret) >= 8 and self._secret in text:
            raise RequestError(KEY_IN_REQUEST)  # the key goes in the handshake's header only
        size = len(text)  # ASCII (non-ASCII is escaped), so this is the frame's size in bytes
        if size > LIVE_MAX_MESSAGE_BYTES:
            raise RequestError(f"A Live message of {size / 1e6:.1f} MB is over the limit of "
                               f"{LIVE_MAX_MESSAGE_BYTES / 1e6:.0f} MB; nothing was sent. Send audio in chunks "
                               "(send_audio splits long audio) and video frames of about 768 px.")
        try:
            self._socket.send(text)
        except self._closed_error as error:
            raise self._closed(error) from None
        self.sent_messages += 1
        return size

    def receive(self, timeout: float | None = None) -> dict | None:
        """The next message as a dict, or None when the socket closed normally (1000, or closed here).

        Raises LiveError for any other close, TimeoutError after `timeout` seconds without a message,
        StreamProtocolError / APIError for a frame that is not a message."""
        from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

        try:
            data = self._socket.recv(timeout)
        except ConnectionClosedOK as error:
            if error.rcvd is not None and error.rcvd.code not in (1000,):
                raise self._closed(error) from None
            return None
        except ConnectionClosed as error:
            raise self._closed(error) from None
        self.received_messages += 1
        return decode_message(data, self._secret)

    def _closed(self, error) -> LiveError:
        frame = error.rcvd
        if frame is None:
            return close_error(None, "", self._secret)
        return close_error(frame.code, frame.reason, self._secret)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the socket now (a short close handshake, then the TCP connection)."""
        try:
            self._socket.close(code, reason)
        except (OSError, RuntimeError, GeminiError):  # already gone: nothing to close
            pass

    @property
    def closed(self) -> bool:
        from websockets.protocol import State

        return self._socket.protocol.state is State.CLOSED


__all__ = ["LiveConnection", "close_error", "decode_message", "live_url"]
