"""Generated videos and images as display data a saved notebook keeps, and the operation progress line.

- `video_bundle(video)`: a playable `<video controls>` (JupyterLab, Notebook 7, the saved notebook).
  A video up to `Video.embed_limit` bytes is embedded as a base64 data URL; a larger one is saved
  beside the notebook (`gemini_videos/{name}.mp4`, relative to the kernel's working folder, which
  is the notebook's) and linked by that relative path, with a one-line note saying so.
- `images_bundle(images)`: the GeneratedImages as `<img>` tags of their original bytes.
- `OperationProgress(label)`: call it with the VideoOperation after each read; one line updated in
  place ("Generating… 66% · 0:12 · read 3"), left as a plain final line by `finish(text)`.

Every string from the service (operation names, MIME types, URIs) goes through gemini_magic/escape.py.
"""

from __future__ import annotations

import base64
import os
import sys
import time
from pathlib import Path

from .live import detect_mode
from ..escape import html_text, safe_url

VIDEO_FOLDER = "gemini_videos"
_SAFE_MIME = ("video/mp4", "video/webm", "video/quicktime", "video/ogg")


def video_bundle(video, folder: str | os.PathLike | None = None) -> dict:
    """`{"text/html": <video>, "text/plain": repr}` for a Video (downloading it when needed)."""
    mime = video.mime_type if video.mime_type in _SAFE_MIME else "video/mp4"
    size = video.size
    if size is None and video.path is None:
        data = video.bytes  # a first display downloads it (the magic has already, with progress)
        size = len(data)
    if size is not None and size <= video.embed_limit:
        data = base64.b64encode(video.bytes).decode("ascii")
        player = f'<video controls preload="metadata" style="max-width:100%" src="data:{mime};base64,{data}"></video>'
        return {"text/html": player, "text/plain": repr(video)}
    link = _saved_beside(video, folder)
    player = (f'<video controls preload="metadata" style="max-width:100%" src="{html_text(safe_url(link))}"></video>'
              f'<div style="font-size:85%">ℹ️ {html_text(video.describe())}: too big to embed in the notebook, so '
              f'saved beside it as <code>{html_text(link)}</code> (keep that file with the notebook).</div>')
    return {"text/html": player, "text/plain": f"{video!r} (saved as {link})"}


def _saved_beside(video, folder) -> str:
    """A path relative to the working folder where the video is (saved now when it is elsewhere)."""
    here = Path(folder or os.getcwd()).resolve()
    if video.path is not None:
        try:
            return Path(video.path).resolve().relative_to(here).as_posix()
        except ValueError:
            pass  # saved outside the notebook's folder: the page could not load it from there
    target = here / VIDEO_FOLDER / f"{video.name}{video.extension}"
    if not target.exists():
        video.save(target)
    return target.relative_to(here).as_posix()


def images_bundle(images) -> dict:
    """`<img>` tags of the images' original bytes, side by side, and a plain line."""
    tags = []
    for blob in images.blobs:
        mime = str(blob.get("mimeType") or "")
        if mime not in ("image/png", "image/jpeg", "image/webp", "image/gif"):
            continue
        data = base64.b64encode(blob["data"]).decode("ascii")
        tags.append(f'<img style="max-width:48%;margin:2px" alt="generated image" src="data:{mime};base64,{data}">')
    return {"text/html": "".join(tags), "text/plain": repr(images)}


class OperationProgress:
    """`progress(operation)` after each read; `finish(text)` leaves one plain line (kept when saved)."""

    def __init__(self, label: str, mode: str | None = None) -> None:
        self.label = label
        self.mode = mode or detect_mode()
        self._started = time.monotonic()
        self._handle = None
        self._line = ""

    @staticmethod
    def describe(operation, elapsed: float) -> str:
        minutes, seconds = divmod(int(elapsed), 60)
        percent = f"{operation.progress_percent}% · " if operation.progress_percent is not None else ""
        state = "done" if operation.done else "generating…"
        return f"{state} {percent}{minutes}:{seconds:02d} · read {operation.reads + 1} · {operation.name}"

    def __call__(self, operation) -> None:
        self._line = f"{self.label}: {self.describe(operation, time.monotonic() - self._started)}"
        if self.mode == "widget":
            from IPython.display import display

            bundle = {"text/plain": self._line, "text/html": f"<code>{html_text(self._line)}</code>"}
            if self._handle is None:
                self._handle = display(bundle, raw=True, display_id=True)
            else:
                self._handle.update(bundle, raw=True)
        elif self.mode == "terminal":
            sys.stdout.write("\r" + self._line[:100].ljust(100))
            sys.stdout.flush()

    def finish(self, text: str) -> None:
        """Replace the line by `text` (plain), or print it where no display is."""
        if self._handle is not None:
            self._handle.update({"text/plain": text, "text/html": f"<code>{html_text(text)}</code>"}, raw=True)
            return
        if self.mode == "terminal" and self._line:
            sys.stdout.write("\r" + " " * 100 + "\r")
        print(text)
