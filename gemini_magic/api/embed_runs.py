"""Sending groups of embedding requests at the rate limit: `run_groups` for `embed` (api/embeddings.py).

Each group (up to 100 EmbedContentRequests) is one `:batchEmbedContents` call, admitted by the
rows engine's `AdaptiveLimiter` (api/limiter.py): at most `concurrency` in flight, paced to `rpm`
when given and to `tpm` tokens a minute (each group's estimated tokens, `tokens=`); a 429 halves the concurrency, paces to the rate the service accepted and pauses every
sender for its RetryInfo delay, then the same group is sent again. 5xx and connection errors are
retried with the client's backoff policy. Finished groups go to a `RowCache` (api/rows.py) keyed by
the group's request, so with `cache_dir` a re-run after an interruption or a failure sends only
the groups still missing. Results come back in group order whatever order the answers land in.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any, Callable

from ..errors import AuthenticationError, GeminiError, NotFoundError, PermissionDeniedError, RateLimitError
from ..request.rows import request_key
from ..wire.transport import is_retryable
from .limiter import AdaptiveLimiter, _Stopped
from .rows import RowCache, _backoff

MAX_RATE_LIMITED = 50  # 429s one group may meet before it fails for good (the limiter slows down at each)
MAX_ATTEMPTS = 5  # 5xx / connection errors per group


def run_groups(client: Any, path: str, groups: list[list[dict]], *, concurrency: int = 8, rpm: float | None = None,
               cache_dir: Any = None, progress: Callable[[int, int], None] | None = None,
               total: int | None = None, tpm: float | None = None, tokens: list[int] | None = None) -> list[list]:
    """The vectors of each group (a list of lists of floats per group), in group order.

    `path`: `models/{m}:batchEmbedContents`. `tokens`: each group's estimated tokens, counted
    against `tpm` (tokens a minute). `progress(done_texts, total_texts)` is called from this
    thread. Raises the first error a group met for good (after the other groups in flight end; the
    answered ones are kept in `cache_dir`), or KeyboardInterrupt after stopping the senders."""
    model = path.split(":", 1)[0]
    cache = RowCache(cache_dir)
    keys = [request_key(model, {"requests": group}) for group in groups]
    results: list[list | None] = [cache.get(key) for key in keys]
    total = sum(len(g) for g in groups) if total is None else total
    done = sum(len(groups[n]) for n, r in enumerate(results) if r is not None)
    todo = [n for n, r in enumerate(results) if r is None]
    if progress is not None and (done or not todo):
        progress(done, total)
    if not todo:
        return results  # type: ignore[return-value]
    limiter = AdaptiveLimiter(concurrency, rpm=rpm, tpm=tpm)
    sender = _Sender(client, path, limiter)
    pool = concurrent.futures.ThreadPoolExecutor(min(concurrency, len(todo)), thread_name_prefix="gemini-embed")
    futures = {pool.submit(sender.send, groups[n], tokens[n] if tokens else 0): n for n in todo}
    first_error: BaseException | None = None
    try:
        for future in concurrent.futures.as_completed(futures):
            number = futures[future]
            try:
                vectors = future.result()
            except BaseException as error:  # noqa: BLE001 - kept, raised once the rest has landed
                first_error = first_error or error
                continue
            results[number] = vectors
            cache.put(keys[number], vectors)
            done += len(groups[number])
            if progress is not None:
                progress(done, total)
    except KeyboardInterrupt:
        limiter.stop()
        for future in futures:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if first_error is not None:
        if isinstance(first_error, _Stopped) and sender.fatal is not None:
            raise sender.fatal
        raise first_error
    return results  # type: ignore[return-value]


class _Sender:
    """Sends one group until it is answered or fails for good (raises)."""

    def __init__(self, client: Any, path: str, limiter: AdaptiveLimiter) -> None:
        self.client, self.path, self.limiter = client, path, limiter
        self.fatal: GeminiError | None = None  # an error every group would meet: the rest stop at once

    def send(self, group: list[dict], tokens: int = 0) -> list:
        transport = self.client.transport
        attempts = rate_limited = 0
        while True:
            if self.fatal is not None:
                raise self.fatal
            sent_at = self.limiter.acquire(tokens)
            try:
                answer = transport.json(transport.send("POST", self.path, json={"requests": group}, retry=False))
            except RateLimitError as error:
                rate_limited += 1
                if error.is_daily_quota or rate_limited > MAX_RATE_LIMITED:
                    self._stop(error)
                    raise
                self.limiter.rate_limited(error.retry_delay, sent_at)
                continue
            except GeminiError as error:
                self.limiter.failed()
                attempts += 1
                if isinstance(error, (NotFoundError, AuthenticationError, PermissionDeniedError)):
                    self._stop(error)
                    raise
                if not is_retryable(error) or attempts >= MAX_ATTEMPTS:
                    raise
                transport.sleep(_backoff(transport.retry, attempts, getattr(error, "retry_delay", None)))
                continue
            except BaseException:
                self.limiter.failed()
                raise
            self.limiter.succeeded()
            vectors = [item.get("values", []) for item in answer.get("embeddings", [])]
            if len(vectors) != len(group):
                from ..errors import StreamProtocolError

                raise StreamProtocolError(f"The service answered {len(vectors)} embeddings for {len(group)} texts.")
            return vectors

    def _stop(self, error: GeminiError) -> None:
        self.fatal = error
        self.limiter.failed()
        self.limiter.stop()
