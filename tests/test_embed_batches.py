"""Embeddings through the Batch API (api/embed_batches.py, `embed(batch=...)`) and the tokens-a-minute
limit of online embedding (`tpm=`), against the emulator over loopback."""

from __future__ import annotations

import threading

import pytest

from gemini_magic.api import embed_batches
from gemini_magic.api.batches import BatchError, get_batch
from gemini_magic.api.embed_batches import create_embed_batch, embed_vectors
from gemini_magic.api.embeddings import AUTO_BATCH_TEXTS, embed, embed_requests, estimate_tokens, wants_batch
from gemini_magic.api.limiter import AdaptiveLimiter
from gemini_magic.errors import BadRequestError

MODEL = "gemini-embedding-001"


@pytest.fixture(autouse=True)
def forget_started_jobs():
    embed_batches.STARTED.clear()  # each test re-attaches only to jobs it started itself
    yield
    embed_batches.STARTED.clear()


def created(emulator):
    return [r for r in emulator.requests if r.path.endswith(":asyncBatchEmbedContent")]


def online_calls(emulator):
    return [r for r in emulator.requests if r.path.endswith(":batchEmbedContents")]


def as_lists(vectors):
    return vectors.tolist() if hasattr(vectors, "tolist") else vectors


def same(batched, online):
    """The same vectors (the online path's are float32 when numpy is installed)."""
    rows, expected = as_lists(batched), as_lists(online)
    return len(rows) == len(expected) and all(row == pytest.approx(want, rel=1e-6, abs=1e-9)
                                              for row, want in zip(rows, expected))


def test_batch_vectors_are_the_online_ones_in_input_order(client, emulator):
    texts = [f"review number {n}" for n in range(230)]
    online = as_lists(embed(client, texts, dimensions=8, task_type="CLUSTERING"))
    progress = []
    batched = embed(client, texts, dimensions=8, task_type="CLUSTERING", batch=True, poll=0.001,
                    progress=lambda done, total: progress.append((done, total)))
    assert as_lists(batched) == online and len(online) == 230
    assert progress[-1] == (230, 230) and progress[0] == (0, 230)
    (sent,) = created(emulator)
    entries = sent.json["batch"]["inputConfig"]["requests"]["requests"]
    assert len(entries) == 230 and entries[5] == {
        "request": {"model": "models/gemini-embedding-001", "taskType": "CLUSTERING", "outputDimensionality": 8,
                    "content": {"parts": [{"text": "review number 5"}]}},
        "metadata": {"key": "text-5"}}
    assert sent.json["batch"]["displayName"].startswith("gemini_magic embed 230 texts #")
    assert len(online_calls(emulator)) == 3  # the online run only: the batch sent no batchEmbedContents


def test_results_follow_keys_whatever_order_they_come_in(client, emulator):
    requests = embed_requests(["a", "b", "c"], MODEL, dimensions=4)
    job = create_embed_batch(client, requests, model=MODEL).wait(poll=0.001)
    assert job.state == "SUCCEEDED"
    inlined = job.raw["metadata"]["output"]["inlinedEmbedContentResponses"]["inlinedResponses"]
    assert inlined[0]["metadata"] == {"key": "text-0"} and inlined[0]["response"]["tokenCount"] == "1"
    in_order = embed_vectors(job)
    inlined.reverse()
    assert embed_vectors(job) == in_order and same(in_order, embed(client, ["a", "b", "c"], dimensions=4))
    job.keys = ["text-0", "text-9"]
    with pytest.raises(BatchError, match="no embedding for key 'text-9'"):
        embed_vectors(job)


def test_file_input_reads_the_responses_file_in_the_recorded_shape(client, emulator):
    texts = ["first", "second", "third"]
    requests = embed_requests(texts, MODEL, dimensions=3)
    job = create_embed_batch(client, requests, model=MODEL, inline=False).wait(poll=0.001)
    name = job.raw["response"]["responsesFile"]
    lines = client.transport.send("GET", f"/download/v1beta/files/{name.split('/')[-1]}:download",
                                  params={"alt": "media"}).text.splitlines()
    assert lines[1].startswith('{"response":{"tokenCount":"2","embedding":{"values":[') and \
        lines[1].endswith('"key":"text-1"}')  # as recordings/batch/cookbook_batch-embeddings_result-file.jsonl
    assert same(embed_vectors(job), embed(client, texts, dimensions=3))


def test_running_again_reattaches_instead_of_paying_twice(client, emulator):
    texts = [f"t{n}" for n in range(5)]
    seen = []
    first = embed(client, texts, dimensions=4, batch=True, poll=0.001, started=lambda job, re: seen.append((job.name, re)))
    again = embed(client, texts, dimensions=4, batch=True, poll=0.001, started=lambda job, re: seen.append((job.name, re)))
    assert as_lists(first) == as_lists(again) and len(created(emulator)) == 1
    assert seen[0][1] is False and seen[1] == (seen[0][0], True)
    embed_batches.STARTED.clear()  # a new kernel: found by its display name in the key's job list
    embed(client, texts, dimensions=4, batch=True, poll=0.001, started=lambda job, re: seen.append((job.name, re)))
    assert seen[2] == (seen[0][0], True) and len(created(emulator)) == 1
    embed(client, texts, dimensions=8, batch=True, poll=0.001)  # other requests: another job
    embed(client, texts, dimensions=4, batch=True, poll=0.001, new=True)  # asked for a second one
    assert len(created(emulator)) == 3


