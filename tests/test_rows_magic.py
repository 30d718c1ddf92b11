"""Rows at scale from the magics and Client: `%%gemini --over`, `--batch`, `%gemini batch|batches|embed`,
`Client.map/batch/embed`, `prompt_rows`, and the row progress view. Real HTTP to the emulator."""

from __future__ import annotations

import dataclasses
import re

import pytest
from IPython.core.error import UsageError

from gemini_magic.pricing import PRICES_DATE

from gemini_magic.render.row_progress import BatchProgress, RowProgress
from helpers import prompt_of, sent_prompt

pd = pytest.importorskip("pandas", exc_type=ImportError)

MODEL = "gemini-2.5-flash"


def generate_requests(emulator) -> list:
    return [r for r in emulator.requests if r.path.endswith(":generateContent")]


@pytest.fixture
def reviews():
    return pd.DataFrame({"text": [f"review {n}" for n in range(12)], "stars": [n % 5 + 1 for n in range(12)],
                         "name": [f"user{n}" for n in range(12)]}, index=[f"id{n}" for n in range(12)])


def magics_of(shell):
    magics = shell.magics_manager.registry["GeminiMagics"]
    magics.backend.client().transport.sleep = lambda seconds: None  # batch polling without real naps
    return magics


# -- %%gemini --over -------------------------------------------------------------------------------------

def test_over_binds_a_frame_with_the_inputs_index_and_row_columns(shell, emulator, reviews, capsys):
    shell.user_ns["reviews"] = reviews
    shell.run_cell_magic("gemini", "--over reviews -o labelled --concurrency 4",
                         "Classify: {row.text} ({row.stars} stars) by {row.name}")
    frame = shell.user_ns["labelled"]
    assert list(frame.index) == list(reviews.index) and shell.user_ns["_gemini"] is frame
    assert list(frame.columns) == ["text", "finish_reason", "prompt_tokens", "output_tokens", "error"]
    for n, label in enumerate(reviews.index):  # {row.name} is the column `name`, not the index label
        assert f'"Classify: review {n} ({n % 5 + 1} stars) by user{n}"' in frame.loc[label, "text"]
    assert frame["error"].isna().all() and (frame["finish_reason"] == "STOP").all()
    assert (frame["prompt_tokens"] > 0).all()
    assert len(generate_requests(emulator)) == 12
    out = capsys.readouterr().out
    assert "12 of 12 rows" in out and "12 rows answered into `labelled` · ≈ $" in out
    assert f"(prices of {PRICES_DATE}) in all." in out


def test_into_writes_the_text_or_the_parsed_value_into_the_input_frame(shell, emulator):
    frame = pd.DataFrame({"word": ["cat", "dog"]})
    shell.user_ns["words"] = frame
    shell.run_cell_magic("gemini", "--over words --into answer", "Say {row.word}")
    assert '"Say cat"' in frame.loc[0, "answer"] and '"Say dog"' in frame.loc[1, "answer"]

    @dataclasses.dataclass
    class Label:
        label: str
        score: int

    shell.user_ns["Label"] = Label
    shell.run_cell_magic("gemini", "--over words -o typed --schema Label --into parsed", "Label {row.word}")
    typed = shell.user_ns["typed"]
    assert {"label", "score"} <= set(typed.columns) and typed["error"].isna().all()
    assert all(isinstance(value, Label) for value in frame["parsed"])
    body = generate_requests(emulator)[-1].json
    assert body["generationConfig"]["responseMimeType"] == "application/json"


def test_a_list_and_a_series_run_too_and_rerunning_replaces_the_bound_frame(shell, emulator):
    shell.user_ns["cities"] = ["Hue", "Hanoi", "Vinh"]
    shell.run_cell_magic("gemini", "--over cities -o facts", "One fact about {row}")
    assert list(shell.user_ns["facts"].index) == [0, 1, 2]
    shell.user_ns["cities"] = pd.Series(["Hue", "Hanoi"], index=["a", "b"])
    shell.run_cell_magic("gemini", "--over cities -o facts", "One fact about {row}")  # may replace its own frame
    assert list(shell.user_ns["facts"].index) == ["a", "b"]
    assert '"One fact about Hanoi"' in shell.user_ns["facts"].loc["b", "text"]
    shell.user_ns["mine"] = pd.DataFrame({"x": [1]})
    with pytest.raises(UsageError, match="already holds a DataFrame"):
        shell.run_cell_magic("gemini", "--over cities -o mine", "One fact about {row}")
    with pytest.raises(UsageError, match="would hide Python's built-in list"):
        shell.run_cell_magic("gemini", "--over cities -o list", "One fact about {row}")
    with pytest.raises(UsageError, match="would hide Python's built-in sum"):
        shell.run_line_magic("gemini", "embed {cities} -o sum")
    assert len(generate_requests(emulator)) == 3  # the Series re-asked Hue and Hanoi: answered from the cache


