"""One benchmark contender, run in a fresh interpreter by the bench_*.py scripts; prints one JSON line.

    python benchmarks/_runner.py CONTENDER BASE_URL EXPECTED_CHARS    # stream_bare, stream_bare_keep,
                                                                      # stream_gm, stream_gm_before, stream_gm_final, stream_sdk
    python benchmarks/_runner.py CONTENDER BASE_URL PATH              # upload_gm, upload_gm_reuse, upload_sdk
    python benchmarks/_runner.py CONTENDER BASE_URL EXPECTED_CHARS    # growth_bare, growth_bare_array, growth_gm,
                                                                      # growth_gm_so_far (bench_growth.py)

Stream contenders first consume a small warm-up stream (the parent queues it before the measured
one), so lazy imports and first-call set-up are not charged per chunk; then the measured call: the
request plus the whole consuming loop, timed with time.process_time() and time.perf_counter(), and
the time spent in garbage collections (gc.callbacks).

Upload contenders make one listing request first (warm-up), then report wall and CPU time of the
upload call and the RSS growth: VmRSS after imports, client creation and warm-up (with the peak,
VmHWM, reset there) vs VmHWM after the upload. ru_maxrss is not usable: a child started by
subprocess (vfork + exec) carries its parent's RSS in ru_maxrss. BENCH_PROFILE=path cProfiles the
measured part.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time

KEY = "AIzaSyBENCHMARK-key_0123456789abcdefghi"  # a real key's length: the key scan (redaction.SecretScan) runs
MODEL = "gemini-2.5-flash"
MIME = "application/octet-stream"


def proc_status_kib(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, KiB, from /proc/self/status."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


# --- streaming contenders: each returns a callable that makes one call and returns the text ---------

def stream_bare(base_url):
    import requests

    session = requests.Session()
    url = f"{base_url}/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}

    def call():
        pieces = []
        with session.post(url, json=body, headers={"x-goog-api-key": KEY}, stream=True) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if line.startswith(b"data: "):
                    chunk = json.loads(line[6:])
                    pieces.append(chunk["candidates"][0]["content"]["parts"][0]["text"])
        return "".join(pieces)

    return call


def stream_bare_keep(base_url):
    """The bare loop, but keeping every parsed chunk as Response.raw does: the cost of retention alone."""
    import requests

    session = requests.Session()
    url = f"{base_url}/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}

    def call():
        pieces, kept = [], []
        with session.post(url, json=body, headers={"x-goog-api-key": KEY}, stream=True) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if line.startswith(b"data: "):
                    chunk = json.loads(line[6:])
                    kept.append(chunk)
                    pieces.append(chunk["candidates"][0]["content"]["parts"][0]["text"])
        call.kept = kept  # alive until the next call, like a Response the caller holds
        return "".join(pieces)

    return call


def stream_gm(base_url):
    from gemini_magic import Client

    client = Client(api_key=KEY, base_url=base_url)

    def call():
        pieces = []
        for chunk in client.stream(MODEL, "hi"):
            pieces.append(chunk.text)
        return "".join(pieces)

    return call


def stream_gm_final(base_url):
    from gemini_magic import Client

    client = Client(api_key=KEY, base_url=base_url)

    def call():
        stream = client.stream(MODEL, "hi")
        for _ in stream:
            pass
        return stream.response.text

    return call


def stream_sdk(base_url):
    from google import genai

    client = genai.Client(api_key=KEY, http_options=genai.types.HttpOptions(base_url=base_url))

    def call():
        pieces = []
        for chunk in client.models.generate_content_stream(model=MODEL, contents="hi"):
            pieces.append(chunk.text or "")
        return "".join(pieces)

    return call


STREAMS = {"stream_bare": stream_bare, "stream_bare_keep": stream_bare_keep, "stream_gm": stream_gm,
           "stream_gm_before": stream_gm,  # run by bench_stream.py with an older package first on the path
           "stream_gm_final": stream_gm_final, "stream_sdk": stream_sdk}


def run_stream(name, base_url, expected):
    call = STREAMS[name](base_url)
    call()  # warm-up on the small stream queued first
    profile = _profiler()
    gc_time = _gc_timer()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profile:
        profile.enable()
    text = call()
    if profile:
        profile.disable()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    gc.callbacks.remove(gc_time)
    _dump(profile)
    if len(text) != expected:
        raise SystemExit(f"{name}: reassembled {len(text)} characters, expected {expected}")
    return {"cpu": cpu, "wall": wall, "chars": len(text), "gc": gc_time.total, "gc_runs": gc_time.runs}


# --- upload contenders: each returns a callable(path) -> file name --------------------------------

def upload_gm(base_url, reuse=False):
    from gemini_magic import Client

    client = Client(api_key=KEY, base_url=base_url)
    client.list_files()  # warm-up: requests is imported and the session opened on the first call
    return lambda path: client.upload_file(path, mime_type=MIME, reuse=reuse, wait=False).name


def upload_sdk(base_url):
    from google import genai

    client = genai.Client(api_key=KEY, http_options=genai.types.HttpOptions(base_url=base_url))
    list(client.files.list())  # warm-up, as for gemini_magic
    return lambda path: client.files.upload(file=path, config={"mime_type": MIME}).name


UPLOADS = {"upload_gm": upload_gm, "upload_gm_reuse": lambda url: upload_gm(url, reuse=True),
           "upload_sdk": upload_sdk}


def run_upload(name, base_url, path):
    upload = UPLOADS[name](base_url)
    # Not ru_maxrss: a child started by subprocess (vfork + exec) inherits the parent's RSS in it.
    reset = reset_peak_rss()
    rss0 = proc_status_kib("VmRSS")
    profile = _profiler()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profile:
        profile.enable()
    file_name = upload(path)
    if profile:
        profile.disable()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    _dump(profile)
    return {"cpu": cpu, "wall": wall, "rss_before_kib": rss0, "rss_peak_kib": proc_status_kib("VmHWM"),
            "peak_reset": reset, "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "file": file_name}


# --- growth contenders (bench_growth.py): like the stream ones, plus the peak RSS of the call ------------

def growth_bare(base_url):
    """The bare loop over SSE: iter_lines, json.loads, keep each chunk's text (candidate 0)."""
    return stream_bare(base_url)


