"""`AdaptiveLimiter`: AIMD admission of requests for `map_prompts` (api/rows.py).

At most `concurrency` requests in flight, paced to a rate when one is known (an `rpm` cap, or the
rate the service accepted before a 429), and to a `tpm` cap in tokens a minute when given (each
request says its estimated tokens to `acquire`: it starts once the tokens sent before it have
been paid for at that rate). A 429 halves the concurrency, paces to the accepted rate
(never above half of what was being sent when nothing was accepted yet), and pauses every sender
for the RetryInfo delay; each answer grows the concurrency by about one per round and the pace by
about one request a second per second. Thread-safe; the clock is injectable for tests.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Callable


class _Stopped(Exception):
    """The run was interrupted or a per-day quota ran out: send nothing more."""


class AdaptiveLimiter:
    """AIMD admission for requests: a concurrency limit and an optional pace (requests a second).

    `acquire()` blocks until a request may start and returns its start time; then exactly one of
    `succeeded()`, `rate_limited(delay, started)` or `failed()` ends it. Thread-safe. `rpm`: a hard
    cap on the pace; `tpm`: a hard cap in tokens a minute (`acquire(tokens)`). One 429 decreases the limits once: 429s of requests sent before that decrease
    (the rest of the same burst) only extend the pause.
    """

    WINDOW = 2.0  # seconds of answers that tell the rate the service accepts

    def __init__(self, concurrency: int, rpm: float | None = None, clock: Callable[[], float] = time.monotonic,
                 tpm: float | None = None) -> None:
        self.max_concurrency = max(1, int(concurrency))
        self.concurrency = float(self.max_concurrency)
        self.cap = rpm / 60.0 if rpm else None
        self.rate = self.cap  # requests a second; None: not paced
        self.token_rate = tpm / 60.0 if tpm else None  # tokens a second; None: not counted
        self._next_tokens = 0.0  # when the tokens already admitted are paid for at token_rate
        self.in_flight = 0
        self.stopped = False
        self.rate_limits = 0  # 429s seen
        self._clock = clock
        self._next_send = 0.0
        self._paused_until = 0.0
        self._decreased_at = float("-inf")
        self._started = clock()
        self._answers: collections.deque = collections.deque()
        self._sends: collections.deque = collections.deque()
        self._cond = threading.Condition()

    def acquire(self, tokens: int = 0) -> float:
        """Wait for a slot (and the pace, and the `tokens` fitting the tpm cap); the start time.
        Raises _Stopped once `stop()` was called."""
        with self._cond:
            while True:
                if self.stopped:
                    raise _Stopped()
                now = self._clock()
                waits = [self._paused_until - now, self._next_send - now]
                if self.token_rate and tokens:
                    waits.append(self._next_tokens - now)
                if self.in_flight < max(1, int(self.concurrency)) and max(waits) <= 0:
                    self.in_flight += 1
                    if self.rate:
                        self._next_send = max(now, self._next_send) + 1.0 / self.rate
                    if self.token_rate and tokens:
                        self._next_tokens = max(now, self._next_tokens) + tokens / self.token_rate
                    self._sends.append(now)
                    return now
                self._cond.wait(timeout=min(0.1, max(0.001, max(waits))))

    def succeeded(self) -> None:
        with self._cond:
            now = self._clock()
            self.in_flight -= 1
            self._answers.append(now)
            self.concurrency = min(self.max_concurrency, self.concurrency + 1.0 / max(1.0, self.concurrency))
            if self.rate is not None:
                grown = self.rate + 1.0 / self.rate  # about +1 request/s every second answers flow
                self.rate = min(grown, self.cap) if self.cap else grown
            self._cond.notify_all()

    def rate_limited(self, delay: float | None, started: float | None = None) -> None:
        """A 429: halve the concurrency, pace to the rate the service accepted (or half the pace),
        and pause all for `delay` seconds (RetryInfo). `started`: when the refused request was sent."""
        with self._cond:
            now = self._clock()
            self.in_flight -= 1
            self.rate_limits += 1
            if started is None or started >= self._decreased_at:
                self._decreased_at = now
                self.concurrency = max(1.0, self.concurrency / 2)
                accepted = self._recent(self._answers, now)
                if accepted > 0:
                    target = max(accepted, (self.rate or self._recent(self._sends, now)) / 2)
                else:  # no answer yet to learn a rate from: halve the pace if there is one
                    target = self.rate / 2 if self.rate else None
                if target is not None:
                    target = max(target, 0.2)
                    self.rate = min(target, self.cap) if self.cap else target
            pause = delay if delay is not None else (1.0 / self.rate if self.rate else 1.0)
            self._paused_until = max(self._paused_until, now + pause)
            self._next_send = max(self._next_send, self._paused_until)
            self._cond.notify_all()

    def failed(self) -> None:
        with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self.stopped = True
            self._cond.notify_all()

    def _recent(self, times: collections.deque, now: float) -> float:
        """Events a second over the last WINDOW seconds (or since the start, when younger)."""
        while times and times[0] < now - self.WINDOW:
            times.popleft()
        span = min(self.WINDOW, max(now - self._started, 1e-3))
        return len(times) / span
