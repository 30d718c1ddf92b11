"""Kernel objects as API parts: `{name}` in a prompt arrives as the right part, intact and economical.

    from gemini_magic.parts import convert, to_part, to_parts, register_converter
    to_part(photo)                  # {"inlineData": {"mimeType": "image/jpeg", "data": "..."}}
    result = convert(sales_df)      # Conversion(parts=[{"text": header}, {"inlineData": csv}], notes=[...])
    result.notes                    # ["pandas DataFrame: showing first 1,000 and last 1,000 of ..."]
    to_parts(["Compare", img, "with", df])   # a prompt's items, size-checked

Design: `convert(obj) -> Conversion(parts, notes)` is the core. Parts are wire dicts (camelCase,
sent as they are), so what a conversion changed - an image scaled down, a table cut - travels
beside them as `notes`, for `--dry-run` and the magic's footer. `to_part` is the thin wrapper the
client calls: the part itself, or a list when an object takes several (a DataFrame is a header text
and its CSV); `Client.generate` accepts both. `to_parts` / `convert_all` convert a whole prompt and
check that it fits the 20 MB inline request limit (`check_request_size`).

Converters are looked up by type along the MRO, by class or by "module.QualName" (registry.py), so
importing this package imports no pandas, numpy, matplotlib, PIL, requests or ipywidgets: each
converter imports its library when it runs, which is when such an object exists.

Policies (details in each module's docstring):
- images.py: a PIL image straight from a JPEG/PNG/WebP file is sent as the file's bytes when
  unchanged; else PNG (transparency, palette, <= 0.5 MP, graphics) or JPEG q90 (photos), upright,
  at most 3072 px a side, never over the inline budget.
- tables.py: DataFrame/Series → text header (shape, dtypes, what was cut) + text/csv (an index kept
  unless it is the default 0..n-1, MultiIndex columns joined with " / "), first and last 1000 rows of longer frames, <= 1 MB.
- arrays.py: image-shaped arrays → images; <= 1000 elements → text; larger → header + CSV.
- files.py / media.py: paths and bytes typed by magic numbers, then suffix; text/code files as
  fenced text; big files uploaded through `client.upload_file` when a client is given.
- values.py: scalars as text, containers as JSON unless they hold media (then element by element).
- display.py: IPython.display objects; describe.py: `describe_part`; sizes.py: `settings` budgets.
"""

from __future__ import annotations

import pathlib

from . import registry as _registry
from .core import Conversion, ConversionContext, convert, convert_all, to_part, to_parts
from .describe import describe_part
from .media import Blob, sniff
from .registry import find_converter, register_converter, unregister_converter
from .sizes import RequestTooLargeError, Settings, check_request_size, settings

__all__ = [
    "Blob", "Conversion", "ConversionContext", "RequestTooLargeError", "Settings", "check_request_size",
    "convert", "convert_all", "describe_part", "find_converter", "register_converter", "settings",
    "sniff", "to_part", "to_parts", "unregister_converter",
]


def _lazy(module: str, function: str):
    """A converter that imports its module on first use (keeps the table readable, imports cheap)."""
    def converter(obj, context):
        import importlib

        return getattr(importlib.import_module(f".{module}", __name__), function)(obj, context)

    converter.__qualname__ = converter.__name__ = f"{module}.{function}"
    return converter


_BUILTIN = {
    # plain values
    str: ("values", "scalar_part"), int: ("values", "scalar_part"), float: ("values", "scalar_part"),
    complex: ("values", "scalar_part"), type(None): ("values", "scalar_part"),
    list: ("values", "container_part"), tuple: ("values", "container_part"),
    set: ("values", "container_part"), frozenset: ("values", "container_part"),
    dict: ("values", "container_part"),
    "numpy.generic": ("values", "numpy_scalar_part"),
    # bytes and files
    bytes: ("media", "bytes_part"), bytearray: ("media", "bytes_part"), memoryview: ("media", "bytes_part"),
    Blob: ("media", "blob_part"),
    pathlib.PurePath: ("files", "path_part"),
    "gemini_magic.wire.upload.File": ("files", "uploaded_file_part"),
    # images, figures, arrays, tables
    "PIL.Image.Image": ("images", "pil_image_part"),
    "matplotlib.figure.FigureBase": ("images", "figure_part"),
    "matplotlib.axes._base._AxesBase": ("images", "axes_part"),
    "seaborn.axisgrid.Grid": ("images", "figure_part"),
    "numpy.ndarray": ("arrays", "ndarray_part"),
    "pandas.DataFrame": ("tables", "dataframe_part"),
    "pandas.core.frame.DataFrame": ("tables", "dataframe_part"),
    "pandas.Series": ("tables", "series_part"),
    "pandas.core.series.Series": ("tables", "series_part"),
    "pandas.io.formats.style.Styler": ("tables", "styler_part"),
    # IPython.display
    "IPython.core.display.Image": ("display", "image_part"),
    "IPython.lib.display.Audio": ("display", "audio_part"),
    "IPython.core.display.Video": ("display", "video_part"),
    "IPython.core.display.TextDisplayObject": ("display", "text_display_part"),
    "IPython.core.display.SVG": ("display", "svg_part"),
    "IPython.core.display.JSON": ("display", "json_part"),
    "IPython.lib.display.YouTubeVideo": ("display", "youtube_part"),
}

for _key, (_module, _function) in _BUILTIN.items():
    _registry.register_converter(_key, _lazy(_module, _function))
del _key, _module, _function
