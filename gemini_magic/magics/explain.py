"""One clear message per failure: what happened, the status, and what to do next.

Used by the magics to turn any GeminiError into the text of a `UsageError`. The messages never hold
the API key: errors are built from response bodies the transport already redacted.
"""

from __future__ import annotations

from ..errors import (APIConnectionError, APIError, APITimeoutError, AuthenticationError, GeminiError,
                     NotFoundError, PermissionDeniedError, RateLimitError, ServerError)

_SET_KEY = ("Set it without pasting it into a cell:\n"
            "    import getpass, os; os.environ['GOOGLE_API_KEY'] = getpass.getpass('Gemini API key: ')")


def message(error: BaseException, partial=None) -> str:
    """The text shown to the user for `error` (and a note on the partial answer, when there is one)."""
    text = _describe(error)
    if partial is not None and partial.chunk_count:
        text += (f"\nThe partial answer ({len(partial.text)} characters) is kept in the result "
                 "(marked incomplete).")
    return text


def _describe(error: BaseException) -> str:
    if isinstance(error, AuthenticationError):
        return f"The API key was rejected ({_status(error)}: {error.message}). {_SET_KEY}"
    if isinstance(error, PermissionDeniedError):
        links = "".join(f"\n    {link.get('description', '')}: {link.get('url', '')}" for link in error.help_links)
        return (f"Permission denied ({_status(error)}): {error.message}{links}\n"
                "Check that the key belongs to a project with the Gemini API enabled.")
    if isinstance(error, NotFoundError):
        return (f"Not found ({_status(error)}): {error.message}\n"
                "Check the model name: %gemini models lists the models this key can use.")
    if isinstance(error, RateLimitError):
        if error.is_daily_quota:
            return (f"The daily quota is used up ({_status(error)}): {error.message}\n"
                    "Retrying today will not help: try another model, or a key with a paid plan.")
        when = f"in {error.retry_delay:.0f} s" if error.retry_delay else "in a minute"
        return (f"Rate limited ({_status(error)}) even after retrying: {error.message}\n"
                f"Try again {when}, or lower the request rate with smaller prompts.")
    if isinstance(error, ServerError):
        return (f"The service failed ({_status(error)}): {error.message}\n"
                "This is usually temporary: run the cell again in a minute.")
    if isinstance(error, APIError):
        violations = "".join(f"\n    {v.get('field', '')}: {v.get('description', '')}"
                             for v in error.field_violations)
        return f"The request was refused ({_status(error)}): {error.message}{violations}"
    if isinstance(error, APITimeoutError):
        return f"{error}\nTry again, or raise %config GeminiMagics.timeout for long thinking requests."
    if isinstance(error, APIConnectionError):
        return f"{error}\nCheck the network connection and the base URL (%gemini config)."
    if isinstance(error, GeminiError):
        return str(error)
    return f"{error.__class__.__name__}: {error}"


def _status(error: APIError) -> str:
    return " ".join(str(p) for p in (error.status_code, error.status) if p) or "error"
