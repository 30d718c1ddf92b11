"""gemini_magic: Google's Gemini models in Jupyter, from a `%%gemini` cell or from plain Python.

    %load_ext gemini_magic

    %%gemini -m gemini-2.5-flash
    Describe {photo} in two sentences.

    from gemini_magic import Client
    response = Client().generate("gemini-2.5-flash", ["Describe", photo])

Importing this package is cheap: requests, ipywidgets, Pillow, pandas, numpy and matplotlib are only
imported when something first needs them.

Layers, top-down: a module imports only from its own layer or the layers below it, with no circles
(tests/test_layering.py reads this list and checks every import, those inside functions and those
made by a string, `importlib.import_module("gemini_magic....")`, included). docs/ARCHITECTURE.md
says what each layer does and where this differs from the design notes ("Layers as built").

    layer 1: magics
    layer 2: render
    layer 3: api, voice
    layer 4: request, prompt, parts, notebook
    layer 5: answer
    layer 6: wire, errors, sniff
    layer 7: constants, _version, units, lazy_re, escape, pricing, code_blocks, redaction
    beside: gemini_emulator, its own top-level package (imports gemini_magic.constants only; the
    magics import it lazily to start a local emulator)
"""

_LAZY = {
    "__version__": "_version",
    "Client": "api.client",
    "ResponseStream": "api.client",
    "ModelInfo": "api.client",
    "TokenCount": "api.client",
    "GenerationSettings": "request.settings",
    "Chat": "api.chat",
    "json_schema": "request.schema",
    "function_declaration": "request.declarations",
    "Interaction": "answer.interaction",
    "PreparedTurn": "request.pipeline",
    "Response": "answer.response",
    "Candidate": "answer.candidate",
    "RetryPolicy": "wire.transport",
    "to_part": "parts",
    "register_converter": "parts",
    "File": "wire.upload",
    "prompt_rows": "api.prompt_rows",
    "RowCache": "api.rows",
    "RowsInterrupted": "api.rows",
    "BatchJob": "api.batches",
    "LiveSession": "api.live",
    "LiveTurn": "answer.live_turn",
}

__all__ = ["load_ipython_extension", *_LAZY]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gemini_magic' has no attribute {name!r}")
    import importlib

    if module.startswith("api."):
        _install_default_views()
    return getattr(importlib.import_module(f".{module}", __name__), name)


def _install_default_views() -> None:
    """Give the plain-Python API (`Client.map`, `prompt_rows`) its default row progress view when a
    name of api/ is first read from here: api/ takes a view factory from above
    (`api.row_runs.default_view`) and imports no view itself. (api.client imports row_runs anyway.)"""
    from .api import row_runs

    if row_runs.default_view is None:
        row_runs.default_view = _row_progress


def _row_progress(label: str = "Rows", unit: str = "row"):
    """The view `progress=True` means in the plain-Python API (`Client.map`, `prompt_rows`): the row
    progress view (render/row_progress.py) when an IPython shell runs, else None."""
    import sys

    ipython = sys.modules.get("IPython")
    if ipython is None or ipython.get_ipython() is None:
        return None
    from .render.row_progress import RowProgress

    return RowProgress(label, unit=unit)


def load_ipython_extension(ipython):
    """`%load_ext gemini_magic`: registers %%gemini, %gemini and %gemini_upload."""
    from .magics import GeminiMagics, input
    from .render import display

    ipython.register_magics(GeminiMagics)
    input.register(ipython)
    display.register(ipython)  # how a Response shows itself in a notebook


def unload_ipython_extension(ipython):
    """`%unload_ext` / `%reload_ext`: close connections and stop the backend emulator, if any."""
    from .magics import input
    from .render import display

    input.unregister(ipython)
    display.unregister(ipython)
    magics = ipython.magics_manager.registry.get("GeminiMagics")
    if magics is not None:
        magics.shutdown()
