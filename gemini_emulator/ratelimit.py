"""Per-minute and per-day request limits, answered with the service's 429 body.

The service counts requests per model and project; the emulator counts requests per model. The
per-minute limit is enforced as a token bucket (``rpm / 60`` requests a second, a burst of one
second's worth), not as a fixed 60-second window: the real service does not publish its window,
and a bucket is what makes "N requests a minute" mean a steady rate a client can measure itself
against. The per-day limit is a plain counter (reset with ``Emulator.reset``).

A refused request gets what recordings/errors/issue_429_*.json shows: ``RESOURCE_EXHAUSTED`` with
``QuotaFailure`` (quotaMetric, quotaId, quotaDimensions, quotaValue), ``Help`` and ``RetryInfo``
(last). ``retryDelay`` is the time until the bucket has a request again, in the Duration JSON form
(``"0.050s"``; the service sends whole seconds such as ``"26s"`` for its minute windows). A per-day
refusal carries a ``...PerDay...`` quotaId, which clients must not retry within minutes.
"""

from __future__ import annotations

import math
import threading
import time

from .errors import DEFAULT_MESSAGES, TYPE_PREFIX, ApiError

MINUTE_QUOTA_ID = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
DAY_QUOTA_ID = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
QUOTA_METRIC = "generativelanguage.googleapis.com/generate_content_free_tier_requests"


class RateLimits:
    """Token buckets (per minute) and counters (per day), one of each per model; thread-safe."""

    def __init__(self, rpm: float | None = None, rpd: int | None = None, clock=time.monotonic):
        self._lock = threading.Lock()
        self._clock = clock
        self.rpm = self.rpd = None
        self.refused = 0  # 429s answered since the last reset
        self.set(rpm, rpd)
        self.initial = (self.rpm, self.rpd)

    def set(self, rpm: float | None = None, rpd: int | None = None) -> None:
        """New limits (None: no limit); buckets start full."""
        for name, value in (("rpm", rpm), ("rpd", rpd)):
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0):
                raise ValueError(f"{name} must be a positive number or None, not {value!r}")
        with self._lock:
            self.rpm = float(rpm) if rpm is not None else None
            self.rpd = int(rpd) if rpd is not None else None
            self._buckets: dict[str, tuple[float, float]] = {}  # model -> (tokens, last refill time)
            self._days: dict[str, int] = {}

    def reset(self) -> None:
        """The limits the emulator started with, full buckets, zero daily counts and refusals."""
        self.set(*self.initial)
        with self._lock:
            self.refused = 0

    def describe(self) -> dict:
        return {"rate_limit_rpm": self.rpm, "rate_limit_rpd": self.rpd, "rate_limited": self.refused}

    def take(self, model: str) -> None:
        """Count one request for `model`, or raise the 429 ApiError when a limit is reached."""
        with self._lock:
            used = self._days.get(model, 0)
            if self.rpd is not None and used >= self.rpd:
                self.refused += 1
                raise quota_error(model, DAY_QUOTA_ID, self.rpd, _seconds_to_midnight())
            if self.rpm is not None:
                rate = self.rpm / 60.0
                capacity = max(1.0, rate)
                now = self._clock()
                tokens, last = self._buckets.get(model, (capacity, now))
                tokens = min(capacity, tokens + (now - last) * rate)
                if tokens < 1.0:
                    self._buckets[model] = (tokens, now)
                    self.refused += 1
                    raise quota_error(model, MINUTE_QUOTA_ID, self.rpm, (1.0 - tokens) / rate)
                self._buckets[model] = (tokens - 1.0, now)
            self._days[model] = used + 1


def quota_error(model: str, quota_id: str, limit: float, retry_seconds: float) -> ApiError:
    """The 429 RESOURCE_EXHAUSTED body of a refused request, details in the service's order."""
    details = [
        {"@type": TYPE_PREFIX + "QuotaFailure", "violations": [{
            "quotaMetric": QUOTA_METRIC,
            "quotaId": quota_id,
            "quotaDimensions": {"location": "global", "model": model},
            "quotaValue": str(int(limit)) if float(limit).is_integer() else str(limit),
        }]},
        {"@type": TYPE_PREFIX + "Help", "links": [{
            "description": "Learn more about Gemini API quotas",
            "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
        {"@type": TYPE_PREFIX + "RetryInfo", "retryDelay": duration(retry_seconds)},
    ]
    return ApiError(429, DEFAULT_MESSAGES[429], details=details)


def duration(seconds: float) -> str:
    """A google.protobuf.Duration in its JSON form: "26s" for whole seconds, else "0.050s"."""
    seconds = max(0.001, seconds)
    if seconds >= 10 or float(seconds).is_integer():
        return f"{math.ceil(seconds)}s"
    return f"{math.ceil(seconds * 1000) / 1000:.3f}s"


def _seconds_to_midnight() -> float:
    now = time.time()
    return 86400 - now % 86400  # the free tier's day ends at midnight Pacific; UTC is close enough here
