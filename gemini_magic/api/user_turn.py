"""A user's turn as wire parts, converted once: what `Chat` keeps in history and `interact` sends.

    user_parts(["Compare", photo, {"text": "with"}, df], client=client)
    # Conversion(parts=[{"text": "Compare"}, {"inlineData": ...}, {"text": "with"}, ...], notes=[...])

Strings become text parts and wire part dicts pass unchanged; every other object goes through the
converters of `gemini_magic.parts` (`convert_all`, which also keeps the prompt under the inline limit,
uploading through `client.upload_file` what is too large). A Content dict gives its parts.
"""

from __future__ import annotations

from typing import Any

from ..parts import Conversion, convert_all
from ..request.body import is_content, is_part


def user_parts(prompt: Any, *, client: Any = None) -> Conversion:
    """The parts (and conversion notes) of one user turn. Raises ConversionError for objects with no
    converter and RequestTooLargeError when the turn cannot fit inline."""
    if is_content(prompt):
        return Conversion([dict(part) for part in prompt.get("parts") or ()])
    items = prompt if isinstance(prompt, (list, tuple)) else [prompt]
    parts: list[dict] = []
    notes: list[str] = []
    run: list = []  # consecutive objects to convert together (they share the inline budget)

    def flush() -> None:
        if run:
            converted = convert_all(run, client=client)
            parts.extend(converted.parts)
            notes.extend(note for note in converted.notes if note not in notes)
            run.clear()

    for item in items:
        if is_part(item):
            flush()
            parts.append(dict(item))
        else:
            run.append(item)
    flush()
    if not parts:
        raise ValueError("Nothing to send: the prompt is empty.")
    return Conversion(parts, notes)
