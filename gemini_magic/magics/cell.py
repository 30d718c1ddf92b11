"""`%%gemini` / `%gemini PROMPT`: resolve names, run the turn pipeline through `Client`, show, bind.

Everything here is glue: the request is prepared by `Client.prepare` (request/pipeline.py), exactly as
`Client.generate/stream/count_tokens` prepare it, and the answer is shown by the views of render/.
"""

from __future__ import annotations

import json
from typing import Any

from IPython.core.error import UsageError

from ..errors import GeminiError, NotFoundError
from ..units import plural
from . import explain
from ..escape import code_span
from ..answer.part_kinds import fence
from .display import show_markdown, show_markdown_text
from .names import check_out_name


def run_prompt(magics, args, prompt_text: str, *, contents: list | None = None):
    """Send one prompt; returns None (the answer is displayed and bound to `_gemini` / `-o`). With
    `--new-cell`, the answer's code then goes into a new cell below (`place_code`). `contents` given
    (`%gemini fix`) are sent as they are, instead of the template `prompt_text`."""
    if args.new_cell and (args.over is not None or args.batch):
        raise UsageError("--new-cell goes with one prompt, not with --over or --batch.")
    _send_prompt(magics, args, prompt_text, contents)
    if args.new_cell and not args.dry_run:
        place_code(magics, args)


def kernel_language(shell) -> str:
    """The kernel's language name ("python"): ipykernel's language_info, else Python (terminal IPython)."""
    info = getattr(getattr(shell, "kernel", None), "language_info", None)
    name = info.get("name") if isinstance(info, dict) else None
    return str(name or "python").lower()


def place_code(magics, args) -> None:
    """`--new-cell`: the bound answer's code (its fenced blocks in the kernel's language, joined: the kernel
    keeps one next input per execution) goes into a new cell below through IPython's
    `set_next_input(code, replace=False)`, which ipykernel sends as the execute reply's `set_next_input`
    payload: JupyterLab and Notebook 7 insert it as a new code cell below, not run; terminal IPython puts
    it at the next prompt to edit or run. Frontends without payloads (Colab) show the code in the answer
    only. No code in the answer: one line says so, and no cell is added."""
    response = magics.shell.user_ns.get(args.out or "_gemini") if magics.shell is not None else None
    code = response.code(kernel_language(magics.shell), last=getattr(args, "fix", False)) \
        if hasattr(response, "code") else None
    if not code:
        show_markdown("ℹ️ The answer has no code block, so no cell was added.")
        return
    magics.shell.set_next_input(code, replace=False)
    where = "at the next prompt" if getattr(magics.shell, "kernel", None) is None else "in a new cell below"
    show_markdown(f"ℹ️ The answer's code ({plural(code.count(chr(10)) + 1, 'line')}) is {where}, not run.")


def _send_prompt(magics, args, prompt_text: str, literal: list | None):
    from ..render.progress import UploadProgress
    from .options import settings_from_args

    if args.video:
        from .video import run_video

        return run_video(magics, args, prompt_text)
    video_only = [flag for flag, value in (("--resolution", args.resolution), ("--duration", args.duration),
                                           ("--negative", args.negative), ("--new", args.new)) if value]
    if video_only:
        raise UsageError(f"{', '.join(video_only)} go(es) with --video (the cell's text becomes a video).")
    model, settings, view_options = settings_from_args(args, magics)
    namespace = magics.shell.user_ns if magics.shell is not None else {}
    if args.over is not None:  # the cell is a row template: {row.col} must not go through resolve()
        from .rows import run_rows

        return run_rows(magics, args, prompt_text, model, settings, view_options)
    if args.batch or args.new_batch:
        raise UsageError("--batch goes with --over NAME: it sends one request per row through the Batch API.")
    if args.into or args.rpm is not None or args.cache_dir:
        raise UsageError("--into, --rpm and --cache-dir go with --over NAME (one prompt per row).")
    check_out_name(args.out, namespace)
    client = magics.backend.client()
    if literal is not None:
        contents, system = literal, resolve_system(args, magics.context.namespace(namespace), magics.system)
    else:
        contents, system = resolve(prompt_text, args, magics.context.namespace(namespace), magics.system)
    if args.new_cell:
        from ..notebook import code_system

        system = code_system(system, kernel_language(magics.shell))
    if isinstance(args.image, str):  # --image {photo}: that image goes in, an image comes out (an edit)
        from .video import _image

        contents.append(_image(args.image, namespace))
    schema = None
    if args.schema:
        from .type_expr import evaluate_type

        schema = evaluate_type(args.schema, namespace)
    tools = tool_options(args, namespace)
    if args.live or args.text or args.voice:
        from .live import check_options, run_live_turn

        check_options(args)
        return run_live_turn(magics, args, contents, system, tools, settings, view_options)
    cache = cache_for(args.cache, namespace) if args.cache else None
    if args.chat:
        return run_chat_turn(magics, args, contents, model, system, settings, view_options, schema,
                             {**tools, **({"cache": cache} if cache is not None else {})})
    if args.interactions or args.no_store:
        raise UsageError("--interactions and --no-store start a conversation: use them with --chat NAME.")
    if tools and not args.dry_run:
        return run_tool_turn(magics, args, client, model, contents, view_options,
                             dict(system=system, settings=settings, schema=schema, cache=cache, **tools))
    try:
        turn = client.prepare(model, contents, system=system, settings=settings, schema=schema, cache=cache,
                              upload_progress=UploadProgress, dry_run=args.dry_run,
                              **{k: v for k, v in tools.items() if k in ("tools", "tool_mode")})
    except (GeminiError, TypeError, ValueError) as error:
        raise UsageError(explain.message(error)) from None
    except KeyboardInterrupt:
        raise UsageError("Interrupted while preparing the prompt (an upload may have been cut short); "
                         "run the cell again to start over.") from None
    if args.dry_run:
        return dry_run(client, turn)
    if turn.notes:
        show_markdown("\n".join(f"- ℹ️ {{{i}}}" for i in range(len(turn.notes))), *turn.notes)
    if args.raw:
        method = "streamGenerateContent?alt=sse" if view_options["stream"] else "generateContent"
        show_json("Request", client.transport.url(f"models/{model}:{method}"), turn.body)
    show_answer(magics, args, view_options, model,
                start=lambda: client.stream(model, request=turn) if view_options["stream"] else None,
                send=lambda: client.generate(model, request=turn),
                failed=lambda error: _model_not_found(client, model, error))


