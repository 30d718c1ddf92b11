"""Embeddings through the Batch API: `embed_batch(client, requests, model)` -> vectors in input order.

    from gemini_magic.api.embed_batches import create_embed_batch, embed_vectors
    job = create_embed_batch(client, embed_requests(texts, "gemini-embedding-001"), model="gemini-embedding-001")
    job.wait()
    vectors = embed_vectors(job)                # list of lists of floats, input order

`POST models/{m}:asyncBatchEmbedContent` with `{"batch": {"displayName", "inputConfig": {"requests":
{"requests": [{"request": EmbedContentRequest, "metadata": {"key": "text-0"}}, ...]}}}}` (inline, when
the body fits in 20 MB) or `{"inputConfig": {"fileName": "files/..."}}`, a JSONL file of
`{"key", "request"}` lines uploaded through the Files API. The job is an operation like a generate
batch (api/batches.py's BatchJob: state, counts, wait, cancel); its results are
`output.inlinedEmbedContentResponses.inlinedResponses[] {response: {embedding: {values}, tokenCount},
metadata.key}` or a responses file of `{"response", "key"}` lines
(recordings/batch/cookbook_batch-embeddings_result-file.jsonl), mapped back to input order by key.

`embed_batch` re-attaches instead of starting a second paid job: the display name ends with
`#<first 12 hex of batch_key(model, requests)>`, and a job with that tag still PENDING, RUNNING or
SUCCEEDED is waited on (api/batches.py's `find_batch`: the jobs this session started, then one list).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from ..errors import BatchError, error_from_payload
from .batches import BatchJob, batch_key, find_batch, start_batch

#: Embedding jobs this process started, by batch_key: looked at first when re-attaching.
STARTED: dict[str, str] = {}


def text_keys(count: int) -> list[str]:
    """The key of each request: "text-0", "text-1", ... (input order)."""
    return [f"text-{n}" for n in range(count)]


def create_embed_batch(client: Any, requests: list[dict], *, model: str, display_name: str | None = None,
                       inline: bool | None = None) -> BatchJob:
    """Start an embedding batch job of `requests` (EmbedContentRequests, api/embeddings.embed_requests);
    its BatchJob (state PENDING, `.keys` "text-0", ...). `inline`: force inline (True) or a JSONL file
    (False); by default inline when the body fits in 20 MB. Raises ValueError for no requests, and the
    client's errors from the service (nothing started)."""
    if not requests:
        raise ValueError("An embedding batch needs at least one text.")
    keys = text_keys(len(requests))
    return start_batch(client, requests, keys, model=model, method="asyncBatchEmbedContent",
                       display_name=display_name or f"gemini_magic-embed-{len(requests)}-texts", inline=inline)


def embed_vectors(job: BatchJob) -> list[list]:
    """The vector (list of floats) of each request of a SUCCEEDED job, in input order (by key when
    the job knows its keys). Raises BatchError when the job has not succeeded or a key is missing,
    and the request's own error (an APIError) when one text failed."""
    if job.state != "SUCCEEDED":
        raise BatchError(f"{job.name} is {job.state}, so it has no embeddings"
                         + ("; call wait() first." if not job.done else "."))
    output = (job.raw.get("metadata") or {}).get("output") or job.raw.get("response") or {}
    if output.get("responsesFile"):
        file_id = output["responsesFile"].split("files/", 1)[-1]
        transport = job.client.transport
        http = transport.send("GET", f"/download/{transport.api_version}/files/{file_id}:download",
                              params={"alt": "media"})
        items = [json.loads(line) for line in http.content.decode("utf-8").splitlines() if line.strip()]
    else:
        items = [{**item, "key": (item.get("metadata") or {}).get("key")}
                 for item in (output.get("inlinedEmbedContentResponses") or {}).get("inlinedResponses", [])]
    vectors = []
    for item in items:
        if "error" in item:
            raise error_from_payload({"error": item["error"]}) or BatchError(str(item["error"]))
        vectors.append(((item.get("response") or {}).get("embedding") or {}).get("values", []))
    keys = [item.get("key") for item in items]
    if not job.keys or any(key is None for key in keys):
        if job.keys and len(vectors) != len(job.keys):
            raise BatchError(f"{job.name} answered {len(vectors)} embeddings for {len(job.keys)} texts.")
        return vectors  # no keys to map by: the service keeps input order
    by_key = dict(zip(keys, vectors))
    missing = [key for key in job.keys if key not in by_key]
    if missing:
        raise BatchError(f"{job.name} has no embedding for key {missing[0]!r} ({len(missing)} missing).")
    return [by_key[key] for key in job.keys]


def embed_batch(client: Any, requests: list[dict], model: str, *, progress: Callable[[int, int], None] | None = None,
                poll: float = 5.0, max_poll: float = 60.0, timeout: float | None = None, new: bool = False,
                started: Callable[[BatchJob, bool], None] | None = None) -> list[list]:
    """Embed `requests` through one batch job and wait for it: vectors in input order.

    Re-attaches to a live job started earlier for the same model and requests (no second paid job)
    unless `new=True`. `started(job, reattached)` is called once the job is known, before waiting.
    `progress(done, total)` (texts) after each poll; polls every `poll` s, 1.5x longer each time up
    to `max_poll`. Raises BatchError when the job ends FAILED, CANCELLED or EXPIRED (run again to
    start a new one), TimeoutError after `timeout` s (the job keeps running: call again to
    re-attach), KeyboardInterrupt as is (the job keeps running), and the client's errors."""
    key = batch_key(model, requests)
    job = None if new else find_batch(client, key, [STARTED[key]] if key in STARTED else [])
    reattached = job is not None
    if job is None:
        job = create_embed_batch(client, requests, model=model,
                                 display_name=f"gemini_magic embed {len(requests)} texts #{key[:12]}")
    job.keys = text_keys(len(requests))
    STARTED[key] = job.name
    if started is not None:
        started(job, reattached)

    def report(current: BatchJob) -> None:
        if progress is not None:
            counts = current.counts
            progress(counts["succeeded"] + counts["failed"], counts["requests"] or len(requests))

    job.wait(progress=report, poll=poll, max_poll=max_poll, timeout=timeout)
    if job.state != "SUCCEEDED":
        detail = (job.raw.get("error") or {}).get("message")
        raise BatchError(f"The embedding batch job {job.name} ended {job.state}" + (f" ({detail})" if detail else "")
                         + ", so it has no embeddings; run again to start a new job.")
    return embed_vectors(job)
