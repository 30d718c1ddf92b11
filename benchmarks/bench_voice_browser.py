"""The voice widget end to end in headless Chromium: a microphone frame made in the page to its
realtimeInput written on the Live socket, the bytes page -> kernel, the kernel's CPU (issue 23 item 9),
for the default (the direct channel, voice/direct.py) and the comm it falls back to (the old default of
6 frames a message, and 1 a message) in one run.

    python benchmarks/bench_voice_browser.py [--seconds 12] [--app lab|notebook] [--only TEXT]

Real pieces only, on loopback: the emulator (paced, it answers aloud), an isolated Jupyter server with
its kernel (one as Jupyter starts by default, one with `--ServerApp.websocket_compression_options={}`:
permessage-deflate), a byte-counting TCP proxy between Chromium and the server, and Chromium with fake
devices whose microphone plays speech made now by espeak-ng (a sentence and 2 s of silence, looped).
In one notebook per setting (SETTINGS: the direct channel or the comm with its frames per message,
compressed or not) a cell opens a Live session and its voice widget, the microphone button is clicked,
and after a second of warm-up the window of `--seconds` is measured. Every setting runs today's
widget.js, so speech onset goes at once in all the comm ones (the before is the comm's 6 frames a
message, onset included, as `direct=False` keeps it).

Per microphone frame (VoiceLink.frame_times): made = the page's performance.timeOrigin +
performance.now() when the AudioWorklet's frame reached the page's thread; received = the kernel's
time.time() when the comm message (or the direct channel's frame) reached the widget's handler; written =
its realtimeInput written on the socket (the goal: p95 <= 20 ms). Between them: the websocket send in
the page (widget.js's send_times), then on the comm the message's arrival in ipykernel's shell channel
thread (stamped by a wrapper the first cell puts around the shell stream's callback, for these figures
only) and the widget's handler in the thread of the kernel subshell JupyterLab sends widget messages
to; on the direct channel its connection's thread in the kernel. Before "made": the frame's age in the
audio clock when it reached the page (not in the total). Page and kernel share the machine's clock; the
offset between them is measured (printed). Bytes: page -> server on the kernel's websocket as the proxy
counts them (the wire: after compression) plus, for the direct channel, its messages as the page sends
them with their WebSocket framing (6 bytes of header and mask, 2 of length: it is never compressed),
and as the page sends them (a WebSocket.send hook: before compression), over the raw 32,000 B/s of PCM
(goal <= 1.1x). CPU, from /proc over the window: the kernel's by thread (ipykernel's threads, the
widget's handler, the Live session's reader, the direct channel's threads, ZMQ; goal <= 5 % of a core),
the Jupyter server's, and once the kernel's with the widget shown and the microphone off. The load
average of the machine is printed with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import wave
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import table  # noqa: E402

RAW = 32000  # bytes per second of 16 kHz 16-bit mono PCM
SENTENCE = "Hello there, what is the weather like in Hanoi today?"

# Every send on a kernel websocket, and on the voice widget's direct socket (ws://127.0.0.1:PORT/),
# counted in the page before the page's own code runs.
COUNT_SENDS = """
(() => {
  const send = WebSocket.prototype.send;
  window.geminiBenchSends = [];
  window.geminiBenchDirect = [];
  WebSocket.prototype.send = function (data) {
    const url = String(this.url);
    const size = typeof data === "string" ? new TextEncoder().encode(data).length
                                          : (data.byteLength !== undefined ? data.byteLength : data.size);
    const at = performance.timeOrigin + performance.now();
    if (url.includes("/api/kernels/")) window.geminiBenchSends.push([at, size]);
    else if (/^ws:[/][/]127[.]0[.]0[.]1:[0-9]+[/]$/.test(url)) window.geminiBenchDirect.push([at, size]);
    return send.call(this, data);
  };
})();
"""


def framed(size: int) -> int:
    """The bytes of a WebSocket message of `size` payload bytes from a browser, uncompressed (RFC 6455: 2
    bytes of header, 2 or 8 more of length past 125 or 65,535, and the client's 4-byte mask)."""
    return size + 2 + 4 + (0 if size < 126 else 2 if size < 65536 else 8)


PAGE_NOW = "() => performance.timeOrigin + performance.now()"


def speech(folder: Path) -> Path:
    """One sentence and 2 s of silence as a WAV (Chromium loops it as the microphone)."""
    said = folder / "sentence.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(said), SENTENCE], check=True, capture_output=True)
    with wave.open(str(said)) as source:
        rate = source.getframerate()
        samples = array("h", source.readframes(source.getnframes()))
    samples += array("h", bytes(2 * 2 * rate))
    path = folder / "speech.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def clock_offset(page) -> tuple[float, float]:
    """(the page's clock minus this process's, its uncertainty), in ms: the least uncertain of 5 reads."""
    best = None
    for _ in range(5):
        before = time.time() * 1000
        seen = page.evaluate(PAGE_NOW)
        after = time.time() * 1000
        if best is None or after - before < best[1] * 2:
            best = (seen - (before + after) / 2, (after - before) / 2)
    return best



class WireCounter:
    """A TCP proxy on loopback between Chromium and the Jupyter server that counts the bytes each way on
    every kernel websocket (`GET /api/kernels/.../channels`): the real wire bytes, after
    permessage-deflate when the server compresses. `sent` holds (time.time() ms, bytes) per read from
    the page; the other connections (HTTP, other websockets) are passed on uncounted."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sent: list[tuple[float, int]] = []
        self.received = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        first = client.recv(65536)
        counted = first.split(b"\r\n", 1)[0].find(b"/api/kernels/") >= 0
        upstream.sendall(first)
        threading.Thread(target=self._pipe, args=(upstream, client, counted, False), daemon=True).start()
        self._pipe(client, upstream, counted, True)

    def _pipe(self, source: socket.socket, sink: socket.socket, counted: bool, from_page: bool) -> None:
        try:
            while data := source.recv(65536):
                if counted:
                    if from_page:
                        self.sent.append((time.time() * 1000, len(data)))
                    else:
                        self.received += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


def thread_cpu(pid: int) -> dict[str, tuple[str, float]]:
    """By thread id of process `pid`: (the OS's name of the thread, its CPU seconds so far, user + system)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            used[tid] = (Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip(),
                         (int(fields[11]) + int(fields[12])) / tick)
    return used


THREAD_GROUPS = ("MainThread", "Shell channel", "subshell", "IOPub", "Live reader", "direct", "ZMQ I/O", "other")


def thread_group(python_name: str | None, os_name: str) -> str:
    if python_name in ("MainThread", "Shell channel", "IOPub"):
        return python_name
    if python_name and python_name.startswith("subshell-"):
        return "subshell"      # JupyterLab sends widget messages to a kernel subshell (ipykernel 7): the handler
    if python_name and python_name.startswith("gemini-voice-direct"):
        return "direct"        # the direct channel's server and its connection's thread (voice/direct.py)
    if python_name and python_name.startswith("gemini-live-") and not python_name.startswith("gemini-live-tools"):
        return "Live reader"   # the session's reader: the Live socket, and the answer's audio sent to the page
    if os_name.startswith("ZMQbg"):
        return "ZMQ I/O"
    return "other"


def cpu_shares(before: dict, after: dict, seconds: float, names: dict[str, str]) -> dict[str, float]:
    """% of one core per kernel thread group over a window: ipykernel's main thread, its shell channel
    thread, the subshell JupyterLab opens for widget messages (the widget's handler runs there), the
    IOPub thread, the Live session's reader, the direct channel's threads (the handler of its frames),
    ZMQ's I/O thread and the rest (heartbeat, control...)."""
    shares = dict.fromkeys(THREAD_GROUPS, 0.0)
    for tid, (os_name, value) in after.items():
        shares[thread_group(names.get(tid), os_name)] += (value - before.get(tid, ("", 0.0))[1]) / seconds * 100
    shares["total"] = sum(shares.values())
    return shares


# The first cell: the session and its widget, and (for the figures only) a stamp of each comm message's
# arrival in ipykernel's shell channel thread, before the thread hands it to the main thread.
FIRST_CELL = """import json, os, threading, time
from gemini_magic import Client
kernel = get_ipython().kernel
arrivals = []
def _arrived(message, _handle=kernel.shell_stream._recv_callback):
    if len(arrivals) < 20000:
        arrivals.append((time.time() * 1000, message))
    return _handle(message)
kernel.shell_stream._recv_callback = _arrived
session = Client().live()
w = session.widget({option})
json.dump({{'pid': os.getpid(), 'server': os.getppid(), 'threads': {{str(t.native_id): t.name for t in threading.enumerate()}}}},
          open({info!r}, 'w'))
w"""
LAST_CELL = """def _stamp(frames):
    at = [bytes(f) for f in frames].index(b'<IDS|MSG>')
    if b'"comm_msg"' not in bytes(frames[at + 2]):
        return None
    return json.loads(bytes(frames[at + 5]))['data']['content'].get('t')
json.dump({{'frames': list(w.link.frame_times), 'per_message': w.frames_per_message, 'channel': w.link.channel,
           'direct_frames': w.link.direct_frames_in,
           'threads': {{str(t.native_id): t.name for t in threading.enumerate()}},
           'arrivals': [(now, _stamp(frames)) for now, frames in arrivals]}}, open({result!r}, 'w'))
session.close()"""


def measure(browser, server, wire: WireCounter, app: str, label: str, option: str, seconds: float,
            idle_seconds: float = 0.0) -> dict:
    """One setting: a notebook whose first cell shows a voice widget made with `option` (the keywords of
    session.widget), its microphone clicked, `seconds` measured after a second of warm-up."""
    from tests.browser.jupyter import (cell_error, code_cell, open_notebook, run_cell, wait_for_kernel_idle,
                                       wait_for_prompt, wait_until, write_notebook)

    slug = "".join(c if c.isalnum() else "-" for c in label)
    info, result = f"voice-bench-{slug}-info.json", f"voice-bench-{slug}.json"
    name = f"voice-bench-{slug}.ipynb"
    write_notebook(server.root / name, [FIRST_CELL.format(option=option, info=info),
                                        LAST_CELL.format(result=result)])
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(COUNT_SENDS)
    page = context.new_page()
    proxied = dataclasses.replace(server, url=f"http://127.0.0.1:{wire.port}")
    try:
        open_notebook(page, proxied, app, name)
        wait_for_kernel_idle(page, app)
        run_cell(page, 0)
        wait_for_prompt(page, 0, 1)
        assert not cell_error(page, 0), cell_error(page, 0)
        kernel = json.loads((server.root / info).read_text())
        pid, names, server_pid = kernel["pid"], kernel["threads"], kernel["server"]
        idle = None
        if idle_seconds:   # the widget shown, the microphone off: its pings and the kernel's own threads
            page.wait_for_timeout(1000)
            before, started = thread_cpu(pid), time.monotonic()
            page.wait_for_timeout(idle_seconds * 1000)
            idle = (before, thread_cpu(pid), time.monotonic() - started)
        mic = code_cell(page, 0).get_by_role("button", name="🎤 Start microphone")
        wait_until(page, lambda: mic.count() == 1, 30, "the voice widget's microphone button")
        mic.click()
        wait_until(page, lambda: page.evaluate("() => (window.geminiVoice || {}).sent_frames || 0") > 0, 15,
                   "the first microphone frames")
        page.wait_for_timeout(1000)
        start, before, started = page.evaluate(PAGE_NOW), thread_cpu(pid), time.monotonic()
        server_before = sum(value for _, value in thread_cpu(server_pid).values())
        page.wait_for_timeout(seconds * 1000)
        end, after, ended = page.evaluate(PAGE_NOW), thread_cpu(pid), time.monotonic()
        server_after = sum(value for _, value in thread_cpu(server_pid).values())
        server_cpu = (server_after - server_before) / (ended - started) * 100
        offset = clock_offset(page)
        stats = page.evaluate("() => JSON.parse(JSON.stringify(window.geminiVoice))")
        sends = page.evaluate("() => window.geminiBenchSends")
        direct_sends = page.evaluate("() => window.geminiBenchDirect")
        run_cell(page, 1)
        wait_for_prompt(page, 1, 2)
        assert not cell_error(page, 1), cell_error(page, 1)
        kernel = json.loads((server.root / result).read_text())
        names.update(kernel["threads"])   # the threads started since the first cell (pyzmq's garbage collector)
    finally:
        context.close()
    frames = [f for f in kernel["frames"] if start <= f[0] <= end]
    # Per frame: its message's first-frame time t (frames of one message share their received time).
    first_of = {}
    for made, received, _ in kernel["frames"]:
        first_of[received] = min(made, first_of.get(received, made))
    sent_at = {round(t, 1): at for t, at in stats["send_times"]}
    arrived_at = {round(t, 1): now for now, t in kernel["arrivals"] if t is not None}
    split = {"page -> sent": [], "sent -> shell thread": [], "shell thread -> handler": [], "sent -> direct": []}
    for made, received, _ in frames:
        t = round(first_of[received], 1)
        if t in sent_at and t in arrived_at:
            split["page -> sent"].append(sent_at[t] - made)
            split["sent -> shell thread"].append(arrived_at[t] - sent_at[t])
            split["shell thread -> handler"].append(received - arrived_at[t])
        elif t in sent_at:     # by the direct channel: no comm message, straight to its thread
            split["page -> sent"].append(sent_at[t] - made)
            split["sent -> direct"].append(received - sent_at[t])
    # Bytes a second from the first send in the window to the last (the last one's bytes not counted):
    # a window of fixed length would hold one batch more or less by chance.
    def per_second(events):
        inside = sorted((at, size) for at, size in events if start <= at <= end)
        if len(inside) < 10:   # (the kernel websocket while the direct channel carries the frames: a few)
            return sum(size for _, size in inside) / ((end - start) / 1000)
        return sum(size for _, size in inside[:-1]) / ((inside[-1][0] - inside[0][0]) / 1000)
    direct_wire = [(at, framed(size)) for at, size in direct_sends]
    onsets = [f for f in frames if any(abs(f[0] - at) < 1.5 for at in stats["onsets"])]
    return {"label": label, "per_message": kernel["per_message"], "frames": len(frames),
            "onsets": [w - m for m, _, w in onsets],
            "port": stats["port_waits"], "wait": stats["batch_waits"], "split": split,
            "to_kernel": [r - m for m, r, _ in frames], "to_socket": [w - m for m, _, w in frames],
            "handler": [w - r for _, r, w in frames], "channel": kernel["channel"],
            "direct_frames": kernel["direct_frames"],
            "page_bytes": per_second(sends) + per_second(direct_sends),
            "wire_bytes": per_second(wire.sent) + per_second(direct_wire), "direct_wire": per_second(direct_wire),
            "cpu": cpu_shares(before, after, ended - started, names),
            "idle": idle and cpu_shares(*idle, names),
            "server_cpu": server_cpu, "offset": offset, "seconds": (end - start) / 1000}


def rows_for(run: dict) -> list[list[str]]:
    label = run["label"]
    ms = lambda values, share: f"{percentile(values, share):.1f}" if values else "-"  # noqa: E731
    both = lambda values: f"{ms(values, 0.5)} / {ms(values, 0.95)} ms"  # noqa: E731
    p95 = percentile(run["to_socket"], 0.95)
    page, wire = run["page_bytes"] / RAW, run["wire_bytes"] / RAW
    cpu = run["cpu"]
    rows = [
        [f"{label}: the microphone's channel (VoiceLink.channel), frames by it since the microphone started",
         f"{run['channel']}, {run['direct_frames']:,} direct", "", ""],
        [f"{label}: frame made -> written on the Live socket, p50 / p95 / max",
         f"{ms(run['to_socket'], 0.5)} / {p95:.1f} / {max(run['to_socket']):.1f} ms", "p95 <= 20 ms",
         "ok" if p95 <= 20 else "MISSED"],
        [f"{label}:   frames at speech onset (sent at once): count, p50 / max",
         f"{len(run['onsets'])}, {ms(run['onsets'], 0.5)} / {max(run['onsets'], default=0):.1f} ms", "", ""],
        [f"{label}:   worklet -> page thread (audio clock), p50 / p95", both(run["port"]), "", ""],
        [f"{label}:   page thread -> websocket send (the batch wait), p50 / p95", both(run["split"]["page -> sent"]),
         "", ""],
        [f"{label}:   send -> ipykernel's shell channel thread (Jupyter server, ZMQ), p50 / p95",
         both(run["split"]["sent -> shell thread"]), "", ""],
        [f"{label}:   shell channel thread -> widget handler (a subshell's thread), p50 / p95",
         both(run["split"]["shell thread -> handler"]), "", ""],
        [f"{label}:   send -> the direct channel's thread (loopback WebSocket), p50 / p95",
         both(run["split"]["sent -> direct"]), "", ""],
        [f"{label}:   handler -> realtimeInput written, p50 / p95", both(run["handler"]), "", ""],
        [f"{label}: bytes page -> kernel on the wire (kernel websocket + direct socket)",
         f"{run['wire_bytes']:,.0f} B/s = {wire:.2f}x raw ({run['direct_wire'] / RAW:.2f}x direct)", "<= 1.1x",
         "ok" if wire <= 1.1 else "MISSED"],
        [f"{label}: bytes the page sends (before compression)", f"{run['page_bytes']:,.0f} B/s = {page:.2f}x raw",
         "", ""],
        [f"{label}: kernel CPU while streaming", f"{cpu['total']:.1f} % of a core", "<= 5 %",
         "ok" if cpu["total"] <= 5 else "MISSED"],
        [f"{label}:   main / shell channel / subshell / IOPub / Live reader / direct / ZMQ I/O / other threads",
         " / ".join(f"{cpu[k]:.1f}" for k in THREAD_GROUPS) + " %", "", ""],
    ]
    rows.append([f"{label}: Jupyter server CPU (the websocket, ZMQ, compression)", f"{run['server_cpu']:.1f} % of a core",
                 "", ""])
    if run["idle"]:
        idle = run["idle"]
        rows.append([f"{label}: kernel CPU, widget shown, microphone off (baseline)", f"{idle['total']:.1f} % of a core",
                     "", ""])
    return rows


# (label, session.widget keywords, compressed): the default, and the comm (the fallback) as the alternatives.
SETTINGS = [
    ("direct (default): a frame a message on loopback, no compression", "", False),
    ("comm (before): 6 frames a message + onset, no compression", "direct=False", False),
    ("comm: 1 frame a message, no compression", "direct=False, frames_per_message=1", False),
    ("direct (default): a frame a message on loopback, server compressed", "", True),
    ("comm (before): 6 frames a message + onset, compressed", "direct=False", True),
    ("comm: 1 frame a message, compressed", "direct=False, frames_per_message=1", True),
]
COMPRESSION = "--ServerApp.websocket_compression_options={}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--app", choices=("lab", "notebook"), default="lab")
    parser.add_argument("--only", help="run only the settings whose label contains this")
    args = parser.parse_args(argv)
    from tests.browser.jupyter import CHROMIUM, CHROMIUM_FLAGS, missing_browser_tools, start_emulator, start_jupyter

    missing = missing_browser_tools() or (None if shutil.which("espeak-ng") else "espeak-ng is missing")
    if missing:
        sys.exit(f"bench_voice_browser: {missing}")
    from playwright.sync_api import sync_playwright

    settings = [s for s in SETTINGS if not args.only or args.only in s[0]]
    runs = []
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as folder:
        wav = speech(Path(folder))
        flags = CHROMIUM_FLAGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                  f"--use-file-for-fake-audio-capture={wav}",
                                  "--autoplay-policy=no-user-gesture-required"]
        with start_emulator(pace=0.08) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
            try:
                for compressed in (False, True):
                    chosen = [s for s in settings if s[2] == compressed]
                    if not chosen:
                        continue
                    with start_jupyter(base_url, server_args=(COMPRESSION,) if compressed else ()) as server:
                        wire = WireCounter(int(server.url.rsplit(":", 1)[1]))
                        try:
                            for number, (label, option, _) in enumerate(chosen):
                                runs.append(measure(browser, server, wire, args.app, label, option, args.seconds,
                                                    idle_seconds=5 if number == 0 and not compressed else 0))
                        finally:
                            wire.close()
            finally:
                browser.close()
    rows = [row for run in runs for row in rows_for(run)]
    offsets = ", ".join(f"{run['offset'][0]:+.1f}" for run in runs)
    print(f"Voice widget in headless Chromium ({args.app}), {args.seconds:g} s of 20 ms microphone frames per setting "
          f"({', '.join(str(run['frames']) for run in runs)} frames timed; raw PCM {RAW:,} B/s; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start, {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
          f"at the end; page clock minus kernel clock {offsets} ms):")
    print(table(["figure", "measured", "goal", ""], rows))


if __name__ == "__main__":
    main()
