"""`%%gemini --live NAME`: the cell as a turn of the Live session in the kernel variable NAME, and
`%gemini live [list|talk [NAME]|close [NAME]]`.

The session is opened on first use (like `--chat`) through `Client.live` with the cell's options
(`-m`, `-s`, `--text`, `--voice`, `--tools`, `-t` ...), and kept open between cells: the next cell
is the next turn of the same session. The answer streams into the usual live view (the transcript as
it arrives, each tool call as it runs, the audio player when the turn completes, a footer with model,
turn, tokens and seconds), and stays as ordinary display data in the saved notebook. The turn (a
LiveTurn) is bound to `_gemini` and `-o NAME`.

`%gemini live talk [NAME]` shows the session's voice widget (`session.widget()`, voice/widget.py),
opening the session first (with the default Live model) when NAME holds none.
"""

from __future__ import annotations

from IPython.core.error import UsageError

from ..errors import GeminiError, LiveError
from ..units import plural
from . import explain
from .display import show_markdown

DEFAULT_NAME = "live"
_NOT_WITH_LIVE = ("chat", "over", "batch", "schema", "json", "cache", "image", "speak", "interactions", "dry_run",
                  "raw")


def check_options(args) -> None:
    """Options that belong to generateContent turns are refused with --live (one message, nothing sent),
    and --tool-mode (a Live session has no manual or forced calling: it runs every call)."""
    given = [name for name in _NOT_WITH_LIVE if getattr(args, name, None) not in (None, False)]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise UsageError(f"{flags} cannot go with --live: a Live session answers in speech or text, one turn "
                         "at a time. Use them without --live.")
    if getattr(args, "tool_mode", None):
        raise UsageError("--tool-mode cannot go with --live: a Live session runs the functions of --tools whenever "
                         "the model calls them. Leave it out, or use --tool-mode without --live.")
    if (args.text or args.voice) and not args.live:
        raise UsageError("--text and --voice go with --live NAME.")


def get_session(magics, args, system, tools: dict, settings):
    """The LiveSession named by `--live`, opened (and bound) on first use or when the one there has
    ended. UsageError when the name holds something else or the session cannot be opened."""
    from ..api.live import LiveSession

    name = args.live
    if not name.isidentifier():
        raise UsageError(f"--live {name!r} is not a valid Python variable name.")
    namespace = magics.shell.user_ns
    session = namespace.get(name)
    if session is not None and not isinstance(session, LiveSession):
        raise UsageError(f"--live {name}: the variable {name} holds a {type(session).__name__}, not a Live session. "
                         f"Use another name, or `del {name}` first.")
    if session is not None and not session.closed:
        _check_same_setup(session, args, tools)
        return session, False
    options = {"response": "text" if args.text else "audio", "voice": args.voice, "system_instruction": system,
               "name": name, **{k: v for k, v in tools.items() if k in ("tools", "max_calls")}}
    config = settings.generation_config()
    if config:
        options["config"] = config
    try:
        session = magics.backend.client().live(args.model, **options)
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    except (TypeError, ValueError) as error:
        raise UsageError(str(error)) from None
    namespace[name] = session
    magics.live_sessions[name] = session
    return session, True


def _check_same_setup(session, args, tools: dict) -> None:
    """A Live session's setup is fixed when it opens: a later cell asking for another model, modality,
    voice or more tools is refused with what to do (nothing sent)."""
    setup = session.setup
    declared = {d.get("name") for tool in setup.get("tools") or () for d in tool.get("functionDeclarations") or ()}
    asked = {getattr(t, "__name__", None) for t in tools.get("tools") or () if callable(t)}
    text = setup["generationConfig"].get("responseModalities") == ["TEXT"]
    voice = ((setup["generationConfig"].get("speechConfig") or {}).get("voiceConfig") or {}) \
        .get("prebuiltVoiceConfig", {}).get("voiceName")
    changes = []
    if args.model and args.model.removeprefix("models/") != session.model:
        changes.append(f"the model {args.model} (it uses {session.model})")
    if args.text != text:
        changes.append("text answers" if args.text else "spoken answers (it answers in text; add --text)")
    if args.voice and args.voice.lower() != str(voice).lower():
        changes.append(f"the voice {args.voice}")
    if asked - declared:
        changes.append(f"the tools {', '.join(sorted(asked - declared))}")
    if changes:
        name = session.name
        raise UsageError(f"{name} was opened without {'; '.join(changes)}, and a Live session keeps the setup it "
                         f"opened with. Close it first (%gemini live close {name}) and run the cell again, or use "
                         f"another name (--live NAME).")


