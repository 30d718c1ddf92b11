"""Uploading a 1 GiB file through the resumable Files API: gemini_magic vs curl vs google-genai.

    python benchmarks/bench_upload.py [--size-mib 1024] [--repeats 7]

A 1 GiB file (a 16 MiB random block repeated with a counter) is uploaded to the local emulator (a
subprocess) by: curl in one `upload, finalize` request (`-T file`, which streams from disk, and
`--data-binary @file`, which curl reads into memory first and refuses at 1 GiB or more),
gemini_magic `Client.upload_file(path, reuse=False, wait=False)` (8 MiB chunks), and google-genai
`client.files.upload`. Each Python contender runs in its own fresh
subprocess. Reported: median wall time, throughput, ratios to curl, client CPU, peak RSS
growth of the client process, and the emulator's CPU during the upload (to see who is the bottleneck).
Every upload is checked (GET files/{id} -> sizeBytes) and deleted. gemini_magic's default reuse=True
(which first hashes the file to find a duplicate) is run a few times to show its extra cost.
Targets: gemini_magic >= 0.8x curl's throughput, RSS growth < 64 MiB.

    python benchmarks/bench_upload.py --bytes-mib 200 [--repeats 5] [--gemini-magic-root DIR]

The in-memory row (issue 11): a 200 MiB `bytes` object (a WebM header, then random bytes) already in
the kernel, sent by gemini_magic through a prompt (`to_parts(["Describe", data], client=client)`: the
automatic Files-API path, reuse=True as by default) and by `Client.upload_file(data)` (reuse=True and
reuse=False), beside google-genai's `client.files.upload(file=io.BytesIO(data))`. Each contender runs in
a fresh subprocess that first loads the bytes and warms up (one listing), then resets its peak RSS:
the RSS column is what the upload itself adds. `--gemini-magic-root` runs another checkout of
gemini_magic (e.g. an older commit from `git archive`) to measure before and after.
Goals: <= 1.0x the SDK's wall time and <= its RSS growth.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Emulator, median, run_child, table  # noqa: E402

MIB = 1024 * 1024
BLOCK = 16 * MIB
MIME = "application/octet-stream"
CURL = shutil.which("curl") or "/usr/bin/curl"
TIME = "/usr/bin/time"


def make_file(path: str, size: int) -> None:
    block = bytearray(os.urandom(BLOCK))
    with open(path, "wb") as out:
        for number in range(size // BLOCK):
            block[:8] = struct.pack("<Q", number)  # no two blocks alike
            out.write(block)
        out.write(os.urandom(size % BLOCK))


def start_upload(emulator: Emulator, size: int, name: str) -> str:
    """The resumable `start` request, made from Python; returns X-Goog-Upload-URL."""
    request = urllib.request.Request(
        emulator.base_url + "/upload/v1beta/files", method="POST",
        data=json.dumps({"file": {"displayName": name}}).encode(),
        headers={"x-goog-api-key": "k", "Content-Type": "application/json",
                 "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
                 "X-Goog-Upload-Header-Content-Length": str(size), "X-Goog-Upload-Header-Content-Type": MIME})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return reply.headers["X-Goog-Upload-URL"]


def time_v(command: list[str]) -> tuple[subprocess.CompletedProcess, dict]:
    """Run under /usr/bin/time -v: (result, {"rss_kib", "cpu"})."""
    done = subprocess.run([TIME, "-v", *command], capture_output=True, text=True, timeout=600)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    user = re.search(r"User time \(seconds\): ([\d.]+)", done.stderr)
    system = re.search(r"System time \(seconds\): ([\d.]+)", done.stderr)
    return done, {"rss_kib": int(rss.group(1)), "cpu": float(user.group(1)) + float(system.group(1))}


def curl_baseline_rss(emulator: Emulator) -> int:
    _, stats = time_v([CURL, "-sS", "-o", "/dev/null", emulator.base_url + "/emulator/config"])
    return stats["rss_kib"]


def run_curl(emulator: Emulator, path: str, size: int, mode: str, baseline_kib: int) -> dict:
    url = start_upload(emulator, size, os.path.basename(path))
    body = ["--data-binary", "@" + path] if mode == "data-binary" else ["-T", path]
    command = [CURL, "-sS", "--fail", "-X", "POST", "-H", "x-goog-api-key: k",
               "-H", "X-Goog-Upload-Command: upload, finalize", "-H", "X-Goog-Upload-Offset: 0",
               "-H", "Content-Type: application/octet-stream", *body, url]
    started = time.perf_counter()
    done, stats = time_v(command)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        if "out of memory" in done.stderr:
            # curl reads `--data-binary @file` into memory and refuses bodies of 1 GiB or more.
            urllib.request.urlopen(urllib.request.Request(
                url, method="POST", headers={"x-goog-api-key": "k", "X-Goog-Upload-Command": "cancel"}), timeout=60)
            return {"skipped": done.stderr.strip().splitlines()[0]}
        raise RuntimeError(f"curl failed: {done.stderr[-2000:]}")
    file_name = json.loads(done.stdout)["file"]["name"]
    return {"wall": wall, "cpu": stats["cpu"], "rss_before_kib": baseline_kib, "rss_peak_kib": stats["rss_kib"],
            "file": file_name}


def check_and_delete(emulator: Emulator, file_name: str, size: int) -> None:
    stored = emulator.api("GET", f"/v1beta/{file_name}")
    if int(stored["sizeBytes"]) != size:
        raise RuntimeError(f"{file_name} stored {stored['sizeBytes']} bytes, expected {size}")
    emulator.api("DELETE", f"/v1beta/{file_name}")


CONTENDERS = [
    ("curl_T", "curl -T file (streamed), 1 request"),
    ("curl_data_binary", "curl --data-binary @file, 1 request"),
    ("upload_gm", "gemini_magic upload_file(reuse=False)"),
    ("upload_sdk", "google-genai files.upload"),
]


def run_one(emulator: Emulator, name: str, path: str, size: int, baseline_kib: int) -> dict:
    cpu0 = emulator.cpu_seconds()
    if name == "curl_data_binary":
        result = run_curl(emulator, path, size, "data-binary", baseline_kib)
    elif name == "curl_T":
        result = run_curl(emulator, path, size, "T", baseline_kib)
    else:
        result = run_child(name, emulator.base_url, path, timeout=600)
    if "skipped" in result:
        return result
    result["server_cpu"] = emulator.cpu_seconds() - cpu0
    check_and_delete(emulator, result["file"], size)
    return result


# --- 200 MiB of bytes already in memory (issue 11) -----------------------------------------------------

BYTES_MIME = "video/webm"
BYTES_CONTENDERS = [
    ("bytes_prompt_gm", "gemini_magic: bytes in a prompt (auto Files API, reuse=True)"),
    ("bytes_upload_gm", "gemini_magic: upload_file(bytes), reuse=True (default)"),
    ("bytes_upload_gm_noreuse", "gemini_magic: upload_file(bytes, reuse=False)"),
    ("bytes_sdk", "google-genai: files.upload(file=BytesIO(bytes))"),
]


def make_bytes_file(path: str, size: int) -> None:
    """A WebM header (so the prompt path types the bytes as video/webm) and random bytes."""
    make_file(path, size)
    with open(path, "r+b") as out:
        out.write(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm")


def bytes_child(name: str, base_url: str, path: str) -> dict:
    """One in-memory contender, in this (fresh) process: load, warm up, reset the peak, measure."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _runner import proc_status_kib, reset_peak_rss

    with open(path, "rb") as source:
        data = source.read()
    if name == "bytes_sdk":
        import io

        from google import genai

        client = genai.Client(api_key="k", http_options=genai.types.HttpOptions(base_url=base_url))
        list(client.files.list())
        upload = lambda: client.files.upload(file=io.BytesIO(data), config={"mime_type": BYTES_MIME}).name  # noqa: E731
    else:
        from gemini_magic import Client
        from gemini_magic.parts import to_parts

        client = Client(api_key="k", base_url=base_url)
        client.list_files()
        if name == "bytes_prompt_gm":
            def upload():
                parts = to_parts(["Describe", data], client=client)
                return parts[1]["fileData"]["fileUri"].rsplit("/", 1)[-1]
        else:
            reuse = name == "bytes_upload_gm"
            upload = lambda: client.upload_file(data, mime_type=BYTES_MIME, reuse=reuse, wait=False).name  # noqa: E731
    reset = reset_peak_rss()
    rss0 = proc_status_kib("VmRSS")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    file_name = upload()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    file_name = file_name if file_name.startswith("files/") else "files/" + file_name
    return {"cpu": cpu, "wall": wall, "rss_before_kib": rss0, "rss_peak_kib": proc_status_kib("VmHWM"),
            "peak_reset": reset, "file": file_name}


