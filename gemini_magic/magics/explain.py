"""One clear message per failure: what happened, the status, and what to do next.

Used by the magics to turn any GeminiError into the text of a `UsageError`. The messages never hold
the API key: errors are built from response bodies the transport already redacted.

    explain.message(error, partial=response)                 # the text of the UsageError
    explain.message(error, models=["gemini-2.5-flash", ...])  # a 404 for a model adds "Did you mean ...?"
    explain.suggest("gemini-2.5-flsh", ["gemini-2.5-flash"])  # 'gemini-2.5-flash'
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Iterable

from ..errors import (APIConnectionError, APIError, APITimeoutError, AuthenticationError, GeminiError,
                      NotFoundError, PermissionDeniedError, RateLimitError, ServerError)
from ..units import plural

_SET_KEY = ("Set it without pasting it into a cell:\n"
            "    import getpass, os; os.environ['GOOGLE_API_KEY'] = getpass.getpass('Gemini API key: ')")
# The service answers 403 (sometimes 404) for a file that does not exist, expired or is another project's:
# "You do not have permission to access the File nothing or it may not exist."
_FILE_MISSING = re.compile(r"\bFile (?:files/)?([\w.-]+) or it may not exist|\bfiles/([\w.-]+)")
_MODEL_NAME = re.compile(r"\bmodels/([\w.-]+)")


def message(error: BaseException, partial=None, *, file: str | None = None,
            models: Iterable[str] | None = None) -> str:
    """The text shown to the user for `error`.

    `partial`: the Response of a failed stream; when something had arrived, a note says how much is
    kept (the stream's own errors say "the partial answer is kept" only when something had arrived).
    `file`: the file name the request was about (`%gemini files delete NAME`): a 403 or 404 then
    says that the file does not exist or is not this key's.
    `models`: the model ids the key can use: a 404 for a model then suggests the closest one.
    """
    text = _describe(error, file=file, models=models)
    if partial is not None and partial.chunk_count:
        text += (f"\nThe partial answer ({plural(len(partial.text), 'character')}) is kept in the result "
                 "(marked incomplete).")
    return text


def suggest(name: str, choices: Iterable[str]) -> str | None:
    """The choice closest to a mistyped `name`, or None when none is close.

        >>> suggest("gemini-2.5-flsh", ["gemini-2.5-pro", "gemini-2.5-flash", "models/gemini-2.0-flash"])
        'gemini-2.5-flash'

    "models/" prefixes are ignored on both sides; an exact match is not a suggestion.
    """
    name = name.strip().removeprefix("models/")
    bare = list(dict.fromkeys(str(choice).removeprefix("models/") for choice in choices))
    if not name or name in bare:
        return None
    close = difflib.get_close_matches(name, bare, n=1, cutoff=0.75)
    return close[0] if close else None


def retry_after(seconds: float | None) -> str:
    """ "in 5 seconds" (rounded up, never "in 0 s"), "now" for no wait, "in a minute" when unknown."""
    if seconds is None:
        return "in a minute"
    if seconds <= 0:
        return "now"
    return f"in {plural(math.ceil(seconds), 'second')}" if seconds < 120 else f"in {math.ceil(seconds / 60)} minutes"


def _describe(error: BaseException, *, file: str | None, models: Iterable[str] | None) -> str:
    if isinstance(error, AuthenticationError):
        return f"The API key was rejected ({_status(error)}: {error.message}). {_SET_KEY}"
    if isinstance(error, (PermissionDeniedError, NotFoundError)):
        missing = _missing_file(error, file)
        if missing is not None:
            return (f"The file {missing} does not exist, or it is not this key's ({_status(error)}): uploads "
                    "expire after 48 hours. %gemini files lists the files this key can use.")
    if isinstance(error, PermissionDeniedError):
        links = "".join(f"\n    {link.get('description', '')}: {link.get('url', '')}" for link in error.help_links)
        return (f"Permission denied ({_status(error)}): {error.message}{links}\n"
                "Check that the key belongs to a project with the Gemini API enabled.")
    if isinstance(error, NotFoundError):
        text = f"Not found ({_status(error)}): {error.message}\n"
        model = _MODEL_NAME.search(error.message or "")
        close = suggest(model.group(1), models) if model and models is not None else None
        if close:
            return text + f"Did you mean {close}? %gemini models lists the models this key can use."
        return text + "Check the model name: %gemini models lists the models this key can use."
    if isinstance(error, RateLimitError):
        if error.is_daily_quota:
            return (f"The daily quota is used up ({_status(error)}): {error.message}\n"
                    "Retrying today will not help: try another model, or a key with a paid plan.")
        return (f"Rate limited ({_status(error)}) even after retrying: {error.message}\n"
                f"Try again {retry_after(error.retry_delay)}, or lower the request rate with smaller prompts.")
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


def _missing_file(error: APIError, file: str | None) -> str | None:
    """The name of the file a 403/404 is about, or None when it is not about a file."""
    if file:
        name = str(file).strip()
        return name if name.startswith("files/") else f"files/{name}"
    match = _FILE_MISSING.search(error.message or "")
    return f"files/{match.group(1) or match.group(2)}" if match else None


def _status(error: APIError) -> str:
    return " ".join(str(p) for p in (error.status_code, error.status) if p) or "error"
