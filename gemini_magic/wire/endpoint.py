"""Where requests go and with which key: the API key and base URL, read from arguments and the environment.

Values are checked here, when they are read, so a bad one fails at once with its own message.
"""

from __future__ import annotations

import os

from ..constants import API_KEY_ENV_VARS, BASE_URL_ENV_VAR, DEFAULT_BASE_URL


def resolve_api_key(api_key: str | None = None) -> tuple[str | None, str | None]:
    """The key and where it came from: the argument, then GOOGLE_API_KEY, then GEMINI_API_KEY."""
    if api_key:
        return api_key, "argument"
    for name in API_KEY_ENV_VARS:
        if os.environ.get(name):
            return os.environ[name], name
    return None, None


def resolve_base_url(base_url: str | None = None) -> tuple[str, str]:
    """The base URL and where it came from: the argument, then GOOGLE_GEMINI_BASE_URL, then the service."""
    if base_url:
        return base_url, "argument"
    if os.environ.get(BASE_URL_ENV_VAR):
        return os.environ[BASE_URL_ENV_VAR], BASE_URL_ENV_VAR
    return DEFAULT_BASE_URL, "default"
