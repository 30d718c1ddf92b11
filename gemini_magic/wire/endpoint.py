"""Where requests go and with which key: the API key and base URL, read from arguments and the environment.

Values are checked here, when they are read, so a bad one fails at once with its own message and
nothing is sent:

- the key: surrounding whitespace is stripped (a key read from a file keeps its line break); a line
  break or control character inside is an InvalidAPIKeyError naming where the key came from, never
  the key itself;
- the base URL: http or https, with a host (and a valid port), else a SettingsError;
- `validate_api_version` and `validate_timeout` check the other connection settings the same way.
"""

from __future__ import annotations

import math
import os
import re
from numbers import Real

from ..constants import API_KEY_ENV_VARS, BASE_URL_ENV_VAR, DEFAULT_BASE_URL
from ..errors import InvalidAPIKeyError, SettingsError

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def resolve_api_key(api_key: str | None = None) -> tuple[str | None, str | None]:
    """The key and where it came from: the argument, then GOOGLE_API_KEY, then GEMINI_API_KEY.

    Returns (key, source) with surrounding whitespace stripped, or (None, None) when none is set.
    Raises InvalidAPIKeyError for a key with a line break, control character, space or non-ASCII
    character inside (the message names the source, never the key; without this check a non-Latin-1
    key fails inside `http.client` as a UnicodeEncodeError that reads like a problem with the prompt)
    and TypeError when `api_key` is not a string.
    """
    if api_key is not None and not isinstance(api_key, str):
        raise TypeError(f"api_key must be a string, not {type(api_key).__name__}.")
    if api_key is not None and api_key.strip():
        return check_api_key(api_key, "argument"), "argument"
    for name in API_KEY_ENV_VARS:
        value = os.environ.get(name)
        if value and value.strip():
            return check_api_key(value, name), name
    return None, None


def check_api_key(key: str, source: str) -> str:
    """The key without surrounding whitespace; InvalidAPIKeyError when a control character is left inside."""
    key = key.strip()
    if _CONTROL.search(key):
        problem = "a line break" if re.search(r"[\r\n\u2028\u2029]", key) else "a control character"
        raise InvalidAPIKeyError(source, problem)
    if any(c.isspace() for c in key):
        raise InvalidAPIKeyError(source, "a space")
    if not key.isascii():  # a header value goes out as Latin-1 at best; every API key is ASCII
        odd = next(c for c in key if not c.isascii())
        raise InvalidAPIKeyError(source, f"a character that is not ASCII (U+{ord(odd):04X}, a pasted curly quote "
                                         "or look-alike letter?)")
    return key


def resolve_base_url(base_url: str | None = None) -> tuple[str, str]:
    """The base URL and where it came from: the argument, then GOOGLE_GEMINI_BASE_URL, then the service.

    Raises SettingsError when the URL is not http(s)://host[:port][/path].
    """
    if base_url is not None and not isinstance(base_url, str):
        raise SettingsError(f"The base URL must be a string such as 'http://127.0.0.1:8080', "
                            f"not {type(base_url).__name__}.")
    if base_url and base_url.strip():
        return validate_base_url(base_url, "the base URL"), "argument"
    value = os.environ.get(BASE_URL_ENV_VAR)
    if value and value.strip():
        return validate_base_url(value, f"${BASE_URL_ENV_VAR}"), BASE_URL_ENV_VAR
    return DEFAULT_BASE_URL, "default"


def validate_base_url(url: str, what: str = "the base URL") -> str:
    """The URL stripped of whitespace and a trailing slash; SettingsError unless it is http(s) with a host.

        >>> validate_base_url(" http://127.0.0.1:8080/ ")
        'http://127.0.0.1:8080'
    """
    from urllib.parse import urlsplit

    text = url.strip()
    example = "for example https://generativelanguage.googleapis.com or http://127.0.0.1:8080"
    if _CONTROL.search(text) or " " in text:
        raise SettingsError(f"{_capital(what)} has a space or control character inside; use a plain URL, {example}.")
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a port that is not a number in 0..65535
    except ValueError as error:
        raise SettingsError(f"{_capital(what)} {text!r} cannot be read as a URL ({error}); use {example}.") from None
    if parts.scheme.lower() not in ("http", "https"):
        got = f"'{parts.scheme}'" if parts.scheme else "none"
        raise SettingsError(f"{_capital(what)} {text!r} must start with http:// or https:// (scheme: {got}); "
                            f"use {example}.")
    if not parts.hostname:
        raise SettingsError(f"{_capital(what)} {text!r} has no host name; use {example}.")
    if port == 0:
        raise SettingsError(f"{_capital(what)} {text!r} has port 0; use the port the server listens on.")
    if parts.query or parts.fragment:
        raise SettingsError(f"{_capital(what)} {text!r} has a query or fragment ('?' or '#'); give only "
                            f"scheme, host, port and path, {example}.")
    if parts.username or parts.password:
        raise SettingsError(f"{_capital(what)} must not carry a user name or password; the key travels "
                            "in a header, so use only scheme, host, port and path.")
    return text.rstrip("/")


def same_origin(url: str, base_url: str) -> bool:
    """True when `url` has the scheme, host and port of `base_url` (the only place the key may go).

        >>> same_origin("http://127.0.0.1:8080/upload?id=1", "http://127.0.0.1:8080"), \\
        ...     same_origin("https://evil.example/upload", "https://generativelanguage.googleapis.com")
        (True, False)
    """
    from urllib.parse import urlsplit

    def origin(text: str):
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        try:
            port = parts.port or {"http": 80, "https": 443}.get(scheme)
        except ValueError:
            return None
        return scheme, (parts.hostname or "").lower(), port

    mine = origin(base_url)
    return mine is not None and mine[1] != "" and origin(url) == mine


def validate_api_version(version: object) -> str:
    """The API version ("v1beta", "v1alpha", ...) stripped of whitespace and slashes at its ends.

    Raises SettingsError when it is not a string, is empty, or has spaces, control characters,
    '?' or '#' inside.
    """
    if not isinstance(version, str):
        raise SettingsError(f"The API version must be a string such as 'v1beta', not {type(version).__name__}.")
    text = version.strip().strip("/")
    if not text:
        raise SettingsError("The API version is empty; use 'v1beta' (the default) or 'v1alpha'.")
    if any(c.isspace() for c in text) or _CONTROL.search(text) or "?" in text or "#" in text:
        raise SettingsError(f"The API version {version!r} has a space or special character inside; "
                            "use 'v1beta' (the default) or 'v1alpha'.")
    return text


def validate_timeout(timeout: object) -> tuple[float, float]:
    """A (connect, read) pair of seconds from a number or a pair; SettingsError unless finite and > 0.

    A single number is the read timeout; the connect timeout is that number, at most 10 s.

        >>> validate_timeout(30), validate_timeout((5, 600))
        ((10.0, 30.0), (5.0, 600.0))
    """
    if isinstance(timeout, (tuple, list)):
        if len(timeout) != 2:
            raise SettingsError(f"The timeout must be seconds or a (connect, read) pair of seconds; "
                                f"got {len(timeout)} values.")
        connect, read = (_seconds(value, what) for value, what in zip(timeout, ("connect", "read")))
        return connect, read
    read = _seconds(timeout, "")
    return min(read, 10.0), read


def _seconds(value: object, what: str) -> float:
    label = f"The {what} timeout" if what else "The timeout"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise SettingsError(f"{label} must be a number of seconds; got {value!r}.")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise SettingsError(f"{label} must be a positive, finite number of seconds; got {value!r}.")
    return seconds


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
