"""How many bytes an image or table costs on the wire, and how long converting it takes.

    python benchmarks/bench_parts.py

Compares gemini_magic.parts with the official SDK (google-genai), which converts a PIL image in
`google.genai._transformers.pil_to_blob`: JPEG re-encoded with quality="keep" when the image came
from a JPEG file, PNG for everything else (no scaling, no original bytes). Its time here includes
base64-encoding the blob, which the SDK does when it serialises the request, so both columns
measure "object in, request-ready data out". Times are the median of several runs; each run of a
file-based image reopens the file, so lazy decoding is counted every time.

The 12 MP JPEG file (a photographed page: a photo with rows of fine text) is measured once more in
fresh processes (`--child`), one per contender and run, for its peak RSS as well: VmHWM reset after
imports and a warm-up on a small JPEG, against VmRSS there; time and peak are medians of 3 processes
of 5 conversions each. Contenders: gemini_magic before (the tree at `--before REV`, default the
commit this work started from, exported with `git archive`), gemini_magic now, google-genai's
`pil_to_blob` on the opened file, and google-genai's `types.Part.from_bytes` on the file's bytes
(what the SDK's docs show for a file; it sends the file as it is). "text error" is how much of the
page's fine text is lost: the sent image resampled back to 4000x3000, RMS difference from the
original over the text rows (0 = every stroke kept; the file itself scores its JPEG noise only).

    python benchmarks/bench_parts.py [--before REV]
"""

from __future__ import annotations

import base64
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# The tree measured: this checkout, or the exported "before" tree a child is told to use.
sys.path.insert(0, os.environ.get("BENCH_PARTS_TREE") or str(Path(__file__).resolve().parents[1]))

RUNS = 5
BEFORE = "a550159"  # the commit this work started from: a 12 MP JPEG went at 2000x1500
TEXT_BOX = (100, 100, 3900, 1500)  # where page_photo writes its fine text


def photo_pixels(width: int, height: int) -> Image.Image:
    """Photo-like: smooth gradients, soft blobs and sensor noise."""
    rng = np.random.default_rng(42)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([x / width * 180 + 40, y / height * 160 + 50, (x + y) / (width + height) * 200 + 30], -1)
    for _ in range(12):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(100, 600)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))[..., None]
        image += blob * rng.uniform(-80, 80, size=3)
    image += rng.normal(0, 6, size=image.shape)
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), "RGB")


def screenshot_pixels(width: int = 1920, height: int = 1080) -> Image.Image:
    """UI-like: flat panels, buttons and antialiased text."""
    img = Image.new("RGB", (width, height), (248, 249, 250))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, width, 64), fill=(32, 33, 36))
    draw.rectangle((0, 64, 280, height), fill=(232, 234, 237))
    for i in range(24):
        draw.text((24, 90 + i * 38), f"Navigation item {i}", fill=(60, 64, 67))
    for row in range(42):
        y = 90 + row * 23
        draw.text((310, y), f"{row:03d}  invoice-{row * 7919 % 10000:04d}  customer #{row * 31}  "
                            f"EUR {row * 123.45:,.2f}  status: {'paid' if row % 3 else 'open'}", fill=(32, 33, 36))
        draw.rounded_rectangle((width - 220, y, width - 60, y + 18), radius=8,
                               fill=(26, 115, 232) if row % 3 else (217, 48, 37))
    return img


def page_photo(width: int = 4000, height: int = 3000) -> Image.Image:
    """A photographed page: the photo above with rows of small dark text over its top half."""
    img = photo_pixels(width, height)
    draw = ImageDraw.Draw(img)
    for row in range(30):
        draw.text((TEXT_BOX[0], TEXT_BOX[1] + row * 46), f"{row:02d} Invoice 4471-{row * 37 % 1000:03d}: "
                  "the quick brown fox jumps over the lazy dog, EUR 1,234.56 paid on 2026-03-14. " * 2,
                  fill=(10, 10, 10))
    return img


def text_error(sent: bytes, original: Image.Image) -> float:
    """RMS difference over the text rows between `original` and the sent image resampled back."""
    from PIL import ImageChops, ImageStat

    back = Image.open(io.BytesIO(sent)).convert("RGB").resize(original.size, Image.Resampling.BICUBIC)
    diff = ImageChops.difference(back.crop(TEXT_BOX), original.crop(TEXT_BOX)).convert("L")
    return ImageStat.Stat(diff).rms[0]


