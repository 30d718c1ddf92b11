"""The IPython magics: `%%gemini`, `%gemini` and `%gemini_upload`. Thin glue over the plain-Python API.

The top layer of the package: the only place that turns errors into `UsageError` (IPython shows those
as one line, without a traceback). One module a job:

- `__init__` (here): `GeminiMagics`, its `%config` traits (checked when set) and the magic entry points:
  all that `%load_ext` imports besides `context`, `input` and render/display.py (each entry point
  imports what it runs on first use; benchmarks/bench_load.py);
- `dispatch`: what the magic does with its line (help, subcommands, mistyped ones, the prompt);
- `lazy_args`: the magics' options, declared and their parsers built on first use;
- `options`: the options of `%%gemini`, their parsing and the GenerationSettings they make;
- `cell`: one prompt through `Client.prepare` / `stream` / `generate`, shown and bound;
- `rows`: `--over` and `--batch`; `batch_commands`: `%gemini batch | batches | embed`;
- `subcommands`: `%gemini models | config | files`; `backend`: the client cache and emulator;
- `help`: `%gemini --help` and the rule for mistyped subcommands;
- `upload`: `%gemini_upload`; `input`: keeps `%gemini ...?` a prompt; `context`: `{In[k]}`,
  `{last_error}`, `{notebook}`, `{vars}` and the running cell's id; `fix`: `%gemini fix`; `explain`: error messages;
  `display`: status lines as display data.
"""

from __future__ import annotations

import logging
import math
import weakref
from functools import cached_property

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from traitlets import Bool, Dict, Enum, Float, Int, List, TraitError, Unicode, observe, validate

