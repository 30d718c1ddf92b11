"""What `%gemini` and `%%gemini` do with their line: help, a subcommand (`models`, `chat undo`,
`cache list`, `fix` ...), a mistyped subcommand refused, or the options and the prompt.

Imported on the first run of the magic, not by `%load_ext` (the registered GeminiMagics stays thin).
"""

from __future__ import annotations

from IPython.core.error import UsageError

from .display import show_markdown
from .options import parse_options, split_options

SUBCOMMANDS = ("models", "config", "files", "backend", "chat", "cache", "batch", "batches", "embed", "live",
               "fix")


def run(magics, line: str, cell: str | None = None):
    """`%gemini LINE` (cell None) or `%%gemini LINE` over `cell`."""
    from .cell import run_prompt
    from .help import help_markdown, wants_help

    if wants_help(line, magics.gemini.parser):
        return show_markdown(help_markdown(magics.gemini))
    if cell is None:
        return run_line(magics, line)
    if line.split()[:1] == ["fix"]:
        raise UsageError("fix is a line magic: %gemini fix after the failing cell, with an instruction "
                         "after -- (%gemini fix -- use dict.get); nothing was sent.")
    return run_prompt(magics, parse_options(magics.gemini, line, "%%gemini"), cell)


def run_line(magics, line: str):
    """`%gemini LINE`: a subcommand (`models`, `chat undo`, `fix` ...), or the options and the prompt."""
    from . import batch_commands, subcommands
    from .cell import run_prompt

    words = line.split()
    command = words[0] if words else ""
    # "%gemini models are great, why?" is a prompt, not the models subcommand.
    takes_words = {"models": False, "config": len(words) == 2 and words[1].isidentifier(), "files": words[1:2] == ["delete"],
                   "backend": len(words) == 2, "chat": _names_a_chat(words[1:], magics.shell.user_ns),
                   "cache": words[1:2] in (["create"], ["list"], ["extend"], ["delete"]),
                   "batch": batch_commands.names_a_job(words[1:]), "batches": False,
                   "embed": words[1:2] != [] and words[1].startswith("{"),
                   "live": words[1:2] == ["list"] and len(words) == 2 or words[1:2] in (["close"], ["talk"])
                   and len(words) <= 3,
                   "fix": False}
    from . import fix

    if fix.is_fix(words):
        return fix.run(magics, line)
    if command in SUBCOMMANDS and (len(words) == 1 or takes_words[command]):
        if command == "backend":
            return magics.backend.choose(words[1:])
        if command == "chat":
            from .chat import subcommand

            return subcommand(magics, words[1:])
        if command == "live":
            from .live import subcommand as live_subcommand

            return live_subcommand(magics, words[1:])
        if command == "cache":
            from . import caches

            return caches.run(magics, line.split(None, 1)[1] if len(words) > 1 else "")
        if command in ("batch", "batches", "embed"):
            rest = line.split(None, 1)[1] if len(words) > 1 else ""
            return batch_commands.batches_command(magics) if command == "batches" else \
                getattr(batch_commands, f"{command}_command")(magics, rest)
        return getattr(subcommands, command)(magics, words[1:])
    _refuse_mistyped_action(command, words[1:2])
    if len(words) == 1 and not command.startswith("-"):
        _refuse_mistyped_subcommand(command)
    options, prompt = split_options(line, magics.gemini.parser)
    args = parse_options(magics.gemini, options)
    if not prompt.strip():
        raise UsageError("Nothing to send. Write the prompt after %gemini, or use %%gemini for a cell. "
                         f"Subcommands: {', '.join(SUBCOMMANDS)}.")
    return run_prompt(magics, args, prompt)


def _names_a_chat(words: list[str], namespace: dict) -> bool:
    """`%gemini chat undo trip` is the subcommand; `%gemini chat about the weather` is a prompt."""
    if words[:1] in (["undo"], ["reset"], ["show"]):
        return len(words) <= 2
    if len(words) != 1:
        return len(words) == 0
    from ..api.chat import Chat

    return isinstance(namespace.get(words[0]), Chat)


#: The actions of the subcommands that take one (`%gemini cache list`).
ACTIONS = {"cache": ("create", "list", "extend", "delete"), "files": ("delete",), "chat": ("undo", "reset", "show"),
           "batch": ("cancel", "status"), "live": ("list", "close", "talk")}


def _refuse_mistyped_action(command: str, action: list[str]) -> None:
    """`%gemini cache lsit` is a typo, not a prompt to send: UsageError with the action meant."""
    import difflib

    if command not in ACTIONS or not action:
        return
    close = difflib.get_close_matches(action[0].lower(), ACTIONS[command], n=1, cutoff=0.7)
    if close and close[0] != action[0]:
        raise UsageError(f"%gemini {command} {action[0]}: did you mean %gemini {command} {close[0]}? "
                         f"(To send it as a prompt, write %gemini -- {command} {action[0]} ...)")


def _refuse_mistyped_subcommand(word: str) -> None:
    """`%gemini modles` is a typo of `%gemini models`, not a one-word prompt: UsageError naming it."""
    from .help import mistyped_subcommand

    meant = mistyped_subcommand(word, SUBCOMMANDS)
    if meant is not None:
        raise UsageError(f"%gemini {word}: did you mean %gemini {meant}? (To send it as a prompt, write "
                         f"%gemini -- {word})")