def test_a_429_storm_loses_no_row(shell, emulator, reviews):
    emulator.set_rate_limit(rpm=1200)
    emulator.inject("status", match="generate", code=429, times=5, retry_delay="0.05s",
                    quota_id="GenerateRequestsPerMinutePerProjectPerModel-FreeTier")
    shell.user_ns["reviews"] = reviews
    shell.run_cell_magic("gemini", "--over reviews -o labelled --concurrency 6", "Row {row.text}")
    frame = shell.user_ns["labelled"]
    assert frame["error"].isna().all()
    assert all(f'"Row review {n}"' in text for n, text in enumerate(frame["text"]))
    sent = [prompt_of(r) for r in generate_requests(emulator)]
    assert len(sent) >= 12 + 5 and set(sent) == {f"Row review {n}" for n in range(12)}


def test_a_failed_row_is_in_error_and_the_run_goes_on(shell, emulator):
    emulator.inject("status", match="generate", code=400, message="Request contains an invalid argument.")
    shell.user_ns["items"] = ["a", "b", "c"]
    shell.run_cell_magic("gemini", "--over items -o out --concurrency 1", "Echo {row}")
    frame = shell.user_ns["out"]
    assert frame["error"].notna().sum() == 1 and "invalid argument" in frame["error"].dropna().iloc[0]
    assert frame["text"].notna().sum() == 2


def test_interrupt_binds_the_finished_rows_and_a_rerun_sends_none_twice(shell, emulator, monkeypatch, capsys):
    shell.user_ns["numbers"] = list(range(20))
    original = RowProgress.__call__

    def stop_after_five(self, done, total, errors=0, tokens=0):
        original(self, done, total, errors, tokens)
        if done >= 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(RowProgress, "__call__", stop_after_five)
    emulator.latency = 0.02
    with pytest.raises(UsageError, match=r"Interrupted after (\d+) of 20 rows; the finished rows are in part") as info:
        shell.run_cell_magic("gemini", "--over numbers -o part --concurrency 3", "Number {row}")
    emulator.latency = 0.0
    done = int(info.value.args[0].split("after ")[1].split(" ")[0])
    out = capsys.readouterr().out
    final = [line for line in re.split(r"[\r\n]", out) if line.startswith("Rows: ")][-1]
    assert final.startswith(f"Rows: {done} of 20 rows · interrupted")  # what the message says, no time left
    frame = shell.user_ns["part"]
    assert 5 <= done < 20 and frame["text"].notna().sum() == done
    assert (frame["error"].dropna().str.contains("not run")).sum() == 20 - done
    monkeypatch.setattr(RowProgress, "__call__", original)
    shell.run_cell_magic("gemini", "--over numbers -o part --concurrency 3", "Number {row}")
    assert shell.user_ns["part"]["error"].isna().all()
    prompts = [prompt_of(r) for r in generate_requests(emulator)]
    assert len(prompts) == 20 and len(set(prompts)) == 20  # no row was sent twice


class _Slow:
    """A row value whose str() takes a while, as a large frame's conversion does; `interrupt`: raise
    KeyboardInterrupt from it, as Ctrl-C landing there does; `seen`: requests the emulator had then."""

    def __init__(self, n, emulator=None, interrupt=False):
        self.n, self.emulator, self.interrupt, self.seen = n, emulator, interrupt, None

    def __str__(self):
        if self.interrupt:
            raise KeyboardInterrupt
        if self.emulator is not None:
            self.seen = len(generate_requests(self.emulator))
        return f"item {self.n}"


