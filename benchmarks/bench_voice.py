"""The voice widget's kernel side while the microphone streams: the three figures of issue 23.

    python benchmarks/bench_voice.py [--seconds 10]

The emulator runs as a subprocess (its CPU is not counted), on loopback. The microphone is played as
the browser sends it: one 20 ms frame (640 bytes of 16 kHz PCM) every 20 ms, each handed to the
widget's own comm-message handler (what ipykernel calls for a comm message with a binary buffer).

1. Added latency from a microphone frame reaching the kernel's handler to its realtimeInput written
   to the Live socket (p50, p95). Goal: p95 <= 20 ms. (The browser -> Jupyter server -> kernel hop is
   Jupyter's own websocket and ZMQ; not measured here.)
2. Kernel CPU while the microphone streams, % of one core (handler + session + socket writes).
   Goal: <= 5 %.
3. Bytes per second on the widget channel: the comm message as the kernel receives it (the Jupyter
   wire format, jupyter_client.Session.serialize: header, content JSON, buffers), over the raw
   32,000 B/s of PCM. Goal: <= 1.1x. Beside it: the same frames as base64 inside the JSON content
   (what a widget without binary buffers, or a polling bridge, sends), and 40 ms frames.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from _common import Emulator, table  # noqa: E402

from gemini_magic import Client  # noqa: E402

KEY = "bench-key-0123456789"
RAW = 32000  # bytes per second of 16 kHz 16-bit mono PCM


def channel_bytes(frame_ms: int, binary: bool) -> float:
    """Bytes per second of comm messages carrying the microphone, as the kernel's shell socket gets them."""
    import base64
    import uuid

    from jupyter_client.session import Session

    session = Session(key=b"0123456789abcdef0123456789abcdef")
    frame = b"\x01\x02" * (16 * frame_ms)
    comm_id = uuid.uuid4().hex
    custom = {"type": "audio", "t": time.time() * 1000}
    if binary:
        content = {"comm_id": comm_id, "data": {"method": "custom", "content": custom}}
        buffers = [frame]
    else:
        content = {"comm_id": comm_id, "data": {"method": "custom",
                                                "content": {**custom, "data": base64.b64encode(frame).decode()}}}
        buffers = []
    message = session.msg("comm_msg", content)
    message["buffers"] = buffers
    parts = session.serialize(message)
    size = sum(len(p) for p in parts) + sum(len(b) for b in buffers)
    return size * 1000 / frame_ms


def stream(client: Client, seconds: float) -> tuple[list[float], float]:
    from gemini_magic.voice.widget import voice_widget

    session = client.live()
    widget = voice_widget(session)
    widget._handle_custom_msg({"type": "hello"}, [])
    frame = memoryview(b"\x00\x00" * 320)
    latencies = []
    wall, cpu = time.monotonic(), time.process_time()
    next_at = wall
    for _ in range(int(seconds * 50)):
        next_at += 0.02
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        started = time.perf_counter()
        widget._handle_custom_msg({"type": "audio", "t": 0}, [frame])
        latencies.append((time.perf_counter() - started) * 1000)
        if _ % 50 == 0:
            widget._handle_custom_msg({"type": "ping"}, [])
    used = (time.process_time() - cpu) / (time.monotonic() - wall) * 100
    session.close()
    return latencies, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    emulator = Emulator()
    try:
        client = Client(api_key=KEY, base_url=emulator.base_url)
        latencies, cpu = stream(client, args.seconds)
    finally:
        emulator.stop()
    p50 = statistics.median(latencies)
    p95 = sorted(latencies)[int(0.95 * len(latencies)) - 1]
    rows = [
        ["latency handler -> socket, p50", f"{p50:.2f} ms", "", ""],
        ["latency handler -> socket, p95", f"{p95:.2f} ms", "<= 20 ms", "ok" if p95 <= 20 else "MISSED"],
        ["kernel CPU while streaming", f"{cpu:.1f} % of a core", "<= 5 %", "ok" if cpu <= 5 else "MISSED"],
    ]
    for ms in (20, 40):
        binary, base64_json = channel_bytes(ms, True), channel_bytes(ms, False)
        rows.append([f"widget channel, {ms} ms frames, binary buffers", f"{binary:,.0f} B/s = {binary / RAW:.2f}x raw",
                     "<= 1.1x", "ok" if binary / RAW <= 1.1 else "MISSED"])
        rows.append([f"widget channel, {ms} ms frames, base64 in JSON (alternative)",
                     f"{base64_json:,.0f} B/s = {base64_json / RAW:.2f}x raw", "", ""])
    print(f"Voice widget, kernel side, {args.seconds:g} s of 20 ms microphone frames at 50 per second:")
    print(table(["figure", "measured", "goal", ""], rows))


if __name__ == "__main__":
    main()
