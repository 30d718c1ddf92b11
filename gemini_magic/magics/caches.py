"""`%gemini cache create|list|extend|delete`: context caching from a notebook (api/caches.py).

    %gemini cache create {lecture} {slides} -m gemini-2.5-flash --system "You teach." --ttl 1h --as lec
    %%gemini --cache lec -m gemini-2.5-flash
    What does the lecture say about entropy?
    %gemini cache list
    %gemini cache extend lec --ttl 2h
    %gemini cache delete lec          # or --all
"""

from __future__ import annotations

import shlex

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

from ..errors import GeminiError, NotFoundError, PermissionDeniedError
from . import explain
from ..escape import markdown_row
from .display import show_markdown, show_markdown_text

USAGE = ("Use %gemini cache create {objects} -m MODEL [--system TEXT] [--ttl 1h] --as NAME, "
         "%gemini cache list, %gemini cache extend NAME --ttl 2h, or %gemini cache delete NAME|--all.")


def _parser(action: str) -> MagicArgumentParser:
    parser = MagicArgumentParser(prog=f"%gemini cache {action}", add_help=False)
    if action == "create":
        parser.add_argument("objects", nargs="+", help="{name} of each kernel object to cache, or text.")
        parser.add_argument("-m", "--model", help="The model the cache is for.")
        parser.add_argument("-s", "--system", help="A system instruction kept in the cache.")
        parser.add_argument("--ttl", default="1h", help="How long it lives: 1h, 90m, 3600s.")
        parser.add_argument("--as", dest="as_name", required=True, metavar="NAME", help="Variable for the handle.")
        parser.add_argument("--display-name", help="Name shown in %%gemini cache list.")
    elif action == "extend":
        parser.add_argument("name")
        parser.add_argument("--ttl", required=True)
    elif action == "delete":
        parser.add_argument("names", nargs="*")
        parser.add_argument("--all", action="store_true")
    return parser


def _joined_values(tokens: list[str]) -> list[str]:
    """`--ttl -1h` as `--ttl=-1h`: argparse takes a value starting with "-" for an option and would say
    only "expected one argument"; joined, the duration's own message says what is wrong."""
    joined: list[str] = []
    for token in tokens:
        if joined and joined[-1] == "--ttl" and token.startswith("-"):
            joined[-1] = f"--ttl={token}"
        else:
            joined.append(token)
    return joined


def run(magics, line: str) -> None:
    words = line.split(None, 1)
    action = words[0] if words else ""
    if action not in ("create", "list", "extend", "delete"):
        raise UsageError(USAGE)
    try:
        tokens = shlex.split(words[1] if len(words) > 1 else "")
    except ValueError as error:
        raise UsageError(f"Could not read the options ({error}); check the quotes.") from None
    args = _parser(action).parse_args(_joined_values(tokens)) if action != "list" else None
    client = magics.backend.client()
    try:
        if action == "create":
            return _create(magics, client, args)
        if action == "list":
            return _list(client)
        if action == "extend":
            cache = _handle(magics, args.name)
            try:
                updated = client.update_cache(cache, ttl=args.ttl)
            except (NotFoundError, PermissionDeniedError):
                raise UsageError(_missing(args.name)) from None
            if args.name in magics.shell.user_ns:
                magics.shell.user_ns[args.name] = updated
            return show_markdown("{0} now expires in {1}.", updated.name, _duration(updated.expires_in))
        return _delete(magics, client, args)
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None


def _create(magics, client, args) -> None:
    from ..prompt import split_template
    from ..render.progress import UploadProgress

    if not args.as_name.isidentifier():
        raise UsageError(f"--as {args.as_name!r} is not a valid Python variable name.")
    namespace = magics.context.namespace(magics.shell.user_ns)
    contents = []
    for item in args.objects:
        contents.extend(split_template(item, namespace))
    model = args.model or magics.model
    cache = client.create_cache(model, contents, system=args.system, ttl=args.ttl, display_name=args.display_name,
                                upload_progress=UploadProgress)
    magics.shell.user_ns[args.as_name] = cache
    show_markdown("Cached {0:,} tokens for {1} as {2}, expiring in {3}. Bound to {4:code}: use {5:code}.",
                  cache.total_tokens or 0, cache.model, cache.name, _duration(cache.expires_in), args.as_name,
                  f"%%gemini --cache {args.as_name} -m {cache.model}")


def _list(client) -> None:
    caches = client.list_caches()
    if not caches:
        return show_markdown("No cached contents.")
    rows = ["| name | display name | model | tokens | expires in |", "|---|---|---|---:|---|"]
    for cache in caches:
        rows.append(markdown_row((cache.name, cache.display_name or "", cache.model, f"{cache.total_tokens or 0:,}",
                                  _duration(cache.expires_in)), code=(0,)))
    show_markdown_text("\n".join(row if isinstance(row, str) else row[0] for row in rows),
                       "\n".join(row if isinstance(row, str) else row[1] for row in rows))


def _delete(magics, client, args) -> None:
    if args.all == bool(args.names):
        raise UsageError("Use %gemini cache delete NAME [NAME ...] or %gemini cache delete --all.")
    targets = [c.name for c in client.list_caches()] if args.all else [_handle(magics, n) for n in args.names]
    for target, name in zip(targets, args.names or targets):
        try:
            client.delete_cache(target)
        except (NotFoundError, PermissionDeniedError):
            raise UsageError(_missing(name)) from None
    count = len(targets)
    show_markdown(f"Deleted {count} cached content{'s' if count != 1 else ''}." if count else "No cached contents.")


def _missing(name) -> str:
    return (f"There is no cached content {name!r} (or it has expired: caches live for their TTL only); "
            "%gemini cache list shows yours.")


def _handle(magics, name: str):
    from ..api.caches import CachedContent

    value = magics.shell.user_ns.get(name)
    return value if isinstance(value, CachedContent) else name


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "an unknown time"
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else f"{seconds} s"
