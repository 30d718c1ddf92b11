"""Rows at scale from the magics: `%%gemini --over DF` and `--batch`, with the waiting and binding
that `%gemini batch | batches | embed` (magics/batch_commands.py) share.

    %%gemini --over reviews -o labelled --schema Sentiment --concurrency 8
    Classify this product review: {row.text} (rating {row.stars})

Glue only: `map_prompts` / `rows_frame` (api/rows.py), `create_batch` / `get_batch` (api/batches.py)
and `embed` (api/embeddings.py) do the work; `--over` runs `map_rows` (api/row_runs.py), the path
`Client.map` runs. The views are render/row_progress.py. The RowCaches of one GeminiMagics
(`magics.row_caches`, for the kernel's life: memory, and one per `--cache-dir`) mean re-running a
cell after Ctrl-C sends no request twice for a finished row.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from ..errors import ConversionError, GeminiError, SettingsError
from ..units import plural
from . import explain
from ..escape import markdown_text
from .display import show_markdown, show_markdown_text
from .names import check_out_name

BATCH_POLL = (2.0, 60.0)  # seconds between reads of a batch job: first, most (x1.5 each time)
DRY_RUN_SHOWN, DRY_RUN_SAMPLE = 3, 5
PREPARING_INTERRUPTED = ("Interrupted while preparing the rows: nothing was sent, and nothing was bound. "
                         "Run the cell again.")


# --- %%gemini --over ---------------------------------------------------------------------------------

def run_rows(magics, args, template: str, model: str, settings, view_options) -> None:
    """`%%gemini --over NAME`: the cell is a row template, run once per row (or sent as a batch job);
    the DataFrame of answers is bound to `-o` and `_gemini`. Returns None."""
    from ..request.rows import compile_rows

    namespace = magics.shell.user_ns
    rows = over_value(args.over, namespace)
    check_frame_name(magics, args.out, namespace)
    for flag, given in (("--chat", args.chat), ("--tools/--search/--code", args.tools or args.search or args.code
                                                 or args.url_context or args.maps)):
        if given:
            raise UsageError(f"{flag} does not go with --over: each row is one prompt on its own.")
    if args.new_batch and not args.batch:
        raise UsageError("--new-batch goes with --batch: it starts a new batch job even when one for the same "
                         "prompt and rows exists.")
    if args.concurrency < 1 or (args.rpm is not None and args.rpm <= 0):
        raise UsageError("--concurrency and --rpm must be above 0 (such as --concurrency 8 --rpm 60).")
    if args.into and type(rows).__name__ != "DataFrame":
        raise UsageError(f"--into {args.into} writes into a DataFrame's column, and {args.over} is a "
                         f"{type(rows).__name__}; drop --into, or pass a DataFrame.")
    template = template.strip("\n")
    if not template.strip():
        raise UsageError("The row template is empty. Write the prompt in the cell, with {row.column} fields.")
    schema = None
    if args.schema:
        from .type_expr import evaluate_type

        schema = evaluate_type(args.schema, namespace)
    options = {"settings": settings, "system": system_text(args, magics, namespace), "schema": schema}
    try:
        run = compile_rows(template, rows, namespace)  # once: the engine, the batch and the dry run take it
        compiled, records = run.template, run.items
    except KeyboardInterrupt:
        raise UsageError(PREPARING_INTERRUPTED) from None
    except (GeminiError, TypeError, ValueError) as error:
        raise UsageError(f"--over {args.over}: {explain.message(error)}") from None
    if not records:
        raise UsageError(f"--over {args.over}: it has no rows, so there is nothing to send.")
    if args.into and args.into in compiled.columns:
        raise UsageError(f"--into {args.into} would overwrite the column {args.into} that the template reads, so the "
                         f"inputs would be lost (and a re-run would send the answers as prompts). Write the answers "
                         f"into another column, such as --into {args.into}_answer.")
    client = magics.backend.client()
    if args.dry_run:
        return dry_run_rows(client, model, run, options)
    if args.batch:
        return start_batch(magics, args, client, model, run, rows, options)
    return map_rows(magics, args, client, model, run, rows, options)


def map_rows(magics, args, client, model: str, run, rows, options: dict) -> None:
    """Send the rows concurrently through the plain-Python path (api/row_runs.py `map_rows`, the one
    `Client.map` runs) with the progress view; bind the frame."""
    from ..api.row_runs import cache_for, map_rows as run_rows_of
    from ..api.rows import RowsInterrupted
    from ..render.row_progress import RowProgress

    caches = magics.__dict__.setdefault("row_caches", {})  # for the kernel's life: memory, and per --cache-dir
    try:
        cache_for(caches, args.cache_dir)
    except OSError as error:
        raise UsageError(f"--cache-dir {args.cache_dir}: cannot keep answers there ({error.strerror}); "
                         "give a folder you can write to.") from None
    view = RowProgress("Rows")
    try:
        answers = run_rows_of(client, run, rows, model=model, concurrency=args.concurrency, rpm=args.rpm,
                              cache_dir=args.cache_dir, caches=caches, progress=view,
                              namespace=magics.shell.user_ns, **options)
    except RowsInterrupted as stopped:
        if not stopped.sent and not stopped.done:
            view.discard()
            raise UsageError(PREPARING_INTERRUPTED) from None
        view.finish(state=stopped.state)  # the rows that landed after the interrupt count too
        answers = [r if r is not None else _not_run(model) for r in stopped.responses]
        name = bind_frame(magics, args, rows, answers, options["schema"])
        raise UsageError(f"Interrupted after {stopped.done} of {plural(len(answers), 'row')}; the finished rows are "
                         f"in {name} (the others say \"not run\" in error). Run the cell again to continue: "
                         "finished rows are not sent again.") from None
    except (GeminiError, TypeError, ValueError) as error:
        view.discard()
        raise UsageError(f"--over {args.over}: {explain.message(error)}") from None
    view.finish()
    replaced = bool(args.into) and args.into in getattr(rows, "columns", ())  # a re-run, or a column of the user's
    name = bind_frame(magics, args, rows, answers, options["schema"])
    show_markdown_text(*summary(answers, name, args.into, replaced))


def start_batch(magics, args, client, model: str, run, rows, options: dict) -> None:
    """`--batch`: one request per row through the Batch API; show the job's name, wait, bind the frame.
    Re-running the cell (the same prompt and rows) re-attaches to the job it started, unless
    `--new-batch`: a second paid job only when asked for."""
    from ..api.batches import batch_key, batch_requests, create_batch, find_batch
    from ..api.rows import convert_objects

    jobs = magics.__dict__.setdefault("batch_jobs", {})
    records = run.items
    try:
        run = convert_objects(client, model, run, **options)  # kernel objects converted once, not per row
        bodies = batch_requests(client, render_all(run), model, **options)
        key = batch_key(model, bodies)
        earlier = None if args.new_batch else find_batch(
            client, key, [name for name, known in jobs.items() if known.get("key") == key])
        if earlier is None:
            job = create_batch(client, bodies, model=model, display_name=f"gemini_magic {args.over} #{key[:12]}")
    except (GeminiError, TypeError, ValueError) as error:
        raise UsageError(f"--over {args.over} --batch: {explain.message(error)}") from None
    if earlier is not None:
        earlier.keys = jobs.get(earlier.name, {}).get("keys") or [f"row-{n}" for n in range(len(bodies))]
        jobs[earlier.name] = {"rows": rows, "schema": options["schema"], "keys": earlier.keys, "key": key}
        show_markdown("Re-attached to batch job {0:code} ({1}), started earlier for the same prompt and rows: no new "
                      "job was started (and nothing new is billed). Add --new-batch to start another.",
                      earlier.name, earlier.state)
        return wait_and_bind(magics, args, earlier, rows, options["schema"])
    jobs[job.name] = {"rows": rows, "schema": options["schema"], "keys": job.keys, "key": key}
    show_markdown("Started batch job {0:code} ({1}). It runs on Google's service even if this kernel stops: "
                  "{2:code} re-attaches, {3:code} cancels it; running this cell again re-attaches too.", job.name,
                  plural(len(records), "request"), f"%gemini batch {job.name}{' -o ' + args.out if args.out else ''}",
                  f"%gemini batch cancel {job.name}")
    wait_and_bind(magics, args, job, rows, options["schema"])


def render_all(run) -> list:
    """Every row's contents for one batch job, from a CompiledRows whose kernel objects are converted;
    RowTemplateError naming the row (its index label) for one that cannot be filled (a missing
    value): a job is sent whole or not at all."""
    from ..request.rows import RowTemplateError

    contents = []
    for label, record in zip(run.index, run.items):
        try:
            contents.append(run.template.render(record, run.parts))
        except RowTemplateError as error:
            raise RowTemplateError(f"row {label!r}: {error} Nothing was sent.") from None
    return contents


def wait_and_bind(magics, args, job, rows, schema) -> None:
    """Poll the job (with backoff) in the batch view until it is done; bind its answers as a frame."""
    from ..render.row_progress import BatchProgress

    view = BatchProgress(f"Batch {job.name}")
    try:
        job.wait(progress=view, poll=BATCH_POLL[0], max_poll=BATCH_POLL[1])
    except KeyboardInterrupt:
        view.finish()
        raise UsageError(f"Stopped waiting; {job.name} keeps running on the service. `%gemini batch {job.name}` "
                         f"re-attaches, `%gemini batch cancel {job.name}` cancels it.") from None
    except GeminiError as error:
        view.discard()
        raise UsageError(explain.message(error)) from None
    view.finish()
    if job.state != "SUCCEEDED":
        raise UsageError(f"The batch job {job.name} ended {job.state}, so it has no answers. Run the cell again "
                         "to start a new job.")
    try:
        answers = job.results()
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    if rows is not None and len(answers) != len(rows):
        rows = None  # not the rows this job was made of: keep the service's order, a plain index
    name = bind_frame(magics, args, rows, answers, schema)
    show_markdown_text(*summary(answers, name, getattr(args, "into", None)))


def dry_run_rows(client, model: str, run, options: dict) -> None:
    """`--dry-run --over`: the first prompts, the tokens of a sample and the estimated total; no answers.
    The template's kernel objects are converted once (`convert_objects`) for every sampled row."""
    from ..api.rows import convert_objects
    from ..request.rows import RowTemplateError

    compiled, records = run.template, run.items
    shown = []
    for record in records[:DRY_RUN_SHOWN]:
        try:
            parts = compiled.render(record)
        except RowTemplateError as error:  # a missing value: this row would not be sent
            parts = [f"(not sent) {error}"]
        text = "".join(p if isinstance(p, str) else f"[{type(p).__name__}]" for p in parts)
        shown.append("```text\n" + text.replace("```", "ʼʼʼ") + "\n```")
    sample = []
    for record in records:
        if len(sample) == DRY_RUN_SAMPLE:
            break
        try:
            compiled.render(record)
        except RowTemplateError:
            continue
        sample.append(record)
    if not sample:
        raise UsageError("Every row has a missing value in a field the template reads, so none would be sent. "
                         "Fill them (df.fillna(...)) or drop those rows (df.dropna(subset=[...])).")
    try:
        run = convert_objects(client, model, run, **options)
        counts = [client.count_tokens(model, compiled.render(record, run.parts), **options).total
                  for record in sample]
    except (GeminiError, TypeError, ValueError) as error:
        raise UsageError(explain.message(error)) from None
    mean = sum(counts) / len(counts)
    cost = _dry_run_cost(client, model, round(mean * len(records)), len(records), sample[0], run, options)
    lines = [f"**Dry run** of {plural(len(records), 'row')} with {markdown_text(model)}: nothing generated. "
             f"The first {plural(len(shown), 'prompt')}:", *shown,
             f"The first {plural(len(sample), 'prompt')} cost {', '.join(f'{c:,}' for c in counts)} input tokens "
             f"(countTokens): about {round(mean * len(records)):,} input tokens for all "
             f"{plural(len(records), 'row')}{markdown_text(cost)}."]
    show_markdown("\n\n".join(lines))


