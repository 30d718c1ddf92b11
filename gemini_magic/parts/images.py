"""Images (PIL, encoded bytes) and matplotlib figures as inlineData parts.

Original bytes are kept when they are already what the API wants. A PIL image is sent as the
bytes of its file when all of these hold: it came from `Image.open` of a JPEG, PNG or WebP file
(`format` and `filename` set; copies and results of `convert`/`resize`/... have neither), it shows
the file's first frame, its size and mode equal the file's header now, its EXIF orientation is 1,
its longest side is at most `settings.max_image_side` and the file fits the inline budget; and, if
its pixels were decoded (only then could `paste`/`putpixel`/`ImageDraw` have changed them), the
file decoded again gives the same pixels and palette. Encoded bytes (from a file, `bytes`,
IPython's Image, a figure) follow the same size, orientation and budget rules.

Otherwise the image is encoded: turned upright by its EXIF orientation; modes normalised (CMYK,
YCbCr, RGBX → RGB; P or L/RGB with a transparency key → RGBA; 16-bit, 32-bit and float grayscale
stretched from their min..max to 8-bit L; an alpha channel that is fully opaque is dropped); scaled
so the longest side is exactly 3072 px when it was more (the detail the service itself keeps: a
photographed page stays readable). A JPEG file or JPEG bytes not decoded yet are first decoded at
1/2, 1/4 or 1/8 scale by the JPEG decoder itself, nearly free, as far as the longest side stays at
or above 3072 px; the Hamming resample to 3072 px that follows runs in horizontal stripes on up to
`RESAMPLE_THREADS` threads (Pillow releases the GIL; the stripes give the same pixels as one
resample). Then written as PNG
when it has transparency, is a palette or 1-bit image, has at most `settings.png_max_pixels` (0.5 MP), or looks like a graphic (at most 256
colours, or at least half of neighbouring pixels equal: screenshots, charts, text); else as JPEG at
`settings.jpeg_quality` (90). Above the inline budget, PNG without alpha turns into JPEG, JPEG
quality steps down to 60, then the image shrinks by a quarter at a time. GIF, BMP, TIFF and other
types the API does not take are re-encoded by the same rules. Every change is reported as a note.
"""

from __future__ import annotations

import io
import os
import threading
from typing import Any

from ..errors import ConversionError
from .builders import inline
from .sizes import megabytes

KEEP_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MIME = {"PNG": "image/png", "JPEG": "image/jpeg"}
ORIENTATION_TAG = 0x0112
RESAMPLE_THREADS = min(4, os.cpu_count() or 1)  # stripes of a large resample run side by side
STRIPE_PIXELS = 1_000_000
# Hamming: the sharpness of bicubic at the cost of bilinear (its support is 1 px, bicubic's 2), so a
# 12 MP photo resamples in about 60% of bicubic's CPU time; on a photographed page the text loses
# about as little (bench_parts' "text error": 6.14 against bicubic's 6.08, bilinear's 6.26).
# Pillow's docs: Hamming "produces a sharper image than BILINEAR, doesn't have dislocations on local
# level like with BOX" (pillow.readthedocs.io, Filters).
RESAMPLE_FILTER = "HAMMING"  # output pixels a stripe is worth a thread for
_DEPTH = {"F": "32-bit float", "I": "32-bit integer"}


def _orientation(img) -> int:
    if img.format == "PNG" and "exif" not in img.info:
        return 1  # reading a PNG's later chunks would decode it; orientation there is rare
    try:
        return int(img.getexif().get(ORIENTATION_TAG, 1) or 1)
    except Exception:  # a broken EXIF block must not stop the image from being sent
        return 1


def _is_loaded(img) -> bool:
    """Whether the pixels were decoded (only then can they have been changed in place)."""
    state = vars(img)
    if "_im" in state or "im" in state:  # Pillow >= 11 keeps the core image in `_im`, older in `im`
        return state.get("_im", state.get("im")) is not None
    return not img.tile