def timed(make, run) -> tuple[float, object]:
    times, result = [], None
    for _ in range(RUNS):
        obj = make()
        started = time.perf_counter()
        result = run(obj)
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def ours(obj):
    from gemini_magic.parts import convert

    conversion = convert(obj)
    part = conversion.parts[-1]["inlineData"]
    data = base64.b64decode(part["data"])
    size = Image.open(io.BytesIO(data)).size if part["mimeType"].startswith("image/") else None
    return part["mimeType"], len(data), size, data


def sdk(obj):
    from google.genai import _transformers

    blob = _transformers.pil_to_blob(obj)
    base64.b64encode(blob.data)  # what serialising the request does with it
    size = Image.open(io.BytesIO(blob.data)).size
    return blob.mime_type, len(blob.data), size, blob.data


def sdk_from_bytes(path):
    from google.genai import types

    with open(path, "rb") as file:
        part = types.Part.from_bytes(data=file.read(), mime_type="image/jpeg")
    base64.b64encode(part.inline_data.data)
    size = Image.open(io.BytesIO(part.inline_data.data)).size  # reads the header only
    return part.inline_data.mime_type, len(part.inline_data.data), size, part.inline_data.data


CONTENDERS = {  # name: (label, function, what it is given)
    "before": ("gemini_magic before", ours, "image"),
    "ours": ("gemini_magic now", ours, "image"),
    "sdk": ("google-genai pil_to_blob", sdk, "image"),
    "sdk_bytes": ("google-genai from_bytes", sdk_from_bytes, "path"),
}


def child(which: str, path: str) -> None:
    """One contender converting the JPEG file in this fresh process; prints one JSON line."""
    import json

    from _runner import proc_status_kib, reset_peak_rss

    _, run, given = CONTENDERS[which]
    small = Path(path).with_name("small.jpg")
    photo_pixels(400, 300).save(small, quality=90)
    run(Image.open(small) if given == "image" else small)  # warm-up: imports and first-call set-up
    reset = reset_peak_rss()
    rss0 = proc_status_kib("VmRSS")
    make = (lambda: Image.open(path)) if given == "image" else (lambda: path)
    seconds, (mime, size, dims, data) = timed(make, run)
    growth = (proc_status_kib("VmHWM") - rss0) / 1024
    error = text_error(data, Image.open(Path(path).with_name("page.png")).convert("RGB"))
    package = sys.modules["gemini_magic"].__file__ if "gemini_magic" in sys.modules else None
    print(json.dumps({"time": seconds, "growth_mib": growth, "reset": reset, "bytes": size, "dims": dims,
                      "text_error": error, "package": package}))


