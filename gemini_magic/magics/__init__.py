"""The IPython magics: `%%gemini`, `%gemini` and `%gemini_upload`. Thin glue over the plain-Python API.

A magic parses its line, resolves `{name}` references in the user namespace, calls `Client`, hands
chunks to a `StreamView`, binds the result and returns. This module is the only place that turns
errors into `UsageError` (IPython shows those as one line, without a traceback).
"""

from __future__ import annotations

import json
import secrets
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Bool, Dict, Enum, Float, Int, List, Unicode

from . import explain
from ..constants import DEFAULT_API_VERSION, DEFAULT_BASE_URL, DEFAULT_MODEL
from ..errors import GeminiError, MissingAPIKeyError
from ..render.final import OUTPUT_FORMATS as FORMATS


@magics_class
class GeminiMagics(Magics):
    """Prompt Gemini from a notebook. Settings: `%config GeminiMagics` lists them."""

    model = Unicode(DEFAULT_MODEL, help="Model used when -m is not given.").tag(config=True)
    system = Unicode("", help="Default system instruction (-s overrides it).").tag(config=True)
    temperature = Float(None, allow_none=True, help="Default temperature, 0 to 2 (None: the model's).").tag(config=True)
    top_p = Float(None, allow_none=True, help="Default nucleus sampling top-p, 0 to 1.").tag(config=True)
    top_k = Int(None, allow_none=True, help="Default top-k sampling.").tag(config=True)
    max_tokens = Int(None, allow_none=True, help="Default maxOutputTokens.").tag(config=True)
    thinking_budget = Int(None, allow_none=True, help="Default thinking budget in tokens (0 turns thinking off).").tag(config=True)
    generation_config = Dict(help="Extra generationConfig fields (camelCase) sent with every prompt.").tag(config=True)
    safety_settings = List(help="safetySettings sent with every prompt, as the API takes them.").tag(config=True)
    show_thoughts = Bool(False, help="Stream the model's thought summaries into a collapsed section.").tag(config=True)
    stream = Bool(True, help="Stream answers as they are generated (False: one request, one display).").tag(config=True)
    output_format = Enum(FORMATS, "markdown", help="How answers are shown: markdown, text, code or json.").tag(config=True)
    update_interval = Float(0.1, help="Seconds between live view updates while streaming (at least).").tag(config=True)
    max_retries = Int(4, help="Retries on 408/429/5xx and connection failures.").tag(config=True)
    timeout = Float(600.0, help="Read timeout in seconds (thinking models can be silent for minutes).").tag(config=True)
    base_url = Unicode(None, allow_none=True, help="API base URL (default: GOOGLE_GEMINI_BASE_URL, then Google's).").tag(config=True)
    api_version = Unicode(DEFAULT_API_VERSION, help="API version path.").tag(config=True)

    def __init__(self, shell=None, **kwargs):
        super().__init__(shell=shell, **kwargs)
        self._emulator = None
        self._clients: dict = {}
        self._uploads: dict = {}  # unfinished upload sessions, by source, so a re-run continues

    # --- %%gemini / %gemini ------------------------------------------------------------------------

    @magic_arguments()
    @argument("-m", "--model", help="Model name, e.g. gemini-2.5-flash (see %%gemini models).")
    @argument("-s", "--system", help="System instruction: text, or {name} of a str variable.")
    @argument("-t", "--temperature", type=float, help="Sampling temperature, 0 to 2.")
    @argument("--top-p", type=float, help="Nucleus sampling, 0 to 1.")
    @argument("--top-k", type=int, help="Top-k sampling, 1 or more.")
    @argument("--max-tokens", type=int, help="Most tokens in the answer (maxOutputTokens).")
    @argument("--stop", action="append", help="Stop sequence; repeat for several (at most 5).")
    @argument("--seed", type=int, help="Seed for sampling.")
    @argument("-n", "--candidates", type=int, help="How many candidate answers, 1 to 8.")
    @argument("--thinking-budget", type=int, help="Thinking tokens (0 turns thinking off, -1 dynamic).")
    @argument("--show-thoughts", action="store_true", help="Stream thought summaries into a collapsed section.")
    @argument("--json", action="store_true", help="Ask for a JSON answer (result.json() parses it).")
    @argument("--no-stream", action="store_true", help="One request, one display, no live view.")
    @argument("-o", "--out", help="Also bind the result to this variable (it is always in _gemini).")
    @argument("--format", choices=FORMATS, help="Show the answer as markdown, text, code or json.")
    @argument("--raw", action="store_true", help="Also show the request and response JSON (key redacted).")
    @argument("--attach", nargs="+", metavar="NAME", help="Kernel objects to add after the prompt text.")
    @argument("--dry-run", action="store_true", help="Show the parts and token count; generate nothing.")
    @no_var_expand  # {name} is ours to resolve (as a kernel object), not IPython's string expansion
    @line_cell_magic
    def gemini(self, line: str, cell: str | None = None):
        """Send a prompt to Gemini and stream the answer into the cell's output.

        Cell magic: the cell is the prompt. Line magic: the rest of the line is the prompt, or a
        subcommand: `%gemini models`, `%gemini config`, `%gemini files [delete NAME|--all]`,
        `%gemini backend [auto|api|emulator]`.

        `{name}` in the prompt places a kernel object there (an image, DataFrame, figure, array, path,
        uploaded file...); `{{` and `}}` are literal braces.

        Examples::

            %%gemini -m gemini-2.5-flash -t 0.2
            Describe {photo} and compare it with {chart}.

            %gemini --json -o facts List three facts about Warsaw as JSON.

        The result is bound to `_gemini` (and to `--out NAME`): `.text`, `.thoughts`, `.parts`,
        `.usage`, `.images`, `.json()`, `.raw`.
        """
        if cell is None:
            return self._line(line)
        return self._run(self._parse(line), cell)

    def _line(self, line: str):
        words = line.split()
        command = words[0] if words else ""
        subcommands = {"models": self._models, "config": self._config, "files": self._files,
                       "backend": self._backend}
        # "%gemini models are great, why?" is a prompt, not the models subcommand.
        takes_words = {"models": False, "config": False, "files": words[1:2] == ["delete"],
                       "backend": len(words) == 2}
        if command in subcommands and (len(words) == 1 or takes_words[command]):
            return subcommands[command](words[1:])
        options, prompt = split_options(line, self.gemini.parser)
        args = self._parse(options)
        if not prompt.strip():
            raise UsageError("Nothing to send. Write the prompt after %gemini, or use %%gemini for a cell. "
                             "Subcommands: models, config, files, backend.")
        return self._run(args, prompt)

    def _parse(self, line: str):
        args = parse_options(self.gemini, line)
        if args.out is not None and not args.out.isidentifier():
            raise UsageError(f"-o/--out {args.out!r} is not a valid Python variable name.")
        return args

    def _run(self, args, prompt_text: str):
        from ..parts import convert_all
        from ..render.progress import UploadProgress
        from ..render import StreamView
        from ..request.body import build_generate_request

        settings = self._settings(args)
        client = self._client()
        contents, system = self._resolve(prompt_text, args)
        try:
            conversion = convert_all(contents, client=client, upload_progress=UploadProgress,
                                     dry_run=args.dry_run)
            body = build_generate_request(conversion.parts, system=system, config=settings["config"],
                                          safety_settings=list(self.safety_settings) or None)
        except (GeminiError, TypeError, ValueError) as error:
            raise UsageError(explain.message(error)) from None
        except KeyboardInterrupt:
            raise UsageError("Interrupted while preparing the prompt (an upload may have been cut short); "
                             "run the cell again to start over.") from None
        if args.dry_run:
            return self._dry_run(client, settings["model"], body, conversion.notes)
        if conversion.notes:
            show_markdown("\n".join(f"- ℹ️ {note}" for note in conversion.notes))
        if args.raw:
            method = "streamGenerateContent?alt=sse" if settings["stream"] else "generateContent"
            self._show_json("Request", client.transport.url(f"models/{settings['model']}:{method}"), body)
        view = StreamView(model=settings["model"], show_thoughts=settings["show_thoughts"],
                          update_interval=self.update_interval, output_format=settings["format"],
                          mode="plain" if not settings["stream"] else None)
        response = None
        try:
            if settings["stream"]:
                stream = client.stream(settings["model"], request=body)
                response = stream.response
                view.start()  # shows "waiting…" while a thinking model is silent
                try:
                    for _ in stream:
                        view.update(response)
                finally:
                    stream.close()
            else:
                response = client.generate(settings["model"], request=body)
            view.finish(response)
        except KeyboardInterrupt:
            if response is None or not response.chunk_count:
                if response is not None:  # replace the live view's "waiting…"
                    view.fail(response, "Interrupted before any answer arrived.")
                raise UsageError("Interrupted before the answer started.") from None
            response.interrupted = True
            self._bind(args, response)
            view.fail(response, "Interrupted: the partial answer is kept in the result.")
            raise UsageError(f"Interrupted after {len(response.text)} characters; the partial answer is in "
                             f"{args.out or '_gemini'} (marked interrupted).") from None
        except GeminiError as error:
            if response is not None and response.chunk_count:
                self._bind(args, response)
                view.fail(response, f"The answer stopped early ({error.__class__.__name__}); "
                                    "the partial answer is kept in the result.")
            elif response is not None:  # nothing arrived: the previous result stays bound
                view.fail(response, "No answer: the request failed (see the error below).")
            raise UsageError(explain.message(error, partial=response)) from None
        self._bind(args, response)
        if args.raw:
            self._show_json("Response", None, response.raw)
        return None

    # --- settings ----------------------------------------------------------------------------------

    def _settings(self, args) -> dict:
        """Options given on the line, over the traits' defaults, checked against what the API allows."""
        config = dict(self.generation_config)

        def pick(value, default):
            return default if value is None else value

        temperature = pick(args.temperature, self.temperature)
        checks = [
            ("-t/--temperature", temperature, 0.0, 2.0),
            ("--top-p", pick(args.top_p, self.top_p), 0.0, 1.0),
            ("--top-k", pick(args.top_k, self.top_k), 1, None),
            ("--max-tokens", pick(args.max_tokens, self.max_tokens), 1, None),
            ("-n/--candidates", args.candidates, 1, 8),
        ]
        for name, value, low, high in checks:
            if value is not None and (value < low or (high is not None and value > high)):
                allowed = f"{low} to {high}" if high is not None else f"{low} or more"
                raise UsageError(f"{name} must be {allowed}; got {value}.")
        if args.stop and len(args.stop) > 5:
            raise UsageError(f"--stop can be given at most 5 times; got {len(args.stop)}.")
        fields = {
            "temperature": temperature,
            "topP": pick(args.top_p, self.top_p),
            "topK": pick(args.top_k, self.top_k),
            "maxOutputTokens": pick(args.max_tokens, self.max_tokens),
            "stopSequences": args.stop,
            "seed": args.seed,
            "candidateCount": args.candidates,
        }
        config.update({k: v for k, v in fields.items() if v is not None})
        show_thoughts = args.show_thoughts or self.show_thoughts
        budget = pick(args.thinking_budget, self.thinking_budget)
        if budget is not None or show_thoughts:
            thinking = dict(config.get("thinkingConfig", {}))
            if budget is not None:
                thinking["thinkingBudget"] = budget
            if show_thoughts:
                thinking["includeThoughts"] = True
            config["thinkingConfig"] = thinking
        output_format = args.format or self.output_format
        if args.json:
            config["responseMimeType"] = "application/json"
            output_format = args.format or "json"
        return {"model": (args.model or self.model).strip(), "config": config, "show_thoughts": show_thoughts,
                "stream": self.stream and not args.no_stream, "format": output_format}

    def _resolve(self, prompt_text: str, args) -> tuple[list, Any]:
        """The prompt as text and kernel objects in order, and the system instruction."""
        from ..prompt import split_template

        namespace = self.shell.user_ns if self.shell is not None else {}
        try:
            contents = split_template(prompt_text.strip("\n"), namespace)
            for name in args.attach or ():
                contents.extend(split_template("{" + name.strip("{}") + "}", namespace))
            system = args.system if args.system is not None else (self.system or None)
            if system is not None:
                pieces = split_template(system, namespace)
                if len(pieces) == 1 and not isinstance(pieces[0], str) and system.strip().startswith("{"):
                    raise UsageError(f"-s {system} must name a str variable; it is a {type(pieces[0]).__name__}.")
                system = "".join(p if isinstance(p, str) else str(p) for p in pieces)
        except GeminiError as error:
            raise UsageError(explain.message(error)) from None
        if not contents:
            raise UsageError("The prompt is empty. Write it in the cell below %%gemini.")
        return contents, system

    def _client(self):
        """A client for the current settings and environment (rebuilt when they change)."""
        from ..api.client import Client
        from ..wire.endpoint import resolve_api_key, resolve_base_url

        if self._emulator is not None:
            key, base_url = self._emulator_key, self._emulator.base_url
        else:
            key, _ = resolve_api_key()
            base_url, _ = resolve_base_url(self.base_url)
        cache_key = (hash(key), base_url, self.api_version, self.max_retries, self.timeout)
        client = self._clients.get(cache_key)
        if client is None:
            try:
                client = Client(api_key=key, base_url=base_url, api_version=self.api_version,
                                timeout=self.timeout, max_retries=self.max_retries)
            except GeminiError as error:
                raise UsageError(explain.message(error)) from None
            self.close_clients()
            self._clients = {cache_key: client}
        return client

    def close_clients(self) -> None:
        """Close the cached clients' connections (settings changed, or the extension is unloaded)."""
        for client in self._clients.values():
            client.close()
        self._clients = {}

    def shutdown(self) -> None:
        """Release connections and stop the backend emulator (`%unload_ext`, `%reload_ext`)."""
        self.close_clients()
        self._stop_emulator()

    def _bind(self, args, response) -> None:
        if self.shell is None or response is None:
            return
        self.shell.user_ns["_gemini"] = response
        if args.out:
            self.shell.user_ns[args.out] = response

    # --- subcommands -------------------------------------------------------------------------------

    def _models(self, words):
        try:
            models = self._client().list_models()
        except GeminiError as error:
            raise UsageError(explain.message(error)) from None
        rows = ["| model | name | input tokens | output tokens | methods |", "|---|---|---:|---:|---|"]
        for m in models:
            methods = ", ".join(m.supported_methods)
            rows.append(f"| `{m.id}` | {m.display_name} | {m.input_token_limit or ''} | "
                        f"{m.output_token_limit or ''} | {methods} |")
        show_markdown("\n".join(rows))
        return None

    def _config(self, words):
        from ..wire.endpoint import resolve_api_key, resolve_base_url

        if self._emulator is not None:
            key_line = "not needed (local emulator)"
            base_url, source = self._emulator.base_url, "the local emulator (%gemini backend)"
        else:
            key, key_source = resolve_api_key()
            key_line = f"set (from {key_source})" if key else "not set: set GOOGLE_API_KEY or GEMINI_API_KEY"
            base_url, source = resolve_base_url(self.base_url)
        lines = [f"- **API key:** {key_line}", f"- **Base URL:** {base_url} ({source})",
                 f"- **API version:** {self.api_version}"]
        for name in sorted(self.trait_names(config=True)):
            if name not in ("base_url", "api_version"):
                lines.append(f"- `GeminiMagics.{name}` = `{getattr(self, name)!r}`")
        show_markdown("\n".join(lines))
        return None

    def _files(self, words):
        """`%gemini files` lists uploaded files; `%gemini files delete NAME [NAME ...]|--all` deletes."""

        from ..render.files_table import files_markdown

        client = self._client()
        try:
            if not words:
                show_markdown(files_markdown(client.list_files()))
                return None
            if words[0] != "delete" or len(words) < 2:
                raise UsageError("Use %gemini files, or %gemini files delete NAME [NAME ...], or "
                                 "%gemini files delete --all.")
            names = [f.name for f in client.list_files()] if words[1:] == ["--all"] else words[1:]
            for name in names:
                client.delete_file(getattr(self.shell.user_ns.get(name), "name", name))
        except GeminiError as error:
            raise UsageError(explain.message(error)) from None
        print(f"Deleted {len(names)} file(s): {', '.join(names)}" if names else "No files to delete.")
        return None

    # --- %gemini_upload ----------------------------------------------------------------------------

    @magic_arguments()
    @argument("source", help="Path of the file, or {name} of a variable holding bytes, a path or a file object.")
    @argument("--as", dest="as_name", metavar="NAME", help="Variable for the File (default: from the file name).")
    @argument("--mime", help="MIME type, when it cannot be told from the content or the name.")
    @argument("--display-name", help="Name shown in %%gemini files (default: the file name).")
    @argument("--no-wait", action="store_true", help="Do not wait until the file is ACTIVE.")
    @no_var_expand
    @line_magic
    def gemini_upload(self, line: str):
        """Upload a file through the resumable Files API, with a progress bar, and bind its File handle.

        Examples::

            %gemini_upload lecture.mp4                 # binds `lecture`
            %gemini_upload data/scan.pdf --as scan
            %gemini_upload {video_bytes} --mime video/mp4 --as clip

        Then use it in a prompt: `%%gemini` / `Summarise {lecture}`. Uploading the same content again
        reuses the live file. An interrupted upload continues where it stopped when run again.
        """
        from ..render.progress import UploadProgress
        from ..wire.upload import UploadSession

        args = parse_options(self.gemini_upload, line)
        source, label = self._upload_source(args.source)
        name = args.as_name or identifier_for(label)
        if not args.as_name and args.source.strip().strip("{} ") == name:
            name += "_file"  # `{video_bytes}` keeps its bytes; the File goes to video_bytes_file
        if not name.isidentifier():
            raise UsageError(f"--as {name!r} is not a valid Python variable name.")
        key = _source_key(source)
        session = self._uploads.setdefault(key, UploadSession()) if key else UploadSession()
        progress = UploadProgress(label)
        try:
            file = self._client().upload_file(source, mime_type=args.mime, display_name=args.display_name,
                                              progress=progress, wait=not args.no_wait, session=session)
        except KeyboardInterrupt:
            how = ("Run the same %gemini_upload again to continue from byte "
                   f"{session.sent:,}." if key and session.url else "Run %gemini_upload again to start over.")
            progress.finish(f"Upload of {label} interrupted. {how}")
            raise UsageError(f"Upload interrupted. {how}") from None
        except GeminiError as error:
            progress.finish(f"Upload of {label} failed.")
            raise UsageError(explain.message(error)) from None
        self._uploads.pop(key, None)
        self.shell.user_ns[name] = file
        verb = "Reused" if file.reused else "Uploaded"
        note = " (the same content was already uploaded)" if file.reused else ""
        progress.finish(f"{verb} {label} as {file.name}{note}: {file.mime_type}, {file.size_bytes:,} bytes, "
                        f"{file.state}. Bound to `{name}`: use {{{name}}} in a prompt.")
        return None

    def _upload_source(self, text: str):
        """The thing to upload and a label for it: a path, or a `{name}` variable's value."""
        import os

        text = text.strip()
        if text.startswith("{") and text.endswith("}"):
            expression = text[1:-1].strip()
            from ..prompt import split_template

            try:
                pieces = split_template(text, self.shell.user_ns)
            except GeminiError as error:
                raise UsageError(explain.message(error)) from None
            if len(pieces) != 1 or isinstance(pieces[0], str) and pieces[0] == text:
                raise UsageError(f"{text} is not a variable reference.")
            value = pieces[0]
            if isinstance(value, (str, os.PathLike)):
                return value, os.path.basename(os.fspath(value))
            return value, getattr(value, "name", None) and os.path.basename(value.name) or expression
        return os.path.expanduser(text), os.path.basename(text)

    def _backend(self, words):
        """`%gemini backend [auto|api|emulator]`: the real API when a key is set, else the local emulator."""

        from ..wire.endpoint import resolve_api_key, resolve_base_url

        choice = words[0] if words else "auto"
        if choice not in ("auto", "api", "emulator"):
            raise UsageError(f"%gemini backend takes auto, api or emulator; got {choice!r}.")
        key, source = resolve_api_key()
        if choice == "api" or (choice == "auto" and key):
            if not key:
                raise UsageError(explain.message(MissingAPIKeyError()))
            self._stop_emulator()
            base_url, _ = resolve_base_url(self.base_url)
            where = "the **real Gemini API**" if base_url == DEFAULT_BASE_URL else f"the API at {base_url}"
            show_markdown(f"Using {where} (key from `{source}`).")
            return None
        if self._emulator is None:
            from ..emulator import Emulator

            self._emulator = Emulator(pace=0.02).start()
            self._emulator_key = "emulator-" + secrets.token_hex(8)
        show_markdown(f"Using the **local Gemini emulator** at {self._emulator.base_url}: no API key is set, so "
                      "answers describe what was sent instead of coming from a model. Set `GOOGLE_API_KEY` "
                      "and run `%gemini backend` again to use Gemini.")
        return None

    def _stop_emulator(self):
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None

    # --- displays ----------------------------------------------------------------------------------

    def _dry_run(self, client, model, body, notes):
        from ..render.dry_run import show_dry_run
        from ..parts.core import WOULD_UPLOAD

        if WOULD_UPLOAD in json.dumps(body):
            count = "counted once the large parts are uploaded (send the prompt, or upload them with %gemini_upload)"
        else:
            try:
                count = client.count_tokens(model, request=body)
            except GeminiError as error:
                count = explain.message(error)
        show_dry_run(model, body, count, notes)
        return None

    def _show_json(self, title: str, url: str | None, payload: Any) -> None:

        from ..render.explore import truncate_strings

        text = json.dumps(truncate_strings(payload), indent=2, ensure_ascii=False)
        head = f"**{title}**" + (f" `POST {url}` (header `x-goog-api-key: [REDACTED]`)" if url else "")
        show_markdown(f"{head}\n\n```json\n{text}\n```")


