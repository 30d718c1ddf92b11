"""Shared pieces of the benchmark scripts: the emulator subprocess, control calls, child runs, tables.

Only the parent script imports this. Each measured client runs in its own fresh subprocess
(``benchmarks/_runner.py``) and prints one JSON line; the emulator runs in another subprocess, so
neither the server's CPU nor the parent's bookkeeping is counted against a client.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = os.path.join(ROOT, "benchmarks", "_runner.py")


def child_env(code_root: str | None = None) -> dict:
    """The environment of a child: this checkout's package first (or code_root's: an older version)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*([code_root] if code_root else []), ROOT, env.get("PYTHONPATH", "")])
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL"):
        env.pop(name, None)  # the children pass key and base URL explicitly
    return env


class Emulator:
    """``python -m gemini_emulator --port 0 --pace 0`` as a subprocess; up once it printed its URL."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gemini_emulator", "--port", "0", "--pace", "0"],
            cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on " not in line:
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.base_url = line.strip().rsplit("listening on ", 1)[1]
        self.proc.stdout.readline()  # the "export ..." hint; nothing else is printed

    def control(self, method: str, path: str, payload: dict | None = None) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json.loads(reply.read() or b"{}")

    def replay(self, body: bytes, chunk_size: int, times: int = 1) -> None:
        self.control("POST", "/emulator/replay", {
            "body": base64.b64encode(body).decode("ascii"), "content_type": "text/event-stream",
            "chunk_size": chunk_size, "match": "stream", "times": times})

    def api(self, method: str, path: str) -> dict:
        request = urllib.request.Request(self.base_url + path, method=method, headers={"x-goog-api-key": "k"})
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json.loads(reply.read() or b"{}")

    def cpu_seconds(self) -> float:
        """The emulator process's user+system CPU so far (needs psutil)."""
        import psutil

        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


def run_child(*args: str, timeout: float = 300, code_root: str | None = None) -> dict:
    """Run one contender in a fresh interpreter; its last stdout line is its JSON result. With
    code_root, the gemini_magic package found there is the one measured (see `export_package`)."""
    done = subprocess.run([sys.executable, RUNNER, *args], cwd=ROOT, env=child_env(code_root), capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def export_package(ref: str, directory: str) -> str | None:
    """Extract the gemini_magic package as committed at git `ref` (e.g. "main") into directory, for a
    "before" row; returns the directory, or None (with a note printed) when git cannot."""
    command = f"git -C {shlex.quote(ROOT)} archive {shlex.quote(ref)} gemini_magic | tar -x -C {shlex.quote(directory)}"
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
    if done.returncode != 0 or not os.path.isdir(os.path.join(directory, "gemini_magic")):
        print(f"(no 'before' row: could not export gemini_magic at {ref}: {done.stderr.strip()[:200]})")
        return None
    return directory


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for number, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
