"""`%%gemini --chat NAME`: a turn of the conversation held in the kernel variable NAME (a `Chat`),
and `%gemini chat [undo|reset] NAME`.

The first cell's model and system instruction become the conversation's defaults; options on a cell
apply to that turn. Re-running a cell replaces its turn (cells are told apart by the cell id Jupyter
sends, see context.py). Where no cell id comes (terminal IPython, nbconvert/nbclient), a re-run cannot
be told from a new cell: every turn is appended, and the first one appended after the opening turn
says so, once per conversation. A turn that fails, is blocked or interrupted leaves the history as it was.
"""

from __future__ import annotations

from IPython.core.error import UsageError

from ..errors import GeminiError
from ..units import plural
from . import explain
from .display import show_markdown, show_markdown_text

DEFAULT_NAME = "chat"


def get_chat(magics, args, model: str, system):
    """The Chat named by `--chat`, created (and bound) on first use; UsageError when the name holds
    something else."""
    from ..api.chat import Chat

    name = args.chat
    if not name.isidentifier():
        raise UsageError(f"--chat {name!r} is not a valid Python variable name.")
    namespace = magics.shell.user_ns
    chat = namespace.get(name)
    if chat is not None and not isinstance(chat, Chat):
        raise UsageError(f"--chat {name}: the variable {name} holds a {type(chat).__name__}, not a conversation. "
                         f"Use another name, or `del {name}` first.")
    if args.cache and (args.interactions or (chat is not None and chat.interactions)):
        raise UsageError("--cache works with generateContent conversations; an --interactions conversation "
                         "cannot use a cached content.")
    if chat is None:
        chat = Chat(magics.backend.client(), model, system, interactions=args.interactions,
                    store=not args.no_store, name=name)
        namespace[name] = chat
        return chat
    if args.interactions and not chat.interactions:
        raise UsageError(f"{name} is a generateContent conversation; --interactions applies to a new one "
                         f"(`del {name}` first, or use another name).")
    chat.client = magics.backend.client()  # the backend or settings may have changed since the last turn
    return chat


def turn_options(chat, args, model: str, system, settings) -> dict:
    """What this cell changes for its own turn: model, system instruction, settings."""
    options: dict = {}
    if args.model is not None and model != chat.model:
        options["model"] = model
    if args.system is not None:
        options["system"] = system
    if chat.interactions:
        config = interaction_config(settings)
        if config:
            options["generation_config"] = config
    else:
        options["settings"] = settings
    return options


def interaction_config(settings) -> dict:
    """GenerationSettings in the Interactions API's snake_case generation_config (seeds/003)."""
    fields = ("temperature", "top_p", "top_k", "max_output_tokens", "stop_sequences", "seed", "candidate_count",
              "thinking_level", "response_mime_type")
    config = {name: getattr(settings, name) for name in fields if getattr(settings, name) is not None}
    if "stop_sequences" in config:
        config["stop_sequences"] = list(config["stop_sequences"])
    if settings.include_thoughts:
        config["thinking_summaries"] = "auto"
    return config


def footer(chat) -> str:
    """`trip · turn 3 · 4,812 tokens so far · ≈ $0.0031 so far` (the cost left out without a price)"""
    count, tokens, cost = len(chat.turns), chat.total_tokens, chat.cost
    spent = f" · ≈ {cost} so far" if cost is not None else ""
    return f"{chat.name} · turn {count} · {plural(tokens, 'token')} so far{spent}"


def appended_without_cell_id(magics, chat) -> str | None:
    """The one note (per conversation) that a turn was appended because the frontend sends no cell id."""
    if chat in magics.told_no_cell_id:
        return None
    magics.told_no_cell_id.add(chat)
    return (f"Added as turn {len(chat.turns)} of {chat.name}. This frontend sends no cell id, so running a cell "
            "again adds a turn instead of replacing its own (replacing works in JupyterLab, Notebook 7 and "
            f"VS Code); `%gemini chat undo {chat.name}` removes the last exchange.")


def not_added(chat) -> str:
    return f"Not added to {chat.name}; its history is unchanged. Run the cell again."


def subcommand(magics, words) -> None:
    """`%gemini chat NAME` shows the transcript; `undo NAME` removes the last exchange; `reset NAME`
    empties it."""
    from ..api.chat import Chat

    action = words[0] if words and words[0] in ("undo", "reset", "show") else "show"
    names = words[1:] if words and words[0] in ("undo", "reset", "show") else words
    name = names[0] if names else DEFAULT_NAME
    if len(names) > 1:
        raise UsageError("Use %gemini chat [NAME], %gemini chat undo [NAME] or %gemini chat reset [NAME].")
    chat = magics.shell.user_ns.get(name)
    if not isinstance(chat, Chat):
        raise UsageError(f"There is no conversation named {name}. Start one with %%gemini --chat {name}.")
    if action == "undo":
        try:
            chat.undo()
        except GeminiError as error:
            raise UsageError(explain.message(error)) from None
        show_markdown("Removed the last exchange of {0}: {1} left.", name, plural(len(chat.turns), "turn"))
    elif action == "reset":
        chat.reset()
        show_markdown("{0} is empty now (its model and system instruction stay).", name)
    else:
        show_markdown_text(chat.transcript(), chat.transcript(markdown=False))
