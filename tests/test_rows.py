"""One prompt per row (api/rows.py, request/rows.py) against the emulator over loopback."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gemini_magic.api.limiter import AdaptiveLimiter
from gemini_magic.api.rows import RowCache, RowsInterrupted, map_prompts, rows_frame
from gemini_magic.errors import BadRequestError, GeminiError, RateLimitError, SettingsError
from gemini_magic.prompt import UndefinedNameError
from gemini_magic.request.rows import RowTemplate, RowTemplateError, request_key, table_rows
from helpers import prompt_of, sent_prompt

MODEL = "gemini-2.5-flash"


def generate_requests(emulator) -> list:
    return [r for r in emulator.requests if r.path.endswith(":generateContent")]


# -- templates (pure) --------------------------------------------------------------------------------

def test_row_fields_always_mean_columns_even_pandas_attribute_names():
    pd = pytest.importorskip("pandas", exc_type=ImportError)
    frame = pd.DataFrame({"name": ["kettle", "toaster"], "size": ["S", "L"], "index": [7, 8], "T": ["t1", "t2"],
                          "col name": ["x", "y"]}, index=["r1", "r2"])
    template = RowTemplate('{row.name}|{row.size}|{row.index}|{row.T}|{row["col name"]}', {})
    index, rows = table_rows(frame)
    assert index == ["r1", "r2"] and template.columns == ["name", "size", "index", "T", "col name"]
    assert [template.render(r) for r in rows] == [["kettle|S|7|t1|x"], ["toaster|L|8|t2|y"]]


def test_kernel_names_resolve_once_and_literal_braces_stay():
    notes = {"tone": "polite"}
    template = RowTemplate("{{keep}} Be {notes['tone']}: {row}", {"notes": notes})
    assert template.render("hello") == ["{keep} Be polite: hello"]
    with pytest.raises(UndefinedNameError):
        RowTemplate("{missing} {row.a}", {})


def test_missing_column_is_refused_with_the_columns_named():
    template = RowTemplate("{row.txt}", {})
    with pytest.raises(RowTemplateError, match=r"\{row.txt\}.*'text'"):
        template.check({"text": "a"})
    with pytest.raises(RowTemplateError, match="plain values"):
        template.check("a value")


def test_request_key_depends_on_model_and_body_only():
    body = {"contents": [{"role": "user", "parts": [{"text": "a"}]}]}
    assert request_key(MODEL, body) == request_key("models/" + MODEL, dict(body))
    assert request_key(MODEL, body) != request_key("gemini-2.5-pro", body)
    assert len(request_key(MODEL, body)) == 64


# -- the engine ----------------------------------------------------------------------------------------

def test_order_kept_and_each_answer_echoes_its_rows_prompt(client, emulator):
    pd = pytest.importorskip("pandas", exc_type=ImportError)
    frame = pd.DataFrame({"text": [f"review {n}" for n in range(24)], "stars": [n % 5 for n in range(24)]},
                         index=[f"id{n}" for n in range(24)])
    emulator.latency = 0.01
    answers = map_prompts(client, "Classify: {row.text} ({row.stars} stars)", frame, model=MODEL, concurrency=6)
    emulator.latency = 0.0
    assert len(answers) == 24 and all(a.error is None for a in answers)
    for n, answer in enumerate(answers):
        assert sent_prompt(emulator, answer) == f"Classify: review {n} ({n % 5} stars)"
    assert len(generate_requests(emulator)) == 24


def test_rows_as_series_list_of_dicts_values_and_ready_prompts(client, emulator):
    pd = pytest.importorskip("pandas", exc_type=ImportError)
    series = map_prompts(client, "Say {row}", pd.Series(["cat", "dog"]), model=MODEL)
    assert sent_prompt(emulator, series[0]) == "Say cat"
    assert sent_prompt(emulator, map_prompts(client, "Say {row}", ["cat", "dog"], model=MODEL)[1]) == "Say dog"
    assert '"n=2"' in map_prompts(client, "n={row.n}", [{"n": 1}, {"n": 2}], model=MODEL)[1].text
    answers = map_prompts(client, ["first prompt", ["second", "prompt"]], model=MODEL)
    assert '"first prompt"' in answers[0].text and "second" in answers[1].text
    with pytest.raises(TypeError):
        map_prompts(client, "no rows given", model=MODEL)


def test_kernel_objects_are_converted_once_and_sent_with_every_row(client, emulator):
    pd = pytest.importorskip("pandas", exc_type=ImportError)
    table = pd.DataFrame({"city": ["Hue", "Hanoi"], "rain_mm": [800, 300]})
    map_prompts(client, "Using {table}, answer: {row}", ["Which is wetter?", "Which is drier?"], model=MODEL,
                namespace={"table": table})
    bodies = [r.json for r in generate_requests(emulator)]
    assert len(bodies) == 2
    import base64

    table_parts = [[p for p in b["contents"][-1]["parts"] if "inlineData" in p] for b in bodies]
    assert len(table_parts[0]) == 1 and table_parts[0] == table_parts[1]
    assert b"Hue,800" in base64.b64decode(table_parts[0][0]["inlineData"]["data"])
    assert sorted("Which is wetter?" in str(b) for b in bodies) == [False, True]  # one row each


def test_a_429_storm_mid_run_loses_no_row(client, emulator):
    emulator.set_rate_limit(rpm=1200)  # 20 a second with a burst of 20: 40 rows at concurrency 8 meet it
    emulator.inject("status", match="generate", code=429, times=6, retry_delay="0.05s",
                    quota_id="GenerateRequestsPerMinutePerProjectPerModel-FreeTier")
    answers = map_prompts(client, "row {row}", list(range(40)), model=MODEL, concurrency=8)
    assert [a.error for a in answers] == [None] * 40
    assert [sent_prompt(emulator, a) for a in answers] == [f"row {n}" for n in range(40)]
    sent = generate_requests(emulator)
    refused = emulator.describe()["rate_limited"] + 6
    assert len(sent) == 40 + refused  # every row answered once; the rest are the 429s
    assert len({prompt_of(r) for r in sent}) == 40


def test_transient_failures_are_retried_and_a_lasting_one_is_the_rows_error(client, emulator):
    emulator.inject("status", match="generate", code=503, times=2)
    answers = map_prompts(client, "row {row}", list(range(5)), model=MODEL, concurrency=1)
    assert [a.error for a in answers] == [None] * 5
    emulator.reset()
    emulator.inject("status", match="generate", code=400, message="Request contains an invalid argument.")
    answers = map_prompts(client, "again {row}", list(range(5)), model=MODEL, concurrency=1)
    failed = [a for a in answers if a.error is not None]
    assert len(failed) == 1 and isinstance(failed[0].error, BadRequestError) and failed[0].incomplete
    assert failed[0] is answers[0]  # concurrency 1: the first row met the fault
    assert all('"again %d"' % n in a.text for n, a in enumerate(answers) if n)
    pytest.importorskip("pandas", exc_type=ImportError)  # the rest is the frame view of the same rows
    frame = rows_frame(answers, list("abcde"))
    assert list(frame.columns) == ["text", "finish_reason", "prompt_tokens", "output_tokens", "error"]
    assert list(frame.index) == list("abcde") and "invalid argument" in frame["error"]["a"]
    assert frame["error"][1:].isna().all() and frame["text"].isna()["a"]
    assert str(frame["prompt_tokens"].dtype) == "Int64" and (frame["output_tokens"][1:] > 0).all()
    assert (frame["finish_reason"][1:] == "STOP").all()


def test_a_per_day_quota_stops_sending_and_marks_the_rest(client, emulator):
    emulator.set_rate_limit(rpd=3)
    answers = map_prompts(client, "row {row}", list(range(6)), model=MODEL, concurrency=1)
    assert [a.error is None for a in answers] == [True, True, True, False, False, False]
    assert all(isinstance(a.error, RateLimitError) and a.error.is_daily_quota for a in answers[3:])
    assert len(generate_requests(emulator)) == 4  # 3 answers and the one refusal; nothing after it


def test_interrupt_keeps_finished_rows_and_a_rerun_sends_nothing_twice(client, emulator):
    cache = {}
    seen = []

    def progress(done, total, errors, tokens):
        seen.append((done, total, errors, tokens))
        if done >= 5:
            raise KeyboardInterrupt

    emulator.latency = 0.02
    with pytest.raises(RowsInterrupted) as stopped:
        map_prompts(client, "row {row}", list(range(30)), model=MODEL, concurrency=3, cache=cache, progress=progress)
    emulator.latency = 0.0
    interrupted = stopped.value
    assert isinstance(interrupted, KeyboardInterrupt) and 5 <= interrupted.done < 30
    assert len(cache) == interrupted.done
    kept = [r for r in interrupted.responses if r is not None]
    assert all(r.error is None and sent_prompt(emulator, r) == f"row {interrupted.responses.index(r)}" for r in kept)
    first_run = len(generate_requests(emulator))
    assert first_run == interrupted.done  # in-flight requests were let finish and kept
    answers = map_prompts(client, "row {row}", list(range(30)), model=MODEL, concurrency=3, cache=cache)
    assert [sent_prompt(emulator, a) for a in answers] == [f"row {n}" for n in range(30)]
    prompts = [prompt_of(r) for r in generate_requests(emulator)]
    assert len(prompts) == 30 and len(set(prompts)) == 30  # no row was sent twice
    assert seen[0][1] == 30 and seen[-1][0] >= 5 and all(s[2] == 0 for s in seen)


def test_interrupt_before_anything_is_sent_keeps_cached_rows(client, emulator):
    cache = {}
    map_prompts(client, "row {row}", [1, 2], model=MODEL, cache=cache)

    def stop_at_once(done, total, errors, tokens):
        raise KeyboardInterrupt

    with pytest.raises(RowsInterrupted) as stopped:
        map_prompts(client, "row {row}", [1, 2, 3], model=MODEL, cache=cache, progress=stop_at_once)
    assert stopped.value.done == 2 and stopped.value.responses[2] is None
    assert len(generate_requests(emulator)) == 2  # the third row was never sent


def test_cache_directory_survives_a_new_kernel(client, emulator, tmp_path):
    map_prompts(client, "row {row}", ["a", "b", "c"], model=MODEL, cache=RowCache(tmp_path))
    assert len(list(tmp_path.glob("*.json"))) == 3 and not list(tmp_path.glob("*.tmp"))
    before = len(generate_requests(emulator))
    answers = map_prompts(client, "row {row}", ["a", "b", "c", "d"], model=MODEL, cache=RowCache(tmp_path))
    assert len(generate_requests(emulator)) == before + 1  # only the new row
    assert [('"row %s"' % x) in a.text for x, a in zip("abcd", answers)] == [True] * 4
    changed = map_prompts(client, "row {row}", ["a"], model=MODEL, cache=RowCache(tmp_path), temperature=0.5)
    assert len(generate_requests(emulator)) == before + 2 and changed[0].error is None  # other settings, other key


def test_bad_input_fails_at_once_with_nothing_sent(client, emulator):
    with pytest.raises(SettingsError):
        map_prompts(client, "row {row}", ["a"], model=MODEL, temperature=9)
    with pytest.raises(RowTemplateError):
        map_prompts(client, "{row.nope}", [{"text": "a"}], model=MODEL)
    assert generate_requests(emulator) == []


def test_works_inside_a_running_event_loop(client, emulator):
    async def cell():  # what a Jupyter cell is: code running while an event loop runs
        assert asyncio.get_running_loop().is_running()
        return map_prompts(client, "row {row}", [1, 2, 3], model=MODEL)

    # In a thread of its own: another test's library (Playwright's sync API) may keep a loop running in
    # this process's main thread, where asyncio.run would refuse to start a second one.
    found: dict = {}
    worker = threading.Thread(target=lambda: found.update(answers=asyncio.run(cell())))
    worker.start()
    worker.join(60)
    answers = found["answers"]
    assert [sent_prompt(emulator, a) for a in answers] == ["row 1", "row 2", "row 3"]


def test_rpm_cap_paces_requests(client, emulator):
    import time

    started = time.monotonic()
    map_prompts(client, "row {row}", list(range(6)), model=MODEL, rpm=600, concurrency=6)
    assert time.monotonic() - started >= 0.45  # 6 requests at 10 a second: 5 gaps of 0.1 s


# -- the limiter -------------------------------------------------------------------------------------

def test_limiter_halves_on_429_and_grows_while_answers_flow():
    now = [0.0]
    limiter = AdaptiveLimiter(8, clock=lambda: now[0])
    for _ in range(8):
        assert limiter.acquire() == 0.0
    assert limiter.in_flight == 8 and limiter.rate is None
    now[0] = 1.0
    for _ in range(6):
        limiter.succeeded()
    limiter.rate_limited(0.5)
    assert limiter.concurrency == 4 and limiter.rate_limits == 1
    assert limiter.rate == pytest.approx(6.0)  # the rate the service accepted (6 answers in 1 s)
    limiter.rate_limited(0.5, started=0.0)  # the same burst: counted, no second decrease
    assert limiter.concurrency == 4 and limiter.rate == pytest.approx(6.0) and limiter.rate_limits == 2
    got = threading.Event()
    threading.Thread(target=lambda: (limiter.acquire(), got.set()), daemon=True).start()
    assert not got.wait(0.2)  # paused for the RetryInfo delay
    now[0] = 1.6
    assert got.wait(2)
    limiter.succeeded()
    before = (limiter.concurrency, limiter.rate)
    limiter.succeeded()
    assert limiter.concurrency > before[0] and limiter.rate > before[1]
    capped = AdaptiveLimiter(4, rpm=120, clock=lambda: now[0])
    assert capped.rate == 2.0
    for _ in range(50):
        now[0] += 0.5
        capped.acquire()
        capped.succeeded()
    assert capped.rate == 2.0  # never above the cap


def test_rows_frame_with_a_schema_adds_one_column_per_field(client, emulator):
    pytest.importorskip("pandas", exc_type=ImportError)
    schema = {"type": "object", "properties": {"label": {"type": "string", "enum": ["positive", "negative"]},
                                               "score": {"type": "number"}}, "required": ["label", "score"]}
    answers = map_prompts(client, "Classify: {row}", ["great", "awful"], model=MODEL,
                          config={"responseMimeType": "application/json", "responseJsonSchema": schema})
    sent = generate_requests(emulator)[0].json["generationConfig"]
    assert sent["responseJsonSchema"] == schema
    frame = rows_frame(answers, ["a", "b"], schema=schema)
    assert list(frame.columns) == ["text", "finish_reason", "prompt_tokens", "output_tokens", "error", "label", "score"]
    assert list(frame["label"]) == ["positive", "positive"] and frame["error"].isna().all()
    assert all(isinstance(v, float) for v in frame["score"])


# -- templates that must not be sent literally, rows that cannot be filled (issue 20, items 10 and 13) --

def test_row_fields_take_conversions_and_format_specs():
    template = RowTemplate("{row.name!r} costs {row.price:>8.2f}", {})
    assert template.columns == ["name", "price"]
    assert template.render({"name": "kettle", "price": 12.5}) == ["'kettle' costs    12.50"]
    with pytest.raises(GeminiError, match=r"`\{row\.price:\.2f\}` in the prompt cannot be filled"):
        template = RowTemplate("{row.price:.2f}", {})
        template.render({"price": "cheap"})


def test_a_column_name_with_a_space_after_a_dot_is_refused_with_the_bracket_form():
    from gemini_magic.prompt import TemplateError

    with pytest.raises(TemplateError, match=r'write \{row\["my col"\]\}'):
        RowTemplate("Classify {row.my col}", {})
    with pytest.raises(TemplateError, match="spaces inside its braces"):
        RowTemplate("Classify { row.text }", {})


def test_duplicate_column_names_are_refused(client, emulator):
    pd = pytest.importorskip("pandas", exc_type=ImportError)
    frame = pd.DataFrame([["a", "b", 1]], columns=["text", "text", "stars"])
    with pytest.raises(RowTemplateError, match="more than one column named 'text'"):
        map_prompts(client, "{row.text}", frame, model=MODEL)
    assert generate_requests(emulator) == []


def test_a_missing_value_skips_that_row_with_a_clear_error_and_sends_the_rest(client, emulator):
    pd = pytest.importorskip("pandas", exc_type=ImportError)
    frame = pd.DataFrame({"text": ["good", None, "bad"], "stars": [5.0, 3.0, float("nan")]})
    answers = map_prompts(client, "Classify: {row.text} ({row.stars} stars)", frame, model=MODEL)
    sent = sorted(prompt_of(r) for r in generate_requests(emulator))
    assert sent == ["Classify: good (5.0 stars)"]  # never "None" or "nan"
    assert answers[0].error is None
    assert "no value for {row.text} (" in str(answers[1].error) and "so it was not sent" in str(answers[1].error)
    assert "no value for {row.stars} (nan)" in str(answers[2].error) and "fillna" in str(answers[2].error)
    frame_out = rows_frame(answers, frame.index)
    assert frame_out["error"].notna().tolist() == [False, True, True]


def test_orphan_tmp_files_of_a_killed_run_are_removed_on_the_next_run(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    # A real process killed (SIGKILL) in the middle of writing an answer, as a kernel killed mid-run.
    script = textwrap.dedent(f"""
        import json, sys, time
        from gemini_magic.api.rows import RowCache
        def stuck(raw, stream, **options):
            stream.write('{{"candidates": [')
            stream.flush()
            print("writing", flush=True)
            time.sleep(60)
        json.dump = stuck
        RowCache({str(tmp_path)!r}).put("k" * 64, {{"candidates": []}})
    """)
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        orphans = list(tmp_path.glob("*.tmp"))
        assert len(orphans) == 1 and orphans[0].name.startswith(f"{writer.pid}-")
        # while the writer still runs, its file is left alone
        assert RowCache(tmp_path).removed_orphans == 0 and orphans[0].exists()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    live = tmp_path / f"{os.getpid()}-fresh.tmp"  # this process's own write in progress: kept
    live.write_text("{")
    old = tmp_path / "from-an-old-version.tmp"  # no pid, and long untouched: removed
    old.write_text("{")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    cache = RowCache(tmp_path)
    assert cache.removed_orphans == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name]
    cache.put("a" * 64, {"candidates": []})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "a" * 64 + ".json"])


def test_rows_and_the_transport_wait_by_one_retry_policy(emulator):
    from conftest import TEST_KEY
    from gemini_magic import Client, RetryPolicy

    policy = RetryPolicy(base_delay=0.004, cap_delay=0.05, random=lambda: 0.5)
    assert [policy.backoff(n) for n in range(5)] == [0.002, 0.004, 0.008, 0.016, 0.025]  # capped at 0.05 * 0.5
    assert policy.backoff(1, hinted=0.3) == pytest.approx(0.3004)  # the service's delay, plus a tenth of the jitter
    assert policy.delay(1, RateLimitError("slow down", status_code=429, retry_delay=0.3), waited=0.0) == policy.backoff(1, 0.3)
    client = Client(api_key=TEST_KEY, base_url=emulator.base_url, retry=policy)
    naps = []
    client.transport.sleep = naps.append
    emulator.inject("status", match="generate", code=503, times=2)
    answers = map_prompts(client, "row {row}", ["a"], model=MODEL, concurrency=1)
    assert answers[0].error is None and naps == [policy.backoff(1), policy.backoff(2)]  # the row engine's waits
