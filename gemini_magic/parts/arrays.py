"""numpy arrays: image-shaped ones as images, small ones as text, the rest as a CSV table.

An array is an image when its values are uint8, bool, or floats within [0, 1] (all finite) and
its shape is (H, W, 3) / (H, W, 4) / (H, W, 1) with H, W >= 8, or (H, W) with both sides >= 32
and an aspect ratio of at most 8 (a tall 1000 x 3 matrix is data, not a picture). A 2-D array
sent as an image gets a note saying how to send its numbers instead.

Other arrays: up to `settings.max_array_text_elements` (1000) elements, one text part with the
array written out in full; larger ones a short text header (shape, dtype, what was cut) and a
`text/csv` inlineData part with a `row` column, cut like tables to the first and last rows.
Arrays of more than two dimensions are reshaped to 2-D (leading dimensions flattened) for the CSV.
"""

from __future__ import annotations

import csv
import io
import sys
from typing import Any

from .builders import inline
from .sizes import cut_description, rows_within_budget


def _values_like_image(arr) -> bool:
    import numpy as np

    if arr.dtype == np.uint8 or arr.dtype == np.bool_:
        return True
    if arr.dtype.kind == "f" and arr.size:
        return bool(np.isfinite(arr).all()) and float(arr.min()) >= 0.0 and float(arr.max()) <= 1.0
    return False


def image_shape(arr) -> str | None:
    """"gray" or "color" when the array is shaped (and valued) like an image, else None."""
    shape = arr.shape
    if arr.ndim == 3 and shape[2] in (1, 3, 4) and min(shape[:2]) >= 8 and arr.dtype.kind != "b":
        return "color" if _values_like_image(arr) else None
    if arr.ndim == 2 and min(shape) >= 32 and max(shape) <= 8 * min(shape):
        return "gray" if _values_like_image(arr) else None
    return None


def is_small_data_array(arr) -> bool:
    """True for arrays that read well inside JSON: not images, at most 1000 elements."""
    from .sizes import settings

    return arr.size <= settings.max_array_text_elements and image_shape(arr) is None


def array_to_image(arr):
    """A PIL image of an image-shaped array (floats scaled from [0, 1], bool to 0/255)."""
    import numpy as np
    from PIL import Image

    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype.kind == "f":
        arr = (arr * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(arr))


def ndarray_part(arr: Any, context) -> list[dict]:
    """Convert a numpy array by the rules in the module docstring."""
    kind = image_shape(arr)
    if kind is not None:
        from .images import encode_image

        if kind == "gray":
            context.note(f"2-D {arr.dtype} array {arr.shape[0]}x{arr.shape[1]} sent as a grayscale image "
                         "(wrap it in pandas.DataFrame to send the numbers)")
        return [encode_image(array_to_image(arr), context)]
    settings = context.settings
    if arr.ndim == 0:
        return [{"text": str(arr.item())}]
    header = f"numpy array, shape {tuple(arr.shape)}, dtype {arr.dtype}"
    if arr.size <= settings.max_array_text_elements:
        import numpy as np

        text = np.array2string(arr, threshold=sys.maxsize, separator=", ", max_line_width=120)
        return [{"text": f"{header}:\n{text}"}]
    return _array_table(arr, header, context)


def _array_table(arr, header: str, context) -> list[dict]:
    settings = context.settings
    if arr.ndim == 1:
        table, columns = arr.reshape(-1, 1), ["value"]
    else:
        if arr.ndim > 2:
            context.note(f"{arr.ndim}-D array {tuple(arr.shape)} sent as a 2-D table of "
                         f"{arr.shape[-1]} columns (leading dimensions flattened)")
        table = arr.reshape(-1, arr.shape[-1])
        columns = [str(i) for i in range(table.shape[1])]
    total = table.shape[0]
    data, head, tail = rows_within_budget(total, settings, lambda h, t: _csv(table, columns, h, t))
    cut = cut_description(total, head, tail)
    if cut:
        context.note(f"array: {cut}")
    text = f"{header} (CSV below{'; ' + cut if cut else ''})"
    return [{"text": text}, inline("text/csv", data)]


def _csv(table, columns: list[str], head: int, tail: int) -> bytes:
    total = table.shape[0]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["row", *columns])
    for start, rows in ((0, table[:head]), (total - tail, table[total - tail:] if tail else table[:0])):
        for offset, row in enumerate(rows.tolist()):
            writer.writerow([start + offset, *row])
    return buffer.getvalue().encode("utf-8")