def growth_bare_array(base_url):
    """The bare way to read a JSON-array stream: read it whole, one json.loads."""
    import requests

    session = requests.Session()
    url = f"{base_url}/v1beta/models/{MODEL}:streamGenerateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}

    def call():
        with session.post(url, json=body, headers={"x-goog-api-key": KEY}, stream=True) as r:
            r.raise_for_status()
            chunks = json.loads(r.content)
        return "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks)

    return call


def growth_gm(base_url):
    """gemini_magic: each chunk's own text, the whole answer kept in stream.response."""
    from gemini_magic import Client

    client = Client(api_key=KEY, base_url=base_url)

    def call():
        stream = client.stream(MODEL, "hi")
        pieces = [chunk.text for chunk in stream]
        call.kept = stream.response  # alive until the next call, like a result the caller holds
        return "".join(pieces)

    return call


def growth_gm_so_far(base_url):
    """gemini_magic, reading the whole text so far after every chunk (what a live view or user loop does)."""
    from gemini_magic import Client

    client = Client(api_key=KEY, base_url=base_url)

    def call():
        stream = client.stream(MODEL, "hi")
        seen = 0
        for _ in stream:
            seen = len(stream.response.text)
        call.kept = stream.response
        text = stream.response.text
        assert seen == len(text)
        return text

    return call


GROWTH = {"growth_bare": growth_bare, "growth_bare_array": growth_bare_array, "growth_gm": growth_gm,
          "growth_gm_so_far": growth_gm_so_far}


def run_growth(name, base_url, expected):
    call = GROWTH[name](base_url)
    call()  # warm-up on the small stream queued first
    reset = reset_peak_rss()
    rss0 = proc_status_kib("VmRSS")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    text = call()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if len(text) != expected:
        raise SystemExit(f"{name}: reassembled {len(text)} characters, expected {expected}")
    return {"cpu": cpu, "wall": wall, "chars": len(text), "rss_before_kib": rss0,
            "rss_peak_kib": proc_status_kib("VmHWM"), "peak_reset": reset}


def _gc_timer():
    """A gc callback that adds up the time spent in garbage collections (wall clock, single thread)."""

    def timer(phase, info):
        if phase == "start":
            timer.started = time.perf_counter()
        else:
            timer.total += time.perf_counter() - timer.started
            timer.runs += 1

    timer.started, timer.total, timer.runs = 0.0, 0.0, 0
    gc.callbacks.append(timer)
    return timer


def _profiler():
    if not os.environ.get("BENCH_PROFILE"):
        return None
    import cProfile

    return cProfile.Profile()


def _dump(profile):
    if profile:
        profile.dump_stats(os.environ["BENCH_PROFILE"])


def main(argv):
    name, base_url, arg = argv
    if name in STREAMS:
        result = run_stream(name, base_url, int(arg))
    elif name in GROWTH:
        result = run_growth(name, base_url, int(arg))
    elif name in UPLOADS:
        result = run_upload(name, base_url, arg)
    else:
        raise SystemExit(f"unknown contender {name}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
