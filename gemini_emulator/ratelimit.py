"""Per-minute and per-day request limits, answered with the service's 429 body.

The service counts requests per model and project; the emulator counts requests per model. The
per-minute limit is enforced as a token bucket (``rpm / 60`` requests a second, a burst of one
second's worth), not as a fixed 60-second window: the real service does not publish its window,
and a bucket is what makes "N requests a minute" mean a steady rate a client can measure itself
against. The per-day limit is a plain counter (reset with ``Emulator.reset``).

A tokens-a-minute limit (``tpm``) applies to embedding calls (``embedContent``,
``batchEmbedContents``: the texts' tokens by the emulator's token rule, ceil(UTF-8 bytes / 4));
generate requests are not counted against it. It is a bucket too (``tpm / 60`` tokens a second,
holding one second's worth): a request is admitted while the bucket is above zero, and its tokens
may take it below zero (a debt paid back before the next request is admitted), so a client paced
to ``tpm`` gets through whatever its request sizes, and over any T seconds at most
``tpm / 60 * (T + 1)`` tokens plus one request's get in.

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
TOKEN_QUOTA_ID = "EmbedContentInputTokensPerMinutePerProjectPerModel-FreeTier"  # no recording: named like the rest
DAY_QUOTA_ID = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
QUOTA_METRIC = "generativelanguage.googleapis.com/generate_content_free_tier_requests"


class RateLimits:
    """Token buckets (per minute) and counters (per day), one of each per model; thread-safe."""

    def __init__(self, rpm: float | None = None, rpd: int | None = None, clock=time.monotonic,
                 tpm: float | None = None):
        self._lock = threading.Lock()
        self._clock = clock
        self.rpm = self.rpd = self.tpm = None
        self.refused = 0  # 429s answered since the last reset
        self.set(rpm, rpd, tpm)
        self.initial = (self.rpm, self.rpd, self.tpm)

    def set(self, rpm: float | None = None, rpd: int | None = None, tpm: float | None = None) -> None:
        """New limits (None: no limit); buckets start full."""
        for name, value in (("rpm", rpm), ("rpd", rpd), ("tpm", tpm)):
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0):
                raise ValueError(f"{name} must be a positive number or None, not {value!r}")
        with self._lock:
            self.rpm = float(rpm) if rpm is not None else None
            self.rpd = int(rpd) if rpd is not None else None
            self.tpm = float(tpm) if tpm is not None else None
            self._token_buckets: dict[str, tuple[float, float]] = {}  # model -> (tokens, last refill time)
            self._buckets: dict[str, tuple[float, float]] = {}  # model -> (tokens, last refill time)
            self._days: dict[str, int] = {}

    def reset(self) -> None:
        """The limits the emulator started with, full buckets, zero daily counts and refusals."""
        self.set(*self.initial)
        with self._lock:
            self.refused = 0

    def describe(self) -> dict:
        return {"rate_limit_rpm": self.rpm, "rate_limit_rpd": self.rpd, "rate_limit_tpm": self.tpm,
                "rate_limited": self.refused}

    def take(self, model: str, tokens: int = 0) -> None:
        """Count one request of `tokens` tokens (embeddings; 0 for generate) for `model`, or raise
        the 429 ApiError when a limit is reached (nothing counted then)."""
        with self._lock:
            if self.tpm is not None and tokens:
                rate = self.tpm / 60.0
                capacity = max(1.0, rate)
                now = self._clock()
                held, last = self._token_buckets.get(model, (capacity, now))
                held = min(capacity, held + (now - last) * rate)
                if held <= 0:
                    self._token_buckets[model] = (held, now)
                    self.refused += 1
                    raise quota_error(model, TOKEN_QUOTA_ID, self.tpm, (1e-3 - held) / rate)
                self._token_buckets[model] = (held, now)  # taken below, once every limit has admitted it
            used = self._days.get(model, 0)
            if self.rpd is not None and used >= self.rpd:
                self.refused += 1
                raise quota_error(model, DAY_QUOTA_ID, self.rpd, _seconds_to_midnight())
            if self.rpm is not None:
                rate = self.rpm / 60.0
                capacity = max(1.0, rate)
                now = self._clock()
                allowed, last = self._buckets.get(model, (capacity, now))
                allowed = min(capacity, allowed + (now - last) * rate)
                if allowed < 1.0:
                    self._buckets[model] = (allowed, now)
                    self.refused += 1
                    raise quota_error(model, MINUTE_QUOTA_ID, self.rpm, (1.0 - allowed) / rate)
                self._buckets[model] = (allowed - 1.0, now)
            if self.tpm is not None and tokens:
                held, last = self._token_buckets[model]
                self._token_buckets[model] = (held - tokens, last)
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
