"""Wall time of `%load_ext gemini_magic` in a fresh IPython, beside an empty extension and the code before.

    python benchmarks/bench_load.py [--runs 15] [--before main]

Each run is a fresh interpreter that starts an IPython InteractiveShell (what a kernel runs), then
times `%load_ext NAME` alone with time.perf_counter(). Contenders, run round-robin so drift on the
shared machine hits all alike: gemini_magic (this checkout), gemini_magic at --before (exported with
git archive into a temporary directory), and an empty extension (`def load_ipython_extension(ip):
pass`, the floor: IPython's own cost of finding and calling an extension). Bytecode is compiled once
into a temporary PYTHONPYCACHEPREFIX first, as an installed package has it. Figures are medians.

Then the same contenders in fresh ipykernels (`--kernels`, started by jupyter_client with the same
paths): after a first cell (`pass`, so the kernel's own first-cell work is not counted), a cell of
`%load_ext NAME` alone, timed from the execute_request sent to its execute_reply received (what the
person at the notebook waits for), and, inside it, the magic alone as above.

Then one more run under `python -X importtime` lists the modules the load imports, with their own
and cumulative import time, and the part of the load that is not imports (registering the magics,
their traits, the display formatters); and it checks that none of the heavy packages got imported.
Targets (issue 26): <= 20 ms, <= 3x the empty extension (median of fresh kernels).
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


KERNEL_CELL = ("import time as _t; _s = _t.perf_counter(); get_ipython().run_line_magic('load_ext', {name!r}); "
               "_ms = (_t.perf_counter() - _s) * 1000")


def kernel_run(extension: str, paths: list[str], cache: str) -> tuple[float, float]:
    """(ms from execute_request to execute_reply of the `%load_ext` cell, ms of the magic inside it) in a
    fresh ipykernel."""
    import time

    from jupyter_client.manager import start_new_kernel

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([*paths, ROOT]), PYTHONPYCACHEPREFIX=cache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=cache, stderr=subprocess.DEVNULL)
    try:
        client.execute_interactive("pass", timeout=60)
        started = time.perf_counter()
        reply = client.execute_interactive(KERNEL_CELL.format(name=extension), timeout=60,
                                           user_expressions={"ms": "_ms"}, output_hook=lambda message: None)
        cell = (time.perf_counter() - started) * 1000
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"loading {extension} in a kernel failed: {reply['content']}")
        inner = float(reply["content"]["user_expressions"]["ms"]["data"]["text/plain"])
        return cell, inner
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


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
    parser.add_argument("--kernels", type=int, default=7, help="fresh ipykernels per contender (0: none)")
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
        print(f"\ntarget, in this bare shell: <= {TARGET_MS:g} ms and <= {TARGET_RATIO:g}x the empty extension: "
              f"{'met' if met else 'MISSED'} ({ours:.1f} ms, {ours / floor:.1f}x)")

        if args.kernels:
            cells = {label: [] for label, _, _ in contenders}
            for _ in range(args.kernels):
                for label, extension, paths in contenders:
                    cells[label].append(kernel_run(extension, paths, cache))
            floor_cell = median([cell for cell, _ in cells["empty extension (the floor)"]])
            floor_inner = median([inner for _, inner in cells["empty extension (the floor)"]])
            print(f"\nThe same in fresh ipykernels (median of {args.kernels} each): a cell of %load_ext alone, "
                  "execute_request to execute_reply, and the magic inside it")
            print(table(["extension", "cell ms", "vs empty", "magic ms", "vs empty"],
                        [[label, f"{median([c for c, _ in runs]):.1f}", f"{median([c for c, _ in runs]) / floor_cell:.1f}x",
                          f"{median([i for _, i in runs]):.1f}", f"{median([i for _, i in runs]) / floor_inner:.1f}x"]
                         for label, runs in cells.items()]))
            ours_cell = median([cell for cell, _ in cells["gemini_magic (this checkout)"]])
            met = ours_cell <= TARGET_MS and ours_cell / floor_cell <= TARGET_RATIO
            ours_inner = median([inner for _, inner in cells["gemini_magic (this checkout)"]])
            met_inner = ours_inner <= TARGET_MS and ours_inner / floor_inner <= TARGET_RATIO
            print(f"target, the magic in fresh kernels: {'met' if met_inner else 'MISSED'} ({ours_inner:.1f} ms, "
                  f"{ours_inner / floor_inner:.1f}x); the cell a person waits for: {'met' if met else 'MISSED'} "
                  f"({ours_cell:.1f} ms, {ours_cell / floor_cell:.1f}x)")

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
