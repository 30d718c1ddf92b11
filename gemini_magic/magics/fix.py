"""`%gemini fix [OPTIONS] [-- INSTRUCTION]`: explain the last error and put the fixed cell below.

Sends the last error of the user's code (its traceback, user frames only: context.user_traceback_text),
the failing cell's source and short summaries of the variables that cell names (notebook.fix_prompt),
streams the explanation like any answer, and puts the answer's code into a new cell below (the
`--new-cell` path of cell.py). The options are those of `%gemini` (`-m`, `--no-stream`, `-o` ...);
`%gemini fix -- use polars instead` adds an instruction.
"""

from __future__ import annotations

from IPython.core.error import UsageError


# Options that make no single text answer with code, so no fixed cell: refused with fix.
NOT_WITH_FIX = {"video": "--video", "live": "--live", "image": "--image", "speak": "--speak", "over": "--over",
                "batch": "--batch", "chat": "--chat"}
# What `%gemini fix` sends at most of the error and of the failing cell, in characters each (head and
# tail kept): a 2 MB message or a 20,000-line cell would otherwise go whole.
ERROR_CHARS = 6000
SOURCE_CHARS = 12000


def is_fix(words: list[str]) -> bool:
    """`%gemini fix`, `%gemini fix -- ...`, `%gemini fix -m MODEL`: the subcommand (free words after
    `fix` are refused by `run`, with how to write them)."""
    return words[:1] == ["fix"]


def trimmed(text: str, limit: int, what: str) -> str:
    """`text` within `limit` characters: its head and tail, with a line saying how much was left out."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 2 // 3], text[-(limit // 3):]
    return f"{head}\n[... {len(text) - len(head) - len(tail):,} characters of the {what} left out ...]\n{tail}"


def run(magics, line: str) -> None:
    """The subcommand: UsageError (one line, nothing sent) when no error happened yet, for words
    without `--` before them, and for options that make no fixed cell (NOT_WITH_FIX)."""
    from ..notebook import fix_prompt, names_in
    from .cell import run_prompt
    from .context import user_traceback_text
    from .options import parse_options, split_options

    rest = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
    if rest.strip() and not rest.lstrip().startswith("-"):
        raise UsageError(f"%gemini fix takes options, then -- and an instruction: %gemini fix -- {rest.strip()}  "
                         "(to send it as a prompt instead, put it in a %%gemini cell).")
    options, instruction = split_options(rest, magics.gemini.parser)
    args = parse_options(magics.gemini, options)
    refused = [flag for dest, flag in NOT_WITH_FIX.items() if getattr(args, dest, None)]
    if refused:
        raise UsageError(f"%gemini fix answers with one fixed cell, so it does not take {refused[0]}; "
                         "run %gemini fix without it.")
    context = magics.context
    if context.last_error is None:
        raise UsageError("Nothing to fix: no cell has failed in this kernel yet (errors of %gemini itself do "
                         "not count). Run the failing cell, then %gemini fix.")
    number, source = context.last_error_cell or (None, "")
    namespace = magics.shell.user_ns
    variables = {name: namespace[name] for name in names_in(source)
                 if name in namespace and not name.startswith("_") and not callable(namespace[name])}
    error = trimmed(user_traceback_text(context.last_error), ERROR_CHARS, "error")
    prompt = fix_prompt(trimmed(source, SOURCE_CHARS, "cell"), error, variables, instruction.strip(), number)
    since = context.clean_runs_since_error
    if since:
        from .display import show_markdown

        show_markdown("Fixing the last error, in In[{}]; {} cell{} ran without error since.",
                      number if number is not None else "?", since, "" if since == 1 else "s")
    args = parse_options(magics.gemini, f"{options} --new-cell")
    args.fix = True  # the fixed cell is the answer's last code block (cell.py)
    run_prompt(magics, args, prompt, contents=[prompt])