def original_file_bytes(img, settings) -> bytes | None:
    """The bytes of the file `img` was opened from, when they show exactly `img` (see module doc)."""
    from PIL import Image

    filename = getattr(img, "filename", None)
    if img.format not in KEEP_FORMATS or not filename or not isinstance(filename, (str, os.PathLike)):
        return None
    loaded = _is_loaded(img)  # test before anything below can trigger a load
    if img.tell() != 0 or max(img.size) > settings.max_image_side or _orientation(img) != 1:
        return None
    try:
        if os.path.getsize(filename) > settings.inline_part_budget:
            return None
        with open(filename, "rb") as file:
            data = file.read()
    except OSError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as fresh:
            if (fresh.format, fresh.size, fresh.mode) != (img.format, img.size, img.mode):
                return None
            if loaded:
                fresh.load()
                if fresh.tobytes() != img.tobytes() or fresh.getpalette() != img.getpalette():
                    return None
    except Exception:  # the file changed into something unreadable: encode the image instead
        return None
    return data


def pil_image_part(img, context) -> dict:
    """A PIL image: its file's bytes when unchanged, else encoded by the rules above.

    Raises ConversionError for an empty (0-pixel) image."""
    _check_not_empty(img)
    data = original_file_bytes(img, context.settings)
    if data is not None:
        return inline(KEEP_FORMATS[img.format], data)
    return encode_image(img, context)


def image_bytes_part(data: bytes, mime_type: str, context) -> dict:
    """Encoded image bytes: sent as they are when the API takes them unchanged, else re-encoded."""
    from PIL import Image

    settings = context.settings
    try:
        img = Image.open(io.BytesIO(data))
    except Exception as error:
        if mime_type in ("image/heic", "image/heif"):  # Pillow cannot read them; the API can
            return inline(mime_type, data)
        raise ConversionError(f"These {mime_type} bytes are not a readable image ({error}).") from None
    _check_not_empty(img)
    fmt = img.format or "?"
    if (KEEP_FORMATS.get(fmt) == mime_type and max(img.size) <= settings.max_image_side
            and _orientation(img) == 1 and len(data) <= settings.inline_part_budget):
        return inline(mime_type, data)
    if fmt not in KEEP_FORMATS:
        context.note(f"{fmt} image re-encoded (the API takes PNG, JPEG, WebP, HEIC and HEIF)")
    return encode_image(img, context, reopen=lambda: Image.open(io.BytesIO(data)))


def encode_image(img, context, reopen=None) -> dict:
    """Encode a PIL image as PNG or JPEG by the rules in the module docstring.

    `reopen()`, when given, opens the same encoded image again, not decoded yet (a JPEG file's
    image is reopened from its file without it). Raises ConversionError for an empty (0-pixel)
    image or a mode that cannot become RGB."""
    from PIL import ImageOps

    _check_not_empty(img)
    settings = context.settings
    frames = getattr(img, "n_frames", 1)
    if frames > 1:
        context.note(f"animated image: frame {img.tell() + 1} of {frames} sent")
    from_jpeg = img.format == "JPEG"
    width, height = img.size
    img, scale = _draft(img, settings.max_image_side, reopen)
    orientation = _orientation(img)
    if orientation != 1:
        img = ImageOps.exif_transpose(img)
        context.note(f"image turned upright (EXIF orientation {orientation})")
        if orientation > 4:  # turned by a quarter: the sizes before it swap too
            width, height = height, width
    img, alpha = _normalise(img, context)
    if max(img.size) > settings.max_image_side:
        img = _scaled_to(img, settings.max_image_side)
    if scale > 1 or img.size != (width, height):
        how = f"; the JPEG was decoded at 1/{scale} scale" if scale > 1 else ""
        context.note(f"image scaled from {width}x{height} to {img.width}x{img.height} "
                     f"(the model uses at most {settings.max_image_side} px a side{how})")
    # A JPEG source is a photo: its noise fails the graphic test anyway, which costs a resample.
    graphic = _small(img, settings) if from_jpeg else _small_or_graphic(img, settings)
    fmt = "PNG" if alpha or img.mode in ("P", "1") or graphic else "JPEG"
    return _fit(img, fmt, alpha, context)


def _check_not_empty(img) -> None:
    if img.width == 0 or img.height == 0:
        raise ConversionError(f"The image is empty ({img.width}x{img.height} pixels); "
                              "pass an image with at least one pixel.")


