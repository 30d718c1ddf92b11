"""Scripted faults and replayed responses, queued until a matching request consumes them.

A test queues a fault (``Emulator.inject``) or a canned response (``Emulator.replay``); the next
request of the right category takes the first queued item that applies to it, in FIFO order.
An item applies when its ``match`` names the request's category AND its kind makes sense for that
request: a ``drop_after`` fault queued with ``match="any"`` waits for the next *stream* instead of
being wasted on a models listing, and an ``upload_status`` fault waits for the next finalized upload.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

# Request categories, as given to ``match``.
MATCHES = ("any", "generate", "stream", "count", "models", "upload", "upload_chunk", "files",
           "interactions", "batches", "embed", "live", "videos", "images", "download")

_GENERATION = {"generate", "stream"}
# Which request categories each fault kind can act on ("*" = every request).
APPLIES_TO = {
    "status": {"*"},
    "drop": {"*"},
    "slow": {"*"},
    "drop_after": {"stream", "interactions"},  # interactions: streamed creates only (others put it back)
    "error_mid_stream": {"stream", "interactions"},
    "cut": {"stream", "interactions"},
    "block_prompt": _GENERATION,
    "finish": _GENERATION,
    "thoughts": _GENERATION | {"interactions"},
    "upload_status": {"upload_finalize"},
    "drop_at_offset": {"upload_chunk"},
    # Live connections (emulator/live.py), taken together when a connection opens.
    "go_away": {"live"},
    "live_close": {"live"},
    "live_drop": {"live"},
    "live_interrupt": {"live"},
    "tool_cancel": {"live"},
    "video_failed": {"videos"},      # the next video operation ends with an error (emulator/videos.py)
    "video_filtered": {"videos"},    # ... with every sample filtered by the safety filters
    "cut_download": {"download"},    # the download closes after at= bytes
    "redirect_download": {"download"},  # the download answers 302 to another origin
}
KINDS = tuple(APPLIES_TO)


@dataclass
class Fault:
    """One queued fault: its kind, the requests it matches, how many more times it fires, its params."""

    kind: str
    match: str = "any"
    times: int = 1
    params: dict = field(default_factory=dict)

    def get(self, name, default=None):
        return self.params.get(name, default)


@dataclass
class Replay:
    """A canned answer served byte for byte (used to play back real recordings)."""

    body: bytes
    status: int = 200
    content_type: str = "text/event-stream"
    headers: dict = field(default_factory=dict)
    chunk_size: int | None = None
    chunk_delay: float = 0.0
    match: str = "any"
    times: int = 1
    kind: str = "replay"

    def pieces(self) -> list[bytes]:
        if not self.chunk_size or self.chunk_size <= 0:
            return [self.body] if self.body else []
        size = self.chunk_size
        return [self.body[i:i + size] for i in range(0, len(self.body), size)]


def make_fault(kind: str, match: str = "any", times: int = 1, **params) -> Fault:
    """Check a fault's description and build it; raises ValueError naming what is wrong."""
    if kind not in APPLIES_TO:
        raise ValueError(f"unknown fault kind {kind!r}; choose one of {', '.join(KINDS)}")
    _check_match_and_times(match, times)
    if kind == "status" and "code" not in params:
        raise ValueError("a 'status' fault needs code=... (for example 429, 500 or 503)")
    if kind == "live_close" and "code" not in params:
        raise ValueError("a 'live_close' fault needs code=... (for example 1007, 1008 or 1011)")
    if kind == "drop_at_offset" and "offset" not in params:
        raise ValueError("a 'drop_at_offset' fault needs offset=... (bytes of the file)")
    return Fault(kind, match, int(times), dict(params))


def make_replay(body: bytes, status=200, content_type="text/event-stream", headers=None,
                chunk_size=None, chunk_delay=0.0, match="any", times=1) -> Replay:
    if not isinstance(body, (bytes, bytearray)):
        raise ValueError("replay body must be bytes")
    _check_match_and_times(match, times)
    return Replay(bytes(body), int(status), content_type, dict(headers or {}),
                  int(chunk_size) if chunk_size else None, float(chunk_delay), match, int(times))


def _check_match_and_times(match, times):
    if match not in MATCHES:
        raise ValueError(f"unknown match {match!r}; choose one of {', '.join(MATCHES)}")
    if int(times) < 1:
        raise ValueError("times must be at least 1")


def categories(route: str) -> set[str]:
    """The match names a request of this route answers to (``route`` is its own category)."""
    names = {"any", route}
    if route == "upload_chunk":
        names.add("upload")
    return names


class FaultQueue:
    """Thread-safe FIFO of faults and replays."""

    def __init__(self):
        self._items: list = []
        self._lock = threading.Lock()

    def add(self, item) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def take(self, route: str, finalize: bool = False):
        """Remove and return the first item that applies to a request of ``route``, or None."""
        names = categories(route)
        acting_as = {route, "upload_finalize"} if finalize else {route}
        with self._lock:
            for index, item in enumerate(self._items):
                if item.match not in names:
                    continue
                if isinstance(item, Fault):
                    targets = APPLIES_TO[item.kind]
                    if "*" not in targets and not targets & acting_as:
                        continue
                item.times -= 1
                if item.times <= 0:
                    del self._items[index]
                    return item
                # A repeating item stays queued; hand out a one-shot copy.
                return _copy(item)
        return None

    def take_all(self, route: str, kinds: tuple) -> list:
        """Remove and return every queued fault of `kinds` for a request of `route` (one use each)."""
        taken = []
        while True:
            with self._lock:
                found = next((item for item in self._items if isinstance(item, Fault) and item.kind in kinds
                              and item.match in categories(route)), None)
            if found is None:
                return taken
            taken.append(self.take_item(found))

    def take_item(self, item):
        with self._lock:
            item.times -= 1
            if item.times <= 0:
                self._items.remove(item)
                return item
            return _copy(item)

    def put_back(self, item) -> None:
        """Return an item that did not fire (e.g. an upload chunk that never reached its offset)."""
        with self._lock:
            for queued in self._items:
                if queued.kind == item.kind and queued.params == getattr(item, "params", None):
                    queued.times += 1
                    return
            item.times = 1
            self._items.insert(0, item)


def _copy(item):
    if isinstance(item, Fault):
        return Fault(item.kind, item.match, 1, dict(item.params))
    return Replay(item.body, item.status, item.content_type, dict(item.headers), item.chunk_size,
                  item.chunk_delay, item.match, 1)
