"""Streamed downloads of generated media (Files `:download?alt=media` URIs), written as they arrive.

    from gemini_magic.wire.download import download
    with open("clip.mp4", "wb") as out:
        result = download(client.transport, video_uri, out, progress=lambda got, total: ...)
    result.size, result.mime_type, result.resumed

- The key: sent in its header only to the base URL's origin. Redirects are followed here, one hop at
  a time (at most `MAX_REDIRECTS`), and each hop decides again: a hop to another host (the service
  redirects media to a signed URL elsewhere) carries no key. requests itself would keep a custom
  header on a redirect to another host.
- Memory: bytes go from the socket to `sink` in `CHUNK` pieces; nothing holds the whole file.
- A size limit (`max_bytes`): a larger announced size is refused before a byte is read, and a body
  that grows past it is stopped (DownloadError).
- A cut download (the connection closes early) is resumed with `Range: bytes=N-` when the server
  announced `Accept-Ranges: bytes` and `sink` is where the first N bytes went; at most
  `MAX_RESUMES` times. Otherwise DownloadError says how much arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO, Callable
from urllib.parse import urljoin

from ..errors import DownloadError, GeminiError
from .endpoint import same_origin

CHUNK = 1024 * 1024
MAX_REDIRECTS = 5
MAX_RESUMES = 3
DEFAULT_MAX_BYTES = 4 * 1000 * 1000 * 1000  # 4 GB: far above any generated video

Progress = Callable[[int, "int | None"], None]


@dataclass
class DownloadResult:
    """What was written: `size` bytes of `mime_type` from `url` (the last hop), after `resumed` resumes."""

    size: int
    mime_type: str
    url: str
    resumed: int = 0
    redirects: int = 0


def download(transport: Any, url: str, sink: BinaryIO, *, max_bytes: int = DEFAULT_MAX_BYTES,
             progress: Progress | None = None, params: dict | None = None) -> DownloadResult:
    """Write the body at `url` (a full URL or a path under the base URL) into `sink` (a binary file).

    `progress(received_bytes, total_bytes_or_None)` is called as bytes arrive. Raises DownloadError
    (too big, cut and not resumable, too many redirects, a redirect without a Location), APIError for
    an answer >= 400 (key redacted), APIConnectionError when nothing could be fetched, and the
    OSError of `sink.write` as it is (a full disk is not a cut download).
    """
    received, resumed, redirects = 0, 0, 0
    total: int | None = None
    current = transport.url(url)
    mime = "application/octet-stream"
    start = _position(sink)
    while True:
        # identity: byte offsets of a Range request must be those of the file, not of a compressed body
        headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={received}-"} if received else {})}
        response = _fetch(transport, current, headers, params)
        if 300 <= response.status_code < 400:
            location = response.headers.get("Location")
            response.close()
            redirects += 1
            if not location:
                raise DownloadError(f"{_where(current)} answered with a redirect without a Location; nothing was "
                                    "downloaded.")
            if redirects > MAX_REDIRECTS:
                raise DownloadError(f"The download was redirected more than {MAX_REDIRECTS} times; stopped.")
            current, params = urljoin(current, location), None  # a Location carries its own query
            continue
        try:
            if received and (response.status_code != 206
                             or not response.headers.get("Content-Range", "").startswith(f"bytes {received}-")):
                raise DownloadError(f"The download broke off after {received:,} bytes and the server did not resume "
                                    f"it (it answered {response.status_code} to a Range request); try again.",
                                    received, total)
            mime = response.headers.get("Content-Type", mime)
            announced = _length(response)
            if not received:
                total = announced
            if total is not None and total > max_bytes:
                raise DownloadError(f"The download is {total:,} bytes, more than the limit of {max_bytes:,} "
                                    "(max_bytes=); nothing was written.", 0, total)
            resumable = response.headers.get("Accept-Ranges", "").lower() == "bytes"
            try:
                for block in _blocks(response):
                    received += len(block)
                    if received > max_bytes:
                        raise DownloadError(f"The download grew past the limit of {max_bytes:,} bytes; stopped after "
                                            f"{received - len(block):,} bytes.", received - len(block), total)
                    try:
                        sink.write(block)
                    except OSError as error:  # the local file (a full disk, ...): not the download's fault
                        raise _SinkError(error) from error
                    if progress is not None:
                        progress(received, total)
            except GeminiError:
                raise
            except _SinkError as failed:
                raise failed.error from None
            except Exception as exc:  # requests' ChunkedEncodingError / ConnectionError: the body broke off
                cut = transport.map_exception(exc, f"The download from {_where(current)} broke off")
                if not resumable or resumed >= MAX_RESUMES or start is None or _position(sink) != start + received:
                    raise DownloadError(f"The download broke off after {received:,} of "
                                        f"{_of(total)} bytes ({cut}); run it again.", received, total) from None
                resumed += 1
                continue
        finally:
            response.close()
        if total is not None and received < total:
            if resumable and resumed < MAX_RESUMES:
                resumed += 1
                continue
            raise DownloadError(f"The download ended after {received:,} of {total:,} bytes; run it again.",
                                received, total)
        return DownloadResult(received, mime.split(";")[0].strip(), current, resumed, redirects)


class _SinkError(Exception):
    """An OSError of `sink.write`, carried past the handler of a body that broke off."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


def _fetch(transport: Any, url: str, headers: dict | None, params: dict | None):
    return transport.send("GET", url, params=params, headers=headers, stream=True, redirects=True,
                          with_key=same_origin(url, transport.base_url))


def _blocks(response):
    """The body as it arrives: `read1` returns what the socket has (so a cut loses no received byte);
    urllib3 before 2.0 has no read1, and then whole CHUNKs are read."""
    raw = response.raw
    if not hasattr(raw, "read1"):
        yield from response.iter_content(CHUNK)
        return
    while True:
        block = raw.read1(CHUNK)
        if not block:
            return
        yield block


def _length(response) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        length = int(value) if value is not None else None
    except ValueError:
        return None
    if length is not None and response.status_code == 206:
        spec = response.headers.get("Content-Range", "")  # "bytes 100-17666/17667": the whole size
        whole = spec.rpartition("/")[2]
        return int(whole) if whole.isdigit() else None
    return length


def _position(sink: BinaryIO) -> int | None:
    """Where `sink` is now (None when it cannot tell: then a cut download is not resumed into it)."""
    try:
        return sink.tell()
    except (OSError, AttributeError, ValueError):
        return None


def _where(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _of(total: int | None) -> str:
    return f"{total:,}" if total is not None else "an unknown number of"
