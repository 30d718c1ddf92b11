"""IPython.display objects: what they would show in the notebook, as parts.

- Image: its bytes (embedded data, or the file it names), by the image rules.
- Audio: its WAV (or file) bytes; Video: its bytes or file (big files are uploaded).
- Markdown, HTML, Latex, Javascript, Pretty, Code: a text part with the source as is
  (the model reads Markdown and HTML source fine, and the API takes no text/html image).
- SVG: a text part with the SVG source (the API does not take image/svg+xml), noted.
- JSON: its data as indented JSON text.
- YouTubeVideo: a fileData part with the video's YouTube URL (the API accepts those).
Objects that only point to a URL cannot be sent: the error says to download the data first.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConversionError
from .builders import file_data
from .media import media_part, sniff
from .values import to_json_text


def _embedded_bytes(obj: Any, kind: str) -> bytes | None:
    data = getattr(obj, "data", None)
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    filename = getattr(obj, "filename", None)
    if filename:
        return None
    url = getattr(obj, "url", None)
    raise ConversionError(f"This IPython.display.{kind} only points to {url or 'a URL'}; download the data "
                          f"(e.g. with requests) and pass the bytes or a local path instead.")


def _send(obj: Any, kind: str, default_mime: str | None, context) -> dict:
    data = _embedded_bytes(obj, kind)
    if data is None:
        from .files import path_part

        return path_part(obj.filename, context)
    mime_type = sniff(data) or default_mime
    if mime_type is None:
        raise ConversionError(f"Cannot tell the type of this IPython.display.{kind}'s data; "
                              "send gemini_magic.parts.Blob(obj.data, 'type/subtype') instead.")
    return media_part(data, mime_type, context, f"This IPython.display.{kind}")


def image_part(obj: Any, context) -> dict:
    fmt = getattr(obj, "format", None)
    return _send(obj, "Image", f"image/{fmt}" if fmt else None, context)


def audio_part(obj: Any, context) -> dict:
    return _send(obj, "Audio", getattr(obj, "mimetype", None), context)


def video_part(obj: Any, context) -> dict:
    return _send(obj, "Video", getattr(obj, "mimetype", None), context)


def text_display_part(obj: Any, context) -> dict:
    data = obj.data
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    if not isinstance(data, str):
        raise ConversionError(f"This IPython.display.{type(obj).__name__} holds no text to send.")
    return {"text": data}


def svg_part(obj: Any, context) -> dict:
    context.note("SVG sent as its source text (the API does not take image/svg+xml)")
    return text_display_part(obj, context)


def json_part(obj: Any, context) -> dict:
    return {"text": to_json_text(obj.data)}


def youtube_part(obj: Any, context) -> dict:
    return file_data(None, f"https://www.youtube.com/watch?v={obj.id}")
