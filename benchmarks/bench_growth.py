"""Does the client's cost per chunk stay flat as a stream grows? CPU and peak RSS from 1k to 1M chunks.

    python benchmarks/bench_growth.py [--sizes 1000,10000,100000,1000000] [--repeats 3] [--budget 60]

Every row runs over real HTTP on 127.0.0.1: a small server thread in this script answers each
request with the next prepared body in 64 KiB transfer chunks (not the emulator: its control API
takes bodies up to 40 MB, and 1M chunks are about 90 MB of SSE). Each contender runs in a fresh
subprocess (benchmarks/_runner.py): a warm-up stream, then the measured call (request plus the
consuming loop), with its CPU time (process_time) and its peak RSS (VmHWM, reset after the warm-up). Each chunk carries 10 characters of answer text, so 1M chunks
are a 10 MB answer. Rows:

- bare requests loop: iter_lines + json.loads, keeping each chunk's text (the yardstick);
- gemini_magic `Client.stream`, reading each chunk's own `.text` (the whole answer is kept in
  `stream.response`, raw chunks included);
- the same, reading the whole text so far (`stream.response.text`) after every chunk;
- the same body with a citationMetadata on every chunk (the previous source again plus a new one);
- 8 candidates a chunk, reading the text so far after every chunk (2 characters per candidate);
- the chunks as one JSON array (the stream a server sends without SSE), bare `json.loads` of the
  whole body against gemini_magic's JSON-array decoder;
- one JSON-array element holding all the text (10 characters per "chunk"), arriving in 64 KiB reads.

Slopes are least-squares fits of log(CPU) and log(RSS growth) against log(chunks) over the sizes
measured from 10k chunks (below that the request's fixed cost hides any growth); 1.0 is linear.
A run whose projected CPU is over `--budget` seconds is skipped. The largest size runs once
(`--repeats-largest`), the others take the median of `--repeats` fresh processes.
"""

from __future__ import annotations

import argparse
import collections
import http.server
import json
import math
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import median, run_child, table  # noqa: E402

TEXT = "0123456789"
SSE = "text/event-stream"
ARRAY = "application/json; charset=UTF-8"
ROWS = [  # (key, contender, body kind, content type, description)
    ("bare", "growth_bare", "plain", SSE, "bare requests loop (SSE)"),
    ("gm", "growth_gm", "plain", SSE, "gemini_magic, chunk.text"),
    ("so_far", "growth_gm_so_far", "plain", SSE, "gemini_magic, text so far every chunk"),
    ("cited", "growth_gm", "cited", SSE, "gemini_magic, citations every chunk"),
    ("eight", "growth_gm_so_far", "eight", SSE, "gemini_magic, 8 candidates, text so far"),
    ("bare_array", "growth_bare_array", "plain_array", ARRAY, "bare json.loads (JSON array)"),
    ("gm_array", "growth_gm", "plain_array", ARRAY, "gemini_magic, JSON-array decoder"),
    ("bare_big", "growth_bare_array", "big", ARRAY, "bare json.loads, one big element"),
    ("gm_big", "growth_gm", "big", ARRAY, "gemini_magic, one big element"),
]
LARGEST_EIGHT = 100_000  # 8-candidate bodies are 8x larger: stop there
FIT_FROM = 10_000  # slopes are fitted from here: below, the request's fixed cost hides the growth


def chunk(i: int, count: int, kind: str) -> dict:
    if kind == "eight":
        candidates = [{"content": {"parts": [{"text": TEXT[:2]}], "role": "model"}, "index": k} for k in range(8)]
    else:
        candidates = [{"content": {"parts": [{"text": TEXT}], "role": "model"}, "index": 0}]
    if kind == "cited":
        sources = [{"startIndex": max(0, 10 * i - 10), "endIndex": 10 * i, "uri": f"https://example.com/{i - 1}"},
                   {"startIndex": 10 * i, "endIndex": 10 * i + 10, "uri": f"https://example.com/{i}"}]
        candidates[0]["citationMetadata"] = {"citationSources": sources if i else sources[1:]}
    data = {"candidates": candidates}
    if i == count - 1:
        for candidate in candidates:
            candidate["finishReason"] = "STOP"
        data["usageMetadata"] = {"promptTokenCount": 1, "candidatesTokenCount": count, "totalTokenCount": count + 1}
    return data


def build_body(kind: str, count: int) -> tuple[bytes, int]:
    """(body, characters of the first candidate's text)."""
    if kind == "big":
        element = {"candidates": [{"content": {"parts": [{"text": TEXT * count}], "role": "model"},
                                   "finishReason": "STOP", "index": 0}]}
        return ("[" + json.dumps(element) + "]").encode(), len(TEXT) * count
    base = "plain" if kind == "plain_array" else kind
    events = [json.dumps(chunk(i, count, base), separators=(",", ":")) for i in range(count)]
    chars = count * (2 if kind == "eight" else len(TEXT))
    if kind == "plain_array":
        return ("[" + ",\r\n".join(events) + "]").encode(), chars
    return "".join(f"data: {event}\r\n\r\n" for event in events).encode(), chars


def slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of log(y) against log(x)."""
    points = [(math.log(x), math.log(y)) for x, y in points if y > 0]
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--repeats-largest", type=int, default=1)
    parser.add_argument("--budget", type=float, default=60.0, help="skip a run projected over this CPU (s)")
    parser.add_argument("--rows", default="", help="comma-separated row keys (default: all)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = [row for row in ROWS if not args.rows or row[0] in args.rows.split(",")]
    started = time.perf_counter()
    server = BodyServer()
    results: dict[str, dict[int, dict]] = {row[0]: {} for row in rows}
    try:
        print(f"bench_growth: body server {server.base_url}; Python {sys.version.split()[0]}, {os.cpu_count()} cores; "
              f"64 KiB transfer chunks, {len(TEXT)} characters of text a chunk")
        bodies: dict[str, tuple[bytes, int]] = {}
        for size in sizes:
            bodies.clear()
            repeats = args.repeats_largest if size == max(sizes) else args.repeats
            for key, contender, kind, content_type, _ in rows:
                if kind == "eight" and size > LARGEST_EIGHT:
                    continue
                done = results[key]
                if done:
                    last = max(done)
                    growth = max(1.0, slope([(n, r["cpu"]) for n, r in done.items()]) or 1.0)
                    projected = done[last]["cpu"] * (size / last) ** growth
                    if projected > args.budget:
                        print(f"  skip {key} at {size:,}: projected {projected:,.0f} s CPU")
                        continue
                if kind not in bodies:
                    bodies[kind] = build_body(kind, size)
                body, chars = bodies[kind]
                warmup = build_body("plain_array" if content_type == ARRAY else "plain", 3)[0]
                runs = []
                for _ in range(repeats):
                    server.queue.extend([(warmup, content_type), (body, content_type)])
                    runs.append(run_child(contender, server.base_url, str(chars), timeout=args.budget * 4 + 120))
                done[size] = {"cpu": median([r["cpu"] for r in runs]),
                              "peak": median([r["rss_peak_kib"] for r in runs]) / 1024,
                              "growth": median([r["rss_peak_kib"] - r["rss_before_kib"] for r in runs]) / 1024}
                print(f"  {key:10} {size:>9,}: {done[size]['cpu'] / size * 1e6:8.2f} us/chunk, "
                      f"peak RSS {done[size]['peak']:.0f} MiB", flush=True)
        report(rows, sizes, results)
        print(f"\n(total {time.perf_counter() - started:.0f} s)")
    finally:
        server.stop()


class BodyServer:
    """Answers every POST with the next queued (body, content type), in 64 KiB chunked transfer pieces."""

    def __init__(self) -> None:
        queue = self.queue = collections.deque()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body, content_type = queue.popleft()
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                view = memoryview(body)
                for start in range(0, len(body), 64 * 1024):
                    piece = view[start:start + 64 * 1024]
                    self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def report(rows, sizes, results) -> None:
    label = {n: f"{n // 1000:,}k" if n < 1_000_000 else f"{n // 1_000_000}M" for n in sizes}
    yardstick = {"plain_array": "bare_array", "big": "bare_big"}
    cpu_rows, rss_rows = [], []
    for key, _, kind, _, description in rows:
        done = results[key]
        bare = results.get(yardstick.get(kind, "bare"), {})
        cells = [f"{done[n]['cpu'] / n * 1e6:.2f}" if n in done else "-" for n in sizes]
        fit = slope([(n, r["cpu"]) for n, r in done.items() if n >= FIT_FROM])
        largest = max(done) if done else None
        versus = (f"{done[largest]['cpu'] / bare[largest]['cpu']:.2f}x" if largest in bare else "-")
        cpu_rows.append([description, *cells, f"{fit:.2f}" if fit is not None else "-", versus])
        peaks = [f"{done[n]['peak']:.0f}" if n in done else "-" for n in sizes]
        rss_fit = slope([(n, r["growth"]) for n, r in done.items() if n >= FIT_FROM])
        rss_versus = f"{done[largest]['peak'] / bare[largest]['peak']:.2f}x" if largest in bare else "-"
        rss_rows.append([description, *peaks, f"{rss_fit:.2f}" if rss_fit is not None else "-", rss_versus])
    print(f"\nCPU per chunk (us), median of fresh processes; slope of log CPU vs log chunks from {FIT_FROM:,} "
          "(1.0 = linear); vs bare: at the largest size, against the bare row of the same body")
    print(table(["contender", *[label[n] for n in sizes], "slope", "vs bare"], cpu_rows))
    print(f"\npeak RSS (MiB) of the measuring process; slope of the RSS growth during the call, from {FIT_FROM:,}")
    print(table(["contender", *[label[n] for n in sizes], "slope", "vs bare"], rss_rows))


if __name__ == "__main__":
    main()
