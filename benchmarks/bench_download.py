"""Downloading a generated video: gemini_magic's streamed download vs curl vs bare requests; polling cost.

    python benchmarks/bench_download.py [--size-mib 100] [--repeats 5]

A loopback server (a thread of this script, `socket.sendfile` from a temporary file) serves a
100 MB file as the Files API does (`/v1beta/files/{id}:download?alt=media`, Content-Length,
Accept-Ranges). Contenders, each in a fresh interpreter writing to a file: curl (`-o`), bare
requests (`iter_content(1 MiB)` to a file), and gemini_magic (`Video(uri).save(path)`, which goes
through wire/download.py: the key header, redirect checks, size limit, resume bookkeeping).
Reported: median wall time, throughput, ratio to curl, and the client's RSS growth over the download
(peak RSS minus RSS after imports). Targets (issue 22): >= 0.9x curl's throughput, <= 16 MiB RSS growth.

Then polling: a video operation against the in-process emulator made done after 12 reads, waited on
with backoff (sleeps recorded, not slept): the reads per backoff step, target <= 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import ROOT, child_env, median, table  # noqa: E402

MIB = 1024 * 1024
CURL = shutil.which("curl") or "/usr/bin/curl"

CHILD = r"""
import json, os, resource, sys, time
kind, url, out = sys.argv[1:4]
def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
if kind == "requests":
    import requests
    session = requests.Session()
elif kind == "gemini_magic":
    from gemini_magic import Client
    from gemini_magic.api.video import Video
    client = Client(api_key="bench-key", base_url=url.split("/v1beta")[0])
    import requests, gemini_magic.wire.download  # imported before the baseline, as in a kernel
    client.transport.session
base = rss_mib()
started = time.perf_counter()
if kind == "requests":
    with session.get(url, headers={"x-goog-api-key": "bench-key"}, stream=True) as r, open(out, "wb") as f:
        r.raise_for_status()
        for block in r.iter_content(1024 * 1024):
            f.write(block)
else:
    Video(client.transport, uri=url).save(out)
wall = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall": wall, "rss_growth": max(0.0, peak - base), "size": os.path.getsize(out)}))
"""


def serve(path: str):
    size = os.path.getsize(path)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(size))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            self.wfile.flush()
            with open(path, "rb") as source:
                self.connection.sendfile(source)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(kind: str, url: str, out: str) -> dict:
    if kind == "curl":
        started = time.perf_counter()
        subprocess.run([CURL, "-sS", "-o", out, "-H", "x-goog-api-key: bench-key", url], check=True)
        return {"wall": time.perf_counter() - started, "rss_growth": None, "size": os.path.getsize(out)}
    done = subprocess.run([sys.executable, "-c", CHILD, kind, url, out], cwd=ROOT, env=child_env(),
                          capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def polling() -> tuple[int, int]:
    sys.path.insert(0, ROOT)
    from gemini_magic import Client
    from gemini_emulator import Emulator

    with Emulator(video_polls=12) as emulator:
        client = Client(api_key="bench-key", base_url=emulator.base_url)
        steps: list = []
        client.transport.sleep = steps.append
        client.generate_videos("Waves").wait(poll=10.0)
        reads = sum(1 for r in emulator.requests if "/operations/" in r.path)
    return reads, len(steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-download-")
    server = None
    try:
        source = os.path.join(folder, "video.mp4")
        with open(source, "wb") as out:
            block = os.urandom(MIB)
            for _ in range(args.size_mib):
                out.write(block)
        size = os.path.getsize(source)
        server = serve(source)
        url = f"http://127.0.0.1:{server.server_address[1]}/v1beta/files/bench:download?alt=media"
        results: dict = {"curl": [], "requests": [], "gemini_magic": []}
        for _ in range(args.repeats):
            for kind in results:
                target = os.path.join(folder, f"{kind}.mp4")
                result = run(kind, url, target)
                assert result["size"] == size, (kind, result)
                os.remove(target)
                results[kind].append(result)
        curl = median([r["wall"] for r in results["curl"]])
        rows = []
        for kind, runs in results.items():
            wall = median([r["wall"] for r in runs])
            growth = [r["rss_growth"] for r in runs if r["rss_growth"] is not None]
            rows.append([kind, f"{wall * 1000:.0f}", f"{size / MIB / wall:.0f}", f"{curl / wall:.2f}x",
                         f"{median(growth):.1f}" if growth else "-"])
        print(f"{size:,} bytes from 127.0.0.1, median of {args.repeats} fresh processes")
        print(table(["contender", "wall ms", "MiB/s", "vs curl", "RSS growth MiB"], rows))
        reads, steps = polling()
        print(f"\npolling: {reads} operation reads for {steps} backoff steps "
              f"({reads / steps:.2f} per step; target <= 1)")
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