def test_ctrl_c_while_preparing_says_so_in_one_line_with_nothing_sent(shell, emulator):
    shell.user_ns["huge"] = pd.DataFrame({"t": [_Slow(0, interrupt=True)] + [_Slow(n) for n in range(1, 500)]})
    with pytest.raises(UsageError, match=r"^Interrupted while preparing the rows: nothing was sent, and nothing was "
                                         r"bound\. Run the cell again\.$"):
        shell.run_cell_magic("gemini", "--over huge -o res", "Describe {row.t!s}")
    assert generate_requests(emulator) == [] and "res" not in shell.user_ns


def test_the_first_rows_are_sent_while_the_rest_are_prepared(shell, emulator):
    late = _Slow(400, emulator)
    shell.user_ns["huge"] = pd.DataFrame({"t": [_Slow(n) for n in range(400)] + [late]})
    shell.run_cell_magic("gemini", "--over huge -o res --concurrency 4", "Describe {row.t!s}")
    assert late.seen and late.seen > 0  # row 400 was prepared after the first answers were asked for
    assert len(generate_requests(emulator)) == 401 and shell.user_ns["res"]["error"].isna().all()


def test_embed_of_a_column_with_a_missing_value_names_the_row_and_the_fix(shell, emulator):
    shell.user_ns["reviews"] = pd.DataFrame({"text": ["good", None, "bad"]}, index=["r1", "r2", "r3"])
    with pytest.raises(UsageError, match=r"^The text at index 'r2' has no value \((None|nan)\), so nothing was sent\. "
                                         r"Fill the missing values \(df\.fillna\(\.\.\.\)\) or drop them"):
        shell.run_line_magic("gemini", "embed {reviews.text} -o vectors")
    assert "vectors" not in shell.user_ns and not [r for r in emulator.requests if "embed" in r.path.lower()]


def test_a_value_that_cannot_be_sent_met_after_sending_began_fails_that_row_and_says_so(shell, emulator, capsys):
    shell.user_ns["items"] = pd.DataFrame({"v": [f"x{n}" for n in range(300)] + [object()]})
    shell.run_cell_magic("gemini", "--over items -o out", "Say {row.v}")
    frame = shell.user_ns["out"]
    assert frame["text"].notna().sum() == 300 and "Cannot send a builtins.object" in frame["error"].iloc[300]
    out = capsys.readouterr().out
    assert "300 rows answered into `out`" in out and "; 1 row not sent: a value could not be made into a request" in out
    assert "failed on the service" not in out and len(generate_requests(emulator)) == 300


def test_cache_dir_keeps_answers_on_disk(shell, emulator, tmp_path):
    shell.user_ns["items"] = ["x", "y"]
    shell.run_cell_magic("gemini", f"--over items -o out --cache-dir {tmp_path}", "Echo {row}")
    assert len(list(tmp_path.glob("*.json"))) == 2
    magics_of(shell).row_caches.clear()  # as after a kernel restart: only the disk remains
    shell.run_cell_magic("gemini", f"--over items -o out --cache-dir {tmp_path}", "Echo {row}")
    assert len(generate_requests(emulator)) == 2 and '"Echo y"' in shell.user_ns["out"]["text"][1]


def test_dry_run_shows_three_prompts_and_an_estimate_and_generates_nothing(shell, emulator, reviews, capsys):
    shell.user_ns["reviews"] = reviews
    shell.run_cell_magic("gemini", "--over reviews --dry-run", "Classify: {row.text}")
    out = capsys.readouterr().out
    assert "Classify: review 0" in out and "Classify: review 2" in out and "Classify: review 3" not in out
    assert "Dry run** of 12 rows" in out and "input tokens for all 12 rows" in out
    assert generate_requests(emulator) == []
    assert len([r for r in emulator.requests if r.path.endswith(":countTokens")]) == 5


