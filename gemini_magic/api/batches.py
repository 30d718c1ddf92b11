"""The Batch API: many generate requests run by Google's service at half price, within 24 hours.

    from gemini_magic.api.batches import create_batch, get_batch, list_batches
    job = create_batch(client, ["Capital of France?", "Capital of Japan?"], model="gemini-2.5-flash")
    job.wait()                                  # polls with backoff until the job is done
    [r.text for r in job.results()]             # Responses in input order
    get_batch(client, job.name)                 # re-attach later (after a kernel restart)

Requests go inline (`inputConfig.requests`) when the create body fits in 20 MB, else as a JSONL
file (one `{"key", "request"}` a line) uploaded through the Files API (`inputConfig.fileName`).
Every request carries a key (`keys=`, default "row-0", "row-1", ...) so results map back to input
order whether they come inline (`inlinedResponses.inlinedResponses[].metadata.key`) or as the
responses file downloaded from `/download/v1beta/files/{id}:download?alt=media`.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable

from ..constants import INLINE_REQUEST_LIMIT
from ..errors import BatchError, GeminiError, error_from_payload  # noqa: F401  (BatchError: re-exported)
from ..request.body import model_path
from ..request.rows import request_key
from ..answer.response import Response

STATE_PREFIX = "BATCH_STATE_"
DONE_STATES = ("SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED")


class BatchJob:
    """A batch job as last read: `.name`, `.state` ("PENDING", "RUNNING", "SUCCEEDED", "FAILED",
    "CANCELLED", "EXPIRED"), `.counts` (ints: requests, succeeded, failed, pending), `.display_name`,
    `.model`, `.done`, `.raw` (the operation JSON). Methods talk to the service through `client`."""

    def __init__(self, client: Any, raw: dict, keys: list[str] | None = None) -> None:
        self.client = client
        self.keys = keys  # input order, when this session created the job
        self._update(raw)

    def _update(self, raw: dict) -> None:
        self.raw = raw
        meta = raw.get("metadata") or {}
        self.name = raw.get("name") or meta.get("name", "")
        state = str(meta.get("state", "BATCH_STATE_UNSPECIFIED"))
        self.state = state[len(STATE_PREFIX):] if state.startswith(STATE_PREFIX) else state
        stats = meta.get("batchStats") or {}
        self.counts = {"requests": int(stats.get("requestCount", 0)), "succeeded": int(stats.get("successfulRequestCount", 0)),
                       "failed": int(stats.get("failedRequestCount", 0)), "pending": int(stats.get("pendingRequestCount", 0))}
        self.display_name = meta.get("displayName", "")
        self.model = str(meta.get("model", "")).removeprefix("models/")
        self.done = bool(raw.get("done")) or self.state in DONE_STATES

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts.items() if v)
        return f"BatchJob({self.name!r}, state={self.state!r}, {counts})"

    def refresh(self) -> "BatchJob":
        """Read the job again (GET batches/{id}); returns self."""
        self._update(self.client.request("GET", self.name))
        return self

    def wait(self, progress: Callable[["BatchJob"], None] | None = None, poll: float = 5.0, max_poll: float = 60.0,
             timeout: float | None = None) -> "BatchJob":
        """Poll until the job is done: every `poll` seconds at first, 1.5 times longer each time up to
        `max_poll`. `progress(job)` is called after each read. Raises TimeoutError after `timeout`
        seconds (the job keeps running on the service); returns self."""
        sleep = self.client.transport.sleep
        started, delay, slept = time.monotonic(), poll, 0.0
        self.refresh()
        while True:
            if progress is not None:
                progress(self)
            if self.done:
                return self
            if timeout is not None and max(time.monotonic() - started, slept) + delay > timeout:
                raise TimeoutError(f"{self.name} is still {self.state} after {timeout:g} s; wait() again later, or "
                                   f"re-attach with get_batch(client, {self.name!r}).")
            sleep(delay)
            slept += delay
            delay = min(max_poll, delay * 1.5)
            self.refresh()

    def results(self) -> list[Response]:
        """One Response per request, in input order; a failed request's Response has `.error` set.
        Raises BatchError when the job has not succeeded."""
        if self.state != "SUCCEEDED":
            raise BatchError(f"{self.name} is {self.state}, so it has no results"
                             + ("; call wait() first." if not self.done else "."))
        output = (self.raw.get("metadata") or {}).get("output") or self.raw.get("response") or {}
        if output.get("responsesFile"):
            items = self._download(output["responsesFile"])
        else:
            items = [{**item, "key": (item.get("metadata") or {}).get("key")}
                     for item in (output.get("inlinedResponses") or {}).get("inlinedResponses", [])]
        return self._in_order(items)

    def _download(self, file_name: str) -> list[dict]:
        file_id = file_name.split("files/", 1)[-1]
        http = self.client.transport.send("GET", f"/download/{self.client.transport.api_version}/files/{file_id}:download",
                                          params={"alt": "media"})
        return self.client.transport.json_lines(http)

    def _in_order(self, items: list[dict]) -> list[Response]:
        responses = [self._response(item) for item in items]
        keys = [item.get("key") for item in items]
        if not self.keys or any(key is None for key in keys):
            return responses  # no keys to map by: the service keeps input order
        by_key = dict(zip(keys, responses))
        missing = [key for key in self.keys if key not in by_key]
        if missing:
            raise BatchError(f"{self.name} has no result for key {missing[0]!r} ({len(missing)} missing).")
        return [by_key[key] for key in self.keys]

    def _response(self, item: dict) -> Response:
        if "error" in item:
            response = Response([], model=self.model)
            response.close(error=error_from_payload({"error": item["error"]}) or BatchError(str(item["error"])))
            return response
        return Response([item.get("response") or {}], model=self.model, batch=True,  # billed at the Batch discount
                        prices=getattr(self.client, "prices", None))

    def cancel(self) -> "BatchJob":
        """Ask the service to cancel the job (POST batches/{id}:cancel); returns self, refreshed."""
        self.client.request("POST", f"{self.name}:cancel")
        return self.refresh()

    def delete(self) -> None:
        """Delete the job (DELETE batches/{id}); its results go with it."""
        self.client.request("DELETE", self.name)


def batch_requests(client: Any, requests_or_prompts: Any, model: str, **settings: Any) -> list[dict]:
    """GenerateContentRequest bodies: a dict with "contents" is used as is, anything else is a prompt
    prepared by `client.prepare` (kernel objects converted, settings applied)."""
    items = list(requests_or_prompts.tolist() if hasattr(requests_or_prompts, "tolist") else requests_or_prompts)
    return [item if isinstance(item, dict) and "contents" in item else client.prepare(model, item, **settings).body
            for item in items]


def create_batch(client: Any, requests_or_prompts: Any, *, model: str, display_name: str | None = None,
                 keys: list | None = None, inline: bool | None = None, **settings: Any) -> BatchJob:
    """Start a batch job; returns its BatchJob (state PENDING).

    `requests_or_prompts`: prompts (str or lists of contents, prepared with `settings`) or request
    bodies (dicts with "contents"). `keys`: one unique key per request (default "row-0", ...).
    `inline`: force inline (True) or file input (False); by default inline when the request fits in
    20 MB. Raises ValueError for no requests or bad keys, and the client's errors from the service.
    """
    bodies = batch_requests(client, requests_or_prompts, model, **settings)
    if not bodies:
        raise ValueError("A batch needs at least one request.")
    keys = [f"row-{n}" for n in range(len(bodies))] if keys is None else [str(k) for k in keys]
    if len(keys) != len(bodies) or len(set(keys)) != len(keys):
        raise ValueError(f"keys must be {len(bodies)} unique values, one per request.")
    return start_batch(client, bodies, keys, model=model, method="batchGenerateContent",
                       display_name=display_name or f"gemini_magic-{len(bodies)}-rows", inline=inline)


def start_batch(client: Any, bodies: list[dict], keys: list[str], *, model: str, method: str,
                display_name: str, inline: bool | None = None) -> BatchJob:
    """POST `models/{model}:{method}` (batchGenerateContent, asyncBatchEmbedContent) with one entry
    per request body and key: inline when `inline` is True, or by default when the body fits in
    INLINE_REQUEST_LIMIT (20 MB), else as an uploaded JSONL file of `{"key", "request"}` lines.
    Returns the BatchJob; raises the client's errors from the service."""
    batch: dict[str, Any] = {"displayName": display_name}
    entries = [{"request": body, "metadata": {"key": key}} for body, key in zip(bodies, keys)]
    inline_config = {"requests": {"requests": entries}}
    if inline is None:
        size = len(json.dumps({"batch": {**batch, "inputConfig": inline_config}}, ensure_ascii=False).encode("utf-8"))
        inline = size <= INLINE_REQUEST_LIMIT
    if inline:
        batch["inputConfig"] = inline_config
    else:
        lines = "".join(json.dumps({"key": key, "request": body}, ensure_ascii=False) + "\n"
                        for body, key in zip(bodies, keys))
        uploaded = client.upload_file(lines.encode("utf-8"), mime_type="application/jsonl",
                                      display_name=f"{display_name}-input.jsonl")
        batch["inputConfig"] = {"fileName": uploaded.name}
    raw = client.request("POST", f"{model_path(model)}:{method}", json={"batch": batch})
    return BatchJob(client, raw, keys)