def parse_options(magic, line: str):
    """Parse a magic's options with shell quoting (IPython's own split keeps the quotes)."""
    try:
        words = shlex.split(line, posix=True)
    except ValueError as error:
        raise UsageError(f"Could not read the options ({error}); check the quotes.") from None
    return magic.parser.parse_args(words)


def show_markdown(text: str) -> None:
    """Display Markdown that also reads well as plain text (terminals, logs, saved notebooks)."""
    from IPython.display import display

    display({"text/markdown": text, "text/plain": text}, raw=True)


def identifier_for(label: str) -> str:
    """A valid variable name from a file name: `Lecture 01.mp4` → `lecture_01`."""
    import keyword
    import re

    stem = label.rsplit(".", 1)[0] if "." in label.strip(".") else label
    name = re.sub(r"\W+", "_", stem.strip().lower()).strip("_") or "uploaded_file"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"file_{name}"
    return name


def _source_key(source) -> tuple | None:
    """Identifies a file on disk across runs (path, size, mtime), so an interrupted upload can continue."""
    import os

    if isinstance(source, (str, os.PathLike)):
        try:
            stat = os.stat(source)
        except OSError:
            return None
        return (os.path.abspath(source), stat.st_size, stat.st_mtime_ns)
    return None


def split_options(line: str, parser) -> tuple[str, str]:
    """Split `%gemini -m x -t 0.2 What's up?` into the options and the prompt, keeping the prompt verbatim.

    Options come first; the prompt starts at the first word that is not an option or an option's
    value (or after `--`). Only the options are shell-split, so apostrophes in the prompt are fine.
    """
    actions = parser._option_string_actions
    position = 0
    expecting = 0
    while position < len(line):
        while position < len(line) and line[position].isspace():
            position += 1
        if position >= len(line):
            break
        lexer = shlex.shlex(line[position:], posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        try:
            token = lexer.get_token()
        except ValueError:
            token = line[position:].split()[0]
        end = position + _token_length(line[position:])
        if expecting:
            expecting -= 1
        elif token == "--":
            return line[:position], line[end:].strip()
        elif token.startswith("-") and token.split("=")[0] in actions:
            action = actions[token.split("=")[0]]
            expecting = 0 if "=" in token or action.nargs == 0 else 1
        else:
            return line[:position], line[position:]
        position = end
    return line, ""


def _token_length(text: str) -> int:
    """Length of the first shell word of text (quotes included)."""
    quote = None
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char.isspace():
            return index
    return len(text)