def _draft(img, cap: int, reopen=None):
    """(image, scale): a JPEG over `cap` px, not decoded yet, opened again and decoded by the JPEG
    decoder itself at 1/2, 1/4 or 1/8 scale (nearly free, unlike a resample of the full image), as
    far as the longest side stays at or above `cap` (the resample to exactly `cap` follows), else
    at full scale. The caller's image is not changed (nor decoded)."""
    from PIL import Image

    side = max(img.size)
    if img.format != "JPEG" or side <= cap or _is_loaded(img) or img.tell() != 0:
        return img, 1
    if reopen is None:
        filename = getattr(img, "filename", None)
        if not filename or not isinstance(filename, (str, os.PathLike)):
            return img, 1
        reopen = lambda: Image.open(filename)  # noqa: E731
    scale = 1
    while scale < 8 and side // (2 * scale) >= cap:
        scale *= 2
    try:
        fresh = reopen()  # even at full scale: the caller's image stays not decoded, its memory free
        if (fresh.format, fresh.size, fresh.mode) != (img.format, img.size, img.mode):
            return img, 1  # the file changed since it was opened
        if scale > 1:
            # The decoder's scale is the largest power of two that these floors divide into the size.
            fresh.draft(fresh.mode, (max(1, img.width // scale), max(1, img.height // scale)))
        fresh.load()
    except Exception:  # noqa: BLE001 - the file is gone or unreadable: decode the image we were given
        return img, 1
    return fresh, max(1, round(side / max(fresh.size)))


def _normalise(img, context):
    """(image in mode L, LA, RGB, RGBA, P or 1; whether it has real transparency)."""
    mode = img.mode
    if mode in ("LA", "La", "RGBA", "RGBa", "PA") or "transparency" in img.info and mode in ("P", "L", "RGB"):
        img = img.convert("LA" if mode in ("LA", "La", "L") else "RGBA")
        if img.getchannel("A").getextrema()[0] == 255:
            return img.convert(img.mode[:-1]), False
        return img, True
    if mode in ("L", "RGB", "P", "1"):
        return img, False
    if mode.startswith("I") or mode == "F":
        return _stretch_to_8_bit(img, context), False
    try:
        return img.convert("RGB"), False
    except Exception as error:  # e.g. LAB without a colour profile
        raise ConversionError(f"Cannot convert a {mode} image to RGB ({error}); convert it first.") from None


def _stretch_to_8_bit(img, context):
    """16-bit, 32-bit and float grayscale → 8-bit L, stretching min..max to 0..255."""
    depth = "16-bit" if img.mode.startswith("I;16") else _DEPTH.get(img.mode, img.mode)
    as_float = img.convert("F")
    low, high = as_float.getextrema()
    scale = 255.0 / (high - low) if high > low else 0.0
    context.note(f"{depth} grayscale image (values {low:g} to {high:g}) stretched to 8-bit")
    return as_float.point(lambda value: (value - low) * scale).convert("L")


def _scaled(img, factor: float):
    return _resized(img, (max(1, round(img.width * factor)), max(1, round(img.height * factor))))


def _scaled_to(img, side: int):
    """`img` resampled so that its longest side is exactly `side` px (the other rounded)."""
    long, short = max(img.size), min(img.size)
    other = max(1, round(short * side / long))
    return _resized(img, (side, other) if img.width >= img.height else (other, side))


def _resized(img, size: tuple[int, int]):
    """Resampled with RESAMPLE_FILTER (Hamming; see its comment). A large
    result is made in horizontal stripes on several threads, each one Pillow resample of its own
    box of the source (reading the rows around the box too, so the stripes join without a seam).
    A stripe equals the same rows of one whole resample, except where Pillow picks the other order
    of its two passes for it: then a pixel can move by the rounding and clipping between the passes
    (a few levels in a noisy photo, most pixels not at all)."""
    from PIL import Image

    if img.mode in ("P", "1"):
        img = img.convert("RGB" if img.mode == "P" else "L")
    width, height = size
    stripes = min(RESAMPLE_THREADS, height, width * height // STRIPE_PIXELS)
    if stripes < 2:
        return img.resize(size, getattr(Image.Resampling, RESAMPLE_FILTER), reducing_gap=3.0)
    reduce = (int(img.width / width / 3.0) or 1, int(img.height / height / 3.0) or 1)
    if reduce != (1, 1):  # what reducing_gap=3.0 does: a cheap integer reduction first
        img = img.reduce(reduce)
    img.load()
    step = img.height / height
    return _in_stripes(stripes, size, lambda top, bottom: img.resize(
        (width, bottom - top), getattr(Image.Resampling, RESAMPLE_FILTER), box=(0, top * step, img.width, bottom * step)))


def _in_stripes(stripes: int, size: tuple[int, int], make):
    """An image of `size` joined from `make(top, bottom)` for horizontal stripes, made side by side
    on threads (Pillow releases the GIL while it resamples). An error in any stripe is raised here."""
    from PIL import Image

    width, height = size
    cuts = [height * number // stripes for number in range(stripes + 1)]
    results: list = [None] * stripes
    errors: list = []

    def run(number: int) -> None:
        try:
            results[number] = make(cuts[number], cuts[number + 1])
        except BaseException as error:  # noqa: BLE001 - raised again in the calling thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(number,), daemon=True) for number in range(1, stripes)]
    for thread in threads:
        thread.start()
    run(0)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    out = Image.new(results[0].mode, size)
    for number, part in enumerate(results):
        out.paste(part, (0, cuts[number]))
    return out


def _small(img, settings) -> bool:
    return img.width * img.height <= settings.png_max_pixels


def _small_or_graphic(img, settings) -> bool:
    """Small images, and flat-coloured ones (screenshots, charts), are better as PNG."""
    from PIL import Image, ImageChops

    pixels = img.width * img.height
    if pixels <= settings.png_max_pixels:
        return True
    sample = img
    if pixels > 1_000_000:  # nearest-neighbour sampling keeps flat areas flat and noise noisy
        factor = (1_000_000 / pixels) ** 0.5
        sample = img.resize((max(2, int(img.width * factor)), max(2, int(img.height * factor))),
                            Image.Resampling.NEAREST)
    if sample.getcolors(256) is not None:
        return True
    width, height = sample.size
    diff = ImageChops.difference(sample.crop((1, 0, width, height)), sample.crop((0, 0, width - 1, height)))
    bands = diff.split()
    largest = bands[0]
    for band in bands[1:]:
        largest = ImageChops.lighter(largest, band)
    return largest.histogram()[0] >= 0.5 * (width - 1) * height


def _encode(img, fmt: str, quality: int) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        img.save(buffer, "JPEG", quality=quality)
    else:
        img.save(buffer, "PNG")
    return buffer.getvalue()


def _fit(img, fmt: str, alpha: bool, context) -> dict:
    """Encode, stepping down format, quality and size until the part fits the inline budget."""
    budget = context.settings.inline_part_budget
    quality = context.settings.jpeg_quality
    data = _encode(img, fmt, quality)
    steps = 0
    while len(data) > budget:
        steps += 1
        if fmt == "PNG" and not alpha:
            fmt = "JPEG"
            if img.mode in ("P", "1"):
                img = img.convert("RGB" if img.mode == "P" else "L")
        elif fmt == "JPEG" and quality > 60:
            quality = max(60, quality - 15)
        else:
            img = _scaled(img, 0.75)
        data = _encode(img, fmt, quality)
    if steps:
        detail = f"JPEG quality {quality}" if fmt == "JPEG" else "PNG"
        context.note(f"image sent as {detail} at {img.width}x{img.height} to fit the "
                     f"{megabytes(budget)} inline budget")
    return inline(MIME[fmt], data)


def root_figure(obj: Any):
    """The top-level Figure of an Axes, SubFigure or Figure (`.figure` up to the root)."""
    for _ in range(20):
        parent = getattr(obj, "figure", None)
        if parent is None or parent is obj:
            return obj
        obj = parent
    return obj


def figure_part(fig: Any, context) -> dict:
    """A matplotlib Figure (or SubFigure, seaborn grid) as PNG at `settings.figure_dpi`."""
    fig = root_figure(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=context.settings.figure_dpi, bbox_inches="tight")
    return image_bytes_part(buffer.getvalue(), "image/png", context)


def axes_part(ax: Any, context) -> dict:
    """A matplotlib Axes: the whole figure it belongs to (the model sees what the notebook shows)."""
    fig = root_figure(ax)
    count = len(getattr(fig, "axes", ()))
    if count > 1:
        context.note(f"the whole figure of this Axes was sent ({count} axes)")
    return figure_part(fig, context)
