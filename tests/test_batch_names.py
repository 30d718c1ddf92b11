"""`%gemini batch NAME -o OUT` with any job name, against the emulator (issue 20, leftover 2).

A name without digits (`myjob`, `batches/myjob`) re-attaches like any other, never sent as a prompt;
a job that does not exist is refused in one line that names it and says what to do, after the one
GET that found no job, with nothing else sent.
"""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from helpers import prompt_of

MODEL = "gemini-2.5-flash"


def _magics(shell):
    return shell.magics_manager.registry["GeminiMagics"]


def _generate_requests(emulator) -> list:
    return [r for r in emulator.requests if "generatecontent" in r.path.lower() and "batch" not in r.path.lower()]


def _job_named(shell, emulator, new_id: str):
    """A finished job of two prompts whose id is `new_id`. The emulator mints ids of letters and
    digits; the service's ids are its own to choose, so the job is given one without digits here."""
    job = _magics(shell).backend.client().batch(["first", "second"], model=MODEL)
    job.wait(poll=0.01, max_poll=0.05, timeout=30)
    store = emulator.batches
    with store.lock:
        stored = store.jobs.pop(job.name.split("/", 1)[1])
        stored.id = new_id
        store.jobs[new_id] = stored
    return f"batches/{new_id}"


@pytest.mark.parametrize("written", ["myjob", "batches/myjob"])
def test_a_job_name_without_digits_reattaches_and_binds(shell, emulator, written):
    pytest.importorskip("pandas", exc_type=ImportError)
    name = _job_named(shell, emulator, "myjob")
    before = len(emulator.requests)
    shell.run_line_magic("gemini", f"batch {written} -o answers")
    frame = shell.user_ns.pop("answers")
    assert len(frame) == 2 and '"first"' in frame["text"].iloc[0] and '"second"' in frame["text"].iloc[1]
    sent = emulator.requests[before:]
    assert sent and all(r.path.startswith(f"/v1beta/{name}") or "download" in r.path for r in sent)
    assert _generate_requests(emulator) == []  # not a prompt
    shell.run_line_magic("gemini", f"batch status {written}")  # status takes it too


@pytest.mark.parametrize("line", ["batch myjob -o out", "batch myjob", "batch batches/myjob -o out",
                                  "batch status myjob", "batch cancel myjob", "batch my-job_two --over frame"])
def test_a_job_that_does_not_exist_is_one_clear_line_and_nothing_else_is_sent(shell, emulator, line):
    with pytest.raises(UsageError) as raised:
        shell.run_line_magic("gemini", line)
    message = str(raised.value)
    assert "\n" not in message
    name = [w for w in line.split()[1:] if w not in ("status", "cancel")][0]
    assert message.startswith(f"No batch job batches/{name.removeprefix('batches/')} for this key: "
                              "%gemini batches lists the jobs of this key")
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", f"/v1beta/batches/{name.removeprefix('batches/')}")]
    assert "out" not in shell.user_ns


def test_a_one_word_name_that_is_no_job_says_how_to_send_it_as_a_prompt(shell, emulator):
    with pytest.raises(UsageError, match=r"\(to send it as a prompt: %gemini -- batch cooking\)\.$"):
        shell.run_line_magic("gemini", "batch cooking")
    shell.run_line_magic("gemini", "-- batch cooking")
    assert [prompt_of(r) for r in _generate_requests(emulator)] == ["batch cooking"]


def test_bad_input_is_refused_before_anything_is_sent(shell, emulator):
    with pytest.raises(UsageError, match="which job"):
        shell.run_line_magic("gemini", "batch")
    with pytest.raises(UsageError, match="not a valid Python variable name"):
        shell.run_line_magic("gemini", "batch myjob -o 1bad")
    assert emulator.requests == []


def test_sentences_after_batch_are_still_prompts(shell, emulator):
    shell.run_line_magic("gemini", "batch processing is what?")
    shell.run_line_magic("gemini", "batch normalization, explained")
    assert [prompt_of(r) for r in _generate_requests(emulator)] == ["batch processing is what?",
                                                                  "batch normalization, explained"]
