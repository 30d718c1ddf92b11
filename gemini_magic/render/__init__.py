"""Views of an answer: the live `StreamView` and the final display data (`final_bundle`).

Knows nothing of HTTP: it is fed `Response` objects. ipywidgets is imported only when a widget view
starts, IPython only when something is displayed.

    from gemini_magic.render import StreamView, final_bundle
"""

from .final import OUTPUT_FORMATS, answer_text, final_bundle, footer_line, image_bundles, response_warnings
from .live import MODES, StreamView, detect_mode

__all__ = ["StreamView", "final_bundle", "answer_text", "footer_line", "response_warnings", "image_bundles",
           "detect_mode", "OUTPUT_FORMATS", "MODES"]