def _dry_run_cost(client, model: str, input_tokens: int, rows: int, record, run, options: dict) -> str:
    """", ≈ $0.012 (prices of ...): an estimate of the input tokens" for the dry run's line (plus the
    most the answers can cost when --max-tokens bounds them, `pricing.estimate_prompt`); "" when the
    model has no price."""
    from ..pricing import estimate_prompt

    turn = client.prepare(model, run.template.render(record, run.parts), **options)
    most = (turn.body.get("generationConfig") or {}).get("maxOutputTokens")
    cost = estimate_prompt(input_tokens, turn.model, max_output_tokens=most * rows if most else None,
                           prices=getattr(client, "prices", None))
    if cost is None:
        return ""
    what = f"the input tokens plus at most {most:,} output tokens a row (--max-tokens)" if most else \
        "the input tokens only (the answers cost more; --max-tokens bounds them)"
    return f", {cost.footer()}: an estimate of {what}"


# --- binding ------------------------------------------------------------------------------------------

def over_value(name: str, namespace: dict) -> Any:
    """The rows `--over NAME` names: a DataFrame, Series, list or tuple in the kernel."""
    key = name.strip("{} ")
    if key not in namespace:
        raise UsageError(f"--over {name}: there is no variable of that name in the kernel; load the table first "
                         "(reviews = pd.read_csv(...)).")
    value = namespace[key]
    if type(value).__name__ not in ("DataFrame", "Series") and not isinstance(value, (list, tuple)):
        raise UsageError(f"--over {name}: it holds a {type(value).__name__}; pass a DataFrame, a Series or a list.")
    return value


