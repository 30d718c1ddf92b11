"""What asking the one table of part kinds costs where the code used to switch on part fields itself.

    python benchmarks/bench_kinds.py [--parts 3000] [--repeats 5] [--before main]

Issue 25 item 4 routed six switches on part types through `gemini_magic.answer.part_kinds`. This
times the places that run per part, on the package as it is and as committed at --before (the
hand-written `if "text" in part: ... elif "inlineData" in part:` chains), each in fresh processes,
round-robin, medians of --repeats:

- `answer_text` (render/final.py): the candidate's text, Markdown, over a mixed answer of `--parts`
  parts (mostly text; images, code, calls, thoughts among them);
- `answer_pieces` (render/answer.py): the final view's ordered pieces of the same answer;
- `describe_parts` (api/turns.py): the chat transcript's line for the same parts;
- `parts_to_input` (api/interactions.py): text, image and file parts as Interactions input;
- `LiveTurn.add_content` (answer/live_turn.py): `--parts` Live messages, text and PCM audio alternating.

Figures are microseconds of CPU per part: in each process the fastest of 7 runs of a case, then the
median over the processes. No network, no emulator: this is the client's own CPU.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import ROOT, child_env, export_package, median, table  # noqa: E402

PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
CASES = ["answer_text", "answer_pieces", "describe_parts", "parts_to_input", "live_add_content"]


def mixed_parts(count: int) -> list[dict]:
    """A long mixed answer: 4 in 5 parts text, the rest images, code, its output, calls, thoughts."""
    others = [{"inlineData": {"mimeType": "image/png", "data": PNG_1PX}},
              {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
              {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n"}},
              {"functionCall": {"name": "get_rainfall", "args": {"city": "Huế"}}},
              {"text": "Thinking about it.", "thought": True}]
    return [others[(i // 5) % len(others)] if i % 5 == 4 else {"text": f"Sentence {i} of the answer. "}
            for i in range(count)]


def child(parts_count: int) -> dict:
    """Time each case once (after one warm-up); seconds per case."""
    from gemini_magic.answer.live_turn import LiveTurn
    from gemini_magic.answer.response import Response
    from gemini_magic.api.interactions import parts_to_input
    from gemini_magic.api.turns import describe_parts
    from gemini_magic.render.answer import answer_pieces
    from gemini_magic.render.final import answer_text

    parts = mixed_parts(parts_count)
    response = Response([{"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}]}])
    candidate = response.candidate
    inputs = [p for p in parts if "thought" not in p and ("text" in p or "inlineData" in p)]
    inputs += [{"fileData": {"mimeType": "video/mp4", "fileUri": "https://x/files/v"}}] * (parts_count // 10)
    pcm = base64.b64encode(b"\0\0" * 240).decode("ascii")
    messages = [{"modelTurn": {"parts": [{"text": "word "} if i % 2 else
                                         {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": pcm}}]}}
                for i in range(parts_count)]

    def live():
        turn = LiveTurn(1)
        for message in messages:
            turn.add_content(message)

    runs = {"answer_text": lambda: answer_text(candidate), "answer_pieces": lambda: answer_pieces(response, candidate),
            "describe_parts": lambda: describe_parts(parts), "parts_to_input": lambda: parts_to_input(inputs),
            "live_add_content": live}
    seconds = {}
    for name in CASES:
        runs[name]()  # warm-up (imports, lazy regexes)
        times = []
        for _ in range(7):  # the fastest of 7: other processes on the machine only ever add time
            start = time.process_time()
            runs[name]()
            times.append(time.process_time() - start)
        seconds[name] = min(times)
    return {"seconds": seconds, "parts": {"answer_text": len(parts), "answer_pieces": len(parts),
                                          "describe_parts": len(parts), "parts_to_input": len(inputs),
                                          "live_add_content": len(messages)}}


def run(code_root: str | None, parts: int) -> dict:
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "--parts", str(parts)], cwd=ROOT,
                          env=child_env(code_root), capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", default="main", help="git ref of the 'before' column ('' for none)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.parts)))
        return
    directory = tempfile.mkdtemp(prefix="bench-kinds-")
    try:
        before = export_package(args.before, directory) if args.before else None
        contenders = [("now", None)] + ([(f"before ({args.before})", before)] if before else [])
        results: dict[str, list[dict]] = {name: [] for name, _ in contenders}
        for _ in range(args.repeats):  # round-robin: drift on a shared machine hits both alike
            for name, root in contenders:
                results[name].append(run(root, args.parts))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    counts = results["now"][0]["parts"]
    rows = []
    for case in CASES:
        per_part = {name: median([r["seconds"][case] for r in runs]) / counts[case] * 1e6
                    for name, runs in results.items()}
        row = [case, counts[case], f"{per_part['now']:.2f}"]
        if before:
            old = per_part[f"before ({args.before})"]
            row += [f"{old:.2f}", f"{per_part['now'] / old:.2f}x"]
        rows.append(row)
    headers = ["case", "parts", "now us/part"] + ([f"before ({args.before}) us/part", "now vs before"] if before else [])
    print(f"bench_kinds: {args.parts:,} parts, CPU time, fastest of 7 runs, median of {args.repeats} fresh processes each; "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    print(table(headers, rows))


if __name__ == "__main__":
    main()
