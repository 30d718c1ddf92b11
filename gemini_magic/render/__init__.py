"""Views of an answer: the live `StreamView` and the final display data (`final_bundle`).

Knows nothing of HTTP: it is fed `Response` objects. ipywidgets is imported only when a widget view
starts, IPython only when something is displayed. The names below are loaded on first use, so that
`%load_ext` (which registers `render.display`) builds no view.

    from gemini_magic.render import StreamView, final_bundle, final_bundles
"""

_LAZY = {"StreamView": "live", "detect_mode": "live", "MODES": "live", "final_bundle": "final", "final_bundles": "final",
         "answer_text": "final", "footer_line": "final", "response_warnings": "final", "image_bundles": "final",
         "OUTPUT_FORMATS": "final"}

__all__ = list(_LAZY)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gemini_magic.render' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __name__), name)
