"""One prompt over many rows: concurrent, rate-limit aware, resumable. `map_prompts` and `rows_frame`.

    from gemini_magic.api.rows import map_prompts, rows_frame, RowCache
    cache = RowCache("~/.cache/reviews")             # or {} for memory only
    answers = map_prompts(client, "Classify: {row.text} ({row.stars} stars)", reviews,
                          model="gemini-2.5-flash", concurrency=8, cache=cache)
    frame = rows_frame(answers, reviews.index)       # text, finish_reason, tokens, error per row

How it runs (threads, never `asyncio.run`, so it works inside a running Jupyter event loop):

- Rows are prepared in order (`client.prepare`; kernel `{names}` converted once), keyed by
  `request_key(model, body)`, and each is sent as soon as it is ready, a bounded number ahead of
  the senders: the first rows go while the rest are prepared. Rows whose key is in `cache` are
  answered from it, unsent. Ctrl-C while preparing, before anything went, raises RowsInterrupted
  with `sent == 0`.
- Worker threads send the rest through an `AdaptiveLimiter`: at most `concurrency` requests in
  flight, paced to a rate when one is known (`rpm`, or what the service accepted). On a 429 it halves
  the concurrency, paces to the rate the service was accepting (never above half of what was being
  sent), and pauses everyone for the RetryInfo delay; each answer that arrives grows both again.
- A row that gets 429 or a transient failure (408, 5xx, a dropped connection) is retried without
  being lost; a row that still fails, or fails for good (400, a per-day quota...), gets a Response
  whose `.error` says why. `map_prompts` never raises for a row.
- Ctrl-C (KeyboardInterrupt, also raised by a `progress` callback) stops sending, lets requests
  already in flight finish (a second Ctrl-C stops waiting), and raises `RowsInterrupted` holding
  every finished row. Answers are cached as they arrive, so running again with the same cache sends
  no request twice for a finished row.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import tempfile
import threading
import time
from typing import Any, Callable

from ..errors import (AuthenticationError, GeminiError, NotFoundError, PermissionDeniedError, RateLimitError,  # noqa: F401
                      RowsInterrupted, SettingsError)  # RowsInterrupted: defined in errors.py, imported from here too
from ..request.body import model_path
from ..request.rows import CompiledRows, compile_rows, request_key
from ..answer.response import Response
from ..wire.transport import is_retryable
from .limiter import AdaptiveLimiter, _Stopped

Progress = Callable[[int, int, int, int], None]  # (done, total, errors, tokens)


class RowCache:
    """Answers by request key: in memory, and as one JSON file per answer in `directory` when given.

    Thread-safe. `get(key)` returns the raw GenerateContentResponse dict or None; `put(key, raw)`
    stores it (written to `<pid>-<random>.tmp`, then renamed into place, so an interrupt never leaves
    half an answer). Opening a directory removes the `.tmp` files a killed process left behind: those of
    a process that is no longer running, and any older than `STALE_SECONDS`."""

    STALE_SECONDS = 600.0  # a .tmp file lives for milliseconds; one this old was left by a crash

    def __init__(self, directory: str | os.PathLike | None = None) -> None:
        self.directory = os.path.expanduser(os.fspath(directory)) if directory is not None else None
        self.removed_orphans = 0
        if self.directory:
            os.makedirs(self.directory, exist_ok=True)
            self.removed_orphans = _remove_orphans(self.directory, self.STALE_SECONDS)
        self._memory: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._memory)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def get(self, key: str) -> Any:
        with self._lock:
            if key in self._memory:
                return self._memory[key]
        if not self.directory:
            return None
        try:
            with open(os.path.join(self.directory, key + ".json"), encoding="utf-8") as stream:
                value = json.load(stream)
        except (OSError, ValueError):
            return None
        with self._lock:
            self._memory[key] = value
        return value

    def put(self, key: str, raw: Any) -> None:
        with self._lock:
            self._memory[key] = raw
        if self.directory:
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=f"{os.getpid()}-", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump(raw, stream, ensure_ascii=False)
                os.replace(temporary, os.path.join(self.directory, key + ".json"))
            except BaseException:  # a failed or interrupted write leaves no .tmp behind
                try:
                    os.unlink(temporary)
                except OSError:
                    pass
                raise


def _remove_orphans(directory: str, stale_seconds: float) -> int:
    """Remove the `.tmp` files of `directory` that no running write can own: written by a process
    that has ended (their name starts with its pid), or older than `stale_seconds`. Returns how many."""
    removed, now = 0, time.time()
    try:
        names = [name for name in os.listdir(directory) if name.endswith(".tmp")]
    except OSError:
        return 0
    for name in names:
        path = os.path.join(directory, name)
        pid = name.split("-", 1)[0]
        try:
            old = now - os.stat(path).st_mtime > stale_seconds
            if old or (pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid))):
                os.unlink(path)
                removed += 1
        except OSError:
            continue  # gone already, or not ours to remove
    return removed


def _running(pid: int) -> bool:
    """Whether a process with this id exists (on this machine). On Windows, where os.kill(pid, 0) would
    end the process, it is assumed running: only the age rule removes files there."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists (another user's), or we cannot tell: keep its file
    return True


