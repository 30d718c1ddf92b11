"""Running a template over rows for `Client.map`, `prompt_rows` and `%%gemini --over`: one path.

`map_rows(client, ...)` is `map_prompts` (api/rows.py) with a RowCache taken from a dict of caches
(`caches`: the client's by default, kept for its life; the magic passes its own, kept for the
kernel's): one in memory, and one per `cache_dir` on disk. `progress` is a callable(done, total,
errors, tokens) that the caller passes down (the magic passes its view), or True: the default view,
made by `default_view(label, unit)`. Views live in render/, above this layer, so this layer never
imports one: the package root sets `default_view` (to the row progress view when IPython runs)
when the plain-Python API is reached through it or the extension is loaded; left None, True shows
nothing.
"""

from __future__ import annotations

from typing import Any, Callable

from .rows import RowCache, RowsInterrupted, map_prompts

default_view: Callable[[str, str], Any] | None = None  # set from above (gemini_magic.__init__)


def cache_for(caches: dict, cache_dir: Any = None) -> RowCache:
    """The RowCache in `caches` for `cache_dir` (None: memory only), made on first use. Raises
    OSError when `cache_dir` cannot be made or written."""
    key = None if cache_dir is None else str(cache_dir)
    if key not in caches:
        caches[key] = RowCache(cache_dir)
    return caches[key]


def progress_for(progress: Any, label: str = "Rows", unit: str = "row"):
    """`progress=` of the plain-Python API: a callable is used as it is (its owner finishes it), False
    or None gives none, True the package's default view (None outside IPython). Returns (callable or
    None, the view this call made and must finish, or None)."""
    if callable(progress):
        return progress, None
    if not progress:
        return None, None
    view = default_view(label, unit) if default_view is not None else None
    return view, view


def map_rows(client: Any, template_or_prompts: Any, rows: Any = None, *, model: str, concurrency: int = 8,
             rpm: float | None = None, schema: Any = None, cache_dir: Any = None, caches: dict | None = None,
             progress: Any = True, namespace: dict | None = None, **settings: Any) -> list:
    """`map_prompts` with a row cache from `caches` (default: the client's) and `progress` as
    `progress_for` reads it; the arguments and errors of Client.map. Returns list[Response]."""
    if schema is not None:
        settings["schema"] = schema
    cache = cache_for(client.__dict__.setdefault("_row_caches", {}) if caches is None else caches, cache_dir)
    callback, view = progress_for(progress)
    try:
        answers = map_prompts(client, template_or_prompts, rows, model=model, concurrency=concurrency, rpm=rpm,
                              cache=cache, progress=callback, namespace=namespace, **settings)
    except RowsInterrupted as stopped:
        if view is not None:
            view.finish(state=stopped.state)  # the rows that landed after the interrupt count too
        raise
    except BaseException:
        if view is not None:
            view.finish()
        raise
    if view is not None:
        view.finish()
    return answers