#: States of a job that can still give answers: re-running the same rows re-attaches to it.
LIVE_STATES = ("PENDING", "RUNNING", "SUCCEEDED")


def batch_key(model: str, bodies: list[dict]) -> str:
    """A hash of the model and every request body, in order (hex): the same rows and prompt give the
    same key, which the magic writes into the job's display name (`... #<first 12>`) to find it again."""
    return request_key(model, {"requests": bodies})


def find_batch(client: Any, key: str, names: Any = ()) -> BatchJob | None:
    """A job started for the same requests (`batch_key`) that can still give answers (LIVE_STATES), or
    None: first among `names` (jobs this session started), then among the key's jobs by display name
    (one list call). Errors while looking are not fatal: None."""
    tag = f"#{key[:12]}"
    for name in names:
        try:
            job = get_batch(client, name)
        except GeminiError:
            continue
        if job.state in LIVE_STATES and job.display_name.endswith(tag):
            return job
    try:
        jobs = list_batches(client)
    except GeminiError:
        return None
    return next((job for job in jobs if job.state in LIVE_STATES and job.display_name.endswith(tag)), None)


def get_batch(client: Any, name: str) -> BatchJob:
    """The job named `name` ("batches/..." or its id), read now. Raises NotFoundError when it is gone."""
    name = name if name.startswith("batches/") else f"batches/{name}"
    return BatchJob(client, client.request("GET", name))


def list_batches(client: Any, page_size: int = 50) -> list[BatchJob]:
    """Every batch job of the key's project, newest first (all pages)."""
    return [BatchJob(client, raw) for raw in client.paginate("batches", "operations", page_size)]
