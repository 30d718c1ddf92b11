"""The options of `%%gemini` / `%gemini`: their declaration, parsing, and the settings they make.

Options become one `GenerationSettings` (request/settings.py) over the `%config` traits, through the
same validation as `Client` keyword arguments; a mistake is one UsageError, before anything is sent.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument

from ..constants import OUTPUT_FORMATS as FORMATS
from ..lazy_re import lazy_compile

_PROMPT_OPTIONS = [
    (("-m", "--model"), dict(help="Model name, e.g. gemini-2.5-flash (see %%gemini models).")),
    (("-s", "--system"), dict(help="System instruction: text, or {name} of a str variable.")),
    (("-t", "--temperature"), dict(type=float, help="Sampling temperature, 0 to 2.")),
    (("--top-p",), dict(type=float, help="Nucleus sampling, 0 to 1.")),
    (("--top-k",), dict(type=int, help="Top-k sampling, 1 or more.")),
    (("--max-tokens",), dict(type=int, help="Most tokens in the answer (maxOutputTokens).")),
    (("--stop",), dict(action="append", help="Stop sequence; repeat for several (at most 5).")),
    (("--seed",), dict(type=int, help="Seed for sampling.")),
    (("-n", "--candidates"), dict(type=int, help="How many candidate answers, 1 to 8.")),
    (("--thinking-budget",), dict(type=int, help="Thinking tokens (0 turns thinking off, -1 dynamic).")),
    (("--thinking-level",), dict(choices=("minimal", "low", "medium", "high"),
                                 help="Thinking level for Gemini 3 models (instead of a budget).")),
    (("--show-thoughts",), dict(action="store_true", help="Stream thought summaries into a collapsed section.")),
    (("--json",), dict(action="store_true", help="Ask for a JSON answer (result.json() parses it).")),
    (("--no-stream",), dict(action="store_true", help="One request, one display, no live view.")),
    (("-o", "--out"), dict(help="Also bind the result to this variable (it is always in _gemini).")),
    (("--format",), dict(choices=FORMATS, help="Show the answer as markdown, text, code or json.")),
    (("--raw",), dict(action="store_true", help="Also show the request and response JSON (key redacted).")),
    (("--attach",), dict(nargs="+", metavar="NAME", help="Kernel objects to add after the prompt text.")),
    (("--new-cell",), dict(action="store_true", help="Ask for code and put the answer's code in a new cell below "
                                                      "(not run); the explanation shows as usual.")),
    (("--dry-run",), dict(action="store_true", help="Show the parts and token count; generate nothing.")),
    (("--schema",), dict(metavar="TYPE", help="Answer as this Python type (list[Place], an Enum, a pydantic "
                                               "model...): result.parsed, result.to_pandas().")),
    (("--tools",), dict(nargs="+", metavar="NAME", help="Kernel functions the model may call (they run here; "
                                                        "every call is shown).")),
    (("--tool-mode",), dict(choices=("auto", "any", "none", "manual"),
                            help="auto (default), any (must call), none, manual (show the calls, run nothing).")),
    (("--max-calls",), dict(type=int, metavar="N", help="Most function calls in one answer (default 10).")),
    (("--search",), dict(action="store_true", help="Ground the answer with Google Search (citations shown).")),
    (("--url-context",), dict(action="store_true", help="Let the model read the URLs in the prompt.")),
    (("--code",), dict(action="store_true", help="Let the model write and run Python (code execution).")),
    (("--maps",), dict(action="store_true", help="Ground the answer with Google Maps.")),
    (("--image",), dict(nargs="?", const=True, metavar="{NAME}",
                        help="Ask for images in the answer (responseModalities TEXT, IMAGE); with {NAME}, that "
                             "kernel image goes in too (to edit it, or as the first frame of --video).")),
    (("--aspect-ratio",), dict(metavar="W:H", help="Aspect ratio of images or a video made, e.g. 16:9.")),
    (("--video",), dict(action="store_true", help="Make a video of the cell's text (Veo; Omni with -m "
                                                  "gemini-omni-1.1-flash); -o binds the Video.")),
    (("--resolution",), dict(metavar="RES", help="With --video: 720p or 1080p (Omni also 360p, 4k).")),
    (("--duration",), dict(metavar="SECONDS", help="With --video: seconds, 4, 6 or 8 for Veo (Omni 3 to 10).")),
    (("--negative",), dict(metavar="TEXT", help="With --video: what the video should not show (negativePrompt).")),
    (("--new",), dict(action="store_true", help="With --video: make another video even when this cell made one "
                                                "with the same options (a new, paid generation).")),
    (("--speak",), dict(nargs="?", const="Kore", metavar="VOICE",
                        help="Ask a TTS model for speech in a prebuilt voice (default Kore): result.audio.")),
    (("--cache",), dict(metavar="NAME", help="Use a cached content (%%gemini cache create ... --as NAME).")),
    (("-c", "--chat"), dict(nargs="?", const="chat", metavar="NAME",
                            help="Continue the conversation in variable NAME (default: chat), creating it.")),
    (("--live",), dict(nargs="?", const="live", metavar="NAME",
                       help="Send the cell as a turn of the Live session in variable NAME (default: live), "
                            "opening it: spoken answers with their transcript.")),
    (("--text",), dict(action="store_true", help="With --live: text answers (from Live models that write text).")),
    (("--voice",), dict(metavar="VOICE", help="With --live: the prebuilt voice of spoken answers, e.g. Puck.")),
    (("--interactions",), dict(action="store_true",
                               help="With --chat: a new conversation through the Interactions API.")),
    (("--no-store",), dict(action="store_true",
                           help="With --interactions: the service keeps nothing; each turn sends the history.")),
    (("--over",), dict(metavar="NAME", help="Run the cell once per row of this DataFrame, Series or list: "
                                            "{row.col} takes the row's values; -o binds a DataFrame.")),
    (("--into",), dict(metavar="COL", help="With --over: also write each answer (or parsed value) into this "
                                           "column of the input frame (not one the template reads).")),
    (("--concurrency",), dict(type=int, default=8, metavar="N", help="With --over: most requests in flight "
                                                                     "(default 8).")),
    (("--rpm",), dict(type=float, metavar="N", help="With --over: at most N requests a minute.")),
    (("--cache-dir",), dict(metavar="DIR", help="With --over: also keep answers on disk in DIR (a re-run "
                                                "sends no request twice; files a killed run left half-written "
                                                "are removed).")),
    (("--batch",), dict(action="store_true", help="With --over: send the rows through the Batch API (half "
                                                  "price, within 24 h); %%gemini batch NAME re-attaches.")),
    (("--new-batch",), dict(action="store_true", help="With --batch: start a new job even when one for the same "
                                                      "prompt and rows is running or done (re-running the cell "
                                                      "re-attaches to it otherwise).")),
]

_UPLOAD_OPTIONS = [
    (("source",), dict(help="Path of the file, or {name} of a variable holding bytes, a path or a file object.")),
    (("--as",), dict(dest="as_name", metavar="NAME", help="Variable for the File (default: from the file name).")),
    (("--mime",), dict(help="MIME type, when it cannot be told from the content or the name.")),
    (("--display-name",), dict(help="Name shown in %%gemini files (default: the file name).")),
    (("--no-wait",), dict(action="store_true", help="Do not wait until the file is ACTIVE.")),
]


def declare_prompt_options(func):
    """Declare the options of `%%gemini` on the magic function (IPython's `@argument`s, in order); the
    magic's `lazy_args.LazyArguments` calls this when its parser is first needed."""
    return _declare(func, _PROMPT_OPTIONS)


def declare_upload_options(func):
    """Declare the options of `%gemini_upload` on the magic function (see declare_prompt_options)."""
    return _declare(func, _UPLOAD_OPTIONS)


def _declare(func, declared: list):
    for flags, options in reversed(declared):  # IPython applies @argument lines bottom-up
        func = argument(*flags, **options)(func)
    return func


def parse_options(magic, line: str, name: str = "%gemini"):
    """Parse a magic's options with shell quoting (IPython's own split keeps the quotes).

    `--schema`'s value is taken as written (a type expression keeps its quotes: `Literal["a", "b"]`),
    and an unknown option gets the nearest known one ("did you mean --model?"), in a message naming the
    magic as `name` ("%%gemini", "%gemini_upload")."""
    line, schema = _take_raw_value(line, "--schema")
    try:
        words = shlex.split(line, posix=True)
    except ValueError as error:
        raise UsageError(f"Could not read the options ({error}); check the quotes.") from None
    try:
        args = magic.parser.parse_args(words)
    except UsageError as error:
        unknown = re.search(r"unrecognized arguments: (-[\w-]+)", str(error))
        if unknown:
            raise UsageError(unknown_option_message(unknown.group(1), magic.parser._option_string_actions,
                                                    name)) from None
        raise
    if schema is not None:
        args.schema = schema
    return args


def _take_raw_value(line: str, option: str) -> tuple[str, str | None]:
    """`line` without `option VALUE`, and VALUE as written: up to the first blank outside brackets and
    quotes; one pair of quotes around the whole value is removed."""
    match = re.search(rf"(?:^|\s){re.escape(option)}(?:=|\s+)", line)
    if not match:
        return line, None
    start = position = match.end()
    depth, quote = 0, None
    while position < len(line):
        char = line[position]
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char.isspace() and depth <= 0:
            break
        position += 1
    value = line[start:position]
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return line[:match.start()] + " " + line[position:], value


def settings_from_args(args, traits) -> tuple[str, Any, dict]:
    """The model, the GenerationSettings and the view's options for one prompt: the cell's options
    over the `%config` traits, validated once (request/settings.py)."""
    from ..errors import SettingsError
    from ..request.settings import GenerationSettings, check_model

    show_thoughts = bool(args.show_thoughts or traits.show_thoughts)
    try:
        defaults = GenerationSettings.from_options(
            config=dict(traits.generation_config), safety_settings=list(traits.safety_settings) or None,
            temperature=traits.temperature, top_p=traits.top_p, top_k=traits.top_k,
            max_output_tokens=traits.max_tokens, thinking_budget=traits.thinking_budget)
        cell = GenerationSettings.from_options(
            temperature=args.temperature, top_p=args.top_p, top_k=args.top_k, max_output_tokens=args.max_tokens,
            stop_sequences=args.stop, seed=args.seed, candidate_count=args.candidates,
            thinking_budget=args.thinking_budget, thinking_level=args.thinking_level,
            include_thoughts=True if show_thoughts else None,
            response_mime_type="application/json" if args.json else None, config=media_config(args))
        settings = defaults.merged(cell)
        model = check_model(args.model if args.model is not None else traits.model)
    except (SettingsError, TypeError) as error:
        raise UsageError(str(error)) from None
    output_format = args.format or ("json" if args.json else traits.output_format)
    view = {"show_thoughts": show_thoughts, "stream": traits.stream and not args.no_stream,
            "format": output_format}
    return model, settings, view


def media_config(args) -> dict:
    """generationConfig fields of `--image`, `--aspect-ratio` and `--speak` (the API's image and speech
    generation guides: responseModalities, imageConfig.aspectRatio, speechConfig's prebuilt voice)."""
    config: dict = {}
    if args.speak:
        config["responseModalities"] = ["AUDIO"]
        config["speechConfig"] = {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": args.speak}}}
    elif args.image or args.aspect_ratio:
        from ..errors import SettingsError
        from ..request.videos import image_config

        try:  # the fields generate_images sends too: one path for images made from a cell or from Python
            config.update(image_config(args.aspect_ratio))
        except SettingsError as error:
            raise UsageError(f"--aspect-ratio: {error}") from None
    return config


_NUMBER = lazy_compile(r"-\d|-\.\d")
#: Options whose value is optional and only ever a `{name}`: a following plain word starts the prompt.
BRACED_VALUES = ("--image",)
_BRACED = "braced"


def split_options(line: str, parser, extra_flags: tuple[str, ...] = ()) -> tuple[str, str]:
    """Split `%gemini -m x -t 0.2 What's up?` into the options and the prompt, keeping the prompt verbatim.

    Options come first; the prompt starts at the first word that is not an option or an option's
    value (or after `--`). Only the options are shell-split, so apostrophes in the prompt are fine.
    A word before the prompt that starts with `-` and is no option is a typo: UsageError, with the
    nearest option ("did you mean --temperature?"); `--` starts a prompt that begins with a dash.
    `extra_flags` are taken as options without a value too (`-h`, `--help` when looking for them).
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
            token = lexer.get_token() or ""
        except ValueError:
            token = line[position:].split()[0]
        end = position + _token_length(line[position:])
        if expecting == _BRACED and not token.startswith("{"):
            expecting = 0  # `%gemini --image Draw a cat`: the prompt starts here
        if expecting == _BRACED:
            expecting = 0
        elif expecting:
            expecting -= 1
        elif token == "--":
            return line[:position], line[end:].strip()
        elif token in extra_flags:
            pass
        elif token.startswith("-") and token.split("=")[0] in actions:
            action = actions[token.split("=")[0]]
            expecting = 0 if "=" in token or action.nargs == 0 else (_BRACED if token in BRACED_VALUES else 1)
        elif token.startswith("-") and len(token) > 1 and not _NUMBER.match(token):
            raise UsageError(unknown_option_message(token.split("=")[0], actions))
        else:
            return line[:position], line[position:]
        position = end
    return line, ""


def unknown_option_message(word: str, actions, magic: str = "%gemini") -> str:
    """`--temprature is not an option of %gemini; did you mean --temperature?` (`magic`: the magic named:
    the line magic also says how to start a prompt with a dash; the cell magic's prompt is its cell)."""
    names = [name for name in actions if name.startswith("--") or len(name) == 2]
    import difflib

    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]}?" if close else f" {magic}? lists the options."
    if magic != "%gemini":
        return f"{word} is not an option of {magic}.{hint}"
    return (f"{word} is not an option of %gemini.{hint} To start a prompt with a dash, put -- before it: "
            f"%gemini -- {word} ...")


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