def test_dry_run_gives_the_estimate_in_dollars_of_input_and_of_at_most_max_tokens(shell, emulator, reviews, capsys):
    from gemini_magic.pricing import estimate_prompt, format_usd

    shell.user_ns["reviews"] = reviews
    shell.run_cell_magic("gemini", "--over reviews --dry-run", "Classify: {row.text}")
    out = capsys.readouterr().out
    tokens = int(re.search(r"about ([\d,]+) input tokens for all 12 rows", out).group(1).replace(",", ""))
    dollars = format_usd(estimate_prompt(tokens, MODEL).total).replace("$", r"\$")
    assert f"input tokens for all 12 rows, ≈ {dollars} (prices of {PRICES_DATE}): an estimate of the input tokens only" \
        in out
    shell.run_cell_magic("gemini", "--over reviews --dry-run --max-tokens 100", "Classify: {row.text}")
    out = capsys.readouterr().out
    dollars = format_usd(estimate_prompt(tokens, MODEL, max_output_tokens=1200).total).replace("$", r"\$")
    assert f"≈ {dollars} (prices of {PRICES_DATE}): an estimate of the input tokens plus at most 100 output " \
        "tokens a row (--max-tokens)" in out
    assert generate_requests(emulator) == []


def test_bad_inputs_are_one_clear_message_before_anything_is_sent(shell, emulator, reviews):
    shell.user_ns["reviews"] = reviews
    with pytest.raises(UsageError, match="--over nothing: there is no variable of that name"):
        shell.run_cell_magic("gemini", "--over nothing", "Classify {row.text}")
    with pytest.raises(UsageError, match=r"\{row.txt\}, which the rows do not have .*'text'"):
        shell.run_cell_magic("gemini", "--over reviews", "Classify {row.txt}")
    shell.user_ns["count"] = 3
    with pytest.raises(UsageError, match="holds a int; pass a DataFrame, a Series or a list"):
        shell.run_cell_magic("gemini", "--over count", "Classify {row}")
    with pytest.raises(UsageError, match="--batch goes with --over"):
        shell.run_cell_magic("gemini", "--batch", "Classify this")
    shell.user_ns["items"] = ["a"]
    with pytest.raises(UsageError, match="--into x writes into a DataFrame's column, and items is a list"):
        shell.run_cell_magic("gemini", "--over items --into x", "{row}")
    with pytest.raises(UsageError, match="--concurrency and --rpm must be above 0"):
        shell.run_cell_magic("gemini", "--over reviews --concurrency 0", "{row.text}")
    assert emulator.requests == []


# -- --batch, %gemini batch / batches --------------------------------------------------------------------

def test_batch_end_to_end_then_reattach_list_and_cancel(shell, emulator, reviews, capsys):
    magics_of(shell)
    shell.user_ns["reviews"] = reviews
    shell.run_cell_magic("gemini", "--over reviews -o labelled --batch", "Classify: {row.text}")
    frame = shell.user_ns["labelled"]
    assert list(frame.index) == list(reviews.index) and frame["error"].isna().all()
    assert all(f'"Classify: review {n}"' in text for n, text in enumerate(frame["text"]))
    assert generate_requests(emulator) == []  # all through the Batch API
    out = capsys.readouterr().out
    name = out.split("Started batch job `")[1].split("`")[0]
    assert name.startswith("batches/") and f"%gemini batch {name} -o labelled` re-attaches" in out
    assert "SUCCEEDED · 12 of 12 requests done" in out

    del shell.user_ns["labelled"]
    magics_of(shell).batch_jobs.clear()  # as after a kernel restart: only the job's name is known
    shell.run_line_magic("gemini", f"batch {name} -o again --over reviews")
    again = shell.user_ns["again"]
    assert list(again.index) == list(reviews.index) and '"Classify: review 11"' in again["text"].iloc[-1]

    shell.run_line_magic("gemini", "batches")
    assert re.search(rf"\| `{name}` \| gemini_magic reviews #[0-9a-f]{{12}} \| SUCCEEDED \| gemini-2.5-flash \| 12 \| "
                     r"12 \| 0 \| 0 \|", capsys.readouterr().out)

    job = magics_of(shell).backend.client().batch(["a", "b"], model=MODEL)
    shell.run_line_magic("gemini", f"batch cancel {job.name}")
    assert "it is CANCELLED now" in capsys.readouterr().out
    with pytest.raises(UsageError, match="ended CANCELLED, so it has no answers"):
        shell.run_line_magic("gemini", f"batch {job.name}")
    with pytest.raises(UsageError, match="%gemini batches lists the jobs"):
        shell.run_line_magic("gemini", "batch batches/doesnotexist0000000000")


# -- %gemini embed ---------------------------------------------------------------------------------------

