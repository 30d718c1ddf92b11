"""The Batch API: ``models/{m}:batchGenerateContent`` and ``:asyncBatchEmbedContent`` jobs, states, results.

Shapes follow recordings/batch/: a job is an operation ``{"name": "batches/...", "metadata": {"@type":
...GenerateContentBatch, "model", "displayName", "createTime", "updateTime", "batchStats", "state",
"name"}}``; counts in ``batchStats`` are int64 strings, zero counts left out (proto3 JSON). When the
job is done it gains ``"done": true`` (and ``endTime``); a SUCCEEDED job carries its output both in
``metadata.output`` and in ``response`` (``@type`` ...GenerateContentBatchOutput): inline results as
``inlinedResponses.inlinedResponses[]`` (``{"response": ...}`` or ``{"error": ...}``, plus
``metadata.key`` when the request had one), in input order; file input gives ``responsesFile``, a
generated file of JSONL lines ``{"response": ..., "key": ...}`` (compact, key last, as in
recordings/batch/cookbook_batch-embeddings_result-file.jsonl) downloaded with
``GET /download/v1beta/files/{id}:download?alt=media``.

States: ``BATCH_STATE_PENDING`` at creation, then ``RUNNING``, then ``SUCCEEDED``: one step per
``GET`` of the job (``step_seconds=None``, the default, so tests need no sleeping), or one step every
``step_seconds``. Listing does not advance jobs. ``:cancel`` moves an unfinished job to CANCELLED;
``Emulator.set_batch_state(name, "FAILED" | "CANCELLED" | "EXPIRED" | ...)`` forces any state.
Each request is answered like ``generateContent`` when the job succeeds; a request the service
would refuse becomes that request's ``error`` and counts in ``failedRequestCount``.

Embedding jobs (``POST models/{m}:asyncBatchEmbedContent``, the same ``{"batch": {"displayName",
"inputConfig"}}`` body, each request an EmbedContentRequest, ``model`` optional) live in the same
store and change state the same way; their metadata is ``...EmbedContentBatch``, their inline
results ``output.inlinedEmbedContentResponses.inlinedResponses[]`` (google-genai reads that name)
holding ``{"response": {"tokenCount": "N", "embedding": {"values"}}}`` or ``{"error"}``, and their
results file lines are ``{"response": {"tokenCount", "embedding"}, "key"}`` exactly as
recordings/batch/cookbook_batch-embeddings_result-file.jsonl.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import threading
import time
from datetime import datetime, timezone

from gemini_magic.constants import MODEL_CATALOGUE

from .errors import ApiError, bad_request
from .files import StoredFile
from .paging import page
from .responses import Generation
from .settings_checks import check_thinking
from .validation import camel, parse_generate, pick

TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main."
STATES = ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING", "BATCH_STATE_SUCCEEDED", "BATCH_STATE_FAILED",
          "BATCH_STATE_CANCELLED", "BATCH_STATE_EXPIRED")
TERMINAL = STATES[2:]
_EIGHT_DIGITS = "{:.8g}".format
ID_ALPHABET = string.ascii_lowercase + string.digits


def timestamp(seconds: float) -> str:
    """RFC 3339 with nanoseconds, as the service writes batch times."""
    whole = int(seconds)
    nanos = int(round((seconds - whole) * 1e9)) % 1_000_000_000
    return datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


class Job:
    """One batch job: its requests ``[(key or None, request)]`` and where it stands."""

    def __init__(self, model: str, display_name: str, requests: list, from_file: bool, kind: str = "generate"):
        self.kind = kind  # "generate" (batchGenerateContent) or "embed" (asyncBatchEmbedContent)
        self.id = "".join(secrets.choice(ID_ALPHABET) for _ in range(36))
        self.model, self.display_name, self.requests, self.from_file = model, display_name, requests, from_file
        self.created = self.updated = time.time()
        self.ended: float | None = None
        self.state = "BATCH_STATE_PENDING"
        self.results: list[dict] | None = None  # one {"response"} / {"error"} per request, in order
        self.responses_file: str | None = None
        self.error: dict | None = None

    @property
    def name(self) -> str:
        return f"batches/{self.id}"

    def counts(self) -> dict:
        total = len(self.requests)
        stats = {"requestCount": str(total)}
        if self.results is not None:
            failed = sum(1 for r in self.results if "error" in r)
            stats.update({"successfulRequestCount": str(total - failed), "failedRequestCount": str(failed)})
        elif self.state in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"):
            stats["pendingRequestCount"] = str(total)
        return {k: v for k, v in stats.items() if v != "0" or k == "requestCount"}

    def output(self) -> dict:
        kind = "EmbedContentBatchOutput" if self.kind == "embed" else "GenerateContentBatchOutput"
        if self.responses_file:
            return {"@type": TYPE + kind, "responsesFile": self.responses_file}
        inlined = []
        for (key, _), result in zip(self.requests, self.results or []):
            item = dict(result)
            if key is not None:
                item["metadata"] = {"key": key}
            inlined.append(item)
        field = "inlinedEmbedContentResponses" if self.kind == "embed" else "inlinedResponses"
        return {"@type": TYPE + kind, field: {"inlinedResponses": inlined}}

    def to_json(self) -> dict:
        kind = "EmbedContentBatch" if self.kind == "embed" else "GenerateContentBatch"
        metadata = {"@type": TYPE + kind, "model": f"models/{self.model}"}
        if self.display_name:
            metadata["displayName"] = self.display_name
        metadata["createTime"] = timestamp(self.created)
        if self.ended is not None:
            metadata["endTime"] = timestamp(self.ended)
        metadata.update({"updateTime": timestamp(self.updated), "batchStats": self.counts(),
                         "state": self.state, "name": self.name})
        body = {"name": self.name, "metadata": metadata}
        if self.state in TERMINAL:
            body["done"] = True
        if self.state == "BATCH_STATE_SUCCEEDED":
            output = self.output()
            metadata["output"] = {k: v for k, v in output.items() if k != "@type"}
            body["response"] = output
        if self.error is not None:
            body["error"] = self.error
        return body


class BatchStore:
    """Every batch job of one emulator, by id; thread-safe."""

    def __init__(self, files, step_seconds: float | None = None):
        self.files = files  # the emulator's FileStore: JSONL input and results files live there
        self.step_seconds = self.initial_step_seconds = step_seconds
        self.jobs: dict[str, Job] = {}
        self.lock = threading.RLock()

    def clear(self) -> None:
        """Forget every job; the pace of state changes goes back to the constructor's."""
        with self.lock:
            self.jobs.clear()
            self.step_seconds = self.initial_step_seconds

    # -- create ---------------------------------------------------------------------------------
    def create(self, model: str, body: dict, kind: str = "generate") -> dict:
        """A new job from a Create...BatchRequest body; `kind` "embed" for asyncBatchEmbedContent."""
        if kind == "embed":
            from .embeddings import check_model

            check_model(model)
        elif not any(row[0] == model and "batchGenerateContent" in row[4] for row in MODEL_CATALOGUE):
            raise ApiError(404, f"models/{model} is not found for API version v1beta, or is not supported for "
                                "batchGenerateContent. Call ListModels to see the list of available models "
                                "and their supported methods.")
        _known(body, {"batch"}, "")
        batch = pick(body, "batch")
        if not isinstance(batch, dict):
            raise bad_request("* CreateBatchGenerateContentRequest.batch: batch is required\n", [("batch", "required")])
        _known(batch, {"displayName", "inputConfig", "model", "priority"}, "batch.")
        config = pick(batch, "inputConfig")
        if not isinstance(config, dict):
            raise bad_request("* GenerateContentBatch.input_config: input_config is required\n",
                              [("batch.input_config", "required")])
        _known(config, {"requests", "fileName"}, "batch.input_config.")
        inline, file_name = pick(config, "requests"), pick(config, "fileName")
        if (inline is None) == (file_name is None):
            raise bad_request("* GenerateContentBatch.input_config: exactly one of requests and file_name must be "
                              "set\n", [("batch.input_config", "exactly one of requests and file_name")])
        requests = self._inline(inline) if inline is not None else self._from_file(file_name)
        job = Job(model, str(pick(batch, "displayName") or ""), requests, from_file=file_name is not None, kind=kind)
        with self.lock:
            self.jobs[job.id] = job
        return job.to_json()

    def _inline(self, inline) -> list:
        items = pick(inline, "requests") if isinstance(inline, dict) else None
        if not isinstance(items, list) or not items:
            raise bad_request("* GenerateContentBatch.input_config.requests: requests must not be empty\n",
                              [("batch.input_config.requests.requests", "must not be empty")])
        requests = []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(pick(item, "request"), dict):
                raise bad_request(f"* GenerateContentBatch.input_config.requests.requests[{index}].request: "
                                  "request is required\n",
                                  [(f"batch.input_config.requests.requests[{index}].request", "required")])
            key = (pick(item, "metadata") or {}).get("key")
            requests.append((None if key is None else str(key), pick(item, "request")))
        return requests

    def _from_file(self, file_name) -> list:
        file_id = str(file_name).rsplit("files/", 1)[-1]
        stored = self.files.get(file_id)
        requests = []
        for number, line in enumerate(stored.data().decode("utf-8", "replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                item = None
            if not isinstance(item, dict) or not isinstance(item.get("request"), dict):
                raise bad_request(f"Line {number} of {stored.name} is not a JSON object with a \"request\" "
                                  "object.", [("batch.input_config.file_name", f"line {number} is not valid")])
            requests.append((None if item.get("key") is None else str(item["key"]), item["request"]))
        if not requests:
            raise bad_request(f"The input file {stored.name} holds no requests.",
                              [("batch.input_config.file_name", "no requests")])
        return requests

    # -- read -----------------------------------------------------------------------------------
    def job(self, batch_id: str) -> Job:
        with self.lock:
            found = self.jobs.get(batch_id)
        if found is None:
            raise ApiError(404, "Requested entity was not found.")
        return found

    def get(self, batch_id: str) -> dict:
        """The job as it stands, after advancing it one step (or by time, with step_seconds)."""
        with self.lock:
            job = self.job(batch_id)
            now = time.time()
            if job.state not in TERMINAL:
                if self.step_seconds is None:
                    self._advance(job)
                else:
                    due = int((now - job.created) / self.step_seconds) if self.step_seconds > 0 else 2
                    while job.state not in TERMINAL and STATES.index(job.state) < due:
                        self._advance(job)
            return job.to_json()

    def list(self, query: dict) -> dict:
        with self.lock:
            newest_first = sorted(self.jobs.values(), key=lambda j: j.created, reverse=True)
            chosen, next_token = page(newest_first, query, 50, 1000)
            body = {"operations": [j.to_json() for j in chosen]} if chosen else {}
        if next_token:
            body["nextPageToken"] = next_token
        return body

    # -- change ---------------------------------------------------------------------------------
    def cancel(self, batch_id: str) -> dict:
        """An unfinished job becomes CANCELLED; a finished one stays as it is."""
        with self.lock:
            job = self.job(batch_id)
            if job.state not in TERMINAL:
                self._set(job, "BATCH_STATE_CANCELLED")
        return {}

    def delete(self, batch_id: str) -> dict:
        with self.lock:
            self.job(batch_id)
            del self.jobs[batch_id]
        return {}

    def force(self, name: str, state: str) -> dict:
        """Put a job in any state (``"FAILED"`` or ``"BATCH_STATE_FAILED"``); SUCCEEDED computes results."""
        state = state.upper()
        state = state if state.startswith("BATCH_STATE_") else "BATCH_STATE_" + state
        if state not in STATES:
            raise ValueError(f"unknown batch state {state!r}; one of {', '.join(STATES)}")
        with self.lock:
            job = self.job(str(name).rsplit("/", 1)[-1])
            if state == "BATCH_STATE_SUCCEEDED":
                self._run(job)
            self._set(job, state)
            if state == "BATCH_STATE_FAILED":
                job.error = {"code": 13, "message": "The batch job failed (forced by the emulator)."}
            return job.to_json()

    def _advance(self, job: Job) -> None:
        if job.state == "BATCH_STATE_PENDING":
            self._set(job, "BATCH_STATE_RUNNING")
        elif job.state == "BATCH_STATE_RUNNING":
            self._run(job)
            self._set(job, "BATCH_STATE_SUCCEEDED")

    def _set(self, job: Job, state: str) -> None:
        job.state = state
        job.updated = time.time()
        if state in TERMINAL:
            job.ended = job.updated

    def _run(self, job: Job) -> None:
        """Answer every request like generateContent; write the results file for file input."""
        if job.results is not None:
            return
        answer = self._embed if job.kind == "embed" else self._answer
        job.results = [answer(job.model, request) for _, request in job.requests]
        if job.from_file:
            lines = []
            for (key, _), result in zip(job.requests, job.results):
                line = dict(result)
                if key is not None:
                    line["key"] = key
                lines.append(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
            job.responses_file = self._write_file(job, ("\n".join(lines) + "\n").encode("utf-8"))

    def _answer(self, model: str, request: dict) -> dict:
        try:
            parsed = parse_generate({k: v for k, v in request.items() if camel(k) != "model"}, self.files.resolve)
            check_thinking(parsed.settings, model)
            return {"response": Generation(parsed, model).unary()}
        except ApiError as error:
            failure = {"code": error.code, "message": error.message}
            if error.details:
                failure["details"] = error.details
            return {"error": failure}

    def _embed(self, model: str, request: dict) -> dict:
        from .answers import text_tokens
        from .embeddings import embed_one

        try:
            embedding = embed_one(request, model)["embedding"]
        except ApiError as error:
            return {"error": {"code": error.code, "message": error.message}}
        tokens = sum(text_tokens(part.get("text", "")) for part in (pick(request, "content") or {}).get("parts", []))
        values = [float(_EIGHT_DIGITS(v)) for v in embedding["values"]]  # as online answers print them
        return {"response": {"tokenCount": str(tokens), "embedding": {"values": values}}}

    def _write_file(self, job: Job, data: bytes) -> str:
        import hashlib

        store = self.files
        file_id = f"batch-{job.id}"
        path = os.path.join(store.directory, f"file-{file_id}")
        with open(path, "wb") as stream:
            stream.write(data)
        now = time.time()
        stored = StoredFile(file_id, f"batch-{job.id}-results", "application/jsonl", len(data), path,
                            hashlib.sha256(data).hexdigest(), now, now, now + store.ttl)
        with store.lock:
            store.files[stored.name] = stored
        return stored.name


def _known(obj: dict, names: set, path: str) -> None:
    if not isinstance(obj, dict):
        raise bad_request(f"Invalid value at '{path.rstrip('.') or 'body'}': an object is required.")
    for key in obj:
        if camel(key) not in names:
            raise bad_request(f'Invalid JSON payload received. Unknown name "{key}" at \'{path.rstrip(".")}\': '
                              "Cannot find field." if path else
                              f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')


def control(store: BatchStore, method: str, body: bytes) -> tuple[int, dict]:
    """``POST /emulator/batches`` ``{"name": "batches/...", "state": "FAILED"}``: force a job's state."""
    try:
        payload = json.loads(body.decode("utf-8")) if body.strip() else {}
        if method != "POST" or not isinstance(payload, dict) or not payload.get("name") or not payload.get("state"):
            raise ValueError('POST a JSON object {"name": "batches/...", "state": "FAILED"}')
        return 200, store.force(payload["name"], str(payload["state"]))
    except ApiError as error:
        return error.code, error.body()
    except (ValueError, TypeError) as error:
        return 400, {"error": {"code": 400, "message": f"Bad emulator control request: {error}",
                               "status": "INVALID_ARGUMENT"}}