from ..constants import DEFAULT_API_VERSION, DEFAULT_MODEL, DEFAULT_VIDEO_MODEL
from ..constants import OUTPUT_FORMATS as FORMATS
from .context import NotebookContext
from .lazy_args import lazy_magic_arguments


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
    prices = Dict(help="Price overrides in US dollars per 1M tokens, over the dated table of gemini_magic/pricing.py: "
                       "{'gemini-2.5-flash': {'input': 0.3, 'output': 2.5, 'cached': 0.03}}; a model not in the "
                       "table needs input and output.").tag(config=True)
    notebook_tokens = Int(8000, help="Most tokens {notebook} puts in a prompt (the newest cells are kept; "
                                     "a note says what was left out).").tag(config=True)
    max_cost = Float(None, allow_none=True, help="Refuse a prompt whose estimated cost (countTokens, plus the "
                                                 "answer's token limit when set) is above this many US dollars, "
                                                 "before sending (None: no limit).").tag(config=True)
    video_model = Unicode(DEFAULT_VIDEO_MODEL, help="Model used by --video when -m is not given.").tag(config=True)
    video_poll = Float(10.0, help="Seconds before the first read of a video operation (then 1.5x longer "
                                  "each time, at most 60 s).").tag(config=True)

    def __init__(self, shell=None, **kwargs):
        # A value %config refused stays in the shell's config (IPython merges every %config line into
        # it), and would make loading the extension fail: take our section out, then set each value
        # on its own, dropping (and naming) the ones the checks refuse.
        config = getattr(shell, "config", None)
        section = config.pop(type(self).__name__, None) if config is not None else None
        super().__init__(shell=shell, **kwargs)
        for name, value in dict(section or {}).items():
            try:
                setattr(self, name, value)
            except TraitError as error:
                logging.getLogger("gemini_magic").warning("Ignored %s.%s from the configuration: %s",
                                                          type(self).__name__, name, error)
                del section[name]
        if section is not None:
            config[type(self).__name__] = section
        self.context = NotebookContext()  # the running cell's id, the last error, {In[k]}, {notebook}
        self.context.budget_tokens = self.notebook_tokens
        self.live_sessions: dict = {}  # Live sessions opened by --live, closed at shutdown
        self.told_no_cell_id = weakref.WeakSet()  # conversations told that turns append (no cell id)
        if shell is not None:
            self.context.register(shell)

    @cached_property
    def backend(self):
        """The client cache and the backend emulator (magics/backend.py), made on first use."""
        from .backend import Backend

        return Backend(self)

    @cached_property
    def uploads(self):
        """Unfinished uploads by source (magics/upload.py), made on first use."""
        from .upload import Uploads

        return Uploads()

    # --- settings are checked when they are set (the same checks as Client's arguments) ------------
    # A TraitError: %config then logs the message as one line and keeps the previous value.

    @validate("temperature", "top_p", "top_k", "max_tokens", "thinking_budget", "generation_config",
              "safety_settings", "model")
    def _check_generation_setting(self, proposal):
        from ..errors import SettingsError
        from ..request.settings import GenerationSettings, check_model

        name, value = proposal["trait"].name, proposal["value"]
        keyword = {"max_tokens": "max_output_tokens", "generation_config": "config"}.get(name, name)
        try:
            if name == "model":
                return check_model(value)
            if value is not None:
                GenerationSettings.from_options(**{keyword: value})
        except (SettingsError, TypeError) as error:
            raise TraitError(f"GeminiMagics.{name}: {error}") from None
        return value

    @observe("notebook_tokens")
    def _notebook_budget(self, change):
        if getattr(self, "context", None) is not None:
            self.context.budget_tokens = change["new"]

    @validate("timeout", "update_interval", "max_retries", "api_version", "base_url", "video_poll", "prices",
              "max_cost", "notebook_tokens")
    def _check_client_setting(self, proposal):
        name, value = proposal["trait"].name, proposal["value"]
        if name == "notebook_tokens":
            if value < 100:
                raise TraitError(f"GeminiMagics.notebook_tokens must be 100 or more; got {value}.")
            return value
        if name in ("prices", "max_cost"):
            from ..api.client import check_cost_settings
            from ..errors import SettingsError

            try:
                check_cost_settings(value if name == "prices" else None, value if name == "max_cost" else None)
            except SettingsError as error:
                raise TraitError(f"GeminiMagics.{name}: {error}") from None
            return value
        if name in ("timeout", "update_interval", "video_poll") and not (math.isfinite(value) and value > 0):
            raise TraitError(f"GeminiMagics.{name} must be a number of seconds above 0; got {value!r}.")
        if name == "max_retries" and value < 0:
            raise TraitError(f"GeminiMagics.max_retries must be 0 or more; got {value}.")
        if name == "api_version" and (not value.strip("/ ") or any(c.isspace() for c in value.strip())):
            raise TraitError(f"GeminiMagics.api_version must be a version such as 'v1beta'; got {value!r}.")
        if name == "base_url" and value is not None:
            from ..errors import GeminiError
            from ..wire.endpoint import resolve_base_url

            try:
                resolve_base_url(value)
            except GeminiError as error:
                raise TraitError(f"GeminiMagics.base_url: {error}") from None
        return value

    # --- %%gemini / %gemini ------------------------------------------------------------------------

    @lazy_magic_arguments("declare_prompt_options")
    @no_var_expand  # {name} is ours to resolve (as a kernel object), not IPython's string expansion
    @line_cell_magic
    def gemini(self, line: str, cell: str | None = None):
        """Send a prompt to Gemini and stream the answer into the cell's output.

        With no API key set, a local emulator answers (it says so once; `%gemini backend` switches).

        Cell magic: the cell is the prompt. Line magic: the rest of the line is the prompt, or a
        subcommand: `%gemini models`, `%gemini config`, `%gemini files [delete NAME|--all]`,
        `%gemini backend [auto|api|emulator]`, `%gemini chat [undo|reset] [NAME]`,
        `%gemini cache create {objects} -m MODEL --as NAME | list | extend NAME --ttl 2h | delete NAME`,
        `%gemini batch NAME [-o OUT]` (re-attach), `%gemini batch status|cancel NAME`, `%gemini batches`,
        `%gemini embed {df.col} -o vectors [--dims N] [--task TYPE]`, `%gemini live [list|close [NAME]]`,
        `%gemini live talk [NAME]` (talk with the microphone, camera and speaker: the session's voice widget),
        `%gemini fix [-- INSTRUCTION]` (explain the last error, put the fixed cell below).
        `%gemini --help` (or `-h`, `help`, `%%gemini --help`) shows this help. A line of one word that
        is one typo away from a subcommand (a letter added, dropped or changed, or two swapped:
        `%gemini modles`) is refused with the subcommand meant, never sent; `%gemini -- modles` sends
        such a word as the prompt.

        `--new-cell` asks for code and puts the answer's code in a new cell below, not run (its code
        blocks in the kernel's language, joined into one cell); the explanation shows as usual.
        `{notebook}` is the cells run so far (within `%config GeminiMagics.notebook_tokens`), `{vars}`
        a summary of your variables. Every answer's footer shows its estimated cost in US dollars.

        `--over DF` runs the cell once per row (`{row.col}` takes the row's values) and binds a
        DataFrame of answers (text, finish_reason, tokens, error) to `-o`; `--batch` sends the rows
        through the Batch API instead.

        `--chat NAME` continues the conversation in the variable NAME (a Chat, made on first use);
        re-running a cell replaces its turn (in JupyterLab, Notebook 7 and VS Code, which send cell ids;
        elsewhere it adds a turn, and says so once), and a failed turn leaves the history as it was.

        `--live NAME` sends the cell as a turn of the Live session in NAME (a LiveSession, opened on
        first use and kept open): a spoken answer with its transcript (`--text` for text), kernel
        functions of `--tools` called along the way; `%gemini live [list|close [NAME]]`.

        `{In[4]}`, `{Out[4]}` and `{last_error}` put the notebook's cells and last error in a prompt.

        `{name}` in the prompt places a kernel object there (an image, DataFrame, figure, array, path,
        uploaded file...); `{x!r}` and `{total:,.2f}` are filled as str.format fills them; `{{` and `}}`
        are literal braces. Braces that start with a variable but are not a reference (`{ x }`,
        `{row.my col}`, `{f()}`) are refused with how to write them, never sent as they are.

        Examples::

            %%gemini -m gemini-2.5-flash -t 0.2
            Describe {photo} and compare it with {chart}.

            %gemini --json -o facts List three facts about Warsaw as JSON.

        The result is bound to `_gemini` (and to `--out NAME`): `.text`, `.thoughts`, `.parts`,
        `.usage`, `.images`, `.json()`, `.raw`.
        """
        from .dispatch import run

        return run(self, line, cell)

    # --- %gemini_upload ----------------------------------------------------------------------------

    @lazy_magic_arguments("declare_upload_options")
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
        from .options import parse_options

        self.uploads.run(self, parse_options(self.gemini_upload, line, "%gemini_upload"))

    # --- lifetime ----------------------------------------------------------------------------------

    @property
    def _emulator(self):
        """The backend emulator started by `%gemini backend`, if any."""
        return self.backend.emulator

    def close_clients(self) -> None:
        """Close the cached clients' connections."""
        self.backend.close_clients()

    def shutdown(self) -> None:
        """Release connections, close Live sessions, stop the backend emulator (`%unload_ext`, `%reload_ext`)."""
        for session in self.live_sessions.values():
            session.close()
        self.live_sessions = {}
        if "backend" in self.__dict__:  # made on first use: nothing to stop otherwise
            self.backend.shutdown()
        if self.shell is not None:
            self.context.unregister(self.shell)


# What a value of the wrong type in `%config GeminiMagics.NAME = ...` is told (traitlets' message: "The
# 'temperature' trait of a GeminiMagics instance expected <info_text>, not the str 'hot'."), before the
# range checks above see it.
_TYPE_HINTS = {
    "temperature": "a number from 0 to 2, or None (the model's default)",
    "top_p": "a number from 0 to 1, or None (the model's default)",
    "top_k": "a whole number of 1 or more, or None (the model's default)",
    "max_tokens": "a whole number of tokens, or None (the model's limit)",
    "thinking_budget": "a whole number of tokens (0 turns thinking off), or None (the model's default)",
    "show_thoughts": "True or False",
    "stream": "True or False",
    "update_interval": "a number of seconds above 0",
    "max_retries": "a whole number of 0 or more",
    "timeout": "a number of seconds above 0",
    "notebook_tokens": "a whole number of tokens, 100 or more",
    "max_cost": "a number of US dollars, or None (no limit)",
    "video_poll": "a number of seconds above 0",
}
for _name, _hint in _TYPE_HINTS.items():
    getattr(GeminiMagics, _name).info_text = _hint
del _name, _hint