def test_embed_a_column_into_a_float32_array(shell, emulator, reviews, capsys):
    np = pytest.importorskip("numpy")
    shell.user_ns["reviews"] = reviews
    shell.run_line_magic("gemini", "embed {reviews.text} -o vectors --dims 16 --task retrieval_document")
    vectors = shell.user_ns["vectors"]
    assert vectors.dtype == np.float32 and vectors.shape == (12, 16)
    sent = [r.json for r in emulator.requests if r.path.endswith(":batchEmbedContents")]
    assert sent[0]["requests"][0]["taskType"] == "RETRIEVAL_DOCUMENT"
    assert sent[0]["requests"][3]["content"]["parts"][0]["text"] == "review 3"
    assert "into `vectors`: float32 array of shape (12, 16)" in capsys.readouterr().out
    shell.run_line_magic("gemini", "embed {reviews.text} -o vectors --dims 8")  # replaces its own array
    assert shell.user_ns["vectors"].shape == (12, 8)
    with pytest.raises(UsageError, match="--task: invalid choice"):
        shell.run_line_magic("gemini", "embed {reviews.text} --task SORTING")


def test_a_prompt_starting_with_batch_or_embed_is_still_a_prompt(shell, emulator):
    shell.run_line_magic("gemini", "batch processing is what?")
    shell.run_line_magic("gemini", "embed this idea in a poem")
    assert [prompt_of(r) for r in emulator.requests if "generatecontent" in r.path.lower()] == [
        "batch processing is what?", "embed this idea in a poem"]


# -- plain Python ----------------------------------------------------------------------------------------

def test_client_map_batch_embed_and_prompt_rows(client, emulator, reviews):
    from gemini_magic import prompt_rows

    seen = []
    answers = client.map("Say {row.text}", reviews.head(3), model=MODEL, progress=lambda *a: seen.append(a))
    assert [sent_prompt(emulator, a) for a in answers] == [f"Say review {n}" for n in range(3)]
    assert seen[-1][:3] == (3, 3, 0)
    again = client.map("Say {row.text}", reviews.head(3), model=MODEL, progress=False)  # the client's cache
    assert len(generate_requests(emulator)) == 3 and again[2].text == answers[2].text
    frame = prompt_rows(reviews.head(4), "Say {row.text}", client=client, progress=False)
    assert list(frame.index) == ["id0", "id1", "id2", "id3"] and len(generate_requests(emulator)) == 4
    job = client.batch(["x", "y"], model=MODEL)
    assert client.get_batch(job.name).name == job.name and job.name in [j.name for j in client.list_batches()]
    assert client.embed(["a", "b", "c"], dimensions=4).shape == (3, 4)


# -- the view --------------------------------------------------------------------------------------------

def test_row_progress_line_counts_rate_eta_errors_tokens_and_leaves_a_final_line():
    shown = []

    class Handle:
        def update(self, bundle, raw=False):
            shown.append(bundle)

    progress = RowProgress("Rows", mode="html", interval=0.0)
    import gemini_magic.render.row_progress as module

    original = module.default_display
    module.default_display = lambda: (lambda bundle, raw=False, display_id=None: shown.append(bundle) or Handle())
    try:
        progress(0, 40)
        progress.started -= 2.0  # two seconds later ...
        progress(10, 40, 1, 1234)
        progress(40, 40, 1, 5000)
        final = progress.finish()
    finally:
        module.default_display = original
    assert "0 of 40 rows · estimating…" in shown[0]["text/plain"]
    assert re.search(r"\] 10 of 40 rows · 5\.0 rows/s · [67] s left · 1 error · 1,234 tokens$", shown[1]["text/plain"])
    assert 'width:25.0%' in shown[1]["text/html"] and "<script" not in shown[1]["text/html"]
    assert final.startswith("Rows: 40 of 40 rows · ") and "1 error · 5,000 tokens" in final
    assert shown[-1] == {"text/plain": final, "text/html": f"<div>{final}</div>"}


def test_batch_progress_line():
    class Job:
        state, counts = "RUNNING", {"requests": 3, "succeeded": 1, "failed": 1, "pending": 1}

    view = BatchProgress(mode="plain")
    view(Job())
    assert view.line(3.0) == "RUNNING · 2 of 3 requests done · 1 failed · 3.0 s so far"


