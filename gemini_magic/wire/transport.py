"""The one place that sends HTTP: a requests session with auth, timeouts, retries and error mapping.

- The key travels only in the `x-goog-api-key` header, and only to the base URL's origin (scheme,
  host, port): a request to another origin with the key is refused before anything is sent, and one
  sent `with_key=False` carries no key. It is never put in a URL (requests writes URLs into
  exception messages, which end up in saved notebooks), never logged, and scrubbed from any text
  that comes back, errors and 200 answers alike: `decode_json` (wire/decode.py) and the stream decoders
  (`stream_decoder`) scrub it from any answer that echoes it (redaction.SecretScan: a few substring
  tests on the raw bytes first). Redirects are not followed: a redirect would carry the header.
- Failures become the errors of `errors.py`, through one map (`map_request_exception`): Google's
  error object when the body has one, its text when not.
- Retries: exponential backoff with full jitter on 408/429/500/502/503/504 and connection failures,
  waiting at least what the service asks for (RetryInfo.retryDelay or Retry-After), bounded in attempts
  and in total time. Nothing else is retried: a per-day quota (minutes of waiting cannot help), a read
  timeout (it already cost the whole timeout), and whatever cannot be transient - an invalid URL,
  header or body, a local file error - which fails at once with its own message.
- One retry loop for everything: `Transport.retrying(call)` for a unary call, `Transport.attempts()`
  for a stream (which is only retried before it has produced anything):

      for attempt in transport.attempts(retry=lambda error: not received):
          with attempt:
              yield from receive()
              return
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, TypeVar, Union

from .._version import __version__
from ..constants import API_KEY_HEADER
from ..errors import (KEY_IN_REQUEST, APIConnectionError, APIError, APITimeoutError, GeminiError, RateLimitError,
                      RequestError,
                      error_from_text, redact, register_secret)
from ..redaction import holds_secret, secret_scan
from .decode import decode_event, decode_json, decode_json_lines

log = logging.getLogger("gemini_magic")

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})

T = TypeVar("T")
#: retry= of `Transport.retrying` / `attempts`: True, False, or a test of the error (False: do not retry).
RetryWhen = Union[bool, Callable[[GeminiError], bool]]


@dataclass
class RetryPolicy:
    """How often and how long to retry. Delays: base * 2**attempt with full jitter, at most `cap`."""

    max_retries: int = 4
    max_total_seconds: float = 120.0
    base_delay: float = 1.0
    cap_delay: float = 30.0
    random: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, attempt: int, error: Exception, waited: float) -> float | None:
        """Seconds to wait before retry number `attempt` (0-based), or None to give up."""
        if attempt >= self.max_retries or not is_retryable(error):
            return None
        wait = self.backoff(attempt, getattr(error, "retry_delay", None))
        if waited + wait > self.max_total_seconds:
            return None
        return wait

    def backoff(self, attempt: int, hinted: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based): full jitter on base * 2**attempt, at
        most `cap_delay`; at least `hinted` (the service's RetryInfo delay) plus a tenth of the jitter, so
        clients told the same delay do not all come back at once. The one delay rule of the package: the
        transport's retries, the row engine and the embedding groups all wait this long."""
        jitter = self.random() * min(self.cap_delay, self.base_delay * 2 ** attempt)
        return max(jitter, hinted + 0.1 * jitter) if hinted is not None else jitter


def is_retryable(error: Exception) -> bool:
    """True for 408/429/5xx answers (not a per-day quota) and connection failures (not a read timeout)."""
    if isinstance(error, RateLimitError) and error.is_daily_quota:
        return False
    if isinstance(error, APIError):
        return error.status_code in RETRYABLE_STATUS
    # Connection failures are retried; a read timeout is not (it already cost the whole timeout).
    return isinstance(error, APIConnectionError) and getattr(error, "retryable", True)


