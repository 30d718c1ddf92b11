"""Size limits and budgets for parts, and the check that a request fits inline.

`settings` is the one place to tune how much of an object is sent:

    import gemini_magic.parts as parts
    parts.settings.max_table_rows = 5000        # rows of a DataFrame (first half + last half)
    parts.settings.max_image_side = 1536        # pixels on the longest side

The request limit itself is `constants.INLINE_REQUEST_LIMIT` (20 MB, counted as base64 text).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..constants import INLINE_REQUEST_LIMIT
from ..errors import RequestTooLargeError  # noqa: F401  (defined in errors.py; imported from here too)
from ..units import human_size


@dataclass
class Settings:
    """Budgets for conversions; change the attributes of `gemini_magic.parts.settings`."""

    #: Longer image sides are scaled down to this (Gemini scales larger images down to 3072 anyway).
    max_image_side: int = 3072
    #: Images with at most this many pixels are sent as PNG (lossless); larger photos as JPEG.
    png_max_pixels: int = 500_000
    #: JPEG quality for photos that have to be re-encoded.
    jpeg_quality: int = 90
    #: Resolution of matplotlib figures (a 6.4 x 4.8 inch figure becomes about 960 x 720 px).
    figure_dpi: int = 150
    #: Longer tables keep their first and last max_table_rows // 2 rows.
    max_table_rows: int = 2000
    #: A table's CSV is cut further (fewer rows) until it is at most this many bytes.
    max_table_bytes: int = 1_000_000
    #: numpy arrays with at most this many elements are sent as text; larger ones as CSV.
    max_array_text_elements: int = 1000
    #: Raw bytes one inline part may carry (base64 adds a third: 14 MB -> 18.7 MB of the 20 MB).
    inline_part_budget: int = INLINE_REQUEST_LIMIT * 3 // 4 - 1_000_000


settings = Settings()


#: The converters' old name for the one size formatter (`1_234_567` → "1.2 MB", `500` → "500 bytes").
megabytes = human_size


def row_window(total: int, max_rows: int) -> tuple[int, int]:
    """How many rows to keep from the head and the tail of `total` rows."""
    if total <= max_rows:
        return total, 0
    head = max(1, max_rows - max_rows // 2)
    return head, max(0, max_rows - head)


def rows_within_budget(total: int, settings: "Settings", render) -> tuple[bytes, int, int]:
    """`render(head, tail)` → CSV bytes of the first `head` and last `tail` rows, cut until it fits
    `settings.max_table_bytes` (at most `settings.max_table_rows` rows). Returns (data, head, tail)."""
    head, tail = row_window(total, settings.max_table_rows)
    for _ in range(5):
        data = render(head, tail)
        if len(data) <= settings.max_table_bytes or head + tail <= 2:
            break
        per_row = len(data) / (head + tail + 1)
        head, tail = row_window(total, max(2, int(settings.max_table_bytes / per_row * 0.9)))
    return data, head, tail


def cut_description(total: int, head: int, tail: int) -> str | None:
    """"showing first 1,000 and last 1,000 of 1,000,000 rows, 998,000 left out", or None if uncut."""
    if head + tail >= total:
        return None
    shown = f"first {head:,} and last {tail:,}" if tail else f"first {head:,}"
    return f"showing {shown} of {total:,} rows, {total - head - tail:,} left out"


def part_size(part: dict) -> int:
    """Bytes a part adds to the request: base64 text for inline data, UTF-8 for text."""
    inline = part.get("inlineData") or part.get("inline_data")
    if isinstance(inline, dict):
        return len(inline.get("data") or "")
    text = part.get("text")
    return len(text.encode("utf-8")) if isinstance(text, str) else 0


def check_request_size(parts: list[dict], limit: int = INLINE_REQUEST_LIMIT) -> int:
    """The request's inline size in bytes; raises RequestTooLargeError above `limit`.

        >>> check_request_size([{"text": "hi"}, {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}])
        6
    """
    sizes = [part_size(part) for part in parts]
    total = sum(sizes)
    if total <= limit:
        return total
    largest = sorted(range(len(parts)), key=lambda i: sizes[i], reverse=True)[:3]
    described = ", ".join(f"part {i + 1} ({_mime(parts[i])}, {megabytes(sizes[i])})" for i in largest)
    raise RequestTooLargeError(
        f"The request would carry {megabytes(total)} inline; the API takes at most {megabytes(limit)} "
        f"(counted as base64). Largest: {described}. Upload big files first with %gemini_upload "
        "(or client.upload_file) and refer to the upload, or send a smaller image or fewer table rows "
        "(gemini_magic.parts.settings.max_image_side / max_table_rows).")


def _mime(part: dict) -> str:
    inline = part.get("inlineData") or part.get("inline_data")
    if isinstance(inline, dict):
        return inline.get("mimeType") or inline.get("mime_type") or "data"
    return "text" if "text" in part else "part"