def test_kernel_names_and_the_system_instruction_reach_every_rows_request(shell, emulator):
    shell.user_ns.update(items=["tea", "coffee"], tone="polite", persona="a barista")
    shell.run_cell_magic("gemini", '--over items -o out -s "You are {persona}." -t 0.3', "Be {tone}: describe {row}")
    bodies = sorted((r.json for r in generate_requests(emulator)), key=prompt_of_body)
    assert [prompt_of_body(b) for b in bodies] == ["Be polite: describe coffee", "Be polite: describe tea"]
    assert all(b["systemInstruction"]["parts"][0]["text"] == "You are a barista." for b in bodies)
    assert all(b["generationConfig"]["temperature"] == 0.3 for b in bodies)


def prompt_of_body(body) -> str:
    return "".join(p.get("text", "") for p in body["contents"][-1]["parts"])


def test_review_fixes_for_rows(shell, emulator, client, tmp_path):
    """Typed answers from Client.map, a model that does not exist stops the run, one text embeds as one
    row, and a --cache-dir that is a file is one clear message."""
    import dataclasses

    from IPython.core.error import UsageError

    @dataclasses.dataclass
    class Verdict:
        sentiment: str
        confidence: float

    answers = client.map("Judge {row}", ["good", "bad"], model="gemini-2.5-flash", schema=Verdict)
    assert all(isinstance(answer.parsed, Verdict) for answer in answers)

    before = len(emulator.requests)
    failed = client.map("Say {row}", list(range(30)), model="gemini-nosuch", concurrency=2)
    assert all(answer.error is not None for answer in failed)
    assert len(emulator.requests) - before <= 4  # the first 404s stop the rest

    pytest.importorskip("numpy")
    assert client.embed("one text").shape[0] == 1

    with pytest.raises(Exception, match="must be a number above 0"):
        client.map("Say {row}", ["a"], model="gemini-2.5-flash", concurrency=0)

    afile = tmp_path / "afile"
    afile.write_text("x")
    shell.user_ns["small"] = ["a", "b"]
    with pytest.raises(UsageError, match="cannot keep answers there"):
        shell.run_cell_magic("gemini", f"--over small -o out --cache-dir {afile}", "Say {row}")


# -- issue 20, item 13: missing values ---------------------------------------------------------------------

def test_missing_values_are_not_sent_as_nan_in_rows_batches_and_dry_runs(shell, emulator, capsys):
    magics_of(shell)
    frame = pd.DataFrame({"text": ["good", float("nan")]}, index=["a", "b"])
    shell.user_ns["reviews"] = frame
    shell.run_cell_magic("gemini", "--over reviews -o labelled", "Classify: {row.text}")
    labelled = shell.user_ns["labelled"]
    assert [prompt_of(r) for r in generate_requests(emulator)] == ["Classify: good"]
    assert pd.isna(labelled.loc["a", "error"]) and "no value for {row.text}" in labelled.loc["b", "error"]
    out = capsys.readouterr().out  # never sent, so a re-run cannot fix it: the data can
    assert "1 row answered into `labelled`" in out and "; 1 row skipped, not sent: no value for {row.text}. Fill" in out
    assert "df.dropna(subset=[...])" in out and "failed" not in out and "retry" not in out
    with pytest.raises(UsageError, match=r"--batch: row 'b': This row has no value for \{row.text\} .* Nothing was sent"):
        shell.run_cell_magic("gemini", "--over reviews -o labelled --batch", "Classify: {row.text}")
    assert not [r for r in emulator.requests if "batch" in r.path.lower()]
    shell.run_cell_magic("gemini", "--over reviews --dry-run", "Classify: {row.text}")
    out = capsys.readouterr().out
    assert "Classify: good" in out and "(not sent) This row has no value for {row.text}" in out
    assert "Classify: nan" not in out


# -- issue 20, item 13: re-running --batch, short job names ------------------------------------------------

def _batch_creations(emulator) -> list:
    return [r for r in emulator.requests if r.method == "POST" and r.path.endswith(":batchGenerateContent")]


