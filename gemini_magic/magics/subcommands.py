"""`%gemini models`, `%gemini config` and `%gemini files [delete NAME ...|--all]`."""

from __future__ import annotations

from IPython.core.error import UsageError

from ..errors import GeminiError, NotFoundError, PermissionDeniedError
from ..units import plural
from . import explain
from ..escape import markdown_row
from .display import show_markdown, show_markdown_text


def models(magics, words) -> None:
    try:
        found = magics.backend.client().list_models()
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    rows = ["| model | name | input tokens | output tokens | methods |", "|---|---|---:|---:|---|"]
    for m in found:
        methods = ", ".join(m.supported_methods)
        rows.append(markdown_row((m.id, m.display_name, m.input_token_limit or "", m.output_token_limit or "",
                                  methods), code=(0,)))
    show_markdown_text("\n".join(row if isinstance(row, str) else row[0] for row in rows),
                       "\n".join(row if isinstance(row, str) else row[1] for row in rows))


def config(magics, words) -> None:
    """`%gemini config` lists the key's source, the base URL and every setting; `%gemini config NAME`
    shows one setting with its help (a name that is no setting: UsageError listing them)."""
    from ..wire.endpoint import resolve_api_key, resolve_base_url

    if words:
        return _one_setting(magics, words[0])
    backend = magics.backend
    try:
        if backend.uses_emulator():
            key_line = "not set: the local emulator answers (set GOOGLE_API_KEY to use Gemini)" \
                if backend.mode == "auto" else "not needed (local emulator, %gemini backend emulator)"
            base_url = backend.emulator.base_url if backend.emulator is not None else "(starts on first use)"
            source = "the local emulator"
        else:
            key, key_source = resolve_api_key()
            key_line = f"set (from {key_source})" if key else "not set: set GOOGLE_API_KEY or GEMINI_API_KEY"
            base_url, source = resolve_base_url(magics.base_url)
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    lines = [f"- **API key:** {key_line}", f"- **Base URL:** {base_url} ({source})",
             f"- **API version:** {magics.api_version}"]
    for name in sorted(magics.trait_names(config=True)):
        if name not in ("base_url", "api_version"):
            lines.append(f"- `GeminiMagics.{name}` = `{getattr(magics, name)!r}`")
    show_markdown("\n".join(lines))


def _one_setting(magics, name: str) -> None:
    names = sorted(magics.trait_names(config=True))
    if name not in names:
        import difflib

        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        meant = f" Did you mean {close[0]}?" if close else ""
        raise UsageError(f"GeminiMagics has no setting {name!r}.{meant} The settings: {', '.join(names)}. "
                         f"(To send it as a prompt, write %gemini -- config {name})")
    trait = magics.traits()[name]
    show_markdown("{0:code} = {1:code}: {2} Change it with {3:code}.", f"GeminiMagics.{name}",
                  repr(getattr(magics, name)), trait.help, f"%config GeminiMagics.{name} = ...")


def files(magics, words) -> None:
    """`%gemini files` lists uploaded files; `%gemini files delete NAME [NAME ...]|--all` deletes."""
    from ..render.files_table import files_markdown

    client = magics.backend.client()
    if words and (words[0] != "delete" or len(words) < 2):
        raise UsageError("Use %gemini files, or %gemini files delete NAME [NAME ...], or "
                         "%gemini files delete --all.")
    try:
        if not words:
            show_markdown_text(*files_markdown(client.list_files()))
            return
        names = [f.name for f in client.list_files()] if words[1:] == ["--all"] else words[1:]
        deleted = []
        for name in names:
            target = getattr(magics.shell.user_ns.get(name), "name", name)
            try:
                client.delete_file(target)
            except (NotFoundError, PermissionDeniedError) as error:  # 403 for a name it has not, too
                raise UsageError(explain.message(error, file=name)) from None
            deleted.append(name)
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    if not names:
        show_markdown("No files to delete.")
    else:
        show_markdown("Deleted {0}: {1}", plural(len(deleted), "file"), ", ".join(deleted))
