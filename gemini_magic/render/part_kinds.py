"""Parts as HTML, from the one table of part kinds (`gemini_magic.answer.part_kinds`), and image thumbnails.

The table says what each kind is called and how it reads (`summary`, `detail`, `markdown`,
`image`); this module turns that into HTML the same way for every kind, so the explorer and the dry
run never switch on kinds themselves. Everything from the service is escaped; long strings are cut
at `STRING_LIMIT` characters.

    part_html({"executableCode": {"language": "PYTHON", "code": "print(1)"}})
    # 'python, 1 line<pre ...>print(1)</pre>'
"""

from __future__ import annotations

import base64
import html

from ..answer.part_kinds import DISPLAYABLE_IMAGES, KINDS, PartKind, kind_of

__all__ = ["KINDS", "PartKind", "kind_of", "part_html", "part_thumbnail", "thumbnail", "cut", "PRE",
           "STRING_LIMIT", "THUMBNAIL_PX", "DISPLAYABLE_IMAGES"]

STRING_LIMIT = 2_000          # characters kept of each long string shown
THUMBNAIL_PX = 256
THUMBNAIL_REUSE_LIMIT = 200_000  # base64 characters: smaller images are shown with their own bytes
PRE = '<pre style="white-space:pre-wrap;max-height:30em;overflow:auto;font-size:smaller">'


def part_html(part: dict) -> str:
    """The part's summary, its detail (code, output, JSON) in a `<pre>` and its thumbnail, escaped."""
    kind = kind_of(part)
    out = [html.escape(cut(kind.summary(part)))]
    detail = kind.detail(part)
    if detail:
        out.append(PRE + html.escape(cut(detail)) + "</pre>")
    preview = part_thumbnail(part)
    if preview:
        out.append(f"<br>{preview}")
    return "".join(out)


def part_thumbnail(part: dict) -> str:
    """An `<img>` of the part when its kind has an image (see `thumbnail`), else ""."""
    image = kind_of(part).image(part)
    return thumbnail(*image) if image else ""


def thumbnail(mime: str, data: str) -> str:
    """An `<img>` at most 256 px: the part's own base64 when small and a browser shows its type, else a
    shrunk PNG or JPEG copy (Pillow); a note instead when the image cannot be decoded."""
    if not data:
        return ""
    if len(data) > THUMBNAIL_REUSE_LIMIT or mime not in DISPLAYABLE_IMAGES:
        # Embedding megabytes to draw 256 px would make every display (and the saved notebook) huge,
        # and a browser draws no HEIC or TIFF.
        try:
            mime, data = _shrink(data)
        except Exception:  # noqa: BLE001 - an undecodable image just gets no preview
            return '<i>(no preview: the image could not be decoded; see <code>.images</code>)</i>'
    style = f"max-width:{THUMBNAIL_PX}px;max-height:{THUMBNAIL_PX}px"
    return f'<img src="data:{html.escape(mime)};base64,{html.escape(data)}" style="{style}" alt="{html.escape(mime)}">'


def _shrink(data: str) -> tuple[str, str]:
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(base64.b64decode(data)))
    image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    buffer = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P"):
        image.save(buffer, format="PNG", optimize=True)
        mime = "image/png"
    else:
        image.convert("RGB").save(buffer, format="JPEG", quality=85)
        mime = "image/jpeg"
    return mime, base64.b64encode(buffer.getvalue()).decode("ascii")


def cut(text: str, limit: int = STRING_LIMIT) -> str:
    """`text` cut at `limit` characters, saying how many were left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more characters)"