def test_rerunning_a_batch_cell_reattaches_instead_of_paying_again(shell, emulator, reviews, capsys):
    magics = magics_of(shell)
    shell.user_ns["reviews"] = reviews
    shell.run_cell_magic("gemini", "--over reviews -o labelled --batch", "Classify: {row.text}")
    first = capsys.readouterr().out.split("Started batch job `")[1].split("`")[0]
    shell.run_cell_magic("gemini", "--over reviews -o labelled --batch", "Classify: {row.text}")
    out = capsys.readouterr().out
    assert len(_batch_creations(emulator)) == 1
    assert f"Re-attached to batch job `{first}` (SUCCEEDED)" in out and "--new-batch" in out
    assert '"Classify: review 11"' in shell.user_ns["labelled"]["text"].iloc[-1]
    magics.batch_jobs.clear()  # as after a kernel restart: found again by its display name
    shell.run_cell_magic("gemini", "--over reviews -o labelled --batch", "Classify: {row.text}")
    assert f"Re-attached to batch job `{first}`" in capsys.readouterr().out and len(_batch_creations(emulator)) == 1
    assert list(shell.user_ns["labelled"].index) == list(reviews.index)
    # another prompt is another job; --new-batch forces one
    shell.run_cell_magic("gemini", "--over reviews -o labelled --batch", "Label: {row.text}")
    shell.run_cell_magic("gemini", "--over reviews -o labelled --batch --new-batch", "Classify: {row.text}")
    assert len(_batch_creations(emulator)) == 3
    with pytest.raises(UsageError, match="--new-batch goes with --batch"):
        shell.run_cell_magic("gemini", "--over reviews --new-batch", "Classify: {row.text}")


def test_short_batch_names_are_the_subcommand_not_a_prompt(shell, emulator, capsys):
    magics_of(shell)
    job = magics_of(shell).backend.client().batch(["a", "b"], model=MODEL)
    short = job.name.split("/", 1)[1][:6] + "7"  # a short id: letters and digits
    for line in (f"batch {short}", f"batch {short} -o out", f"batch status {short}", "batch status abc"):
        with pytest.raises(UsageError, match="%gemini batches lists the jobs"):
            shell.run_line_magic("gemini", line)
    shell.run_line_magic("gemini", f"batch status {job.name.split('/', 1)[1]}")
    assert f"`{job.name}`" in capsys.readouterr().out
    assert not [r for r in emulator.requests if "generatecontent" in r.path.lower() and "batch" not in r.path.lower()]
    shell.run_line_magic("gemini", "batch normalization, explained")  # words: still a prompt
    assert [prompt_of(r) for r in emulator.requests if r.path.endswith(":streamGenerateContent")] == [
        "batch normalization, explained"]


def test_into_refuses_the_column_the_template_reads_and_says_when_it_replaces_one(shell, emulator, capsys):
    frame = pd.DataFrame({"text": ["cat", "dog"], "note": ["x", "y"]})
    shell.user_ns["words"] = frame
    with pytest.raises(UsageError, match=r"--into text would overwrite the column text that the template reads.*"
                                         r"--into text_answer"):
        shell.run_cell_magic("gemini", "--over words --into text", "Say {row.text}")
    assert generate_requests(emulator) == [] and list(frame["text"]) == ["cat", "dog"]
    shell.run_cell_magic("gemini", "--over words --into note", "Say {row.text}")
    assert "(and the column `note`, whose earlier values were replaced)" in capsys.readouterr().out
    assert '"Say cat"' in frame.loc[0, "note"]
    shell.run_cell_magic("gemini", "--over words --into answer", "Say {row.text}")
    out = capsys.readouterr().out
    assert "(and the column `answer`) · ≈ $" in out and "replaced" not in out


# -- one conversion per kernel object ------------------------------------------------------------------------

