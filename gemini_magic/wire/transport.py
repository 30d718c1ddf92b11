"""The one place that sends HTTP: a requests session with auth, timeouts, retries and error mapping.

- The key travels only in the `x-goog-api-key` header. It is never put in a URL (requests writes URLs
  into exception messages, which end up in saved notebooks), never logged, and scrubbed from any
  text that comes back. Redirects are not followed: a redirect to another host would carry the header.
- Failures become the errors of `errors.py`: Google's error JSON when the body has it, its text when not.
- Retries: exponential backoff with full jitter on 408/429/500/502/503/504 and connection failures,
  waiting at least what the service asks for (RetryInfo.retryDelay or Retry-After), bounded in attempts
  and in total time. A per-day quota is not retried: minutes of waiting cannot help. A stream is only
  retried before it has produced anything: `open` returns once the status line says 200.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .._version import __version__
from ..constants import API_KEY_HEADER
from ..errors import (APIConnectionError, APIError, APITimeoutError, GeminiError, RateLimitError,
                     error_from_text, redact)

log = logging.getLogger("gemini_magic")

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


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
        backoff = self.random() * min(self.cap_delay, self.base_delay * 2 ** attempt)
        hinted = getattr(error, "retry_delay", None)
        wait = max(backoff, hinted + 0.1 * backoff) if hinted is not None else backoff
        if waited + wait > self.max_total_seconds:
            return None
        return wait


def decode_json(content: bytes) -> Any:
    """A response body as JSON ({} when empty); anything else is a clear GeminiError."""
    if not content.strip():
        return {}
    try:
        return json.loads(content)
    except ValueError:
        raise GeminiError(f"The service answered with something that is not JSON: {content[:200]!r}") from None


def is_retryable(error: Exception) -> bool:
    if isinstance(error, RateLimitError) and error.is_daily_quota:
        return False
    if isinstance(error, APIError):
        return error.status_code in RETRYABLE_STATUS
    # Connection failures are retried; a read timeout is not (it already cost the whole timeout).
    return isinstance(error, APIConnectionError) and getattr(error, "retryable", True)


class Transport:
    """Sends requests to one API base with one key. Used by `Client`; rarely needed directly."""

    def __init__(self, api_key: str, base_url: str, api_version: str, timeout: tuple[float, float],
                 retry: RetryPolicy, sleep: Callable[[float], None] = time.sleep) -> None:
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version.strip("/")
        self.timeout = timeout
        self.retry = retry
        self.sleep = sleep
        self._session = None

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

    def send(self, method: str, path: str, *, json: Any = None, params: dict | None = None, data: Any = None,
             headers: dict | None = None, stream: bool = False, retry: bool = True):
        """Send one request, retrying as the policy allows; return a requests.Response with status < 400."""
        attempt, waited = 0, 0.0
        while True:
            try:
                return self._send_once(method, path, json=json, params=params, data=data,
                                       headers=headers, stream=stream)
            except (APIError, APIConnectionError) as error:
                wait = self.retry.delay(attempt, error, waited) if retry else None
                if wait is None:
                    raise
                log.info("Retrying %s %s in %.1f s after: %s", method, path, wait, error)
                self.sleep(wait)
                waited += wait
                attempt += 1

    def _send_once(self, method, path, *, json, params, data, headers, stream):
        import requests

        all_headers = {API_KEY_HEADER: self._api_key}
        if headers:
            all_headers.update(headers)
        url = self.url(path)
        log.debug("%s %s", method, url)
        try:
            response = self.session.request(method, url, json=json, params=params, data=data,
                                            headers=all_headers, stream=stream, timeout=self.timeout,
                                            allow_redirects=False)
        except requests.Timeout as exc:
            error = APITimeoutError(self._describe(exc, f"No answer from {self.base_url} in time"))
            error.retryable = isinstance(exc, requests.ConnectTimeout)
            raise error from None
        except requests.RequestException as exc:
            raise APIConnectionError(self._describe(exc, f"Could not reach {self.base_url}")) from None
        if response.status_code >= 400:
            try:
                text = response.content.decode("utf-8", "replace")
            except requests.RequestException:
                text = ""
            finally:
                response.close()
            raise error_from_text(redact(text, self._api_key), response.status_code,
                                  response.headers.get("Retry-After"))
        if response.is_redirect:
            response.close()
            raise APIError(f"{self.base_url} answered with a redirect ({response.status_code}); it was not "
                           "followed, so the API key is not sent to another host. Check the base URL.",
                           status_code=response.status_code)
        return response

    def _describe(self, exc: Exception, what: str) -> str:
        return redact(f"{what}: {exc.__class__.__name__}: {exc}", self._api_key)

    def redact(self, text: str) -> str:
        return redact(text, self._api_key)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