def map_request_exception(exc: BaseException, what: str, *, secret: str | None = None) -> GeminiError:
    """The GeminiError for an exception raised while sending or reading (requests, urllib3, encoding, OS).

    `what` starts the message ("Could not reach http://..."). Connection failures and connect
    timeouts are APIConnectionError / APITimeoutError (retryable, but a host name that does not resolve); a read timeout is an APITimeoutError
    with `retryable = False`; an invalid URL, header value or body, and local file errors, are
    RequestError (never retried). The key is redacted from the message, in any escaped form.
    """
    import requests
    from requests import exceptions as rex

    name = exc.__class__.__name__
    if isinstance(exc, GeminiError):
        return exc
    if isinstance(exc, requests.Timeout) or _wraps_read_timeout(exc):
        error = APITimeoutError(redact(f"{what}: no answer in time ({name}).", secret))
        error.retryable = isinstance(exc, requests.ConnectTimeout)
        return error
    if isinstance(exc, (rex.InvalidURL, rex.MissingSchema, rex.InvalidSchema, rex.URLRequired)):
        return RequestError(redact(f"{what}: the URL is not valid ({name}: {exc}). Check the base URL and "
                                   "the model or file name; nothing was sent.", secret))
    if isinstance(exc, rex.InvalidHeader):
        # requests quotes the header's value in its message: never show it (it may be the key).
        return RequestError(f"{what}: a request header has a value that cannot be sent (a line break, "
                            "control character or surrounding space). Check the API key and any custom "
                            "header; nothing was sent.")
    encoding = isinstance(exc, (UnicodeError, TypeError, ValueError)) and not isinstance(exc, requests.RequestException)
    if encoding or isinstance(exc, rex.InvalidJSONError):
        return RequestError(redact(f"The request body cannot be encoded ({name}: {exc}). Check the values "
                                   "in the prompt and settings (JSON takes no NaN or infinity); nothing was sent.",
                                   secret))
    if isinstance(exc, (requests.RequestException, ConnectionError)):  # ConnectionError: the builtin (resets)
        if _name_not_resolved(exc):
            # No DNS answer: no network, or a mistyped host. Retrying for seconds does not help either.
            error = APIConnectionError(redact(f"{what}: its host name could not be resolved (no network, or a "
                                              "mistyped base URL). Check the connection and the base URL; "
                                              "nothing was sent.", secret))
            error.retryable = False
            return error
        return APIConnectionError(redact(f"{what}: {name}: {exc}", secret))
    if isinstance(exc, TimeoutError):
        return APITimeoutError(redact(f"{what}: no answer in time ({name}).", secret))
    if isinstance(exc, OSError):
        return RequestError(redact(f"{what}: a local file could not be read ({name}: {exc}).", secret))
    return RequestError(redact(f"{what}: {name}: {exc}", secret))


def _name_not_resolved(exc: BaseException) -> bool:
    """Whether a connection error comes from a failed DNS lookup (socket.gaierror, which urllib3 wraps in
    NameResolutionError, inside MaxRetryError, inside requests' ConnectionError)."""
    import socket

    seen, stack = set(), [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, socket.gaierror) or type(item).__name__ == "NameResolutionError":
            return True
        stack.extend((*item.args, getattr(item, "reason", None), item.__cause__, item.__context__))
    return False


def _wraps_read_timeout(exc: BaseException) -> bool:
    """requests reports a read timeout inside a stream as a ConnectionError wrapping urllib3's."""
    try:
        from urllib3.exceptions import ReadTimeoutError
    except ImportError:  # pragma: no cover - urllib3 comes with requests
        return False
    return any(isinstance(arg, ReadTimeoutError) for arg in getattr(exc, "args", ()))


class Attempt:
    """One try of `Transport.attempts`: a context manager that decides what a failure inside it means.

    A GeminiError (or any exception, mapped by `map_request_exception`) is redacted; when the policy
    and `retry` allow, it is swallowed after the backoff wait so the loop tries again, else re-raised.
    KeyboardInterrupt and GeneratorExit pass through untouched.
    """

    def __init__(self, retrying: "_Retrying") -> None:
        self._retrying = retrying

    def __enter__(self) -> "Attempt":
        return self

    def __exit__(self, kind, exc, traceback) -> bool:
        if exc is None:
            self._retrying.done = True
            return False
        if not isinstance(exc, Exception):
            return False  # KeyboardInterrupt, GeneratorExit, SystemExit
        transport = self._retrying.transport
        error = exc if isinstance(exc, GeminiError) else map_request_exception(
            exc, f"Could not reach {transport.base_url}", secret=transport._api_key)
        transport.scrub(error)
        wait = self._retrying.wait_for(error)
        if wait is None:
            if error is exc:
                return False
            raise error from None
        log.info("Retrying in %.1f s after: %s", wait, error)
        transport.sleep(wait)
        return True