def test_a_kernel_image_is_converted_once_for_the_dry_run_once_for_the_run_and_once_for_a_batch(shell, emulator):
    from PIL import Image
    from gemini_magic.parts import registry

    conversions = []

    class Photo:  # a kernel image whose conversions are counted; it converts as its PIL image does
        def __init__(self):
            self.image = Image.new("RGB", (32, 24), (10, 200, 10))

    saved = registry.snapshot()
    registry.register_converter(Photo, lambda obj, context: conversions.append(obj) or context.convert(obj.image))
    try:
        magics_of(shell)
        shell.user_ns.update(photo=Photo(), items=[f"item {n}" for n in range(8)])
        shell.run_cell_magic("gemini", "--over items --dry-run", "Describe {photo} for {row}")
        assert len(conversions) == 1  # not once per sampled row
        assert len([r for r in emulator.requests if r.path.endswith(":countTokens")]) == 5
        shell.run_cell_magic("gemini", "--over items -o out", "Describe {photo} for {row}")
        assert len(conversions) == 2 and len(generate_requests(emulator)) == 8
        images = [[p for p in r.json["contents"][-1]["parts"] if "inlineData" in p] for r in generate_requests(emulator)]
        assert all(parts == images[0] and len(parts) == 1 for parts in images)
        assert images[0][0]["inlineData"]["mimeType"] == "image/png"
        shell.run_cell_magic("gemini", "--over items -o batched --batch", "Describe {photo} for {row}")
        assert len(conversions) == 3 and len(shell.user_ns["batched"]) == 8
        shell.run_cell_magic("gemini", "--over items -o out", "Describe {photo} for {row}")  # all from the cache
        assert len(conversions) == 4 and len(generate_requests(emulator)) == 8
    finally:
        registry.restore(saved)


def test_client_map_shows_the_row_progress_view_by_default_under_ipython(shell, emulator, client, capsys):
    client.map("Say {row}", ["a", "b", "c"], model=MODEL)
    assert re.search(r"\rRows: 3 of 3 rows · [^\r]*tokens\n$", capsys.readouterr().out)  # the final line stays
    client.map("Say {row}", ["a", "b", "c"], model=MODEL, progress=False)
    assert "Rows:" not in capsys.readouterr().out
    seen = []
    client.map("Say {row}", ["d"], model=MODEL, progress=lambda *counts: seen.append(counts))
    assert seen[-1][:3] == (1, 1, 0) and "Rows:" not in capsys.readouterr().out


def test_the_magic_and_client_map_share_one_row_cache_path(shell, emulator, tmp_path):
    from gemini_magic.api.row_runs import cache_for

    magics = magics_of(shell)
    magics.__dict__.setdefault("row_caches", {}).clear()  # as in a new kernel
    shell.user_ns["items"] = ["x", "y"]
    shell.run_cell_magic("gemini", f"--over items -o out --cache-dir {tmp_path}", "Echo {row}")
    assert set(magics.row_caches) == {str(tmp_path)}
    assert cache_for(magics.row_caches, tmp_path) is magics.row_caches[str(tmp_path)]
    shell.run_cell_magic("gemini", "--over items -o out", "Echo {row}")  # memory cache of the magic: sent anew
    assert len(generate_requests(emulator)) == 4
    shell.run_cell_magic("gemini", "--over items -o out", "Echo {row}")
    assert len(generate_requests(emulator)) == 4 and None in magics.row_caches


def test_embed_batch_through_the_batch_api_and_a_rerun_reattaches(shell, emulator, reviews, capsys, monkeypatch):
    np = pytest.importorskip("numpy")
    from gemini_magic.api import embed_batches
    from gemini_magic.magics import rows as rows_magics

    monkeypatch.setattr(rows_magics, "BATCH_POLL", (0.001, 0.001))
    monkeypatch.setattr(embed_batches, "STARTED", {})
    shell.user_ns["reviews"] = reviews
    shell.run_line_magic("gemini", "embed {reviews.text} -o online --dims 8")
    shell.run_line_magic("gemini", "embed {reviews.text} -o batched --dims 8 --batch")
    out = capsys.readouterr().out
    assert "Started embedding batch job `batches/" in out and "(12 texts)" in out
    assert np.array_equal(shell.user_ns["batched"], shell.user_ns["online"])
    shell.run_line_magic("gemini", "embed {reviews.text} -o again --dims 8 --batch")
    assert "Re-attached to embedding batch job" in capsys.readouterr().out
    assert len([r for r in emulator.requests if r.path.endswith(":asyncBatchEmbedContent")]) == 1
    assert np.array_equal(shell.user_ns["again"], shell.user_ns["online"])
    with pytest.raises(UsageError, match="--tpm must be above 0|--tpm: "):
        shell.run_line_magic("gemini", "embed {reviews.text} --tpm 0")