def run_live_turn(magics, args, contents, system, tools: dict, settings, view_options) -> None:
    """Send the cell as the next turn and stream the answer into a live view (see the module docstring)."""
    from ..render import StreamView

    check_options(args)
    session, opened = get_session(magics, args, system, tools, settings)
    view = StreamView(model=session.model, update_interval=magics.update_interval,
                      output_format=view_options["format"], mode="plain" if not view_options["stream"] else None)
    try:
        turn = session.start_turn(contents)
    except LiveError as error:  # the connection went (a drop, a close) as this cell was sent
        raise UsageError(f"{explain.message(session.error or error)}\nThis cell was not answered; run it again "
                         f"({session.name} goes on if the session resumes, else a new session opens).") from None
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    shown = 0
    try:
        view.start()
        while not session.wait(turn, magics.update_interval):
            shown = _show_calls(view, turn, shown)
            view.update(turn.to_response(with_audio=False))
        shown = _show_calls(view, turn, shown)
    except KeyboardInterrupt:
        session.interrupt_turn(turn)
        bind(magics, args, turn)
        view.footer_label = footer(session)
        view.finish(turn.to_response())
        raise UsageError(f"Interrupted after {plural(len(turn.text), 'character')}; the partial turn is in "
                         f"{args.out or '_gemini'} (marked interrupted), and {session.name} goes on.") from None
    bind(magics, args, turn)
    view.footer_label = footer(session)
    response = turn.to_response()
    if turn.error is not None:
        view.finish(response, failure_reported=True) if turn.text or turn.audio_bytes else view.discard()
        raise UsageError(f"{explain.message(turn.error)}\nWhat arrived is in {args.out or '_gemini'} (marked "
                         "incomplete); the next cell opens a new session.") from None
    view.finish(response)
    for note in turn.notes:
        show_markdown(f"ℹ️ {note}")


def bind(magics, args, turn) -> None:
    """The turn in `_gemini` and in `-o NAME` (as a prompt's answer is)."""
    magics.shell.user_ns["_gemini"] = turn
    if args.out:
        magics.shell.user_ns[args.out] = turn


def _show_calls(view, turn, shown: int) -> int:
    """Show the calls of the turn that have run since the last look; returns how many are shown."""
    done = [record for record in turn.tool_calls if "seconds" in record or record.get("cancelled")]
    for record in done[shown:]:
        view.add_call(record)
    return len(done)


def footer(session) -> str:
    """`live · turn 2 · 1,204 tokens so far`"""
    return f"{session.name} · turn {len(session.turns)} · {plural(session.total_tokens, 'token')} so far"


def subcommand(magics, words) -> None:
    """`%gemini live [list]` lists the sessions; `%gemini live close [NAME]` closes one (default: live)."""
    from ..api.live import LiveSession

    action = words[0] if words else "list"
    sessions = {name: value for name, value in magics.shell.user_ns.items() if isinstance(value, LiveSession)
                and not name.startswith("_")}
    if action == "list" and len(words) <= 1:
        if not sessions:
            show_markdown("No Live sessions. Start one with %%gemini --live NAME.")
            return
        from ..escape import markdown_row
        from .display import show_markdown_text

        head = ["| session | model | state | turns | tokens | resumptions |", "|---|---|---|---:|---:|---:|"]
        rows = []
        for name, session in sessions.items():
            state = "failed" if session.error is not None else "closed" if session.closed else "open"
            rows.append(markdown_row((name, session.model, state, len(session.turns), f"{session.total_tokens:,}",
                                      session.resumptions), code=(0,)))
        show_markdown_text("\n".join(head + [row[0] for row in rows]), "\n".join(head + [row[1] for row in rows]))
        return
    if action == "talk" and len(words) <= 2:
        talk(magics, words[1] if len(words) == 2 else DEFAULT_NAME)
        return
    if action == "close" and len(words) <= 2:
        name = words[1] if len(words) == 2 else DEFAULT_NAME
        session = sessions.get(name)
        if session is None:
            raise UsageError(f"There is no Live session named {name}; %gemini live list shows them.")
        turns = plural(len(session.turns), "turn")
        if session.closed or session.error is not None:
            session.close()  # a failed session's threads are joined too
            show_markdown("{0} is closed already (after {1}); %%gemini --live {0} opens a new one.", name, turns)
            return
        session.close()
        magics.live_sessions.pop(name, None)
        show_markdown("Closed the Live session {0} after {1}.", name, turns)
        return
    raise UsageError("Use %gemini live, %gemini live list, %gemini live talk [NAME], or %gemini live close [NAME].")


def talk(magics, name: str) -> None:
    """`%gemini live talk NAME`: the voice widget of the session NAME (opened now when there is none)."""
    from IPython.display import display

    from ..api.live import LiveSession

    if not name.isidentifier():
        raise UsageError(f"%gemini live talk {name!r}: not a valid Python variable name.")
    if getattr(magics.shell, "kernel", None) is None:  # terminal IPython: no frontend to draw a widget in
        raise UsageError("%gemini live talk needs a notebook frontend (JupyterLab, Notebook 7): the microphone "
                         "and the speaker are the browser's. Here, %%gemini --live sends typed turns; no "
                         "session was opened.")
    session = magics.shell.user_ns.get(name)
    if session is not None and not isinstance(session, LiveSession):
        raise UsageError(f"{name} holds a {type(session).__name__}, not a Live session. Use another name, or "
                         f"`del {name}` first.")
    if session is None or session.closed:
        try:
            from ..voice.widget import widget_class

            widget_class()  # anywidget missing: say so before opening a session
            session = magics.backend.client().live(name=name)
        except GeminiError as error:
            raise UsageError(explain.message(error)) from None
        magics.shell.user_ns[name] = session
        magics.live_sessions[name] = session
    try:
        widget = session.widget()
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    display(widget)