class _Retrying:
    def __init__(self, transport: "Transport", retry: RetryWhen) -> None:
        self.transport, self.retry = transport, retry
        self.attempt, self.waited, self.done = 0, 0.0, False

    def __iter__(self) -> Iterator[Attempt]:
        while not self.done:
            yield Attempt(self)

    def wait_for(self, error: GeminiError) -> float | None:
        allowed = self.retry(error) if callable(self.retry) else self.retry
        wait = self.transport.retry.delay(self.attempt, error, self.waited) if allowed else None
        if wait is not None:
            self.attempt += 1
            self.waited += wait
        return wait


def _origin_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else "another address"


class Transport:
    """Sends requests to one API base with one key. Used by `Client`; rarely needed directly."""

    def __init__(self, api_key: str, base_url: str, api_version: str, timeout: tuple[float, float],
                 retry: RetryPolicy, sleep: Callable[[float], None] = time.sleep) -> None:
        self._api_key = api_key
        register_secret(api_key)
        self._secret_scan = secret_scan(api_key)
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version.strip("/")
        self.timeout = timeout
        self.retry = retry
        self.sleep = sleep
        self._session = None

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, api_version={self.api_version!r}, api_key=<hidden>)"

    def open_live(self, timeout: float = 10.0):
        """A Live WebSocket (wire/live.py) to this base URL's BidiGenerateContent, the key in its header."""
        from .live import LiveConnection

        return LiveConnection.open(self.base_url, self.api_version, self._api_key, timeout=timeout)

    @property
    def session(self):
        if self._session is None:
            import requests

            self._session = requests.Session()
            self._session.headers["User-Agent"] = f"gemini_magic/{__version__}"
            self._session.headers["x-goog-api-client"] = f"gemini_magic/{__version__}"
        return self._session

    def url(self, path: str) -> str:
        """`models/x:generateContent` → base/v1beta/models/x:generateContent; `/upload/...` → base/upload/...;
        a full http(s) URL (an upload session URL) is used as is."""
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/"):
            return self.base_url + path
        return f"{self.base_url}/{self.api_version}/{path}"

    # --- retries ----------------------------------------------------------------------------------

    def attempts(self, *, retry: RetryWhen = True) -> Iterator[Attempt]:
        """Attempts of one operation under the retry policy: `for attempt in ...: with attempt: ...`.

        A failure inside `with attempt:` is retried (after the backoff wait) when it can be transient,
        the policy has attempts and time left, and `retry` allows it (a bool, or a function of the
        error, e.g. `lambda error: nothing_received_yet`); otherwise it is raised, as a GeminiError
        with the key redacted. The loop ends after the first attempt that raises nothing.
        """
        return iter(_Retrying(self, retry))

    def retrying(self, call: Callable[[], T], *, retry: RetryWhen = True) -> T:
        """`call()`, retried as `attempts` allows; returns its result or raises a GeminiError."""
        for attempt in self.attempts(retry=retry):
            with attempt:
                return call()
        raise AssertionError("unreachable: attempts end by returning or raising")  # pragma: no cover

    # --- sending ----------------------------------------------------------------------------------

    def send(self, method: str, path: str, *, json: Any = None, params: dict | None = None, data: Any = None,
             headers: dict | None = None, stream: bool = False, retry: RetryWhen = True, with_key: bool = True,
             redirects: bool = False):
        """Send one request, retrying as the policy allows; return a requests.Response with status < 400.

        `path` is a path under the base URL or a full URL. The key goes only to the base URL's origin:
        a full URL elsewhere raises RequestError unless `with_key=False` (then no key is sent).
        A redirect is never followed here; with `redirects=True` it is returned (unread) for the caller
        to follow with its own decision about the key (wire/download.py), else it raises APIError.

        Raises APIError (an answer >= 400), APIConnectionError / APITimeoutError, RequestError (a
        request that cannot be sent, or a JSON body that holds the API key: nothing was sent, nothing
        retried).
        """
        return self.retrying(lambda: self._send_once(method, path, json=json, params=params, data=data,
                                                     headers=headers, stream=stream, with_key=with_key,
                                                     redirects=redirects),
                             retry=retry)

    def refuse_key_in(self, payload: Any) -> None:
        """Raise RequestError (nothing sent) when `payload` (a JSON body: dicts, lists, text) holds this
        transport's API key: the key travels in the x-goog-api-key header only, never in a prompt, a
        setting or a tool's result. Every JSON body `send` sends is tested; `Client.prepare` tests a turn
        before it is shown or sent."""
        if holds_secret(payload, self._api_key):
            raise RequestError(KEY_IN_REQUEST)

    def _send_once(self, method, path, *, json, params, data, headers, stream, with_key=True, redirects=False):
        from .endpoint import same_origin

        if json is not None:
            self.refuse_key_in(json)
        url = self.url(path)
        all_headers = {}
        if with_key:
            if not same_origin(url, self.base_url):
                raise RequestError(f"Refused to send the API key to {_origin_of(url)}: it goes only to "
                                   f"{self.base_url}, the base URL. Nothing was sent.")
            all_headers[API_KEY_HEADER] = self._api_key
        if headers:
            all_headers.update(headers)
        log.debug("%s %s", method, url)
        try:
            response = self.session.request(method, url, json=json, params=params, data=data,
                                            headers=all_headers, stream=stream, timeout=self.timeout,
                                            allow_redirects=False)
        except Exception as exc:  # requests, urllib3, encoding and OS errors: one map
            raise self.map_exception(exc, f"Could not reach {self.base_url}") from None
        if response.status_code >= 400:
            try:
                text = response.content.decode("utf-8", "replace")
            except Exception:  # the error body itself was cut: the status still tells what happened
                text = ""
            finally:
                response.close()
            raise error_from_text(text, response.status_code, response.headers.get("Retry-After"),
                                  secret=self._api_key)
        if redirects and 300 <= response.status_code < 400:
            return response
        if response.is_redirect:
            response.close()
            raise APIError(f"{self.base_url} answered with a redirect ({response.status_code}); it was not "
                           "followed, so the API key is not sent to another host. Check the base URL.",
                           status_code=response.status_code)
        return response

    def map_exception(self, exc: BaseException, what: str) -> GeminiError:
        """`map_request_exception` with this transport's key redacted."""
        return map_request_exception(exc, what, secret=self._api_key)

    def decode_event(self, data: bytes) -> list:
        """`decode_event` with this transport's key redacted from any error."""
        return decode_event(data, secret=self._api_key)

    def stream_decoder(self, content_type: str = "text/event-stream"):
        """A decoder (wire/sse.py) for a streamed body: `JSONArrayDecoder` when `content_type` says
        JSON, else `SSEDecoder`; every event it hands out has this transport's key scrubbed from it."""
        from .sse import JSONArrayDecoder, SSEDecoder

        kind = JSONArrayDecoder if "json" in content_type else SSEDecoder
        return kind(self._secret_scan)

    def json_lines(self, response) -> list:
        """The body of a requests.Response as JSON Lines (see `decode_json_lines`), key redacted."""
        return decode_json_lines(response.content, self._api_key)

    def json(self, response) -> Any:
        """The body of a requests.Response as JSON (see `decode_json`), key redacted from any error."""
        return decode_json(response.content, self._api_key)

    def redact(self, text: str) -> str:
        return redact(text, self._api_key)

    def scrub(self, error: BaseException) -> BaseException:
        """Redact the key from an error's arguments and text attributes, in place; returns it."""
        key = self._api_key
        error.args = tuple(redact(a, key) if isinstance(a, (str, dict, list)) else a for a in error.args)
        for name in ("message", "body", "details", "status"):
            value = getattr(error, name, None)
            if isinstance(value, (str, dict, list)):
                setattr(error, name, redact(value, key))
        return error

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
