"""Helpers shared by the tests of gemini_magic.parts (no tests here; imported by test_parts_*.py)."""

from __future__ import annotations

import base64
import io



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
    """A photo-like RGB image: smooth gradients plus sensor noise (no two neighbours equal)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x / width * 200, y / height * 200, (x + y) / (width + height) * 255], axis=-1)
    noisy = base + rng.normal(0, 12, size=base.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


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
