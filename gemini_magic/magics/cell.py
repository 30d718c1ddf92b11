"""`%%gemini` / `%gemini PROMPT`: resolve names, run the turn pipeline through `Client`, show, bind.

Everything here is glue: the request is prepared by `Client.prepare` (request/pipeline.py), exactly as
`Client.generate/stream/count_tokens` prepare it, and the answer is shown by the views of render/.
"""

from __future__ import annotations

import json
from typing import Any

from IPython.core.error import UsageError

from ..errors import GeminiError, NotFoundError
from . import explain
from .display import show_markdown


def run_prompt(magics, args, prompt_text: str):
    """Send one prompt; returns None (the answer is displayed and bound to `_gemini` / `-o`)."""
    from ..render import StreamView
    from ..render.progress import UploadProgress
    from .options import settings_from_args

    model, settings, view_options = settings_from_args(args, magics)
    namespace = magics.shell.user_ns if magics.shell is not None else {}
    check_out_name(args.out, namespace)
    client = magics.backend.client()
    contents, system = resolve(prompt_text, args, magics.context.namespace(namespace), magics.system)
    try:
        turn = client.prepare(model, contents, system=system, settings=settings,
                              upload_progress=UploadProgress, dry_run=args.dry_run)
    except (GeminiError, TypeError, ValueError) as error:
        raise UsageError(explain.message(error)) from None
    except KeyboardInterrupt:
        raise UsageError("Interrupted while preparing the prompt (an upload may have been cut short); "
                         "run the cell again to start over.") from None
    if args.dry_run:
        return dry_run(client, turn)
    if turn.notes:
        show_markdown("\n".join(f"- ℹ️ {note}" for note in turn.notes))
    if args.raw:
        method = "streamGenerateContent?alt=sse" if view_options["stream"] else "generateContent"
        show_json("Request", client.transport.url(f"models/{model}:{method}"), turn.body)
    view = StreamView(model=model, show_thoughts=view_options["show_thoughts"],
                      update_interval=magics.update_interval, output_format=view_options["format"],
                      mode="plain" if not view_options["stream"] else None)
    response = None
    try:
        if view_options["stream"]:
            stream = client.stream(model, request=turn)
            response = stream.response
            view.start()  # shows "waiting…" while a thinking model is silent
            try:
                for _ in stream:
                    view.update(response)
            finally:
                stream.close()
        else:
            response = client.generate(model, request=turn)
        view.finish(response)
    except KeyboardInterrupt:
        if response is None or not response.chunk_count:
            if response is not None:  # replace the live view's "waiting…"
                view.finish(response)
            raise UsageError("Interrupted before the answer started; nothing was kept.") from None
        response.interrupted = True
        bind(magics, args, response)
        view.finish(response)  # the partial answer, marked interrupted in its footer
        raise UsageError(f"Interrupted after {_count(len(response.text), 'character')}; the partial answer is "
                         f"in {args.out or '_gemini'} (marked interrupted).") from None
    except GeminiError as error:
        if response is not None and response.chunk_count:
            bind(magics, args, response)
            view.fail(response, f"The answer stopped early ({error.__class__.__name__}); "
                                "the partial answer is kept in the result.")
        elif response is not None:  # nothing arrived: no answer, no footer; the previous result stays bound
            view.discard()
        raise UsageError(_model_not_found(client, model, error) or explain.message(error, partial=response)) from None
    bind(magics, args, response)
    if args.raw:
        show_json("Response", None, response.raw)
    return None


def resolve(prompt_text: str, args, namespace, default_system: str) -> tuple[list, Any]:
    """The prompt as text and kernel objects in order, and the system instruction. `namespace` has a
    `.get` (the user's variables, plus `{In[k]}` and `{last_error}`: see context.py)."""
    from ..prompt import split_template

    try:
        contents = split_template(prompt_text.strip("\n"), namespace)
        for name in args.attach or ():
            contents.extend(split_template("{" + name.strip("{}") + "}", namespace))
        system = args.system if args.system is not None else (default_system or None)
        if system is not None:
            pieces = split_template(system, namespace)
            if len(pieces) == 1 and not isinstance(pieces[0], str) and system.strip().startswith("{"):
                raise UsageError(f"-s {system} must name a str variable; it is a {type(pieces[0]).__name__}.")
            system = "".join(p if isinstance(p, str) else str(p) for p in pieces)
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    if not any(not isinstance(c, str) or c.strip() for c in contents):
        raise UsageError("The prompt is empty. Write it in the cell below %%gemini.")
    return contents, system


def check_out_name(name: str | None, namespace: dict) -> None:
    """`-o NAME` must be an identifier, and must not replace a variable that holds something else than
    an earlier result (a DataFrame called df is never overwritten by an answer)."""
    if name is None:
        return
    if not name.isidentifier():
        raise UsageError(f"-o/--out {name!r} is not a valid Python variable name.")
    if name in namespace and not is_result(namespace[name]):
        raise UsageError(f"-o {name}: the variable {name} already holds a {type(namespace[name]).__name__}, "
                         f"which an answer would replace. Use another name, or `del {name}` first.")


def is_result(value: Any) -> bool:
    """An earlier answer (or None), which `-o` may replace."""
    return value is None or type(value).__module__.startswith("gemini_magic.")


def bind(magics, args, response) -> None:
    if magics.shell is None or response is None:
        return
    magics.shell.user_ns["_gemini"] = response
    if args.out:
        magics.shell.user_ns[args.out] = response


def dry_run(client, turn):
    """`--dry-run`: the parts as they would be sent, and what countTokens says of the same request."""
    from ..parts.core import WOULD_UPLOAD
    from ..render.dry_run import show_dry_run

    if WOULD_UPLOAD in json.dumps(turn.body):
        count = "counted once the large parts are uploaded (send the prompt, or upload them with %gemini_upload)"
    else:
        try:
            count = client.count_tokens(turn.model, request=turn)
        except GeminiError as error:
            count = explain.message(error)
    show_dry_run(turn.model, turn.body, count, turn.notes)
    return None


def show_json(title: str, url: str | None, payload: Any) -> None:
    from ..render.explore import truncate_strings

    text = json.dumps(truncate_strings(payload), indent=2, ensure_ascii=False)
    head = f"**{title}**" + (f" `POST {url}` (header `x-goog-api-key: [REDACTED]`)" if url else "")
    show_markdown(f"{head}\n\n```json\n{text}\n```")


def _model_not_found(client, model: str, error: GeminiError) -> str | None:
    """For a model the service does not know, one message with 'did you mean ...?' from the models the
    key can use; None for any other error."""
    if not isinstance(error, NotFoundError):
        return None
    import difflib

    try:
        names = [m.id for m in client.list_models()]
    except GeminiError:
        return None
    if model in names:
        return None
    close = difflib.get_close_matches(model, names, n=1, cutoff=0.6)
    hint = (f"Did you mean {close[0]}? " if close else "") + "%gemini models lists the models this key can use."
    return f"There is no model {model!r} (404 {error.status or 'NOT_FOUND'}). {hint}"


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}" if number == 1 else f"{number:,} {word}s"