def test_a_failed_job_raises_and_the_next_run_starts_a_new_one(client, emulator):
    def fail(job, reattached):
        emulator.set_batch_state(job.name, "FAILED")

    with pytest.raises(BatchError, match=r"ended FAILED \(The batch job failed.*run again to start a new job"):
        embed(client, ["x", "y"], dimensions=4, batch=True, poll=0.001, started=fail)
    vectors = embed(client, ["x", "y"], dimensions=4, batch=True, poll=0.001)
    assert len(vectors) == 2 and len(created(emulator)) == 2  # a FAILED job is never re-attached to


def test_a_refused_text_is_raised_as_its_error(client, emulator):
    requests = embed_requests(["fine", "too big"], MODEL)
    requests[1]["outputDimensionality"] = 5000
    job = create_embed_batch(client, requests, model=MODEL).wait(poll=0.001)
    assert job.state == "SUCCEEDED" and job.counts["failed"] == 1
    with pytest.raises(BadRequestError, match="between 1 and 3072"):
        embed_vectors(job)
    unfinished = create_embed_batch(client, requests[:1], model=MODEL)
    with pytest.raises(BatchError, match="PENDING, so it has no embeddings; call wait"):
        embed_vectors(unfinished)
    assert get_batch(client, unfinished.name).state == "RUNNING"  # one step per read, as generate batches


def test_auto_batches_only_past_its_thresholds_and_bad_input_sends_nothing(client, emulator):
    assert wants_batch("auto", AUTO_BATCH_TEXTS, 10**6, None, None) is False
    assert wants_batch("auto", AUTO_BATCH_TEXTS + 1, 10**6, None, None) is True
    assert wants_batch("auto", 10_000, 10**5, rpm=3, tpm=None) is True  # 100 requests at 3 a minute: 33 min
    assert wants_batch("auto", 10_000, 10**5, rpm=3000, tpm=None) is False
    assert wants_batch("auto", 100, 4 * 10**6, rpm=None, tpm=100_000) is True  # 40 minutes of tokens
    assert wants_batch(False, 10**9, 10**9, 1, 1) is False and wants_batch(True, 1, 1, None, None) is True
    assert len(embed(client, ["a", "b"], dimensions=4, batch="auto")) == 2
    assert created(emulator) == [] and len(online_calls(emulator)) == 1
    with pytest.raises(ValueError, match='batch must be True, False or "auto"'):
        embed(client, ["a"], batch="yes")
    with pytest.raises(TypeError, match="poll= is for batch=True"):
        embed(client, ["a"], poll=1)
    with pytest.raises(ValueError, match="tpm must be a number above 0"):
        embed(client, ["a"], tpm=0)
    assert len(online_calls(emulator)) == 1 and created(emulator) == []
    assert len(embed(client, [], batch=True)) == 0 and created(emulator) == []


def test_tpm_paces_groups_by_their_estimated_tokens():
    now = [0.0]
    limiter = AdaptiveLimiter(8, tpm=6000, clock=lambda: now[0])  # 100 tokens a second
    assert limiter.acquire(400) == 0.0
    started = []
    waiter = threading.Thread(target=lambda: started.append(limiter.acquire(400)))
    waiter.start()
    waiter.join(0.3)
    assert started == []  # 400 tokens were sent at 0: the next group waits until 4 s
    now[0] = 4.0
    waiter.join(5)
    assert started == [4.0]
    assert limiter.acquire(0) == 4.0  # a request without tokens is not held by the tpm cap
    assert estimate_tokens("") == 1 and estimate_tokens("abcd") == 1 and estimate_tokens("abcde") == 2
    assert estimate_tokens("é" * 4) == 2  # UTF-8 bytes, not characters


def test_the_emulator_enforces_tpm_and_the_client_paces_to_it(client, emulator):
    texts = [f"text {n:03d}" for n in range(500)]  # 8 bytes: 2 tokens each, 200 a group of 100
    emulator.set_rate_limit(tpm=30_000)  # 500 tokens a second, a burst of one second's worth
    unpaced = embed(client, texts, dimensions=4, concurrency=5)
    refused = emulator.rate_limits.refused
    assert refused > 0 and len(online_calls(emulator)) == 5 + refused  # 429s met, every group answered once
    assert emulator.requests[-1].path.endswith(":batchEmbedContents")
    emulator.reset()
    emulator.set_rate_limit(tpm=30_000)
    paced = embed(client, texts, dimensions=4, concurrency=5, tpm=30_000)
    assert emulator.rate_limits.refused == 0 and len(online_calls(emulator)) == 5
    assert as_lists(paced) == as_lists(unpaced)
