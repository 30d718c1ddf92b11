"""The shared part builders: wire parts from bytes, URIs and text, and what counts as a wire part.

Every converter builds its parts here, and the conversion core recognises wire dicts here, so no
converter needs the core and the core needs no converter at import time.
"""

from __future__ import annotations

import base64
from typing import Any

# Keys that make a dict a wire Part (anything else is an object to convert, e.g. a dict as JSON).
PART_KEYS = frozenset({"text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
                       "codeExecutionResult", "inline_data", "file_data", "function_call", "function_response",
                       "thought", "thoughtSignature", "videoMetadata", "mediaResolution"})


def inline(mime_type: str, data: bytes) -> dict:
    """An inlineData part (base64, standard alphabet)."""
    return {"inlineData": {"mimeType": mime_type, "data": base64.b64encode(data).decode("ascii")}}


def file_data(mime_type: str | None, uri: str) -> dict:
    """A fileData part referring to an uploaded file (or a URL the API accepts)."""
    data = {"mimeType": mime_type, "fileUri": uri} if mime_type else {"fileUri": uri}
    return {"fileData": data}


def is_part(value: Any) -> bool:
    """A wire Part dict (`{"text": ...}`, `{"inlineData": ...}`, ...), passed to the API unchanged."""
    return isinstance(value, dict) and bool(value) and value.keys() <= PART_KEYS


def is_content(value: Any) -> bool:
    """A wire Content dict: `{"role": "user" | "model", "parts": [...]}`."""
    return isinstance(value, dict) and "parts" in value and value.keys() <= {"role", "parts"}
