r"""Every error gemini_magic raises, in one hierarchy: each class below is defined in this module.

    GeminiError
    ├── MissingAPIKeyError          no key in the argument or the environment
    │   └── InvalidAPIKeyError      a key with a line break or control character inside
    ├── APIError                    the service answered with Google's error JSON (or a non-JSON error body)
    │   ├── BadRequestError         400 INVALID_ARGUMENT, FAILED_PRECONDITION, ...
    │   ├── AuthenticationError     401, or 400 with reason API_KEY_INVALID
    │   ├── PermissionDeniedError   403
    │   ├── NotFoundError           404
    │   ├── RateLimitError          429 RESOURCE_EXHAUSTED (quota, retry delay)
    │   └── ServerError             5xx
    ├── APIConnectionError          the connection failed or dropped
    │   └── APITimeoutError         connect or read timeout
    ├── RequestError                the request could not be sent as built (URL, header, body, local file)
    ├── StreamProtocolError         an answer that is neither an event, an answer nor an error
    ├── ConversionError             a kernel object could not become a request part (also a TypeError)
    │   └── RequestTooLargeError    the parts of one request are more than the API takes inline
    │                               (also importable from gemini_magic.parts.sizes)
    ├── SettingsError               a setting (temperature, model, base URL, timeout, ...) that cannot be
    │                               sent; also a ValueError
    ├── SchemaError                 a Python type (or a function) cannot be described as a JSON Schema
    ├── SchemaMismatchError         JSON (an answer, a tool call's arguments) does not fit the type asked for
    ├── TemplateError               a prompt's `{...}` names a variable but cannot be filled as written
    │                               (also a ValueError; also importable from gemini_magic.prompt)
    ├── UndefinedNameError          a prompt's `{reference}` names nothing that exists (also a NameError;
    │                               also importable from gemini_magic.prompt)
    ├── RowTemplateError            a `{row...}` names a column the rows lack, or rows are no table (also a
    │                               ValueError; also importable from gemini_magic.request.rows)
    ├── BatchError                  a batch job cannot give what was asked (also from gemini_magic.api.batches)
    ├── PromptBlockedError          the prompt was blocked by safety filters
    ├── CostLimitError              a request's estimated cost is above max_cost (nothing sent)
    ├── UploadError                 a Files API upload did not complete
    ├── LiveError                   a Live session's WebSocket was closed (close code and reason), or a
    │                               closed session was used
    ├── DownloadError               a download was refused, too big, or cut short (and not resumable)
    └── VideoGenerationError        a video operation failed (its message and operation name)
        └── VideoFilteredError      every video was filtered by the safety filters (their reasons)

    KeyboardInterrupt
    └── RowsInterrupted             Ctrl-C during `map_prompts` / `--over`: the finished rows in `.responses`
                                    (not a GeminiError, so a bare `except GeminiError` never swallows
                                    Ctrl-C; also importable from gemini_magic.api.rows and gemini_magic)

No other module defines a public exception. Two private ones carry control flow inside one module and
never reach a caller (`api.limiter._Stopped`, `wire.download._SinkError`). The emulator's own
exceptions (its HTTP errors, WebSocket closes) belong to the emulator and are never raised here.

An error raised while streaming carries what had arrived so far in `.response`, so a failure never
loses a partial answer.

Messages never contain the API key: it travels only in a request header, and `redact` (defined in
`redaction.py`, importable from here too) scrubs it from any text that came back from the network,
raw or escaped (JSON `\u002d` and `\/`, percent-encoded, repr `\x2d`, HTML `&#45;`). As a last line of
defence every GeminiError scrubs the keys that clients of this process use (`register_secret`) from
its message, arguments and text attributes when it is built.

Google's error object (`{"error": {"code", "message", "status", "details"}}`, alone or wrapped in a
list) is read by one parser, `google_error` / `error_from_payload`, on every path: an HTTP error body,
an event in a stream, an upload reply. Anything else that arrives is not an API error.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .constants import API_KEY_ENV_VARS
from .redaction import redact, redact_known, register_secret  # noqa: F401  (re-exported)



class GeminiError(Exception):
    """Base class of every gemini_magic error. Its text arguments never hold a registered key."""

    #: The partial `Response` when the error happened during a streamed answer, else None.
    response: Any = None

    def __init__(self, *args: Any) -> None:
        super().__init__(*(redact_known(a) if isinstance(a, str) else a for a in args))


class SettingsError(GeminiError, ValueError):
    """A generation setting, model name or client setting that cannot be sent (checked before sending)."""


class SchemaError(GeminiError, TypeError):
    """A Python type, or a function offered as a tool, cannot be described to the model."""


class SchemaMismatchError(GeminiError, ValueError):
    """JSON data does not fit the type asked for: the first problem, where it is and what was found.

    Attributes: `path` (a JSON path such as "$[2].rainfall_mm"), `expected` (the type, as text),
    `found` (what was there, as text; None when the problem is not about one value).
    """

    def __init__(self, message: str, *, path: str = "$", expected: str = "", found: str | None = None):
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.found = found


class MissingAPIKeyError(GeminiError):
    """No API key was passed and none is set in the environment."""

    def __init__(self) -> None:
        first, second = API_KEY_ENV_VARS
        super().__init__(
            f"No Gemini API key found. Set {first} (or {second}) in the environment before starting "
            "Jupyter, or in a notebook without pasting the key into a cell:\n"
            "    import getpass, os\n"
            f"    os.environ['{first}'] = getpass.getpass('Gemini API key: ')\n"
            "Get a key at https://aistudio.google.com/apikey. To try things without a key, run "
            "%gemini backend in the notebook (a local emulator answers), or python -m gemini_emulator "
            "for any client"
        )


class InvalidAPIKeyError(MissingAPIKeyError):
    """The key has a line break, space, control or non-ASCII character inside: it cannot go in a header.

    `source` is where it came from ("argument" or the environment variable's name); the key itself
    is never part of the message.
    """

    def __init__(self, source: str, problem: str = "a line break or control character") -> None:
        self.source = source
        where = "The API key passed as api_key" if source == "argument" else f"The API key in ${source}"
        GeminiError.__init__(
            self, f"{where} has {problem} inside it, so it cannot be sent. Set it again with only the key's "
            "characters" + (" (a key read from a file often carries the file's line break: strip it)."
                             if "line break" in problem else ": an API key is ASCII letters, digits, '-' and '_', "
                             "with no spaces or control characters."))


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
        self.message = redact_known(message)
        self.status_code = status_code
        self.status = redact_known(status) if isinstance(status, str) else status
        self.details = redact_known(details) or []
        self.retry_delay = retry_delay
        self.body = redact_known(body)
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


KEY_IN_REQUEST = ("The request holds your API key (in the prompt, a variable put in it, a setting or a tool's "
                  "result), so it was not sent: the key travels only in the x-goog-api-key header. Take the "
                  "key out of what you send and run it again.")


class RequestError(GeminiError):
    """The request could not be sent as built (an invalid URL, header value or body, a local file that
    cannot be read): nothing was sent, and retrying cannot help."""

    retryable = False


class StreamProtocolError(GeminiError):
    """The stream contained something that is neither an event nor an error."""


class ConversionError(GeminiError, TypeError):
    """A kernel object cannot be turned into a request part."""


class PromptBlockedError(GeminiError):
    """The service refused the prompt (promptFeedback.blockReason)."""


class CostLimitError(GeminiError):
    """The estimated cost of a request is above the client's `max_cost`, or cannot be told; nothing was
    sent. `.cost` is the estimate (a pricing.Cost) when there is one."""

    def __init__(self, message: str, cost: Any = None) -> None:
        super().__init__(message)
        self.cost = cost


class UploadError(GeminiError):
    """An upload through the Files API failed or the file never became ACTIVE."""


class LiveError(GeminiError):
    """A Live session (BidiGenerateContent) ended: the server closed its WebSocket, or it was used
    after it closed.

    Attributes: `code` (the WebSocket close code: 1007 invalid argument, 1008 model not found or not
    for Live, 1011 internal or unavailable, 1006 dropped without a close frame; None when the session
    was closed on this side), `reason` (the server's reason text, key redacted).
    """

    def __init__(self, message: str, *, code: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.reason = redact_known(reason)
class DownloadError(GeminiError):
    """A download was refused, was larger than allowed, or broke off and could not be resumed.

    `received` is how many bytes arrived (written to the destination), `total` the size announced
    (None when unknown)."""

    def __init__(self, message: str, received: int = 0, total: int | None = None) -> None:
        super().__init__(message)
        self.received, self.total = received, total


class VideoGenerationError(GeminiError):
    """A video generation ended without a video. `operation` is its name (re-attach or report it with
    that), `error` the service's error object (a dict) when it sent one."""

    def __init__(self, message: str, operation: str = "", error: dict | None = None) -> None:
        super().__init__(message)
        self.operation, self.error = operation, error


class VideoFilteredError(VideoGenerationError):
    """Every video of the operation was held back by the safety filters; `reasons` says why."""

    def __init__(self, message: str, operation: str = "", reasons: list | None = None, count: int = 0) -> None:
        super().__init__(message, operation)
        self.reasons, self.count = list(reasons or []), count


class TemplateError(GeminiError, ValueError):
    """A brace expression in a prompt names a kernel variable but cannot be filled as written."""


class UndefinedNameError(GeminiError, NameError):
    """A `{reference}` in a prompt names a variable, attribute or key that does not exist."""

    def __init__(self, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name


class RowTemplateError(GeminiError, ValueError):
    """A `{row...}` reference names a column the rows do not have, or rows are not a table. `missing`:
    the field as written (`row.text`) when a row was skipped for having no value there, else None."""

    missing: str | None = None


class RequestTooLargeError(ConversionError):
    """The parts of one request add up to more than the API takes inline."""


class BatchError(GeminiError):
    """A batch job cannot give what was asked (results of a job that is not done, that failed ...)."""


class RowsInterrupted(KeyboardInterrupt):
    """Raised by `map_prompts` on Ctrl-C. `responses`: one per row, None where the row did not finish
    (empty when the rows were not read yet); `done`: how many finished (all of them are in the cache);
    `sent`: how many requests were handed to the senders (0 when interrupted while preparing)."""

    def __init__(self, responses: list, sent: int | None = None) -> None:
        self.responses = responses
        self.done = sum(r is not None for r in responses)
        self.sent = sent  # requests handed to the senders before the interrupt (0: nothing was sent)
        kept = [r for r in responses if r is not None]
        #: (done, total, errors, tokens) of the rows kept, as a progress callback takes them
        self.state = (self.done, len(responses), sum(getattr(r, "error", None) is not None for r in kept),
                      sum(int((getattr(r, "usage", None) or {}).get("totalTokenCount", 0) or 0) for r in kept))
        super().__init__(f"Interrupted after {self.done} of {len(responses)} row{'s' if len(responses) != 1 else ''}; "
                         "run again with the same cache to continue where it stopped.")


def parse_retry_delay(value: Any) -> float | None:
    """Seconds from RetryInfo's "47s" / "1.5s" or a Retry-After header's "12"."""
    if value is None:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)s?\s*", str(value))
    return float(match.group(1)) if match else None


_BY_STATUS_CODE = {401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError, 429: RateLimitError}
#: google.rpc.Code names → HTTP status, for an error object that has a status but no code.
_CODE_OF_STATUS = {"INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "OUT_OF_RANGE": 400, "UNAUTHENTICATED": 401,
                   "PERMISSION_DENIED": 403, "NOT_FOUND": 404, "ALREADY_EXISTS": 409, "ABORTED": 409,
                   "RESOURCE_EXHAUSTED": 429, "CANCELLED": 499, "INTERNAL": 500, "UNKNOWN": 500, "DATA_LOSS": 500,
                   "NOT_IMPLEMENTED": 501, "UNIMPLEMENTED": 501, "UNAVAILABLE": 503, "DEADLINE_EXCEEDED": 504}


def google_error(payload: Any) -> dict | None:
    """The inner object of Google's error, `{"error": {"code", "message", "status", "details"}}`, or None.

    Also found in the list-wrapped form `[{"error": {...}}]` some endpoints send. Anything else (an
    answer, a list of answers, a string) is not an API error and gives None.
    """
    if isinstance(payload, list):
        payload = next((item for item in payload if google_error(item) is not None), None)
    if not isinstance(payload, dict) or len(payload) != 1:
        return None  # an answer or an Operation may have an "error" field beside others: not an error body
    error = payload.get("error")
    if isinstance(error, dict) and any(key in error for key in ("code", "message", "status")):
        return error
    return None


def api_error(payload: Any, status_code: int | None = None, *, retry_after: str | None = None,
              secret: str | None = None) -> APIError | None:
    """The APIError for a Google error object (see `google_error`), or None when `payload` is not one.

    The same reading everywhere (HTTP body, stream event, upload reply): code (else the HTTP status,
    else the one its status name implies), status, message, every detail, and the retry delay from
    RetryInfo (else Retry-After). Text fields are redacted with `secret`.
    """
    error = google_error(payload)
    if error is None:
        return None
    error = redact(error, secret)
    code = error.get("code")
    if isinstance(code, str) and code.strip().isdigit():
        code = int(code)
    status = error.get("status") if isinstance(error.get("status"), str) else None
    if not isinstance(code, int) or isinstance(code, bool):
        code = status_code if status_code is not None else _CODE_OF_STATUS.get(status or "")
    details = [d for d in error.get("details") or [] if isinstance(d, dict)] \
        if isinstance(error.get("details"), list) else []
    delay = None
    for item in details:
        if str(item.get("@type", "")).endswith(".RetryInfo"):
            delay = parse_retry_delay(item.get("retryDelay"))
    if delay is None:
        delay = parse_retry_delay(retry_after)
    message = error.get("message")
    message = message if isinstance(message, str) and message.strip() else (status or "unknown error")
    return _class_for(code, status, details)(message, status_code=code, status=status, details=details,
                                             retry_delay=delay)


def error_from_payload(payload: Any, status_code: int | None = None, *, body: str | None = None,
                       retry_after: str | None = None, secret: str | None = None) -> APIError:
    """The APIError for an HTTP error answer: Google's error object when the body has one, else its text."""
    error = api_error(payload, status_code, retry_after=retry_after, secret=secret)
    if error is not None:
        return error
    text = redact((body or "").strip(), secret) or "the service returned an error with no body"
    return _class_for(status_code, None, [])(text[:2000], status_code=status_code,
                                             retry_delay=parse_retry_delay(retry_after), body=redact(body, secret))


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


def error_from_text(text: str, status_code: int | None = None, retry_after: str | None = None, *,
                    secret: str | None = None) -> APIError:
    """Parse an HTTP error body (redacted with `secret` before and after decoding); its text when not JSON."""
    text = redact(text, secret)
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    return error_from_payload(payload, status_code, body=text, retry_after=retry_after, secret=secret)