def tool_options(args, namespace: dict) -> dict:
    """`--tools f g`, `--search`, `--url-context`, `--code`, `--maps`, `--tool-mode`, `--max-calls` as the
    keyword arguments of Client.generate/stream (api/tools.py); {} when none is given."""
    tools: list = []
    for name in args.tools or ():
        value = namespace.get(name.strip("{} "))
        if value is None:
            raise UsageError(f"--tools {name}: there is no function of that name in the kernel; define it first "
                             "(def get_rainfall(city: str, month: int) -> float: ...).")
        if not callable(value):
            raise UsageError(f"--tools {name}: the variable holds a {type(value).__name__}, not a function.")
        tools.append(value)
    for flag, builtin in (("search", "google_search"), ("url_context", "url_context"), ("code", "code_execution"),
                          ("maps", "google_maps")):
        if getattr(args, flag):
            tools.append(builtin)
    if not tools:
        if args.tool_mode or args.max_calls is not None:
            raise UsageError("--tool-mode and --max-calls go with --tools NAME (or --search, --code, ...).")
        return {}
    options: dict = {"tools": tools}
    if args.tool_mode:
        options["tool_mode"] = args.tool_mode
    if args.max_calls is not None:
        options["max_calls"] = args.max_calls
    return options


def run_tool_turn(magics, args, client, model, contents, view_options, options):
    """A prompt with tools: the model's calls run in the kernel between its turns (api/tools.py), each
    call shown as it happens, and the whole exchange kept in the result's `.steps`."""
    from ..render.progress import UploadProgress

    views: list = []  # the view show_answer makes, so that each call shows in it as it happens

    def on_call(record: dict) -> None:
        if views:
            views[0].add_call(record)

    options = {**options, "upload_progress": UploadProgress, "on_call": on_call}
    try:
        if view_options["stream"]:
            stream = client.stream(model, contents, **options)
            start, send = (lambda: stream), None
        else:
            start, send = None, (lambda: client.generate(model, contents, **options))
    except (GeminiError, TypeError, ValueError) as error:
        raise UsageError(explain.message(error)) from None
    response = show_answer(magics, args, view_options, model, start=start, send=send,
                           failed=lambda error: _model_not_found(client, model, error), views=views)
    note = getattr(magics.shell.user_ns.get("_gemini"), "tool_note", None)
    if note:
        show_markdown("ℹ️ {0}", note)
    return response