def before_tree(rev: str, folder: Path) -> Path | None:
    """The package at `rev`, exported into `folder` (None when git or the commit is missing)."""
    root = Path(__file__).resolve().parents[1]
    target = folder / "before"
    target.mkdir()
    try:
        archive = subprocess.run(["git", "-C", str(root), "archive", rev, "gemini_magic"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return target


def fresh_processes(path: Path, have_sdk: bool, before: Path | None, rev: str) -> None:
    import json

    names = [name for name in CONTENDERS if (before or name != "before") and (have_sdk or "sdk" not in name)]
    results = {name: [] for name in names}
    for _ in range(3):
        for which in names:
            env = dict(os.environ)
            env.pop("BENCH_PARTS_TREE", None)
            if which == "before":
                env["BENCH_PARTS_TREE"] = str(before)
            done = subprocess.run([sys.executable, __file__, "--child", which, str(path)], capture_output=True,
                                  text=True, check=True, env=env)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            if which == "before" and not str(result["package"]).startswith(str(before)):
                raise RuntimeError(f"the before child imported {result['package']}, not the tree at {rev}")
            results[which].append(result)
    print(f"\n12 MP JPEG photographed page ({path.stat().st_size / 1e6:.2f} MB file), fresh processes "
          "(median of 3, each 5 conversions):")
    print(f"  {'contender':26} {'time':>7}  {'peak RSS growth':>15}  {'sends':>22}  {'text error':>10}")
    rows = {}
    for which in names:
        runs = results[which]
        label = CONTENDERS[which][0] + (f" ({rev})" if which == "before" else "")
        rows[which] = (statistics.median(r["time"] for r in runs), statistics.median(r["growth_mib"] for r in runs))
        dims = runs[0]["dims"]
        sends = f"{dims[0]}x{dims[1]} {runs[0]['bytes'] / 1e6:.2f} MB"
        print(f"  {label:26} {rows[which][0] * 1000:4.0f} ms  {rows[which][1]:11.1f} MiB  {sends:>22}  "
              f"{runs[0]['text_error']:10.2f}")
    for which in names:
        if which != "ours":
            print(f"  gemini_magic now vs {CONTENDERS[which][0]}: {rows['ours'][0] / rows[which][0]:.2f}x time, "
                  f"{rows['ours'][1] / max(rows[which][1], 0.1):.2f}x RSS growth")


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        child(sys.argv[2], sys.argv[3])
        return
    rev = sys.argv[sys.argv.index("--before") + 1] if "--before" in sys.argv else BEFORE
    from gemini_magic.constants import INLINE_REQUEST_LIMIT
    from gemini_magic.parts import convert
    try:
        import google.genai  # noqa: F401

        have_sdk = True
    except ImportError:
        have_sdk = False
    folder = Path(tempfile.mkdtemp(prefix="bench_parts_"))
    photo = page_photo()
    photo.save(folder / "photo.jpg", quality=90)
    photo.save(folder / "page.png")  # the original pixels, for the text error
    screenshot_pixels().save(folder / "screenshot.png")
    photo_pixels(2000, 1500).save(folder / "photo.webp", quality=85)
    cases = [
        ("12 MP JPEG page photo file (4000x3000)", lambda: Image.open(folder / "photo.jpg"), folder / "photo.jpg"),
        ("12 MP in-kernel photo (4000x3000)", lambda: photo.copy(), None),
        ("1080p PNG screenshot file", lambda: Image.open(folder / "screenshot.png"), folder / "screenshot.png"),
        ("WebP photo file (2000x1500)", lambda: Image.open(folder / "photo.webp"), folder / "photo.webp"),
    ]
    header = (f"{'object':36} {'file':>9} | {'gemini_magic sends':>32} {'time':>8} | "
              f"{'google-genai sends':>32} {'time':>8}")
    print(header)
    print("-" * len(header))
    for label, make, path in cases:
        file_size = f"{path.stat().st_size / 1e6:.2f} MB" if path else "-"
        seconds, (mime, size, dims, _) = timed(make, ours)
        mine = f"{mime.split('/')[1].upper()} {dims[0]}x{dims[1]} {size / 1e6:6.2f} MB"
        if have_sdk:
            sdk_seconds, (sdk_mime, sdk_size, sdk_dims, _) = timed(make, sdk)
            over = " !" if sdk_size * 4 / 3 > INLINE_REQUEST_LIMIT else ""
            theirs = f"{sdk_mime.split('/')[1].upper()} {sdk_dims[0]}x{sdk_dims[1]} {sdk_size / 1e6:6.2f} MB{over}"
            sdk_time = f"{sdk_seconds * 1000:6.0f} ms"
        else:
            theirs, sdk_time = "(google-genai not installed)", ""
        print(f"{label:36} {file_size:>9} | {mine:>32} {seconds * 1000:5.0f} ms | {theirs:>32} {sdk_time:>8}")

    import pandas as pd

    n = 1_000_000
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": np.arange(n), "value": rng.random(n), "group": rng.choice(list("abcdef"), n),
                       "when": pd.date_range("2020-01-01", periods=n, freq="min")})
    seconds, result = timed(lambda: df, lambda frame: convert(frame))
    csv_size = len(base64.b64decode(result.parts[1]["inlineData"]["data"]))
    label = "1,000,000-row DataFrame (4 columns)"
    print(f"{label:36} {'-':>9} | {'CSV 2,000 rows ' + f'{csv_size / 1e6:6.2f} MB':>32} {seconds * 1000:5.0f} ms | "
          f"{'(not supported)':>32}")
    print("\n! = over the 20 MB inline request limit once base64-encoded (the API would refuse it).")
    print("gemini_magic notes:", "; ".join(convert(photo).notes) + ";",
          "; ".join(convert(Image.open(folder / "photo.jpg")).notes))
    fresh_processes(folder / "photo.jpg", have_sdk, before_tree(rev, folder), rev)


if __name__ == "__main__":
    main()
