"""What one comm message from the voice widget's page costs the kernel, without a browser: ipykernel's
share against the widget's own (issue 23 item 9, kernel CPU).

    python benchmarks/bench_voice_kernel.py [--seconds 8]

A real ipykernel (started by jupyter_client, as a Jupyter server starts one) runs a cell that opens a
Live session on the emulator and shows its voice widget; this process then sends the page's microphone
messages to the widget's comm over the shell channel, 50 a second (one 20 ms frame each, as
`frames_per_message=1`), and reads the kernel's CPU by thread from /proc over the window. Settings, each
in a fresh kernel:

- the widget as it is (its handler forwards each frame to the Live socket);
- no handler: the widget's message callbacks removed, so what is left is ipykernel's dispatch alone;
- no handler and, cumulatively, ipykernel's per-message work turned off by the cell (for these figures
  only, never in the package): its debug log records, the stdout/stderr flushes after every message,
  the status busy/idle messages on IOPub. What each removes is that piece's share.

The idle kernel (the widget shown, nothing sent) is measured first in each. jupyter_client opens no
subshell, so the handling thread here is the main thread (JupyterLab sends widget messages to a subshell;
bench_voice_browser.py measures that, with the Jupyter server and the page).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import Emulator, table  # noqa: E402

KEY = "bench-key-0123456789"
CELL = """from gemini_magic import Client
session = Client().live()
w = session.widget(frames_per_message=1)
display(w)
{setup}
print(w.comm.comm_id)"""
NO_HANDLER = "w._msg_callbacks.callbacks.clear()"
NO_LOG = "get_ipython().kernel.log.setLevel(30)"
NO_FLUSH = "import sys; sys.stdout.flush = sys.stderr.flush = lambda: None"
NO_STATUS = "get_ipython().kernel._publish_status = lambda *args, **kwargs: None"
SETTINGS = [
    ("the widget as it is", ""),
    ("no handler: ipykernel's dispatch alone", NO_HANDLER),
    ("no handler, no debug log records", "\n".join([NO_HANDLER, NO_LOG])),
    ("no handler, no log records, no stdout/stderr flushes", "\n".join([NO_HANDLER, NO_LOG, NO_FLUSH])),
    ("no handler, no log records, no flushes, no status busy/idle",
     "\n".join([NO_HANDLER, NO_LOG, NO_FLUSH, NO_STATUS])),
]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(base_url: str, setup: str, seconds: float) -> tuple[float, float, int]:
    """(idle CPU %, streaming CPU %, messages sent) of a fresh kernel whose cell ran `setup`."""
    from jupyter_client import KernelManager

    env = dict(os.environ, GOOGLE_API_KEY=KEY, GOOGLE_GEMINI_BASE_URL=base_url,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=env)
    client = manager.client()
    client.start_channels()
    stop = threading.Event()
    drainer = None
    try:
        client.wait_for_ready(60)
        pid = manager.provisioner.process.pid
        client.execute(CELL.format(setup=setup))
        comm_id = None
        while comm_id is None:
            message = client.get_iopub_msg(timeout=60)
            if message["msg_type"] == "error":
                raise RuntimeError("\n".join(message["content"]["traceback"]))
            text = message["content"].get("text", "").strip() if message["msg_type"] == "stream" else ""
            comm_id = text if len(text) == 32 else None
        def drain() -> None:   # the kernel's IOPub messages (status busy/idle per message), read and dropped
            while not stop.is_set():
                with contextlib.suppress(queue.Empty):
                    client.iopub_channel.get_msg(timeout=0.1)

        drainer = threading.Thread(target=drain, daemon=True)
        drainer.start()
        time.sleep(1)
        before, started = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds / 2)
        idle = (cpu_seconds(pid) - before) / (time.monotonic() - started) * 100
        frame, sent = b"\0\0" * 320, 0
        before, started = cpu_seconds(pid), time.monotonic()
        due = started
        while time.monotonic() - started < seconds:
            due += 0.02
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            message = client.session.msg("comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": {
                "type": "audio", "t": time.time() * 1000, "d": [0]}}})
            client.session.send(client.shell_channel.socket, message, buffers=[frame])
            sent += 1
        streaming = (cpu_seconds(pid) - before) / (time.monotonic() - started) * 100
        return idle, streaming, sent
    finally:
        stop.set()
        if drainer is not None:
            drainer.join()
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    load = os.getloadavg()
    emulator = Emulator()
    try:
        runs = [(label, *measure(emulator.base_url, setup, args.seconds)) for label, setup in SETTINGS]
    finally:
        emulator.stop()
    rows = [[label, f"{idle:.1f} %", f"{cpu:.1f} %", f"{cpu * 10 * args.seconds / sent:.2f} ms"]
            for label, idle, cpu, sent in runs]
    print(f"Kernel CPU per comm message from the voice widget's page, 50 messages a second for {args.seconds:g} s "
          f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start, "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} at the end):")
    print(table(["setting", "idle kernel", "kernel CPU, % of a core", "per message"], rows))


if __name__ == "__main__":
    main()
