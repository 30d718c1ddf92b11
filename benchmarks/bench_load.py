"""Wall time of `%load_ext gemini_magic` in a fresh IPython, beside an empty extension and the code before.

    python benchmarks/bench_load.py [--runs 15] [--before main]

Each run is a fresh interpreter that starts an IPython InteractiveShell (what a kernel runs), then
times `%load_ext NAME` alone with time.perf_counter(). Contenders, run round-robin so drift on the
shared machine hits all alike: gemini_magic (this checkout), gemini_magic at --before (exported with
git archive into a temporary directory), and an empty extension (`def load_ipython_extension(ip):
pass`, the floor: IPython's own cost of finding and calling an extension). Bytecode is compiled once
into a temporary PYTHONPYCACHEPREFIX first, as an installed package has it. Figures are medians.

Then one more run under `python -X importtime` lists the modules the load imports, with their own
and cumulative import time, and the part of the load that is not imports (registering the magics,
their traits, the display formatters); and it checks that none of the heavy packages got imported.
Targets (issue 26): <= 20 ms, <= 3x the empty extension.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import ROOT, export_package, median, table  # noqa: E402

TARGET_MS, TARGET_RATIO = 20.0, 3.0
HEAVY = ("requests", "urllib3", "ipywidgets", "PIL", "pandas", "numpy", "matplotlib", "pydantic", "websockets",
         "secrets", "hashlib", "difflib", "html")
CHILD = r"""
import sys, time, json
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
before = set(sys.modules)
sys.stderr.write("--- load starts ---\n"); sys.stderr.flush()
started = time.perf_counter()
shell.run_line_magic("load_ext", sys.argv[1])
elapsed = time.perf_counter() - started
sys.stderr.write("--- load ends ---\n"); sys.stderr.flush()
print(json.dumps({"ms": elapsed * 1000, "new": sorted(set(sys.modules) - before)}))
"""
EMPTY = "def load_ipython_extension(ipython):\n    pass\n"


def run(extension: str, paths: list[str], cache: str, *flags: str) -> tuple[dict, str]:
    import json

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([*paths, ROOT]), PYTHONPYCACHEPREFIX=cache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run([sys.executable, *flags, "-c", CHILD, extension], env=env, capture_output=True, cwd=cache,
                          text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"loading {extension} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def import_rows(stderr: str) -> tuple[list, float]:
    """The -X importtime lines between the markers: (rows, total of the top-level cumulative times in ms)."""
    inside, rows, total = False, [], 0.0
    for line in stderr.splitlines():
        if line.startswith("--- load"):
            inside = "starts" in line
            continue
        if not inside or not line.startswith("import time:") or "|" not in line:
            continue
        _, own, cumulative, name = line.split("|", 1)[0], *line.split("|")[-3:]
        own = int(own.split(":")[-1])
        cumulative, depth = int(cumulative), (len(name) - len(name.lstrip())) // 2
        if depth == 0:
            total += cumulative / 1000
        rows.append((depth, name.strip(), own / 1000, cumulative / 1000))
    return rows, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", default="main", help="git ref of the 'before' row ('' for none)")
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="bench-load-")
    try:
        cache = os.path.join(directory, "pycache")
        os.mkdir(cache)  # also the children's working directory: not this checkout, which -c would put first
        empty = os.path.join(directory, "empty")
        os.mkdir(empty)
        with open(os.path.join(empty, "empty_extension.py"), "w") as handle:
            handle.write(EMPTY)
        contenders = [("gemini_magic (this checkout)", "gemini_magic", [empty])]
        if args.before:
            os.mkdir(os.path.join(directory, "before"))
            before = export_package(args.before, os.path.join(directory, "before"))
            if before:
                contenders.append((f"gemini_magic at {args.before}", "gemini_magic", [before, empty]))
        contenders.append(("empty extension (the floor)", "empty_extension", [empty]))
        for _, extension, paths in contenders:  # compile the bytecode once, and warm the disk cache
            run(extension, paths, cache)
        times = {label: [] for label, _, _ in contenders}
        for _ in range(args.runs):
            for label, extension, paths in contenders:
                times[label].append(run(extension, paths, cache)[0]["ms"])
        floor = median(times["empty extension (the floor)"])
        rows = [[label, f"{median(ms):.1f}", f"{min(ms):.1f}", f"{max(ms):.1f}", f"{median(ms) / floor:.1f}x"]
                for label, ms in times.items()]
        print(f"bench_load: %load_ext in a fresh IPython InteractiveShell, median of {args.runs} fresh processes "
              f"each; Python {sys.version.split()[0]}, {os.cpu_count()} cores (shared: medians)")
        print(table(["extension", "median ms", "min ms", "max ms", "vs empty"], rows))
        ours = median(times["gemini_magic (this checkout)"])
        met = ours <= TARGET_MS and ours / floor <= TARGET_RATIO
        print(f"\ntarget: <= {TARGET_MS:g} ms and <= {TARGET_RATIO:g}x the empty extension: "
              f"{'met' if met else 'MISSED'} ({ours:.1f} ms, {ours / floor:.1f}x)")

        result, stderr = run("gemini_magic", [empty], cache, "-X", "importtime")
        imports, total = import_rows(stderr)
        print(f"\nWhere the milliseconds go (one run under -X importtime, which inflates it: {result['ms']:.1f} ms):")
        print(f"  imports: {total:.1f} ms in all; the rest ({max(result['ms'] - total, 0):.1f} ms) is registering "
              f"the magics, creating GeminiMagics (traitlets) and the display formatters")
        print(table(["module (indent: imported by the one above)", "own ms", "cumulative ms"],
                    [["  " * depth + name, f"{own:.2f}", f"{cumulative:.2f}"] for depth, name, own, cumulative in imports]))
        heavy = [name for name in result["new"] if name.split(".")[0] in HEAVY]
        print(f"\nheavy modules imported by the load: {', '.join(heavy) if heavy else 'none'} "
              f"(checked: {', '.join(HEAVY)})")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