def run_bytes_child(name: str, base_url: str, path: str, root: str) -> dict:
    from _common import child_env

    env = child_env()
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name, base_url, path],
                          env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main_bytes(args) -> None:
    size = args.bytes_mib * MIB
    started = time.perf_counter()
    directory = tempfile.mkdtemp(prefix="bench-upload-bytes-")
    emulator = None
    try:
        path = os.path.join(directory, "data.webm")
        make_bytes_file(path, size)
        emulator = Emulator()
        root = os.path.abspath(args.gemini_magic_root)
        print(f"bench_upload --bytes-mib: {size / MIB:.0f} MiB bytes object, emulator {emulator.base_url}; "
              f"gemini_magic from {root}; Python {sys.version.split()[0]}, {os.cpu_count()} cores")
        results = {name: [] for name, _ in BYTES_CONTENDERS}
        for _ in range(args.repeats):  # round-robin
            for name, _ in BYTES_CONTENDERS:
                result = run_bytes_child(name, emulator.base_url, path, root)
                check_and_delete(emulator, result["file"], size)
                results[name].append(result)
        sdk_wall = median([r["wall"] for r in results["bytes_sdk"]])
        sdk_growth = median([r["rss_peak_kib"] - r["rss_before_kib"] for r in results["bytes_sdk"]]) / 1024
        rows = []
        for name, description in BYTES_CONTENDERS:
            runs = results[name]
            wall = median([r["wall"] for r in runs])
            growth = median([r["rss_peak_kib"] - r["rss_before_kib"] for r in runs]) / 1024
            rows.append([description, len(runs), f"{wall:.3f}", f"{min(r['wall'] for r in runs):.3f}",
                         f"{wall / sdk_wall:.2f}x", f"{median([r['cpu'] for r in runs]):.3f}",
                         f"{growth:.1f}", f"{growth / sdk_growth:.2f}x" if sdk_growth > 0 else "n/a"])
        print("\nmedians of fresh processes; RSS growth = peak RSS during the upload - RSS before it (bytes loaded)")
        print(table(["contender", "runs", "wall s", "best s", "wall vs SDK", "CPU s", "RSS growth MiB",
                     "RSS vs SDK"], rows))
        for name in ("bytes_prompt_gm", "bytes_upload_gm"):
            wall = median([r["wall"] for r in results[name]])
            growth = median([r["rss_peak_kib"] - r["rss_before_kib"] for r in results[name]]) / 1024
            print(f"goal {name}: wall {wall / sdk_wall:.2f}x the SDK ({'met' if wall <= sdk_wall else 'MISSED'}), "
                  f"RSS growth {growth:.1f} vs {sdk_growth:.1f} MiB ({'met' if growth <= sdk_growth else 'MISSED'})")
        print(f"\n(total {time.perf_counter() - started:.0f} s)")
    finally:
        if emulator is not None:
            emulator.stop()
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(bytes_child(*sys.argv[2:5])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--bytes-mib", type=int, default=0,
                        help="run the in-memory bytes benchmark with this many MiB instead of the file one")
    parser.add_argument("--gemini-magic-root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help="the checkout whose gemini_magic the bytes benchmark runs")
    args = parser.parse_args()
    if args.bytes_mib:
        return main_bytes(args)
    size = args.size_mib * MIB
    started = time.perf_counter()
    directory = tempfile.mkdtemp(prefix="bench-upload-")
    emulator = None
    try:
        path = os.path.join(directory, "upload.bin")
        make_file(path, size)
        emulator = Emulator()
        print(f"bench_upload: {size / MIB:.0f} MiB file, emulator {emulator.base_url}; "
              f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; curl {CURL}")
        baseline = curl_baseline_rss(emulator)
        results = {name: [] for name, _ in CONTENDERS}
        skipped = {}
        for _ in range(args.repeats):  # round-robin
            for name, _ in CONTENDERS:
                if name in skipped:
                    continue
                result = run_one(emulator, name, path, size, baseline)
                if "skipped" in result:
                    skipped[name] = result["skipped"]
                else:
                    results[name].append(result)
        reuse_runs = [run_one(emulator, "upload_gm_reuse", path, size, baseline)
                      for _ in range(max(1, args.repeats // 3))]

        reference = median([r["wall"] for r in results["curl_T"]])
        data_binary = median([r["wall"] for r in results["curl_data_binary"]]) if results["curl_data_binary"] else None
        rows = []
        for name, description in [*CONTENDERS, ("upload_gm_reuse", "gemini_magic upload_file() default reuse=True")]:
            if name in skipped:
                rows.append([description, 0, "n/a", "", "", "", "", "", "", "", "", ""])
                continue
            runs = results.get(name) or reuse_runs
            wall = median([r["wall"] for r in runs])
            growth = max(0, max(r["rss_peak_kib"] - r["rss_before_kib"] for r in runs)) / 1024
            server = median([r["server_cpu"] for r in runs])
            rows.append([description, len(runs), f"{wall:.2f}", f"{min(r['wall'] for r in runs):.2f}",
                         f"{size / wall / 1e6:.0f}", f"{reference / wall:.2f}x",
                         f"{data_binary / wall:.2f}x" if data_binary else "n/a",
                         f"{median([r['cpu'] for r in runs]):.2f}", f"{growth:.1f}",
                         f"{max(r['rss_peak_kib'] for r in runs) / 1024:.0f}", f"{server:.2f}",
                         f"{server / wall * 100:.0f}%"])
        for name, message in skipped.items():
            print(f"\n{name}: not possible at this size ({message}): curl loads `--data-binary @file` into memory "
                  f"and refuses 1 GiB or more")
        print("\nmedians (best: fastest run); throughput in MB/s (10^6 bytes); RSS growth (worst run) = peak RSS "
              "during the upload - RSS before it\n(Python: VmHWM reset after warm-up vs VmRSS; curl: /usr/bin/time -v "
              "max RSS minus that of curl fetching a tiny JSON);\nserver CPU = the emulator process's user+sys time "
              "during the upload")
        print(table(["contender", "runs", "wall s", "best s", "MB/s", "vs curl -T", "vs curl -d", "client CPU s",
                     "RSS growth MiB", "peak RSS MiB", "server CPU s", "server CPU/wall"], rows))
        gm = median([r["wall"] for r in results["upload_gm"]])
        gm_growth = max(r["rss_peak_kib"] - r["rss_before_kib"] for r in results["upload_gm"]) / 1024
        verdicts = [f"{reference / gm:.2f}x curl -T ({'met' if reference / gm >= 0.8 else 'MISSED'})"]
        if data_binary:
            verdicts.append(f"{data_binary / gm:.2f}x curl --data-binary "
                            f"({'met' if data_binary / gm >= 0.8 else 'MISSED'})")
        print(f"\ntargets: gemini_magic throughput >= 0.80x curl: {', '.join(verdicts)}; RSS growth "
              f"{gm_growth:.1f} MiB (< 64 MiB: {'met' if gm_growth < 64 else 'MISSED'})")
        reuse_wall = median([r["wall"] for r in reuse_runs])
        reuse_cpu = median([r["cpu"] for r in reuse_runs]) - median([r["cpu"] for r in results["upload_gm"]])
        print(f"reuse=True (default) costs {reuse_wall - gm:+.2f} s wall, {reuse_cpu:+.2f} s client CPU over "
              f"reuse=False here (hashing {size / MIB:.0f} MiB + listing files; no duplicate was found)")
        print(f"\n(total {time.perf_counter() - started:.0f} s)")
    finally:
        if emulator is not None:
            emulator.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