def run_chat_turn(magics, args, contents, model, system, settings, view_options, schema=None, tools=None):
    """One turn of the `--chat` conversation (magics/chat.py), shown like any answer."""
    from .chat import appended_without_cell_id, footer, get_chat, not_added, turn_options

    chat = get_chat(magics, args, model, system)
    options = turn_options(chat, args, model, system, settings)
    if args.new_cell and "system" not in options:  # this turn asks for code (the conversation's own system kept)
        from ..notebook import code_system

        options["system"] = code_system(chat.system if isinstance(chat.system, str) else None,
                                        kernel_language(magics.shell))
    if schema is not None:
        options["schema"] = schema
    options.update(tools or {})
    cell_id = magics.context.cell_id
    if args.dry_run:
        try:
            body = chat.build_request(contents, cell_id=cell_id, **options)
        except (GeminiError, TypeError, ValueError) as error:
            raise UsageError(explain.message(error)) from None
        if chat.interactions:
            return show_json("Request (Interactions API, nothing sent)", None, body)
        from ..request.pipeline import PreparedTurn

        return dry_run(chat.client, PreparedTurn(options.get("model", chat.model), body))
    try:
        if view_options["stream"]:
            stream = chat.stream(contents, cell_id=cell_id, **options)
            start, send = (lambda: stream), None
        else:
            start, send = None, (lambda: chat.send(contents, cell_id=cell_id, **options))
    except (GeminiError, TypeError, ValueError) as error:
        raise UsageError(explain.message(error)) from None
    before = len(chat.turns)
    response = show_answer(magics, args, view_options, options.get("model", chat.model), start=start, send=send,
                           failed=lambda error: not_added(chat), extra=lambda: footer(chat))
    if chat.last_replaced is not None:
        index, dropped = chat.last_replaced
        later = f"; {plural(dropped, 'later turn')} dropped" if dropped else ""
        show_markdown("Re-ran turn {0} of {1}: it replaces the earlier answer{2}.", index + 1, chat.name, later)
    elif cell_id is None and before and len(chat.turns) > before:
        note = appended_without_cell_id(magics, chat)
        if note:
            show_markdown(note)
    return response


def show_answer(magics, args, view_options, model, *, start, send, failed, extra=None, views=None):
    """Stream (`start()` gives the stream) or send (`send()` gives the answer) into a view, bind the
    result, and turn failures into one UsageError; `failed(error)` may give that message (else
    explain.message). For a conversation's turn, `extra()` gives the footer's label and `failed` the
    line that says the turn was not added."""
    from ..render import StreamView

    view = StreamView(model=model, show_thoughts=view_options["show_thoughts"],
                      update_interval=magics.update_interval, output_format=view_options["format"],
                      mode="plain" if not view_options["stream"] else None)
    if views is not None:
        views.append(view)  # for calls shown as they happen (run_tool_turn)
    response = stream = None
    try:
        stream = start() if view_options["stream"] else None  # may refuse at once (max_cost: CostLimitError)
        if stream is not None:
            response = stream.response
            view.start()  # shows "waiting…" while a thinking model is silent
            try:
                for _ in stream:
                    response = stream.response
                    view.update(response)
            finally:
                stream.close()
        else:
            response = send()
        if extra is not None:
            view.footer_label = extra()  # "trip · turn 3 · 4,812 tokens so far", in the footer line
        unfit = _unfit_answer(response, args.out or "_gemini")
        view.finish(response, failure_reported=unfit is not None)  # the UsageError below says it once
    except KeyboardInterrupt:
        response = stream.response if stream is not None else response
        if response is None or not response.chunk_count:
            view.discard()
            raise UsageError("Interrupted before the answer started; nothing was kept.") from None
        bind(magics, args, response)  # closed by its stream as interrupted (Response.close)
        view.finish(response)  # the partial answer, marked interrupted in its footer
        note = f" {failed(None)}" if extra is not None else ""
        raise UsageError(f"Interrupted after {plural(len(response.text), 'character')}; the partial answer is "
                         f"in {args.out or '_gemini'} (marked interrupted).{note}") from None
    except GeminiError as error:
        response = error.response if error.response is not None else response
        if response is not None and response.chunk_count:
            bind(magics, args, response)
            view.finish(response, failure_reported=True)  # the UsageError below says what failed
            message = explain.message(error)
            if extra is not None:
                message = f"{message}\n{failed(error)}"
            raise UsageError(f"{message}\nThe partial answer is in {args.out or '_gemini'} (marked incomplete).") \
                from None
        view.discard()  # nothing arrived: no answer, no footer; the previous result stays bound
        message = failed(error) if extra is None else None
        text = message or explain.message(error)
        if extra is not None:
            text = f"{text}\n{failed(error)}"
        raise UsageError(text) from None
    bind(magics, args, response)
    if unfit is not None:
        raise UsageError(unfit)
    if args.raw:
        show_json("Response", None, response.raw)
    return None


