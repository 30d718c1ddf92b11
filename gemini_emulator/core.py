"""The ``Emulator`` object: start and stop the server, script faults, read the request log.

Example::

    from gemini_emulator import Emulator

    with Emulator(pace=0.0) as emu:            # a free port on 127.0.0.1, served from a daemon thread
        emu.inject("status", match="generate", code=429, retry_delay="2s")
        ...                                     # point a client at emu.base_url
        assert emu.requests[-1].headers["x-goog-api-key"]
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import weakref
from dataclasses import dataclass, field

from gemini_magic.constants import DEFAULT_UPLOAD_GRANULARITY, FILE_TTL_SECONDS

from .caches import CacheStore
from .batches import BatchStore
from .faults import FaultQueue, make_fault, make_replay
from .files import FileStore
from .interactions import InteractionStore
from .live import LiveStore
from .ratelimit import RateLimits
from .videos import VideoStore

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator received it. Header names are lower-cased.

    Upload chunks are written straight to disk, so their ``body`` is ``b""``; ``body_size`` tells
    how many bytes the request declared (or carried, for other requests).
    """

    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    json: object = None
    body_size: int = field(default=0)
    #: What the emulator answered, filled in after the request is recorded: ``responseId`` for a
    #: generate request, the structured link from an answer back to the request that asked for it.
    answered: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def response_id(self) -> str | None:
        """The ``responseId`` of the answer a generate request got (None for other requests, or an error)."""
        return self.answered.get("responseId")


