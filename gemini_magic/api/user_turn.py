"""A user's turn as wire parts, converted once: what `Chat` keeps in history and `interact` sends.

    user_parts(["Compare", photo, {"text": "with"}, df], client=client)
    # Conversion(parts=[{"text": "Compare"}, {"inlineData": ...}, {"text": "with"}, ...], notes=[...])

Strings become text parts and wire part dicts pass unchanged; every other object goes through the
converters of `gemini_magic.parts` (`convert_all`, which also keeps the turn under the inline limit,
uploading through `client.upload_file` what is too large). A Content dict gives its parts.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConversionError
from ..parts import Conversion, convert_all
from ..parts.builders import is_content


def user_parts(prompt: Any, *, client: Any = None, upload_progress: Any = None, dry_run: bool = False) -> Conversion:
    """The parts (and conversion notes) of one user turn. `upload_progress(label)` reports uploads of
    objects too large to send inline; with `dry_run` nothing is uploaded (a placeholder part says what
    would be). Raises ConversionError for objects with no converter, RequestTooLargeError when the turn
    cannot fit inline, and when the prompt is empty."""
    if is_content(prompt):
        return Conversion([dict(part) for part in prompt.get("parts") or ()])
    items = list(prompt) if isinstance(prompt, (list, tuple)) else [prompt]
    conversion = convert_all(items, client=client, upload_progress=upload_progress, dry_run=dry_run)
    if not conversion.parts:
        raise ConversionError("Nothing to send: the prompt is empty.")
    return conversion
