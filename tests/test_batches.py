"""The Batch API client (api/batches.py) against the emulator over loopback."""

from __future__ import annotations

import pytest

from gemini_magic.api.batches import BatchError, BatchJob, create_batch, get_batch, list_batches
from gemini_magic.errors import BadRequestError, NotFoundError

MODEL = "gemini-2.5-flash"


def created(emulator):
    return [r for r in emulator.requests if r.path.endswith(":batchGenerateContent")]


def prompts_answered(emulator, job, answers) -> list:
    """The prompt text of the request each answer answers, read from the emulator's own record of the
    job: the request whose result carries the answer's `responseId` (not from the answer's prose)."""
    stored = emulator.batches.job(job.name.split("/", 1)[1])
    by_id = {result["response"]["responseId"]: "".join(p.get("text", "") for p in request["contents"][-1]["parts"])
             for (_, request), result in zip(stored.requests, stored.results) if "response" in result}
    return [by_id.get(answer.response_id) for answer in answers]


def test_inline_batch_states_and_results_mapped_back_in_input_order(client, emulator):
    prompts = ["Capital of France?", "Capital of Japan?", "Capital of Brazil?"]
    job = create_batch(client, prompts, model=MODEL, display_name="capitals", temperature=0.2)
    assert isinstance(job, BatchJob) and job.name.startswith("batches/") and job.state == "PENDING"
    assert job.counts == {"requests": 3, "succeeded": 0, "failed": 0, "pending": 3}
    sent = created(emulator)[0].json["batch"]
    assert sent["displayName"] == "capitals"
    entries = sent["inputConfig"]["requests"]["requests"]
    assert [e["metadata"]["key"] for e in entries] == ["row-0", "row-1", "row-2"]
    assert entries[0]["request"]["generationConfig"] == {"temperature": 0.2}  # prepared like generate
    with pytest.raises(BatchError, match="wait"):
        job.results()
    states = []
    job.wait(progress=lambda j: states.append(j.state), poll=0.01)
    assert states == ["RUNNING", "SUCCEEDED"] and job.done
    assert job.counts["succeeded"] == 3 and job.counts["pending"] == 0
    answers = job.results()
    assert prompts_answered(emulator, job, answers) == prompts
    assert all(a.finish_reason == "STOP" and a.usage["promptTokenCount"] > 0 for a in answers)


def test_results_follow_keys_whatever_order_they_come_in(client, emulator):
    job = create_batch(client, ["first", "second"], model=MODEL, keys=["b", "a"])
    job.wait(poll=0.01)
    job.keys = ["a", "b"]  # ask for them by key in another order
    answers = job.results()
    assert prompts_answered(emulator, job, answers) == ["second", "first"]


def test_file_input_uploads_jsonl_and_reads_the_responses_file(client, emulator):
    requests = [{"contents": [{"role": "user", "parts": [{"text": f"file prompt {n}"}]}]} for n in range(4)]
    job = create_batch(client, requests, model=MODEL, inline=False)
    uploads = [r for r in emulator.requests if r.path.startswith("/upload/")]
    assert uploads and "fileName" in created(emulator)[0].json["batch"]["inputConfig"]
    stored = [f for f in emulator.files.values() if f.mime_type == "application/jsonl"]
    assert stored[0].data().decode().splitlines()[0].startswith('{"key": "row-0", "request": {"contents"')
    job.wait(poll=0.01)
    answers = job.results()
    assert prompts_answered(emulator, job, answers) == [f"file prompt {n}" for n in range(4)]
    downloads = [r for r in emulator.requests if r.path.startswith("/download/")]
    assert len(downloads) == 1 and downloads[0].query == {"alt": "media"}
    assert "key" not in downloads[0].query and downloads[0].headers["x-goog-api-key"]


def test_a_refused_request_is_that_rows_error(client, emulator):
    bad = {"contents": [{"role": "robot", "parts": [{"text": "x"}]}]}
    job = create_batch(client, ["fine", bad, "also fine"], model=MODEL)
    job.wait(poll=0.01)
    answers = job.results()
    assert job.counts["failed"] == 1 and job.counts["succeeded"] == 2
    assert answers[0].error is None and answers[2].error is None
    assert prompts_answered(emulator, job, answers) == ["fine", None, "also fine"]
    assert isinstance(answers[1].error, BadRequestError) and "role" in str(answers[1].error)


def test_reattach_list_cancel_delete(client, emulator):
    job = create_batch(client, ["a", "b"], model=MODEL)
    again = get_batch(client, job.name.split("/", 1)[1])  # after a kernel restart: the name is enough
    assert again.name == job.name and again.state == "RUNNING" and again.counts["requests"] == 2
    other = create_batch(client, ["c"], model=MODEL)
    assert [j.name for j in list_batches(client)] == [other.name, job.name]
    other.cancel()
    assert other.state == "CANCELLED" and other.done
    with pytest.raises(BatchError, match="CANCELLED"):
        other.results()
    emulator.set_batch_state(job.name, "FAILED")
    assert job.refresh().state == "FAILED" and job.done
    job.delete()
    with pytest.raises(NotFoundError):
        get_batch(client, job.name)


def test_wait_backs_off_and_times_out(client, emulator):
    job = create_batch(client, ["a"], model=MODEL)
    naps = []
    client.transport.sleep = naps.append
    job.wait(poll=1.0, max_poll=1.2)
    assert naps == [1.0] and job.state == "SUCCEEDED"  # PENDING -> RUNNING (read) -> nap -> SUCCEEDED
    slow = create_batch(client, ["b"], model=MODEL)
    emulator.batches.step_seconds = 3600.0
    with pytest.raises(TimeoutError, match="get_batch"):
        slow.wait(poll=1.0, timeout=2.0)
    assert naps[1:] == [1.0] and slow.state == "PENDING"


def test_over_the_inline_limit_goes_through_a_file_and_reattached_jobs_keep_order(client, emulator, monkeypatch):
    import gemini_magic.api.batches as batches

    monkeypatch.setattr(batches, "INLINE_REQUEST_LIMIT", 600)  # a few prompts are "over 20 MB" now
    job = create_batch(client, [f"long prompt {n} " + "x" * 100 for n in range(4)], model=MODEL)
    assert "fileName" in created(emulator)[0].json["batch"]["inputConfig"]
    small = create_batch(client, ["tiny"], model=MODEL)
    assert "requests" in created(emulator)[1].json["batch"]["inputConfig"]
    job.wait(poll=0.01)
    again = get_batch(client, job.name)  # no keys known in a new session: the file's order is input order
    assert again.keys is None
    assert prompts_answered(emulator, job, again.results()) == [f"long prompt {n} " + "x" * 100 for n in range(4)]
    assert small.state == "PENDING"


def test_bad_input_is_refused_before_sending(client, emulator):
    with pytest.raises(ValueError, match="at least one"):
        create_batch(client, [], model=MODEL)
    with pytest.raises(ValueError, match="unique"):
        create_batch(client, ["a", "b"], model=MODEL, keys=["k", "k"])
    assert created(emulator) == []
