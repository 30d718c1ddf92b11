"""Page sizes and opaque page tokens for the list methods (models and files)."""

from __future__ import annotations

import base64

from .errors import bad_request


def page_size(query: dict, default: int, maximum: int) -> int:
    raw = query.get("pageSize") or query.get("page_size")
    if raw in (None, ""):
        return default
    try:
        size = int(raw)
    except ValueError:
        raise bad_request(f"Invalid value at 'page_size' (TYPE_INT32), \"{raw}\"",
                          [("page_size", f"Invalid value at 'page_size' (TYPE_INT32), \"{raw}\"")])
    if size < 0:
        raise bad_request("page_size must not be negative", [("page_size", "must not be negative")])
    # The service treats 0 as "use the default" and clips sizes above its maximum.
    return default if size == 0 else min(size, maximum)


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"emulator-offset:{offset}".encode()).decode().rstrip("=")


def decode_page_token(token: str) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "emulator-offset":
            raise ValueError(text)
        return max(0, int(number))
    except ValueError:
        raise bad_request("Invalid page token.", [("page_token", "Invalid page token.")])


def page(items, query: dict, default: int, maximum: int):
    """The slice of ``items`` the query asks for, and the next page token (None at the end)."""
    size = page_size(query, default, maximum)
    start = decode_page_token(query.get("pageToken") or query.get("page_token") or "")
    chosen = list(items[start:start + size])
    return chosen, encode_page_token(start + size) if start + size < len(items) else None
