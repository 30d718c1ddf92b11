"""Bytes the live view sends to the frontend while a 5-image, ~1 MB answer streams: before and after.

    python benchmarks/bench_liveview.py [--before main] [--pause 0.05]

Each contender runs in a real IPython kernel (ipykernel, started with jupyter_client), with its own
gemini_magic first on the path: "before" is the package as committed at --before (default main,
exported with git archive), "after" is this checkout. The kernel feeds synthetic `Response` chunks (text,
a 200 KB PNG, more text... five times, then closing text) through a `StreamView` in widget mode, the
mode it picks in a kernel, and finishes it. This process subscribes to the kernel's IOPub socket with
its own ZMQ socket and adds up the bytes of every frame of every message the view sends (comm_open,
comm_msg, comm_close, display_data, update_display_data), as a frontend receives them. A marker
display (left out of the counts) between steps splits the figures per redraw.

1. Forced redraws: a redraw after every chunk (8 text chunks before each image: 53), so each redraw's bytes can be set side by side.
2. Natural pacing: a chunk every --pause seconds, the view's own throttle deciding when to draw (its
   interval grows with the bytes a draw sends, to keep within ~200 KB/s).

The floor is what any view must send at least: each image once and the answer's text once (Markdown
and plain), before the final display.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import ROOT, child_env, export_package, table  # noqa: E402

IMAGE_BYTES = 150_000  # each PNG's bytes: 200 KB of base64, 1 MB for the five

KERNEL_CODE = r"""
import base64, random, time
from IPython.display import publish_display_data
from gemini_magic.answer.response import Response
from gemini_magic.render import StreamView

def mark(label):
    publish_display_data({"text/x-bench-mark": label})

def text(words):
    return {"candidates": [{"content": {"role": "model", "parts": [{"text": words}]}, "index": 0}]}

def picture(data):
    return {"candidates": [{"content": {"role": "model", "parts": [{"inlineData": {"mimeType": "image/png",
                                                                                    "data": data}}]}, "index": 0}]}

images = [base64.b64encode(b"\x89PNG\r\n\x1a\n" + random.Random(n).randbytes(IMAGE_BYTES)).decode()
          for n in range(5)]
chunks = []
for number, data in enumerate(images, start=1):
    chunks += [("text", text(f"Step {number}, word {i}. ")) for i in range(WORDS)]
    chunks.append(("image", picture(data)))
chunks += [("text", text(f"Closing word {i}. ")) for i in range(WORDS)]

mark("start")
view = StreamView("gemini-2.5-flash-image")
assert view.mode == "widget", view.mode
view.start()
response = Response(streamed=True, model="gemini-2.5-flash-image")
for index, (kind, chunk) in enumerate(chunks):
    response.add(chunk)
    if FORCED:
        view._next_draw = 0
        mark(f"redraw {index} {kind}")
    else:
        time.sleep(PAUSE)
        if time.monotonic() >= view._next_draw:  # it will draw: what follows is this draw's
            mark(f"drew {index} {kind}")
    view.update(response)
response.add({"candidates": [{"content": {"parts": [{"text": ""}]}, "finishReason": "STOP", "index": 0}]})
mark("final")
view.finish(response)
mark("end")
print(json.dumps({"redraws": view.render_count, "text": len(response.text)}))
"""

COUNTED = {"comm_open", "comm_msg", "comm_close", "display_data", "update_display_data"}


class Kernel:
    """An ipykernel with `code_root`'s gemini_magic first on its path, and a raw SUB socket on its IOPub."""

    def __init__(self, code_root: str | None, cwd: str) -> None:
        import jupyter_client
        import zmq

        env = child_env(code_root)
        env["IPYTHONDIR"] = os.path.join(cwd, "ipython")
        self.manager = jupyter_client.KernelManager(kernel_name="python3")
        self.manager.start_kernel(env=env, cwd=cwd)
        self.client = self.manager.client()
        self.client.start_channels(iopub=False, stdin=False)
        self.client.wait_for_ready(timeout=60)
        info = self.manager.get_connection_info()
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.SUBSCRIBE, b"")
        self.socket.connect(f"{info['transport']}://{info['ip']}:{info['iopub_port']}")
        self.session = self.client.session
        for _ in range(50):  # a SUB socket misses what is published before it has joined: wait until it hears
            if self.run("pass", timeout=0.2) is not None:
                break

    def run(self, code: str, timeout: float = 300) -> list | None:
        """Execute `code`; every IOPub message of it as (msg_type, content, wire bytes), or None when its
        idle status did not arrive within `timeout` (the socket has not joined yet)."""
        import zmq

        msg_id = self.client.execute(code, silent=False, store_history=False)
        messages = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.socket.poll(int(max(deadline - time.monotonic(), 0) * 1000) or 1):
                continue
            frames = self.socket.recv_multipart(zmq.NOBLOCK)
            _, parts = self.session.feed_identities(frames)
            message = self.session.deserialize(parts, content=True)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            size = sum(len(frame) for frame in parts)
            messages.append((message["msg_type"], message["content"], size))
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                reply = self.client.get_shell_msg(timeout=60)
                while reply["parent_header"].get("msg_id") != msg_id:  # a warm-up's late reply
                    reply = self.client.get_shell_msg(timeout=60)
                if reply["content"]["status"] != "ok":
                    errors = [c for t, c, _ in messages if t == "error"]
                    raise RuntimeError("the kernel cell failed:\n" + "\n".join(
                        "\n".join(e.get("traceback", [])) for e in errors))
                return messages
        return None

    def stop(self) -> None:
        self.socket.close(0)
        self.context.term()
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def segments(messages: list) -> tuple[list[tuple[str, int]], dict]:
    """Split the counted bytes at the markers: [(label, bytes)] in order, and the cell's printed result
    (with "live_images": how many distinct images the live widgets showed before the final display)."""
    out: list[list] = []
    result = {}
    images = set()
    for msg_type, content, size in messages:
        data = content.get("data") or {}
        if msg_type == "display_data" and "text/x-bench-mark" in data:
            out.append([data["text/x-bench-mark"], 0])
        elif msg_type == "stream" and content.get("text", "").startswith("{"):
            result = json.loads(content["text"].strip().splitlines()[-1])
        elif msg_type in COUNTED and out:
            out[-1][1] += size
            if msg_type.startswith("comm") and out[-1][0] not in ("final", "end"):
                for output in ((data.get("state") or {}).get("outputs") or ()):
                    if "image/png" in output.get("data", {}):
                        images.add(output["data"]["image/png"][-64:])
    result["live_images"] = len(images)
    return [(label, size) for label, size in out], result


