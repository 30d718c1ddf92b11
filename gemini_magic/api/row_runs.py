"""Running a template over rows for `Client.map`: the client's row cache and the progress view.

`Client.map` is `map_rows(client, ...)`: `map_prompts` (api/rows.py) with a RowCache kept on the
client (memory for its life, or one per `cache_dir` on disk) and `progress=True` turned into the
row progress view when IPython runs.
"""

from __future__ import annotations

from typing import Any

from .rows import RowCache, map_prompts

def cache_for(client: Any, cache_dir: Any = None) -> RowCache:
    """The row cache of `client`: one in memory for the client's life, or one per `cache_dir` (on disk)."""
    caches = client.__dict__.setdefault("_row_caches", {})
    key = None if cache_dir is None else str(cache_dir)
    if key not in caches:
        caches[key] = RowCache(cache_dir)
    return caches[key]


def progress_for(progress: Any, label: str = "Rows", unit: str = "row"):
    """`progress=` of the plain-Python API: True gives the row progress view when IPython runs (None
    elsewhere), False/None none, a callable is used as it is. Returns (callable or None, view or None)."""
    if callable(progress):
        return progress, None
    if not progress:
        return None, None
    import sys

    ipython = sys.modules.get("IPython")
    if ipython is None or ipython.get_ipython() is None:
        return None, None
    # The view lives in render/, a layer above this one: it is looked up by name only when IPython
    # runs, so plain Python never loads a view and api/ depends on no view.
    import importlib

    view = importlib.import_module("gemini_magic.render.row_progress").RowProgress(label, unit=unit)
    return view, view


def map_rows(client: Any, template_or_prompts: Any, rows: Any = None, *, model: str, concurrency: int = 8,
             rpm: float | None = None, schema: Any = None, cache_dir: Any = None, progress: Any = True,
             namespace: dict | None = None, **settings: Any) -> list:
    """`Client.map`: `map_prompts` with the client's row cache and the progress view (see Client.map)."""
    if schema is not None:
        settings["schema"] = schema
    callback, view = progress_for(progress)
    try:
        return map_prompts(client, template_or_prompts, rows, model=model, concurrency=concurrency, rpm=rpm,
                           cache=cache_for(client, cache_dir), progress=callback, namespace=namespace, **settings)
    finally:
        if view is not None:
            view.finish()
