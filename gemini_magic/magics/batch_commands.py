"""The batch and embedding subcommands: `%gemini batch | batches | embed`.

    %gemini batch batches/abc123 -o labelled      # re-attach to a batch job (after a kernel restart)
    %gemini batch status abc123                   # its state and counts, without waiting
    %gemini batch cancel batches/abc123
    %gemini batches                               # the key's batch jobs, as a table
    %gemini embed {reviews.text} -o vectors --dims 256 --task RETRIEVAL_DOCUMENT

Glue only, as magics/rows.py (whose waiting, binding and `BATCH_POLL` these share): `get_batch` and
`list_batches` (api/batches.py) and `embed` (api/embeddings.py) do the work.
"""

from __future__ import annotations

import argparse
import re
import shlex

from IPython.core.error import UsageError

from ..errors import BadRequestError, GeminiError, NotFoundError
from ..escape import markdown_row
from ..units import plural
from . import explain
from . import rows as row_magics
from .display import show_markdown, show_markdown_text

_BATCH_ID = re.compile(r"(batches/)?[a-z0-9]{16,}")
_SHORT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def _embed_job_started(job, reattached: bool) -> None:
    if reattached:
        show_markdown("Re-attached to embedding batch job {0:code} ({1}), started earlier for the same texts: no "
                      "new job was started (and nothing new is billed).", job.name, job.state)
    else:
        show_markdown("Started embedding batch job {0:code} ({1}). It runs on Google's service even if this kernel "
                      "stops: running this line again re-attaches, {2:code} cancels it.", job.name,
                      plural(job.counts["requests"] or len(job.keys or ()), "text"), f"%gemini batch cancel {job.name}")





class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"%gemini {self.prog}: {message}.")


def names_a_job(words: list[str]) -> bool:
    """`%gemini batch cancel NAME`, `%gemini batch status NAME` and `%gemini batch NAME [-o OUT ...]` are
    the subcommand; `%gemini batch processing is what?` is a prompt. NAME is `batches/...`, a long job
    id, or any one word of a job id's letters (`myjob`, `abc123`, `my-job_2`) followed by nothing or
    options: a job that does not exist is then refused in one line (`batch_command`), never sent."""
    if words[:1] in (["cancel"], ["status"]):
        return len(words) == 2
    if not words:
        return False
    name, rest = words[0], words[1:]
    if name.startswith("batches/") or _BATCH_ID.fullmatch(name):
        return True
    return bool(_SHORT_ID.fullmatch(name)) and (not rest or rest[0].startswith("-"))


def batch_command(magics, line: str) -> None:
    """`%gemini batch NAME [-o OUT] [--over DF] [--schema T]` re-attaches; `%gemini batch status NAME`
    shows its state; `%gemini batch cancel NAME`."""
    from ..api.batches import get_batch

    parser = _Parser(prog="batch", add_help=False)
    parser.add_argument("name")
    parser.add_argument("-o", "--out")
    parser.add_argument("--over")
    parser.add_argument("--schema")
    words = _words(line)
    if not words:
        raise UsageError("%gemini batch NAME [-o OUT]: which job? %gemini batches lists the jobs of this key.")
    action = words[0] if words[:1] in (["cancel"], ["status"]) else None
    args = parser.parse_args(words[1:] if action else words)
    namespace = magics.shell.user_ns
    row_magics.check_frame_name(magics, args.out, namespace)  # a bad -o NAME: refused before anything is sent
    client = magics.backend.client()
    name = args.name if args.name.startswith("batches/") else f"batches/{args.name}"
    try:
        job = get_batch(client, name)
    except (NotFoundError, BadRequestError):  # 400: a name the service cannot read as a job's
        prompt = (f" (to send it as a prompt: %gemini -- batch {args.name})"
                  if words == [args.name] and not args.name.startswith("batches/") else "")
        raise UsageError(f"No batch job {name} for this key: %gemini batches lists the jobs of this key{prompt}."
                         ) from None
    except GeminiError as error:
        raise UsageError(explain.message(error) + "\n%gemini batches lists the jobs of this key.") from None
    try:
        if action == "cancel":
            job.cancel()
            show_markdown("Asked to cancel {0:code}: it is {1} now.", job.name, job.state)
            return None
        if action == "status":
            counts = job.counts
            show_markdown("{0:code} ({1}): {2} · {3} of {4} done, {5} failed. {6:code} waits and binds the answers.",
                          job.name, job.display_name or "no display name", job.state,
                          counts["succeeded"] + counts["failed"], plural(counts["requests"], "request"),
                          counts["failed"], f"%gemini batch {job.name} -o NAME")
            return None
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    known = magics.__dict__.get("batch_jobs", {}).get(job.name, {})
    job.keys = known.get("keys")
    rows = row_magics.over_value(args.over, namespace) if args.over else known.get("rows")
    schema = known.get("schema")
    if args.schema:
        from .type_expr import evaluate_type

        schema = evaluate_type(args.schema, namespace)
    args.into = None
    row_magics.wait_and_bind(magics, args, job, rows, schema)


