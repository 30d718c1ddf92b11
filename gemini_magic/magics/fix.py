"""`%gemini fix [OPTIONS] [-- INSTRUCTION]`: explain the last error and put the fixed cell below.

Sends the last error of the user's code (its traceback, user frames only: context.user_traceback_text),
the failing cell's source and short summaries of the variables that cell names (notebook.fix_prompt),
streams the explanation like any answer, and puts the answer's code into a new cell below (the
`--new-cell` path of cell.py). The options are those of `%gemini` (`-m`, `--no-stream`, `-o` ...);
`%gemini fix -- use polars instead` adds an instruction.
"""

from __future__ import annotations

from IPython.core.error import UsageError


def is_fix(words: list[str]) -> bool:
    """`%gemini fix`, `%gemini fix -- ...`, `%gemini fix -m MODEL` are the subcommand; `%gemini fix my
    grammar: ...` is a prompt."""
    return words[:1] == ["fix"] and (len(words) == 1 or words[1].startswith("-"))


def run(magics, line: str) -> None:
    """The subcommand: UsageError (one line) when no error happened yet."""
    from ..notebook import fix_prompt, names_in
    from .cell import run_prompt
    from .context import user_traceback_text
    from .options import parse_options, split_options

    rest = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
    options, instruction = split_options(rest, magics.gemini.parser)
    context = magics.context
    if context.last_error is None:
        raise UsageError("Nothing to fix: no cell has failed in this kernel yet (errors of %gemini itself do "
                         "not count). Run the failing cell, then %gemini fix.")
    number, source = context.last_error_cell or (None, "")
    namespace = magics.shell.user_ns
    variables = {name: namespace[name] for name in names_in(source)
                 if name in namespace and not name.startswith("_") and not callable(namespace[name])}
    prompt = fix_prompt(source, user_traceback_text(context.last_error), variables, instruction.strip(), number)
    args = parse_options(magics.gemini, f"{options} --new-cell")
    run_prompt(magics, args, prompt, contents=[prompt])
