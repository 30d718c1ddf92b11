"""What it costs to build the request of a long conversation: turn 50 with five images in its history.

    python benchmarks/bench_chat.py [--turns 50] [--images 5] [--repeats 30]

A `Chat` talks to the local emulator (a subprocess) for 49 turns; five of them carry a photo-sized
PIL image (converted to parts once, when its turn is sent). Then `chat.build_request(...)` builds the
body of turn 50 without sending it, and is timed against a bare `json.dumps` of that same body (the
least any client must spend to put it on the wire). Figures: medians of CPU time (process_time).
Targets: building costs at most 1.2x the bare json.dumps, and converters run once per image
however many turns follow (counted by a converter registered for a wrapper type).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import Emulator, median, table  # noqa: E402

TARGET = 1.2
KEY = "bench-key-AIzaSy-not-a-real-key-000000"


class Photo:
    """A PIL image behind a type of our own, so the benchmark can count conversions."""

    conversions = 0

    def __init__(self, image):
        self.image = image


def convert_photo(photo, context):
    Photo.conversions += 1
    return context.convert(photo.image)


def make_photo(seed: int):
    from PIL import Image, ImageFilter

    noise = Image.effect_noise((1600, 1200), 60 + seed).convert("RGB")
    return noise.filter(ImageFilter.GaussianBlur(2))  # photo-like: JPEG at q90 stays a few hundred kB


def timed(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.process_time()
        function()
        times.append(time.process_time() - started)
    return median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--images", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    from gemini_magic import Client
    from gemini_magic.api.chat import Chat
    from gemini_magic.parts import register_converter

    register_converter(Photo, convert_photo)
    emulator = Emulator()
    try:
        client = Client(api_key=KEY, base_url=emulator.base_url)
        chat = Chat(client, "gemini-2.5-flash", name="bench")
        every = max(1, (args.turns - 1) // max(1, args.images))
        photos = 0
        for turn in range(1, args.turns):
            prompt: list = [f"Question {turn}: what changed since the last picture?"]
            if photos < args.images and turn % every == 1:
                prompt.append(Photo(make_photo(photos)))
                photos += 1
            chat.send(prompt)
        question = f"Question {args.turns}: summarise the whole conversation."
        body = chat.build_request(question)
        size = len(json.dumps(body))
        build = timed(lambda: chat.build_request(question), args.repeats)
        dumps = timed(lambda: json.dumps(body), args.repeats)
        sent = chat.send(question)
    finally:
        emulator.stop()

    images = sum(1 for c in body["contents"] for p in c["parts"] if "inlineData" in p)
    print(f"Turn {args.turns}: {len(body['contents'])} contents, {images} inline images, "
          f"{size / 1e6:.1f} MB of JSON; the answer says {sent.text.count('- turn ')} earlier turns arrived.")
    print(table(["step", "CPU ms (median)", "x json.dumps"], [
        ["chat.build_request (turn 50)", f"{build * 1e3:.2f}", f"{build / dumps:.2f}"],
        ["bare json.dumps of that body", f"{dumps * 1e3:.2f}", "1.00"],
        ["build + json.dumps (what sending costs)", f"{(build + dumps) * 1e3:.2f}", f"{(build + dumps) / dumps:.2f}"],
    ]))
    print(f"Image conversions: {Photo.conversions} for {photos} images over {args.turns} turns.")
    ok = build <= TARGET * dumps and Photo.conversions == photos == images
    print(f"Target (build <= {TARGET}x json.dumps, one conversion per image): {'met' if ok else 'MISSED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