def batches_command(magics) -> None:
    """`%gemini batches`: the key's batch jobs, newest first, as a table."""
    from ..api.batches import list_batches

    try:
        jobs = list_batches(magics.backend.client())
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    if not jobs:
        return show_markdown("No batch jobs for this key.")
    head = "| name | display name | state | model | requests | succeeded | failed | pending |\n|---|---|---|---|--:|--:|--:|--:|"
    body = [markdown_row((job.name, job.display_name, job.state, job.model, job.counts["requests"],
                          job.counts["succeeded"], job.counts["failed"], job.counts["pending"]), code=(0,))
            for job in jobs]
    title = f"{plural(len(jobs), 'batch job')}:\n\n{head}\n"
    show_markdown_text(title + "\n".join(md for md, _ in body), title + "\n".join(plain for _, plain in body))


def embed_command(magics, line: str) -> None:
    """`%gemini embed {texts} [-o NAME] [--dims N] [--task TYPE] [-m MODEL] [--concurrency N] [--rpm N]
    [--tpm N] [--cache-dir DIR] [--batch]`: a float32 array (rows, dims); groups of 100 sent
    concurrently at the rate limit, finished groups kept in DIR so a re-run sends only the missing
    ones; `--batch`: one Batch API job instead, which a re-run re-attaches to."""
    from ..api.embeddings import DEFAULT_EMBEDDING_MODEL, TASK_TYPES, embed
    from ..prompt import split_template
    from ..render.row_progress import RowProgress
    parser = _Parser(prog="embed", add_help=False)
    parser.add_argument("texts")
    parser.add_argument("-o", "--out")
    parser.add_argument("--dims", type=int)
    parser.add_argument("--task", type=str.upper, choices=TASK_TYPES)
    parser.add_argument("-m", "--model", default=DEFAULT_EMBEDDING_MODEL)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rpm", type=float)
    parser.add_argument("--tpm", type=float)
    parser.add_argument("--cache-dir", dest="cache_dir")
    parser.add_argument("--batch", action="store_true")
    args = parser.parse_args(_words(line))
    if args.concurrency < 1 or (args.rpm is not None and args.rpm <= 0) or (args.tpm is not None and args.tpm <= 0):
        raise UsageError("--concurrency, --rpm and --tpm must be above 0, such as --concurrency 8 --rpm 1500.")
    namespace = magics.shell.user_ns
    row_magics.check_frame_name(magics, args.out, namespace)
    reference = args.texts if args.texts.startswith("{") else "{" + args.texts + "}"
    try:
        found = split_template(reference, namespace)
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    texts = found[0] if len(found) == 1 else None
    if isinstance(texts, str) or texts is None or not hasattr(texts, "__iter__"):
        raise UsageError(f"%gemini embed {args.texts}: name a column, Series or list of texts, such as "
                         "{reviews.text}.")
    view = RowProgress("Embedding", unit="text")
    batch = {"batch": True, "poll": row_magics.BATCH_POLL[0], "max_poll": row_magics.BATCH_POLL[1], "started": _embed_job_started} \
        if args.batch else {}
    try:
        vectors = embed(magics.backend.client(), texts, model=args.model, task_type=args.task, dimensions=args.dims,
                        progress=view, concurrency=args.concurrency, rpm=args.rpm, tpm=args.tpm,
                        cache_dir=args.cache_dir, **batch)
    except KeyboardInterrupt:
        view.discard()
        if args.batch:
            raise UsageError("Stopped waiting; the embedding batch job keeps running on the service. Run the line "
                             "again to re-attach to it (nothing new is billed); %gemini batches lists it.") from None
        if args.cache_dir:
            raise UsageError(f"Interrupted: the groups already answered are kept in {args.cache_dir}; run the "
                             "line again to send only the rest.") from None
        raise UsageError("Interrupted: no embeddings were kept; add --cache-dir DIR to keep finished groups, "
                         "then run the line again.") from None
    except (GeminiError, TypeError, ValueError) as error:
        view.discard()
        raise UsageError(explain.message(error)) from None
    view.finish()
    name = row_magics.bind(magics, args.out, vectors)
    shape = getattr(vectors, "shape", (len(vectors),))
    show_markdown("Embedded {0} into {1:code}: {2} array of shape {3}.", plural(len(vectors), "text"), name,
                  getattr(vectors, "dtype", "list"), tuple(shape))


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError as error:
        raise UsageError(f"Could not read the options ({error}); check the quotes.") from None
