"""`Video`: one generated video, downloaded when first needed (streamed, with the key only to its host).

    video.save("clip.mp4")          # streamed to disk (a .part file renamed when complete); a Path
    video.bytes                     # the whole file in memory (downloaded once, then kept)
    video.mime_type, video.size, video.duration     # "video/mp4", bytes, seconds (from the MP4 header)
    video                           # in a notebook: a playable <video> (render/video.py)

A video arrives either inline (`data`, base64, as Omni can send it) or as a Files download URI
(`.../v1beta/files/{id}:download?alt=media`, as Veo sends it), fetched with wire/download.py.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Any, Callable

from ..answer.media_out import mp4_duration
from ..units import human_size
from ..wire.download import DEFAULT_MAX_BYTES, download


class Video:
    """A generated video: `.uri` (None when it came inline), `.mime_type`, `.operation` (its name),
    `.path` (where `save` last wrote it), `.bytes`, `.size`, `.duration`, `save(path)`."""

    #: Videos up to this size are embedded in the notebook as data; larger ones are saved beside it.
    embed_limit = 16 * 1000 * 1000

    def __init__(self, transport: Any, uri: str | None = None, data: Any = None, mime_type: str = "video/mp4",
                 operation: str = "") -> None:
        self._transport = transport
        self.uri = uri
        self.mime_type = str(mime_type or "video/mp4").split(";")[0].strip()
        self.operation = operation
        self.path: Path | None = None
        self._data: bytes | None = base64.b64decode(data) if isinstance(data, str) else (
            bytes(data) if data is not None else None)
        self._size: int | None = len(self._data) if self._data is not None else None

    @property
    def name(self) -> str:
        """A short name for files: the Files id of the URI, else the operation's last segment."""
        if self.uri and "files/" in self.uri:
            return self.uri.split("files/", 1)[1].split(":")[0].split("?")[0]
        return (self.operation.rsplit("/", 1)[-1] or "video").replace("_", "-")

    @property
    def extension(self) -> str:
        return {"video/mp4": ".mp4", "video/webm": ".webm", "video/quicktime": ".mov"}.get(self.mime_type, ".mp4")

    @property
    def bytes(self) -> bytes:
        """The whole video (downloaded on first use). Raises DownloadError, APIError."""
        if self._data is None:
            if self.path is not None and self.path.exists():
                self._data = self.path.read_bytes()
            else:
                sink = io.BytesIO()
                self._fetch(sink)
                self._data = sink.getvalue()
            self._size = len(self._data)
        return self._data

    @property
    def size(self) -> int | None:
        """Bytes, once known (after a download or a save); None before."""
        return self._size

    @property
    def duration(self) -> float | None:
        """Seconds, read from the MP4 header of what is here (None before a download, or not an MP4)."""
        try:
            if self._data is not None:
                return mp4_duration(self._data)
            if self.path is not None and self.path.exists():
                return mp4_duration(self.path)
        except (OSError, ValueError):
            return None
        return None

    def save(self, path: Any = None, progress: Callable[[int, "int | None"], None] | None = None,
             max_bytes: int = DEFAULT_MAX_BYTES) -> Path:
        """Write the video to `path` (default: `{name}{extension}` here); a folder gets that name inside.

        Streamed: bytes go to `path + ".part"`, renamed to `path` when complete, so a cut download
        never leaves a file that looks whole. `progress(received, total)` as bytes arrive. Returns the
        Path. Raises DownloadError (refused, too big, cut), APIError, OSError (the local file: it names
        the path and leaves nothing behind)."""
        target = Path(path).expanduser() if path is not None else Path(f"{self.name}{self.extension}")
        if target.is_dir():
            target = target / f"{self.name}{self.extension}"
        partial = target.with_name(target.name + ".part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with open(partial, "wb") as sink:
                    if self._data is not None:
                        sink.write(self._data)
                    else:
                        self._fetch(sink, progress, max_bytes)
                os.replace(partial, target)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        except OSError as error:  # the local side: a full disk, a read-only or missing folder, ...
            where = self.operation or self.uri
            raise type(error)(error.errno, f"Could not write the video to {target}: {error.strerror or error}. "
                                           f"Nothing is lost: save again to another path (or once there is room); "
                                           f"the video is still at the service ({where}).") from None
        self._size = target.stat().st_size
        self.path = target
        return target

    def _fetch(self, sink, progress=None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if not self.uri:
            raise ValueError("This video has neither data nor a URI to download it from.")
        result = download(self._transport, self.uri, sink, progress=progress, max_bytes=max_bytes)
        self.mime_type = result.mime_type if result.mime_type.startswith("video/") else self.mime_type

    def describe(self) -> str:
        """"video/mp4, 2.0 s, 17.7 KB" with what is known so far."""
        bits = [self.mime_type]
        if self.duration is not None:
            bits.append(f"{self.duration:.1f} s")
        bits.append(human_size(self._size) if self._size is not None else "not downloaded yet")
        return ", ".join(bits)

    def __repr__(self) -> str:
        where = f", saved as {str(self.path)!r}" if self.path is not None else ""
        return f"<Video {self.describe()}{where}; from {self.operation or self.uri}>"