class _DictCache:
    """A plain dict used as a cache (memory only)."""

    def __init__(self, store: dict) -> None:
        self.store, self._lock = store, threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            return self.store.get(key)

    def put(self, key: str, raw: Any) -> None:
        with self._lock:
            self.store[key] = raw


def map_prompts(client: Any, template_or_prompts: Any, rows: Any = None, *, model: str, concurrency: int = 8,
                rpm: float | None = None, cache: Any = None, progress: Progress | None = None,
                namespace: dict | None = None, max_attempts: int = 8, max_rate_limited: int = 50,
                interrupt_grace: float = 30.0, **settings: Any) -> list[Response]:
    """Answer one prompt per row, concurrently; a list of Responses in row order.

    `template_or_prompts`: a template with `{row.col}` / `{row["col name"]}` / `{row}` fields (and
    kernel `{names}` looked up in `namespace`, converted once) run over `rows` (a DataFrame, Series,
    list of dicts or list of values), or, with `rows=None`, a list of prompts (each a str or a list
    of contents), or a CompiledRows (`request.rows.compile_rows`, built once by the caller; `rows` and
    `namespace` are then unused). `concurrency`: most requests in flight. `rpm`: a cap on requests a minute.
    `cache`: a dict or a RowCache (answers by request key; reused and filled). `progress(done, total,
    errors, tokens)` is called from this thread as rows finish. Generation settings (`temperature=`,
    `system=`, `config=`, `schema=` where the client supports it ...) go to `client.prepare`.
    Per row: 429s are retried up to `max_rate_limited` times, transient failures up to `max_attempts`.

    Returns `list[Response]`; a failed row's Response has `.error` set (and `.incomplete`). Raises
    SettingsError / TypeError / RowTemplateError / UndefinedNameError for bad input before anything
    is sent (a row met after sending began fails with its ConversionError instead, so the rows sent
    are kept), and RowsInterrupted (a KeyboardInterrupt, with `.responses`) on interrupt.

        answers = map_prompts(client, "Translate to French: {row}", ["cat", "dog"], model="gemini-2.5-flash")
        [a.text for a in answers]
    """
    for name, value in (("concurrency", concurrency), ("rpm", rpm)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            raise SettingsError(f"{name} must be a number above 0; got {value!r}.")
    try:
        compiled = compile_rows(template_or_prompts, rows, namespace)  # built once (a CompiledRows passes as is)
        compiled = convert_objects(client, model, compiled, **settings)  # kernel objects: once for every row
    except KeyboardInterrupt:
        raise RowsInterrupted([], sent=0) from None
    template, items, replace = compiled.template, compiled.items, compiled.parts
    store = cache if hasattr(cache, "put") and hasattr(cache, "get") else _DictCache({} if cache is None else cache)
    prices = getattr(client, "prices", None)

    def prepare(number: int):
        """Row `number` as (turn to send, None) or (None, its Response: from the cache, or failed).
        Raises SettingsError / TypeError, which are the same for every row."""
        try:
            contents = template.render(items[number], replace) if template is not None else items[number]
            turn = client.prepare(model, contents, **settings)
        except (SettingsError, TypeError):
            raise
        except GeminiError as error:
            return None, _failed(model, None, error)
        raw = store.get(request_key(turn.model, turn.body))
        return (turn, None) if raw is None else (None, _answered(raw, turn, elapsed=0.0, prices=prices))

    runner = _Runner(client, store, AdaptiveLimiter(concurrency, rpm), max_attempts, max_rate_limited)
    return runner.run(len(items), prepare, progress, interrupt_grace, model)


def convert_objects(client: Any, model: str, compiled: CompiledRows, **settings: Any) -> CompiledRows:
    """`compiled` with `parts` filled: each kernel object its template names converted (or uploaded)
    once by `client.prepare(model, [obj], **settings)`, for every row to reuse. Returned as it is when
    its parts are there already or it has no template. Raises what `client.prepare` raises."""
    if compiled.parts is not None or compiled.template is None:
        return compiled
    parts = {id(obj): client.prepare(model, [obj], **settings).body["contents"][-1]["parts"]
             for obj in compiled.template.objects}
    return compiled._replace(parts=parts)


class _Runner:
    """Sends the rows that are not answered yet and collects their Responses."""

    def __init__(self, client, store, limiter: AdaptiveLimiter, max_attempts: int, max_rate_limited: int) -> None:
        self.client, self.store, self.limiter = client, store, limiter
        self.max_attempts, self.max_rate_limited = max_attempts, max_rate_limited
        # An error every row would meet (a per-day quota, an unknown model, a rejected key): once seen,
        # the other rows fail with it at once instead of each sending a request that cannot succeed.
        self.daily: GeminiError | None = None

    AHEAD = 4  # rows prepared ahead of the senders: this many per request in flight (at least 32)
    SLICE = 0.1  # seconds of preparing between two looks at the answers and the progress

    def run(self, total: int, prepare: Callable, progress: Progress | None, grace: float,
            model: str = "") -> list[Response]:
        """Prepare the rows in order and send each as soon as it is ready: the first rows go while the
        rest are prepared, at most AHEAD x concurrency waiting. `prepare(number)` gives (turn, None) or
        (None, response). Its SettingsError / TypeError is raised while nothing is sent yet; after
        that it fails that row only, so the rows already sent are not lost."""
        responses: list[Response | None] = [None] * total
        counts = {"done": 0, "errors": 0, "tokens": 0}
        ahead = max(32, self.AHEAD * self.limiter.max_concurrency)
        futures: dict = {}
        pending: set = set()
        pool = None
        upcoming = iter(range(total))
        more, reported = total > 0, None

        def finished(number: int, response: Response) -> None:
            responses[number] = response
            counts["done"] += 1
            counts["errors"] += response.error is not None
            counts["tokens"] += int(response.usage.get("totalTokenCount", 0) or 0)

        try:
            while True:
                ready, started = [], time.monotonic()
                while more and len(pending) + len(ready) < ahead and time.monotonic() - started < self.SLICE:
                    number = next(upcoming, None)
                    if number is None:
                        more = False
                        break
                    try:
                        turn, response = prepare(number)
                    except (SettingsError, TypeError) as error:
                        if not futures and not ready:
                            raise  # nothing is sent yet: said once, for every row
                        turn, response = None, _failed(model, None, error)
                    if response is not None:
                        finished(number, response)
                    else:
                        ready.append((number, turn))
                state = (counts["done"], total, counts["errors"], counts["tokens"])
                if progress is not None and state != reported:
                    reported = state
                    progress(*state)
                if ready and pool is None:
                    pool = concurrent.futures.ThreadPoolExecutor(min(self.limiter.max_concurrency, total),
                                                                 thread_name_prefix="gemini-rows")
                for number, turn in ready:
                    future = pool.submit(self.one, turn)
                    futures[future] = number
                    pending.add(future)
                if not pending:
                    if not more:
                        break
                    continue
                wait = 0.25 if not more or len(pending) >= ahead else 0.0  # rows left to prepare: only a look
                done, pending = concurrent.futures.wait(pending, timeout=wait,
                                                        return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    finished(futures[future], future.result())
        except KeyboardInterrupt:
            if pool is None:
                raise RowsInterrupted(responses, sent=0) from None
            self.limiter.stop()
            for future in pending:
                future.cancel()
            try:  # requests already sent may still land in the cache; a second Ctrl-C stops waiting
                concurrent.futures.wait(pending, timeout=grace)
            except KeyboardInterrupt:
                pass
            for future, number in futures.items():
                if future.done() and not future.cancelled() and future.exception() is None:
                    answer = future.result()
                    responses[number] = answer if answer.error is None or not isinstance(answer.error, _Stopped) else None
            pool.shutdown(wait=False, cancel_futures=True)
            raise RowsInterrupted([r if r is not None and not isinstance(r.error, _Stopped) else None
                                   for r in responses], sent=len(futures)) from None
        if pool is not None:
            pool.shutdown(wait=True)
        return responses

    def one(self, turn) -> Response:
        """Send one row until it is answered or fails for good; never raises."""
        transport = self.client.transport
        attempts = rate_limited = 0
        while True:
            if self.daily is not None:
                return _failed(turn.model, turn.body, self.daily)
            try:
                sent_at = self.limiter.acquire()
            except _Stopped as stopped:
                return _failed(turn.model, turn.body, self.daily or stopped)
            started = time.monotonic()
            try:
                http = transport.send("POST", f"{model_path(turn.model)}:generateContent", json=turn.body, retry=False)
                raw = transport.json(http)
            except RateLimitError as error:
                if error.is_daily_quota:  # hours away: the other rows fail at once instead of sending more
                    self.daily = error
                    self.limiter.failed()
                    self.limiter.stop()
                    return _failed(turn.model, turn.body, error)
                self.limiter.rate_limited(error.retry_delay, sent_at)
                rate_limited += 1
                if rate_limited > self.max_rate_limited:
                    return _failed(turn.model, turn.body, error)
                continue
            except GeminiError as error:
                self.limiter.failed()
                attempts += 1
                if isinstance(error, (NotFoundError, AuthenticationError, PermissionDeniedError)):
                    self.daily = error
                    self.limiter.stop()
                    return _failed(turn.model, turn.body, error)
                if not is_retryable(error) or attempts >= self.max_attempts:
                    return _failed(turn.model, turn.body, error)
                transport.sleep(transport.retry.backoff(attempts, getattr(error, "retry_delay", None)))
                continue
            except BaseException as error:  # a bug or an interrupt in this thread: the row records it
                self.limiter.failed()
                return _failed(turn.model, turn.body, error)
            self.limiter.succeeded()
            self.store.put(request_key(turn.model, turn.body), raw)
            return _answered(raw, turn, elapsed=time.monotonic() - started,
                             prices=getattr(self.client, "prices", None))


def _backoff(policy: Any, attempt: int, hinted: float | None) -> float:
    """`policy.backoff(attempt, hinted)`: the client's RetryPolicy (wire/transport.py) decides every
    retry delay; this name stays for api/embed_runs.py."""
    return policy.backoff(attempt, hinted)


def _answered(raw: dict, turn, elapsed: float, prices: Any = None) -> Response:
    response = Response([raw], model=turn.model, request=turn.body, answer_type=turn.answer_type, prices=prices)
    response.close(elapsed=elapsed, first_chunk=elapsed)
    return response


def _failed(model: str, body: dict | None, error: BaseException) -> Response:
    response = Response([], model=model, request=body)
    response.close(error=error)
    return response


def rows_frame(responses: list[Response], index: Any = None, schema: Any = None):
    """A pandas DataFrame, one row per Response: text, finish_reason, prompt_tokens, output_tokens,
    error (the error's message, or None); with `schema`, one more column per field of the parsed
    answer (a "parsed" column when an answer is not one record). `index`: the input's index."""
    import pandas as pd

    columns: dict[str, list] = {"text": [], "finish_reason": [], "prompt_tokens": [], "output_tokens": [], "error": []}
    parsed_rows: list = []
    for response in responses:
        usage = response.usage or {}
        failed = response.error is not None
        columns["text"].append(None if failed else response.text)
        columns["finish_reason"].append(response.finish_reason)
        columns["prompt_tokens"].append(usage.get("promptTokenCount"))
        columns["output_tokens"].append(usage.get("candidatesTokenCount"))
        columns["error"].append(str(response.error) if failed else None)
        if schema is not None:
            parsed_rows.append(None if failed else _parse(schema, response))
    frame = pd.DataFrame(columns, index=index)
    for column in ("prompt_tokens", "output_tokens"):
        frame[column] = frame[column].astype("Int64")
    if schema is not None:
        _add_schema_columns(frame, schema, parsed_rows)
    return frame


def _parse(schema: Any, response: Response) -> Any:
    try:
        from ..request.parsing import parse_answer
    except ImportError:  # structured output not available: plain JSON
        try:
            return response.json()
        except Exception as error:
            return error
    try:
        return parse_answer(schema, response.text, response.finish_reason)
    except GeminiError as error:
        return error


def _add_schema_columns(frame, schema: Any, values: list) -> None:
    try:
        from ..request.parsing import records
    except ImportError:
        records = None
    table: list[dict | None] = []
    for value in values:
        if value is None or isinstance(value, Exception):
            table.append(None)
            continue
        if records is not None:
            names, rows = records(schema, value)
            table.append(dict(zip(names, rows[0])) if len(rows) == 1 else {"parsed": value})
        else:
            table.append(value if isinstance(value, dict) else {"parsed": value})
    names: list[str] = []
    for row in table:
        for name in row or ():
            if name not in names:
                names.append(name)
    for name in names:
        if name in frame.columns:
            continue
        frame[name] = [None if row is None else row.get(name) for row in table]
    for position, value in enumerate(values):  # an answer that does not fit the schema: say so in error
        if isinstance(value, Exception) and frame["error"].iloc[position] is None:
            frame.iloc[position, frame.columns.get_loc("error")] = str(value)