def check_frame_name(magics, name: str | None, namespace: dict) -> None:
    """`-o NAME` as names.check_out_name checks it, where a frame or an array these magics bound there
    before may be replaced too (re-running the cell does that)."""
    check_out_name(name, namespace, lambda key, value: magics.__dict__.get("rows_bound", {}).get(key) == id(value))


def bind(magics, name: str | None, value: Any) -> str:
    """Bind `value` to `_gemini` and to `name`; returns the name to tell the user."""
    namespace = magics.shell.user_ns
    namespace["_gemini"] = value
    if name:
        namespace[name] = value
        magics.__dict__.setdefault("rows_bound", {})[name] = id(value)
    return name or "_gemini"


def bind_frame(magics, args, rows, answers: list, schema) -> str:
    """The answers as a DataFrame (the rows' index) bound to `_gemini` and `-o`, and `--into` written.
    Returns the name to tell the user."""
    from ..api.rows import rows_frame

    index = rows.index if type(rows).__name__ in ("DataFrame", "Series") else None
    frame = rows_frame(answers, index, schema)
    name = bind(magics, args.out, frame)
    into = getattr(args, "into", None)
    if into and type(rows).__name__ == "DataFrame":
        rows[into] = [_value(answer, schema) for answer in answers]
    return name


def _value(answer, schema) -> Any:
    """What --into writes for one row: the parsed value with --schema, else the text; None if it failed."""
    if answer.error is not None:
        return None
    if schema is None:
        return answer.text
    from ..request.parsing import parse_answer

    try:
        return parse_answer(schema, answer.text, answer.finish_reason)
    except GeminiError:
        return None