def cache_for(name: str, namespace: dict):
    """`--cache NAME`: the CachedContent in the variable NAME, or a cache's name as the service gives it."""
    from ..api.caches import CachedContent

    value = namespace.get(name.strip("{} "))
    if isinstance(value, CachedContent):
        return value
    if value is not None:
        raise UsageError(f"--cache {name}: the variable holds a {type(value).__name__}, not a cached content; "
                         "make one with %gemini cache create {objects} -m MODEL --as NAME.")
    if name.startswith("cachedContents/"):
        return name
    raise UsageError(f"--cache {name}: there is no cached content of that name. Make one with "
                     f"%gemini cache create {{objects}} -m MODEL --as {name}; %gemini cache list shows yours.")


def resolve(prompt_text: str, args, namespace, default_system: str) -> tuple[list, Any]:
    """The prompt as text and kernel objects in order, and the system instruction. `namespace` has a
    `.get` (the user's variables, plus `{In[k]}` and `{last_error}`: see context.py)."""
    from ..prompt import split_template

    try:
        contents = split_template(prompt_text.strip("\n"), namespace)
        for name in args.attach or ():
            contents.extend(split_template("{" + name.strip("{}") + "}", namespace))
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    system = resolve_system(args, namespace, default_system)
    if not any(not isinstance(c, str) or c.strip() for c in contents):
        raise UsageError("The prompt is empty. Write it in the cell below %%gemini.")
    return contents, system


def resolve_system(args, namespace, default_system: str):
    """The system instruction: `-s` (text, `{name}` filled) or the default; None when neither is set."""
    from ..prompt import split_template

    system = args.system if args.system is not None else (default_system or None)
    if system is None:
        return None
    try:
        pieces = split_template(system, namespace)
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    if len(pieces) == 1 and not isinstance(pieces[0], str) and system.strip().startswith("{"):
        raise UsageError(f"-s {system} must name a str variable; it is a {type(pieces[0]).__name__}.")
    return "".join(p if isinstance(p, str) else str(p) for p in pieces)


def bind(magics, args, response) -> None:
    if magics.shell is None or response is None:
        return
    magics.shell.user_ns["_gemini"] = response
    if args.out:
        magics.shell.user_ns[args.out] = response


def dry_run(client, turn):
    """`--dry-run`: the parts as they would be sent, what countTokens says of the same request, and the
    estimated cost of it (pricing.estimate_prompt)."""
    from ..parts.core import WOULD_UPLOAD
    from ..render.dry_run import show_dry_run

    from ..pricing import estimate_prompt

    cost = None
    if WOULD_UPLOAD in json.dumps(turn.body):
        count = "counted once the large parts are uploaded (send the prompt, or upload them with %gemini_upload)"
    else:
        try:
            count = client.count_tokens(turn.model, request=turn)
            cost = estimate_prompt(count.total, turn.model, cached_tokens=count.cached, prices=client.prices,
                                   max_output_tokens=(turn.body.get("generationConfig") or {}).get("maxOutputTokens"))
        except GeminiError as error:
            count = explain.message(error)
    show_dry_run(turn.model, turn.body, count, turn.notes, cost)
    return None


def show_json(title: str, url: str | None, payload: Any) -> None:
    from ..render.explore import truncate_strings

    text = json.dumps(truncate_strings(payload), indent=2, ensure_ascii=False)
    head = f"**{title}**" + (f" {code_span('POST ' + url)} (header `x-goog-api-key: [REDACTED]`)" if url else "")
    show_markdown_text(f"{head}\n\n{fence(text, 'json')}", f"{title}" + (f" POST {url} (header x-goog-api-key: [REDACTED])" if url else "") + f"\n{text}")


def _unfit_answer(response, out: str) -> str | None:
    """The one message for a typed answer (--schema) that does not parse, else None; an answer the
    token limit cut short says to raise --max-tokens."""
    if getattr(response, "answer_type", None) is None:
        return None
    try:
        response.parsed
    except GeminiError as error:
        if response.finish_reason != "MAX_TOKENS":
            return f"{error} The answer's text is in {out}.text."
        thinking = (response.usage_metadata or {}).get("thoughtsTokenCount")
        spent = f"; thinking used {plural(thinking, 'token')} of it" if isinstance(thinking, int) and thinking else ""
        return (f"The output token limit cut the JSON answer short (finish reason MAX_TOKENS{spent}): raise "
                f"--max-tokens, or ask for less. The answer's text is in {out}.text.")
    return None


def _model_not_found(client, model: str, error: GeminiError) -> str | None:
    """For a model the service does not know, one message with "Did you mean ...?" from the models the
    key can use (explain.message); None for any other error."""
    if not isinstance(error, NotFoundError):
        return None
    try:
        names = [m.id for m in client.list_models()]
    except GeminiError:
        return None
    return None if model in names else explain.message(error, models=names)
