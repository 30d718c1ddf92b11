"""The `%gemini files` table: uploaded files with their size, state and time left before they expire."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from ..escape import markdown_row
from ..units import human_size


def expires_in(expiration_time: str, now: datetime | None = None) -> str:
    """`2026-11-24T10:00:00.123456Z` → `47 h 12 min` (or `expired`)."""
    if not expiration_time:
        return ""
    try:  # fromisoformat wants 0, 3 or 6 fraction digits before 3.11; the service sends up to 9
        when = datetime.fromisoformat(re.sub(r"\.\d+", "", expiration_time).replace("Z", "+00:00"))
    except ValueError:
        return expiration_time
    seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds <= 0:
        return "expired"
    hours, minutes = divmod(int(seconds // 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def files_markdown(files: list) -> tuple[str, str]:
    """`(markdown, plain)`: a table of the files, every value from the service escaped (`escape`)."""
    if not files:
        text = "No uploaded files. Upload one with `%gemini_upload PATH`."
        return text, text
    head = "| name | display name | MIME type | size | state | expires in |\n|---|---|---|---:|---|---|"
    rows = [markdown_row((f.name, f.display_name, f.mime_type, human_size(f.size_bytes), f.state,
                          expires_in(f.expiration_time)), code=(0,)) for f in files]
    return (head + "\n" + "\n".join(md for md, _ in rows), head + "\n" + "\n".join(plain for _, plain in rows))
