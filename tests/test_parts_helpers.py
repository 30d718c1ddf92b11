"""Helpers shared by the tests of gemini_magic.parts (no tests here; imported by test_parts_*.py)."""

from __future__ import annotations

import base64
import importlib
import io

import pytest


def optional(name: str):
    """Import pandas, numpy or matplotlib, or skip: they are optional, never required.

    Any ImportError skips (a blocked or broken install as well as a missing one), which
    ``pytest.importorskip`` does on pytest >= 9.1 only with ``exc_type=ImportError`` (pytest >= 8.2).
    """
    try:
        return importlib.import_module(name)
    except ImportError as error:
        pytest.skip(f"could not import {name!r}: {error}", allow_module_level=True)


def inline_bytes(part: dict) -> tuple[str, bytes]:
    """(mimeType, decoded bytes) of an inlineData part; fails the test for any other part."""
    assert set(part) == {"inlineData"}, part
    inline = part["inlineData"]
    assert set(inline) == {"mimeType", "data"}
    return inline["mimeType"], base64.b64decode(inline["data"], validate=True)


def open_image(part: dict):
    from PIL import Image

    mime, data = inline_bytes(part)
    img = Image.open(io.BytesIO(data))
    img.load()
    return mime, img


def photo(width: int, height: int, seed: int = 0):
    """A photo-like RGB image: smooth gradients plus sensor noise (neighbours practically never equal).

    Pillow only (numpy is optional); the same ``seed`` gives the same pixels.
    """
    import random

    from PIL import Image, ImageChops

    size = (width, height)
    across = Image.linear_gradient("L").rotate(90).resize(size, Image.Resampling.BILINEAR)  # dark → light
    down = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)  # dark → light
    diagonal = ImageChops.add(across, down, scale=2.0)
    base = Image.merge("RGB", [across.point(lambda v: v * 200 // 255), down.point(lambda v: v * 200 // 255),
                               diagonal.point(lambda v: v * 215 // 255)])
    # Uniform noise 0..40 per channel (standard deviation about 12), deterministic from the seed.
    noise = Image.frombytes("RGB", size, random.Random(seed).randbytes(width * height * 3))
    return ImageChops.add(base, noise.point(lambda v: v * 41 // 256))


def screenshot(width: int, height: int):
    """A UI-like image: flat panels, buttons and text (antialiased, so more than 256 colours)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), (245, 246, 248))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, width, 56), fill=(32, 33, 36))
    draw.rectangle((0, 56, 240, height), fill=(230, 232, 236))
    for row in range(40):
        y = 80 + row * 24
        draw.text((260, y), f"Row {row}: the quick brown fox jumps over the lazy dog {row * 37}", fill=(20, 20, 20))
        draw.rounded_rectangle((width - 180, y, width - 40, y + 18), radius=6, fill=(26, 115, 232))
    for i in range(10):
        draw.text((20, 80 + i * 30), f"Menu item {i}", fill=(60, 64, 67))
    draw.ellipse((300, 20, 340, 50), fill=(234, 67, 53))
    return img
