"""The `%gemini files` table: uploaded files with their size, state and time left before they expire."""

from __future__ import annotations

import re
from datetime import datetime, timezone

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


def files_markdown(files: list) -> str:
    if not files:
        return "No uploaded files. Upload one with `%gemini_upload PATH`."
    rows = ["| name | display name | MIME type | size | state | expires in |", "|---|---|---|---:|---|---|"]
    for f in files:
        rows.append(f"| `{f.name}` | {f.display_name} | {f.mime_type} | {human_size(f.size_bytes)} | "
                    f"{f.state} | {expires_in(f.expiration_time)} |")
    return "\n".join(rows)