def _not_run(model: str):
    from ..answer.response import Response

    response = Response([], model=model)
    response.close(error=GeminiError("not run: interrupted before this row was sent"))
    return response


def summary(answers: list, name: str, into: str | None, replaced: bool = False) -> tuple[str, str]:
    """Markdown and plain text: `40 rows answered into `labelled` · ≈ $0.0123 (prices of 2026-10-07) in
    all.`; the cost is the sum of the answers' estimates (Batch answers at the discount), left out when
    the model has no price. `replaced`: the `into` column existed and its earlier values were replaced."""
    from ..pricing import total

    skipped = [a.error.missing for a in answers if isinstance(a.error, GeminiError) and getattr(a.error, "missing", None)]
    unsent = sum(isinstance(a.error, (ConversionError, SettingsError)) for a in answers)  # a value that cannot go
    failed = sum(answer.error is not None for answer in answers) - len(skipped) - unsent
    text = f"{plural(len(answers) - len(skipped) - unsent - failed, 'row')} answered into `{name}`"
    if into:
        text += f" (and the column `{into}`, whose earlier values were replaced)" if replaced else \
            f" (and the column `{into}`)"
    cost = total(answer.cost for answer in answers)
    spent = f" · {cost.footer()} in all" if cost is not None else ""
    tail = ""
    if skipped:
        fields = " or ".join(f"{{{field}}}" for field in dict.fromkeys(skipped))
        tail += (f"; {plural(len(skipped), 'row')} skipped, not sent: no value for {fields}. Fill the missing values "
                 "(df.fillna(...)) or drop those rows (df.dropna(subset=[...])), then run the cell again")
    if unsent:
        tail += (f"; {plural(unsent, 'row')} not sent: a value could not be made into a request (the `error` "
                 "column says why); convert those values (such as df[col].astype(str)), then run the cell again")
    if failed:
        tail += (f"; {plural(failed, 'row')} failed on the service: see the `error` column, and run the cell again "
                 "to retry them")
    return text + markdown_text(spent) + tail + ".", text + spent + tail + "."


def system_text(args, magics, namespace: dict) -> str | None:
    """`-s` (or the default system instruction), with `{name}` filled from the kernel."""
    from ..prompt import split_template

    system = args.system if args.system is not None else (magics.system or None)
    if system is None:
        return None
    try:
        return "".join(p if isinstance(p, str) else str(p) for p in split_template(system, namespace))
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
