"""Every error gemini_magic raises, in one hierarchy.

    GeminiError
    ├── MissingAPIKeyError          no key in the argument or the environment
    ├── APIError                    the service answered with Google's error JSON (or a non-JSON error body)
    │   ├── BadRequestError         400 INVALID_ARGUMENT, FAILED_PRECONDITION, ...
    │   ├── AuthenticationError     401, or 400 with reason API_KEY_INVALID
    │   ├── PermissionDeniedError   403
    │   ├── NotFoundError           404
    │   ├── RateLimitError          429 RESOURCE_EXHAUSTED (quota, retry delay)
    │   └── ServerError             5xx
    ├── APIConnectionError          the connection failed or dropped
    │   └── APITimeoutError         connect or read timeout
    ├── StreamProtocolError         the stream could not be decoded
    ├── ConversionError             a kernel object could not become a request part
    ├── SettingsError               a setting (temperature, model, ...) the API cannot take; also a ValueError
    ├── PromptBlockedError          the prompt was blocked by safety filters
    └── UploadError                 a Files API upload did not complete

An error raised while streaming carries what had arrived so far in `.response`, so a failure never
loses a partial answer. Messages never contain the API key: it travels only in a request header, and
`redact` scrubs it from any text that came back from the network.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .constants import API_KEY_ENV_VARS

_TYPE_PREFIX = "type.googleapis.com/google.rpc."


class GeminiError(Exception):
    """Base class of every gemini_magic error."""

    #: The partial `Response` when the error happened during a streamed answer, else None.
    response: Any = None


class SettingsError(GeminiError, ValueError):
    """A generation setting, model name or client setting that cannot be sent (checked before sending)."""


class MissingAPIKeyError(GeminiError):
    """No API key was passed and none is set in the environment."""

    def __init__(self) -> None:
        first, second = API_KEY_ENV_VARS
        super().__init__(
            f"No Gemini API key found. Set {first} (or {second}) in the environment before starting "
            "Jupyter, or in a notebook without pasting the key into a cell:\n"
            "    import getpass, os\n"
            f"    os.environ['{first}'] = getpass.getpass('Gemini API key: ')\n"
            "Get a key at https://aistudio.google.com/apikey. To try things without a key, run the "
            "local emulator: python -m gemini_magic.emulator"
        )


class APIError(GeminiError):
    """The service answered with an error.

    Attributes: `status_code` (HTTP), `status` (Google's status string such as "INVALID_ARGUMENT"),
    `message` (the service's text), `details` (the list of google.rpc detail objects), `retry_delay`
    (seconds from RetryInfo or Retry-After, or None), `body` (the raw body text when it was not JSON).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        status: str | None = None,
        details: list | None = None,
        retry_delay: float | None = None,
        body: str | None = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        self.status = status
        self.details = details or []
        self.retry_delay = retry_delay
        self.body = body
        super().__init__(self._summary())

    def _summary(self) -> str:
        head = " ".join(str(p) for p in (self.status_code, self.status) if p)
        return f"{head}: {self.message}" if head else self.message

    def detail(self, kind: str) -> dict | None:
        """The first detail of a google.rpc type, e.g. `detail("RetryInfo")`."""
        for item in self.details:
            if isinstance(item, dict) and item.get("@type", "").endswith("." + kind):
                return item
        return None

    @property
    def reason(self) -> str | None:
        """ErrorInfo.reason, e.g. "API_KEY_INVALID" or "SERVICE_DISABLED"."""
        info = self.detail("ErrorInfo")
        return info.get("reason") if info else None

    @property
    def help_links(self) -> list[dict]:
        info = self.detail("Help")
        return list(info.get("links", [])) if info else []

    @property
    def field_violations(self) -> list[dict]:
        info = self.detail("BadRequest")
        return list(info.get("fieldViolations", [])) if info else []


class BadRequestError(APIError):
    """400: the request was malformed or not allowed (INVALID_ARGUMENT, FAILED_PRECONDITION)."""


class AuthenticationError(APIError):
    """401, or 400 API_KEY_INVALID: the key is wrong."""


class PermissionDeniedError(APIError):
    """403: the key may not use this method, model or file (or the API is disabled)."""


class NotFoundError(APIError):
    """404: no such model, file or method."""


class RateLimitError(APIError):
    """429 RESOURCE_EXHAUSTED: too many requests or tokens for the quota."""

    @property
    def quota_violations(self) -> list[dict]:
        info = self.detail("QuotaFailure")
        return list(info.get("violations", [])) if info else []

    @property
    def is_daily_quota(self) -> bool:
        """True when a per-day quota ran out: retrying within minutes cannot help."""
        return any("PerDay" in str(v.get("quotaId", "")) for v in self.quota_violations)


class ServerError(APIError):
    """5xx: the service failed; usually worth retrying."""


class APIConnectionError(GeminiError):
    """The connection could not be made, or dropped before the answer was complete."""


class APITimeoutError(APIConnectionError):
    """No connection or no data within the timeout."""


class StreamProtocolError(GeminiError):
    """The stream contained something that is neither an event nor an error."""


class ConversionError(GeminiError, TypeError):
    """A kernel object cannot be turned into a request part."""


class PromptBlockedError(GeminiError):
    """The service refused the prompt (promptFeedback.blockReason)."""


class UploadError(GeminiError):
    """An upload through the Files API failed or the file never became ACTIVE."""


def redact(text: str, secret: str | None) -> str:
    """Remove a secret from text that came back from the network."""
    if secret and text:
        return text.replace(secret, "[REDACTED]")
    return text


def parse_retry_delay(value: Any) -> float | None:
    """Seconds from RetryInfo's "47s" / "1.5s" or a Retry-After header's "12"."""
    if value is None:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)s?\s*", str(value))
    return float(match.group(1)) if match else None


_BY_STATUS_CODE = {401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError, 429: RateLimitError}


def error_from_payload(payload: Any, status_code: int | None = None, *, body: str | None = None,
                       retry_after: str | None = None) -> APIError:
    """Build the right APIError from Google's `{"error": {...}}` (HTTP body or mid-stream)."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        text = (body or "").strip() or "the service returned an error with no body"
        return _class_for(status_code, None, [])(text[:2000], status_code=status_code,
                                                  retry_delay=parse_retry_delay(retry_after), body=body)
    code = error.get("code") if isinstance(error.get("code"), int) else status_code
    details = error.get("details") if isinstance(error.get("details"), list) else []
    delay = None
    for item in details:
        if isinstance(item, dict) and item.get("@type") == _TYPE_PREFIX + "RetryInfo":
            delay = parse_retry_delay(item.get("retryDelay"))
    if delay is None:
        delay = parse_retry_delay(retry_after)
    status = error.get("status")
    cls = _class_for(code, status, details)
    return cls(str(error.get("message") or status or "unknown error"), status_code=code, status=status,
               details=details, retry_delay=delay)


def _class_for(code: int | None, status: str | None, details: list) -> type[APIError]:
    reasons = {d.get("reason") for d in details if isinstance(d, dict)}
    if "API_KEY_INVALID" in reasons or status == "UNAUTHENTICATED":
        return AuthenticationError
    if code in _BY_STATUS_CODE:
        return _BY_STATUS_CODE[code]
    if code is not None and code >= 500:
        return ServerError
    if code == 400 or status in ("INVALID_ARGUMENT", "FAILED_PRECONDITION"):
        return BadRequestError
    return APIError


def error_from_text(text: str, status_code: int | None = None, retry_after: str | None = None) -> APIError:
    """Parse an error body; fall back to its text when it is not JSON."""
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    return error_from_payload(payload, status_code, body=text, retry_after=retry_after)
