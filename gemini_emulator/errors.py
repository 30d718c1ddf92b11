"""Google-shaped error bodies for the emulator.

Every failure the emulator reports uses the shape the real service sends (see
shared/recordings/errors/): ``{"error": {"code", "message", "status", "details": [...]}}``, where each
detail carries an ``@type`` such as ``type.googleapis.com/google.rpc.BadRequest``. Handlers raise
:class:`ApiError`; the server turns it into the HTTP answer.
"""

from __future__ import annotations

TYPE_PREFIX = "type.googleapis.com/google.rpc."

# The Google status string the service pairs with each HTTP code.
STATUS_BY_CODE = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# Messages the real service uses for these codes (quoted from public bug reports), so a client's
# error text looks the same against the emulator as against Google.
DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
         "or other valid authentication credential.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    408: "Request timed out.",
    429: "You exceeded your current quota, please check your plan and billing details. For more "
         "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
    500: "An internal error has occurred. Please retry or report in "
         "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}

UNREGISTERED_CALLER = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
API_KEY_INVALID = "API key not valid. Please pass a valid API key."
KEY_IN_URL = (
    "The gemini_magic emulator rejects API keys in the URL (the 'key' query parameter): URLs end up "
    "in logs, exception messages and saved notebooks. Send the key in the x-goog-api-key header instead."
)


class ApiError(Exception):
    """An error answer: HTTP code, Google status, message, details and extra response headers."""

    def __init__(self, code: int, message: str, status: str | None = None,
                 details: list | None = None, headers: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_BY_CODE.get(code, "UNKNOWN")
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict:
        """The ``{"error": ...}`` object; ``details`` only when there are some, like the service."""
        error = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def bad_request(message: str, violations: list[tuple[str | None, str]] | None = None) -> ApiError:
    """400 INVALID_ARGUMENT with a google.rpc.BadRequest listing (field, description) pairs."""
    field_violations = []
    for field, description in violations or [(None, message)]:
        violation = {"field": field} if field else {}
        violation["description"] = description
        field_violations.append(violation)
    detail = {"@type": TYPE_PREFIX + "BadRequest", "fieldViolations": field_violations}
    return ApiError(400, message, details=[detail])


def invalid_api_key() -> ApiError:
    """What the service answers for a key it does not know (ErrorInfo reason API_KEY_INVALID)."""
    return ApiError(400, API_KEY_INVALID, details=[
        {
            "@type": TYPE_PREFIX + "ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        },
        {"@type": TYPE_PREFIX + "LocalizedMessage", "locale": "en-US", "message": API_KEY_INVALID},
    ])


def file_not_found(file_id: str) -> ApiError:
    """The service answers 403, not 404, for a file that does not exist (or expired)."""
    return ApiError(403, f"You do not have permission to access the File {file_id} or it may not exist.")


def method_not_found() -> ApiError:
    return ApiError(404, "Method not found.")


def injected(code: int, message: str | None = None, status: str | None = None,
             retry_delay: str | None = None, quota_id: str | None = None,
             model: str | None = None, retry_after=None) -> ApiError:
    """The error of a ``status`` fault, with QuotaFailure/Help/RetryInfo details in the service's order."""
    details = []
    if quota_id:
        details.append(quota_failure(quota_id, model))
        details.append({
            "@type": TYPE_PREFIX + "Help",
            "links": [{"description": "Learn more about Gemini API quotas",
                       "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}],
        })
    if retry_delay:
        details.append({"@type": TYPE_PREFIX + "RetryInfo", "retryDelay": str(retry_delay)})
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    text = message or DEFAULT_MESSAGES.get(code) or f"Injected error {code}."
    return ApiError(code, text, status=status, details=details, headers=headers)


def quota_failure(quota_id: str, model: str | None) -> dict:
    """A QuotaFailure violation like recordings/errors/issue_429_*.json, derived from the quota id."""
    if "InputTokens" in quota_id:
        metric, value = "generate_content_free_tier_input_token_count", "250000"
    else:
        metric, value = "generate_content_free_tier_requests", "250" if "PerDay" in quota_id else "10"
    return {
        "@type": TYPE_PREFIX + "QuotaFailure",
        "violations": [{
            "quotaMetric": f"generativelanguage.googleapis.com/{metric}",
            "quotaId": quota_id,
            "quotaDimensions": {"location": "global", "model": model or "gemini-2.5-flash"},
            "quotaValue": value,
        }],
    }
