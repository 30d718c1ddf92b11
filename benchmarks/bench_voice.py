"""The voice widget's kernel side while the microphone streams: the three figures of issue 23.

    python benchmarks/bench_voice.py [--seconds 10] [--browser]

The emulator runs as a subprocess (its CPU is not counted), on loopback. The microphone is played as
the browser sends it: 20 ms frames (640 bytes of 16 kHz PCM), before: one frame a message every
20 ms, after (the default, widget.MESSAGE_MS): 4 frames a message every 80 ms, each message handed to
the widget's own comm-message handler (what ipykernel calls for a comm message with binary buffers).
What ipykernel itself spends per message (about 3 ms: the shell channel thread, status busy/idle on
IOPub, the stdout/stderr flushes) is not in these figures; `--browser` measures it, thread by thread.

1. Added latency from a microphone frame reaching the kernel's handler to its realtimeInput written
   to the Live socket (p50, p95). Goal: p95 <= 20 ms. The whole way from the page (the batch wait,
   Jupyter's websocket and ZMQ) is measured in headless Chromium by `--browser`
   (bench_voice_browser.py).
2. Kernel CPU while the microphone streams, % of one core (handler + session + socket writes).
   Goal: <= 5 %.
3. Bytes per second on the widget channel: the comm message as the kernel receives it (the Jupyter
   wire format, jupyter_client.Session.serialize: header, content JSON, buffers), over the raw
   32,000 B/s of PCM. Goal: <= 1.1x. Before (1 frame a message) and after (80 ms a message);
   beside them the same frames as base64 inside the JSON content (what a widget without binary
   buffers, or a polling bridge, sends), and 40 ms frames.
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


def channel_bytes(frame_ms: int, binary: bool, per_message: int = 1) -> float:
    """Bytes per second of comm messages carrying the microphone, as the kernel's shell socket gets them:
    `per_message` frames of `frame_ms` in each, as the page sends them (widget.js)."""
    import base64
    import uuid

    from jupyter_client.session import Session

    session = Session(key=b"0123456789abcdef0123456789abcdef")
    frame = b"\x01\x02" * (16 * frame_ms)
    comm_id = uuid.uuid4().hex
    t = time.time() * 1000
    custom = {"type": "audio", "t": round(t, 1), "d": [round(index * frame_ms + 0.4) for index in range(per_message)]}
    if binary:
        content = {"comm_id": comm_id, "data": {"method": "custom", "content": custom}}
        buffers = [frame * per_message]     # the frames joined in one buffer, as widget.js sends them
    else:
        content = {"comm_id": comm_id, "data": {"method": "custom",
                                                "content": {**custom, "data": base64.b64encode(frame * per_message)
                                                            .decode()}}}
        buffers = []
    message = session.msg("comm_msg", content)
    message["buffers"] = buffers
    parts = session.serialize(message)
    size = sum(len(p) for p in parts) + sum(len(b) for b in buffers)
    return size * 1000 / (frame_ms * per_message)


def stream(client: Client, seconds: float, per_message: int) -> tuple[list[float], float]:
    """Play `seconds` of 20 ms frames into the widget's handler, `per_message` frames a message as the
    page batches them (one message every per_message * 20 ms); per frame, ms from the handler getting
    its message to its realtimeInput written on the socket (VoiceLink.frame_times), and the CPU."""
    from gemini_magic.voice.widget import voice_widget

    session = client.live()
    widget = voice_widget(session, frames_per_message=per_message)
    widget._handle_custom_msg({"type": "hello"}, [])
    frame = b"\x00\x00" * 320
    offsets = [20 * index for index in range(per_message)]
    wall, cpu = time.monotonic(), time.process_time()
    next_at, pinged = wall, wall
    for _ in range(int(seconds * 50 / per_message)):
        next_at += 0.02 * per_message
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        now = time.time() * 1000
        widget._handle_custom_msg({"type": "audio", "t": now - offsets[-1], "d": offsets},
                                  [memoryview(frame * per_message)])
        if time.monotonic() - pinged >= 1:
            pinged = time.monotonic()
            widget._handle_custom_msg({"type": "ping"}, [])
    used = (time.process_time() - cpu) / (time.monotonic() - wall) * 100
    latencies = [written - received for _, received, written in widget.link.frame_times]
    session.close()
    return latencies, used


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def main() -> None:
    from gemini_magic.voice.widget import MESSAGE_MS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--browser", action="store_true",
                        help="also measure in headless Chromium (bench_voice_browser.py): page -> socket latency, "
                             "the bytes the page sends, the kernel's CPU")
    args = parser.parse_args()
    batched = MESSAGE_MS // 20
    emulator = Emulator()
    try:
        client = Client(api_key=KEY, base_url=emulator.base_url)
        runs = {n: stream(client, args.seconds, n) for n in (1, batched)}
    finally:
        emulator.stop()
    rows = []
    for n, (latencies, cpu) in runs.items():
        label = "before: 1 frame a message" if n == 1 else f"after: {n} frames a message"
        p95 = percentile(latencies, 0.95)
        rows += [
            [f"{label}: latency handler -> socket, p50", f"{statistics.median(latencies):.2f} ms", "", ""],
            [f"{label}: latency handler -> socket, p95", f"{p95:.2f} ms", "<= 20 ms", "ok" if p95 <= 20 else "MISSED"],
            [f"{label}: kernel CPU while streaming", f"{cpu:.1f} % of a core", "<= 5 %",
             "ok" if cpu <= 5 else "MISSED"],
        ]
    for ms in (20, 40):
        for n in sorted({1, -(-MESSAGE_MS // ms)}):
            binary = channel_bytes(ms, True, n)
            label = "before" if n == 1 else "after"
            rows.append([f"widget channel, {ms} ms frames, {n} a message ({label}), binary buffers",
                         f"{binary:,.0f} B/s = {binary / RAW:.2f}x raw", "<= 1.1x",
                         "ok" if binary / RAW <= 1.1 else "MISSED"])
        base64_json = channel_bytes(ms, False)
        rows.append([f"widget channel, {ms} ms frames, 1 a message, base64 in JSON (alternative)",
                     f"{base64_json:,.0f} B/s = {base64_json / RAW:.2f}x raw", "", ""])
    print(f"Voice widget, kernel side, {args.seconds:g} s of 20 ms microphone frames "
          f"(raw PCM {RAW:,} B/s; the default now sends {MESSAGE_MS} ms of frames a message):")
    print(table(["figure", "measured", "goal", ""], rows))
    if args.browser:
        import bench_voice_browser

        print()
        bench_voice_browser.main([])


if __name__ == "__main__":
    main()