class Emulator:
    """A local Gemini-compatible HTTP server (not the real Gemini API).

    ``pace``: seconds between stream events (settable any time). ``api_key``: when given, other keys
    are refused as the service refuses unknown keys; otherwise any non-empty key is accepted.
    ``file_processing_delay``: seconds an uploaded file stays PROCESSING. ``port=0`` picks a free
    port. ``upload_granularity``: the chunk granularity announced to uploaders. ``file_ttl``:
    seconds before an uploaded file expires. ``latency``: seconds every generate request waits
    before answering. ``rate_limit_rpm`` / ``rate_limit_rpd``: generate requests a minute (a token
    bucket) and a day, per model, past which the service's 429 is answered (see ratelimit.py);
    ``rate_limit_tpm``: embedding tokens a minute (embedContent, batchEmbedContents).
    ``batch_step_seconds``: seconds per batch state change (None: one change per GET of the job).
    ``video_polls``: reads of a video operation that answer ``done: false`` before it is done.
    ``imagen_retired``: answer Imagen's ``:predict`` with the 404 the Gemini API gives since 2026.
    """

    def __init__(self, pace: float = 0.0, api_key: str | None = None, file_processing_delay: float = 0.0,
                 port: int = 0, host: str = "127.0.0.1",
                 upload_granularity: int = DEFAULT_UPLOAD_GRANULARITY,
                 file_ttl: float = FILE_TTL_SECONDS, verbose: bool = False, latency: float = 0.0,
                 rate_limit_rpm: float | None = None, rate_limit_rpd: int | None = None,
                 batch_step_seconds: float | None = None, video_polls: int = 2, imagen_retired: bool = True,
                 rate_limit_tpm: float | None = None):
        if host not in LOOPBACK:
            raise ValueError(f"the emulator listens on loopback only, not {host!r}")
        if upload_granularity <= 0:
            raise ValueError("upload_granularity must be positive")
        self.pace = float(pace)
        self.api_key = api_key
        self.port = int(port)
        self.host = "127.0.0.1" if host == "localhost" else host
        self.verbose = verbose
        self.faults = FaultQueue()
        self._directory = tempfile.mkdtemp(prefix="gemini-emulator-")
        # Uploaded bytes live here; removed at stop(), or when the object goes if never stopped.
        weakref.finalize(self, shutil.rmtree, self._directory, True)
        self.store = FileStore(self._directory, int(upload_granularity), float(file_processing_delay),
                               float(file_ttl))
        self.interactions = InteractionStore()  # kept Interactions API answers, by id
        self.latency = self._initial_latency = float(latency)
        self.rate_limits = RateLimits(rate_limit_rpm, rate_limit_rpd, tpm=rate_limit_tpm)
        self.batches = BatchStore(self.store, batch_step_seconds)  # Batch API jobs, by id
        self.caches = CacheStore()  # cachedContents, by id
        self.live = LiveStore()  # Live sessions by resumption handle, and the messages received
        self.videos = VideoStore(self.store, video_polls, imagen_retired)  # Veo operations (videos.py)
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "Emulator":
        from .server import EmulatorServer  # late: keeps `import gemini_emulator` light

        if self._server is not None:
            return self
        os.makedirs(self._directory, exist_ok=True)  # again after a stop(): restartable
        self._server = EmulatorServer((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"gemini-emulator-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with server.sockets_lock:  # handler threads discard from the set as they finish
            sockets = list(server.open_sockets)
        for sock in sockets:
            try:  # wake handler threads blocked on keep-alive reads or mid-stream
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        self._thread.join(timeout=5)
        self.store.clear()
        shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- scripting ------------------------------------------------------------------------------
    def inject(self, kind: str, match: str = "any", times: int = 1, **params) -> None:
        """Queue a one-shot fault (``times`` repeats it) for the next request matching ``match``."""
        self.faults.add(make_fault(kind, match, times, **params))

    def replay(self, body: bytes, status: int = 200, content_type: str = "text/event-stream",
               headers: dict | None = None, chunk_size: int | None = None, chunk_delay: float = 0.0,
               match: str = "any", times: int = 1) -> None:
        """Answer the next matching request with exactly ``body`` (chunked transfer)."""
        self.faults.add(make_replay(body, status, content_type, headers, chunk_size, chunk_delay,
                                    match, times))

    def set_rate_limit(self, rpm: float | None = None, rpd: int | None = None, tpm: float | None = None) -> None:
        """Limit generate requests per model: `rpm` a minute (token bucket), `rpd` a day; `tpm`:
        embedding tokens a minute; None: no limit."""
        self.rate_limits.set(rpm, rpd, tpm)

    def set_batch_state(self, name: str, state: str) -> dict:
        """Force a batch job into a state ("FAILED", "CANCELLED", "EXPIRED", "SUCCEEDED", ...)."""
        return self.batches.force(name, state)

    def pending(self) -> int:
        """How many faults and replays are still queued."""
        return len(self.faults)

    def reset(self) -> None:
        """Forget faults, replays, recorded requests, files, interactions, caches, batch jobs and upload
        counters; rate limits and latency go back to the constructor's values."""
        self.faults.clear()
        self.interactions.clear()
        self.batches.clear()
        self.rate_limits.reset()
        self.latency = self._initial_latency
        self.caches.clear()
        self.videos.clear()
        with self._lock:
            self._requests.clear()
        self.store.clear()
        self.live.clear()

    def configure(self, pace=None, file_processing_delay=None, api_key=..., latency=None,
                  rate_limit_rpm=..., rate_limit_rpd=..., video_polls=None, imagen_retired=None, rate_limit_tpm=...,
                  **unknown) -> None:
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        if pace is not None:
            self.pace = float(pace)
        if file_processing_delay is not None:
            self.store.processing_delay = float(file_processing_delay)
        if api_key is not ...:
            self.api_key = api_key
        if latency is not None:
            self.latency = self._initial_latency = float(latency)
        if video_polls is not None:
            self.videos.polls = int(video_polls)
        if imagen_retired is not None:
            self.videos.imagen_retired = bool(imagen_retired)
        if rate_limit_rpm is not ... or rate_limit_rpd is not ... or rate_limit_tpm is not ...:
            self.set_rate_limit(self.rate_limits.rpm if rate_limit_rpm is ... else rate_limit_rpm,
                                self.rate_limits.rpd if rate_limit_rpd is ... else rate_limit_rpd,
                                self.rate_limits.tpm if rate_limit_tpm is ... else rate_limit_tpm)

    def describe(self) -> dict:
        return {"pace": self.pace, "file_processing_delay": self.store.processing_delay,
                "upload_granularity": self.store.granularity, "file_ttl": self.store.ttl,
                "api_key_required": self.api_key is not None, "upload_stats": self.upload_stats,
                "pending_faults": self.pending(), "base_url": self.base_url, "latency": self.latency,
                "video_polls": self.videos.polls, "imagen_retired": self.videos.imagen_retired,
                **self.rate_limits.describe()}

    # -- observation ----------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def files(self) -> dict:
        """Stored files by name (``"files/abc123def456"``): StoredFile with ``.data()``, ``.state()``."""
        self.store.purge_expired()
        with self.store.lock:
            return dict(self.store.files)

    @property
    def upload_stats(self) -> dict:
        """``bytes_received`` (every chunk byte, re-sent ones included) and ``chunks`` (requests)."""
        with self.store.lock:
            return dict(self.store.stats)

    def record(self, method: str, path: str, query: dict, headers: dict, body: bytes,
               size: int) -> RecordedRequest:
        parsed = None
        if body:
            try:
                parsed = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                parsed = None
        recorded = RecordedRequest(method, path, query, headers, body, parsed, size)
        with self._lock:
            self._requests.append(recorded)
        return recorded
