"""Client-side cost of consuming a long SSE stream: gemini_magic vs a bare requests loop vs google-genai.

    python benchmarks/bench_stream.py [--events 20000] [--repeats 5] [--profile]

The emulator (a subprocess) replays the same 20,000-event `alt=sse` body to every contender, first in
64 KiB transfer chunks, then with one event per transfer chunk. Each contender runs in a fresh
subprocess, consumes a small warm-up stream, then the measured one, and checks the length of the
reassembled text. Figures: medians of CPU time (process_time) and wall time of the request plus the
consuming loop, and the time spent in garbage collections within it. A reference row runs the bare
loop but keeps every parsed chunk, as gemini_magic's Response.raw does. A "before" row runs the same
gemini_magic contender on the package as committed at --before (default main, exported with git
archive into a temporary directory). Targets (issue 26): gemini_magic's CPU within 1.2x the bare
loop's with 64 KiB transfers and 1.3x with one event per transfer. The machine is shared: figures are
medians, and contenders run round-robin so drift hits all alike. With --profile (or when a target is
missed) gemini_magic's measured call is run once more under cProfile and the top entries are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Emulator, export_package, median, run_child, table  # noqa: E402

WORDS = ("The quick brown fox jumps over the lazy dog while a streamed answer arrives one token at a "
         "time from the model").split()
PROMPT_TOKENS = 5
TARGET, TARGET_ONE = 1.2, 1.3  # 64 KiB transfers; one event per transfer
CONTENDERS = [
    ("stream_bare", "bare requests iter_lines + json.loads"),
    ("stream_bare_keep", "  same, also keeping each parsed chunk (reference)"),
    ("stream_gm_before", "gemini_magic before (--before), chunk.text"),
    ("stream_gm", "gemini_magic Client.stream, chunk.text"),
    ("stream_gm_final", "gemini_magic Client.stream, .response.text at end"),
    ("stream_sdk", "google-genai generate_content_stream, chunk.text"),
]


def build_body(events: int) -> tuple[bytes, int, int]:
    """The SSE body, every event padded (JSON whitespace) to one length; (body, event length, text chars)."""
    lines, chars = [], 0
    for i in range(events):
        text = WORDS[i % len(WORDS)] + " "
        chars += len(text)
        candidate = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
        if i == events - 1:
            candidate["finishReason"] = "STOP"
        chunk = {"candidates": [candidate],
                 "usageMetadata": {"promptTokenCount": PROMPT_TOKENS, "candidatesTokenCount": i + 1,
                                   "totalTokenCount": PROMPT_TOKENS + i + 1,
                                   "promptTokensDetails": [{"modality": "TEXT", "tokenCount": PROMPT_TOKENS}]},
                 "modelVersion": "gemini-2.5-flash", "responseId": "x"}
        lines.append(json.dumps(chunk, separators=(",", ": ")))
    width = max(len(line) for line in lines)
    events_bytes = [b"data: " + (line[:-1] + " " * (width - len(line)) + "}").encode() + b"\r\n\r\n"
                    for line in lines]
    return b"".join(events_bytes), len(events_bytes[0]), chars


def run_scenario(emulator: Emulator, label: str, body: bytes, chars: int, warmup: bytes, warmup_chars: int,
                 chunk_size: int, events: int, repeats: int, before: str | None) -> tuple[list, dict]:
    contenders = [(name, text) for name, text in CONTENDERS if before or name != "stream_gm_before"]
    results = {name: [] for name, _ in contenders}
    for _ in range(repeats):  # round-robin, so drift on the machine hits everyone alike
        for name, _ in contenders:
            emulator.replay(warmup, chunk_size)
            emulator.replay(body, chunk_size)
            code_root = before if name == "stream_gm_before" else None
            results[name].append(run_child(name, emulator.base_url, str(chars), code_root=code_root))
    bare_cpu = median([r["cpu"] for r in results["stream_bare"]])
    rows = []
    for name, description in contenders:
        cpu = median([r["cpu"] for r in results[name]])
        wall = median([r["wall"] for r in results[name]])
        gc_ms = median([r["gc"] for r in results[name]]) * 1000
        rows.append([description, f"{cpu / events * 1e6:.1f}", f"{cpu * 1000:.0f}", f"{wall * 1000:.0f}",
                     f"{gc_ms:.0f}", f"{cpu / bare_cpu:.2f}x"])
    print(f"\n{label}: {events:,} events, {len(body) / 1e6:.1f} MB, median of {repeats} fresh processes")
    print(table(["contender", "CPU us/chunk", "CPU ms", "wall ms", "of which GC ms", "CPU vs bare"], rows))
    return rows, {name: median([r["cpu"] for r in results[name]]) / bare_cpu for name, _ in contenders}


def profile(emulator: Emulator, body: bytes, chars: int, warmup: bytes, chunk_size: int, directory: str) -> None:
    path = os.path.join(directory, "stream_gm.prof")
    os.environ["BENCH_PROFILE"] = path
    try:
        emulator.replay(warmup, chunk_size)
        emulator.replay(body, chunk_size)
        run_child("stream_gm", emulator.base_url, str(chars))
    finally:
        del os.environ["BENCH_PROFILE"]
    print(f"\ncProfile of gemini_magic Client.stream (chunk.text), {chunk_size}-byte transfer chunks, top by tottime:")
    stats = pstats.Stats(path, stream=sys.stdout)
    stats.strip_dirs().sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="always print a cProfile of gemini_magic")
    parser.add_argument("--before", default="main", help="git ref of the 'before' row ('' for none)")
    args = parser.parse_args()
    body, event_size, chars = build_body(args.events)
    warmup, _, warmup_chars = build_body(5)
    started = time.perf_counter()
    emulator = Emulator()
    directory = tempfile.mkdtemp(prefix="bench-stream-")
    try:
        print(f"bench_stream: emulator {emulator.base_url}; events padded to {event_size} bytes; "
              f"Python {sys.version.split()[0]}, {os.cpu_count()} cores")
        before = None
        if args.before:
            os.mkdir(os.path.join(directory, "before"))
            before = export_package(args.before, os.path.join(directory, "before"))
        _, ratios = run_scenario(emulator, "64 KiB transfer chunks", body, chars, warmup, warmup_chars,
                                 64 * 1024, args.events, args.repeats, before)
        _, ratios_one = run_scenario(emulator, "one event per transfer chunk", body, chars, warmup, warmup_chars,
                                     event_size, args.events, args.repeats, before)
        met = ratios["stream_gm"] <= TARGET and ratios_one["stream_gm"] <= TARGET_ONE
        was = (f"; before: {ratios['stream_gm_before']:.2f}x and {ratios_one['stream_gm_before']:.2f}x"
               if before else "")
        print(f"\ntarget: gemini_magic CPU within {TARGET}x of the bare loop with 64 KiB transfers and "
              f"{TARGET_ONE}x with one event per transfer: {'met' if met else 'MISSED'} "
              f"({ratios['stream_gm']:.2f}x and {ratios_one['stream_gm']:.2f}x{was})")
        if args.profile or not met:
            profile(emulator, body, chars, warmup, 64 * 1024, directory)
        print(f"\n(total {time.perf_counter() - started:.0f} s)")
    finally:
        emulator.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