def measure(code_root: str | None, forced: bool, pause: float, words: int, directory: str) -> tuple[list, dict]:
    kernel = Kernel(code_root, directory)
    try:
        code = (f"import json\nIMAGE_BYTES = {IMAGE_BYTES}\nFORCED = {forced}\nPAUSE = {pause}\nWORDS = {words}\n"
                + KERNEL_CODE)
        messages = kernel.run(code)
        if messages is None:
            raise RuntimeError("the kernel did not finish the cell")
        return segments(messages)
    finally:
        kernel.stop()


def kb(size: int) -> str:
    return f"{size / 1000:,.1f}"


def summary(parts: list, result: dict) -> dict:
    live = [size for label, size in parts if label.startswith(("redraw", "drew"))]
    start = sum(size for label, size in parts if label == "start")
    final = sum(size for label, size in parts if label == "final")
    return {"start": start, "live": sum(live), "redraws": result.get("redraws", len(live)), "max": max(live, default=0),
            "final": final, "total": start + sum(live) + final, "text": result.get("text", 0),
            "images": result.get("live_images", 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="git ref of the 'before' column ('' for none)")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between chunks, natural pacing")
    parser.add_argument("--words", type=int, default=40, help="text chunks before each image, natural pacing")
    args = parser.parse_args()
    started = time.perf_counter()
    directory = tempfile.mkdtemp(prefix="bench-liveview-")
    try:
        contenders = []
        if args.before:
            os.mkdir(os.path.join(directory, "before"))
            before = export_package(args.before, os.path.join(directory, "before"))
            if before:
                contenders.append((f"before ({args.before})", before))
        contenders.append(("after (this checkout)", None))
        print(f"bench_liveview: 5 images of {IMAGE_BYTES * 4 // 3 // 1000} KB base64 "
              f"({5 * IMAGE_BYTES * 4 // 3 / 1e6:.1f} MB); real ipykernel, IOPub bytes; "
              f"Python {sys.version.split()[0]}, {os.cpu_count()} cores")
        image_chars = 5 * ((IMAGE_BYTES + 8 + 2) // 3 * 4)
        for forced in (True, False):
            words = 8 if forced else args.words
            runs = [(name, *measure(root, forced, args.pause, words, directory)) for name, root in contenders]
            sums = [summary(parts, result) for _, parts, result in runs]
            floor = image_chars + 2 * sums[-1]["text"]
            title = ("1. forced: a redraw after every chunk (8 text chunks before each image, 53 chunks)" if forced else
                     f"2. natural pacing: a chunk every {args.pause * 1000:.0f} ms ({words} text chunks before "
                     f"each image, {6 * words + 5} chunks), the view's own throttle")
            print(f"\n{title} (KB sent to the frontend)")
            if forced:
                rows = []
                labels = [label for label, _ in runs[0][1] if label.startswith("redraw")]
                for number, label in enumerate(labels):
                    sizes = [dict(parts).get(label, 0) for _, parts, _ in runs]
                    rows.append([f"redraw {number + 1:2d}", label.split()[-1], *map(kb, sizes)])
                print(table(["redraw", "new chunk", *[name for name, *_ in runs]], rows))
                print()
            rows = [["widget set-up (start)", *[kb(s["start"]) for s in sums], ""],
                    ["live redraws", *[str(s["redraws"]) for s in sums], ""],
                    ["images shown live", *[f"{s['images']} of 5" for s in sums], ""],
                    ["largest redraw", *[kb(s["max"]) for s in sums], ""],
                    ["all live redraws", *[kb(s["live"]) for s in sums], kb(floor)],
                    ["final display", *[kb(s["final"]) for s in sums], ""],
                    ["total", *[kb(s["total"]) for s in sums], ""]]
            print(table(["", *[name for name, *_ in runs], "floor"], rows))
            if len(sums) == 2 and sums[1]["live"]:
                print(f"live bytes: after/before = {sums[1]['live'] / sums[0]['live']:.3f}; "
                      f"after/floor = {sums[1]['live'] / floor:.2f}")
        print(f"\n(total {time.perf_counter() - started:.0f} s)")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
