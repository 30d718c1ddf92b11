"""Embeddings of 10,000 texts against a per-minute limit: before (groups one after another), after
(groups through the rows limiter), a bare `requests` thread pool, the official SDK with a thread pool.

    python benchmarks/bench_embed.py [--texts 10000] [--rpm 600] [--dims 64] [--workers 8]

The emulator runs in its own process with a per-minute limit counted per batchEmbedContents call (a
token bucket: rpm/60 requests a second, a burst of one second's worth), answering 429 with RetryInfo
past it. The bound is groups / (rpm / 60) seconds (groups = texts / 100): no client finishes sooner
bar the one-second burst. Per contender: wall, bound / wall (goal >= 0.9), requests per 100 texts
(goal <= 1.0 plus the 429s), 429s, texts lost (goal 0).

- before: `embed(client, texts, concurrency=1)` (one group after another, as the issue measured).
- after: `embed(client, texts)` (8 groups in flight through AdaptiveLimiter).
- bare requests: `ThreadPoolExecutor(workers)` posting groups of 100, sleeping RetryInfo on a 429.
- SDK: google-genai `models.embed_content(contents=<100 texts>)` per group in `ThreadPoolExecutor(workers)`.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import Emulator, table  # noqa: E402

KEY = "bench-key-AIzaSy-not-a-real-key-000000"
MODEL = "gemini-embedding-001"


def reset(emulator: Emulator, rpm: float) -> None:
    emulator.control("POST", "/emulator/reset", {})
    emulator.control("POST", "/emulator/config", {"rate_limit_rpm": rpm})
    time.sleep(1.1)  # a full bucket for each contender


def figures(emulator: Emulator, wall: float, got: int, texts: int) -> dict:
    log = emulator.control("GET", "/emulator/requests")
    sent = sum(1 for r in log if r["path"].endswith(":batchEmbedContents"))
    refused = emulator.control("GET", "/emulator/config")["rate_limited"]
    return {"wall": wall, "sent": sent, "refused": refused, "lost": texts - got}


def ours(emulator, texts, dims, concurrency):
    from gemini_magic import Client
    from gemini_magic.api.embeddings import embed

    client = Client(api_key=KEY, base_url=emulator.base_url)
    started = time.perf_counter()
    vectors = embed(client, texts, dimensions=dims, concurrency=concurrency)
    return time.perf_counter() - started, len(vectors)


def bare(emulator, texts, dims, workers):
    import requests

    session = requests.Session()
    url = f"{emulator.base_url}/v1beta/models/{MODEL}:batchEmbedContents"
    groups = [texts[i:i + 100] for i in range(0, len(texts), 100)]

    def send(group):
        body = {"requests": [{"model": f"models/{MODEL}", "outputDimensionality": dims,
                              "content": {"parts": [{"text": t}]}} for t in group]}
        for _ in range(100):
            answer = session.post(url, json=body, headers={"x-goog-api-key": KEY})
            if answer.status_code == 429:
                delay = answer.json()["error"]["details"][-1]["retryDelay"]
                time.sleep(float(delay.rstrip("s")))
                continue
            answer.raise_for_status()
            return len(answer.json()["embeddings"])
        return 0

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        got = sum(pool.map(send, groups))
    return time.perf_counter() - started, got


def sdk(emulator, texts, dims, workers):
    from google import genai
    from google.genai import types

    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=emulator.base_url))
    groups = [texts[i:i + 100] for i in range(0, len(texts), 100)]

    def send(group):
        try:
            result = client.models.embed_content(model=MODEL, contents=group,
                                                 config=types.EmbedContentConfig(output_dimensionality=dims))
            return len(result.embeddings)
        except Exception:  # a group lost (the SDK's own retries gave up)
            return 0

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        got = sum(pool.map(send, groups))
    return time.perf_counter() - started, got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--rpm", type=float, default=600)
    parser.add_argument("--dims", type=int, default=64)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    texts = [f"review number {i}: the kettle {'works' if i % 3 else 'broke'}" for i in range(args.texts)]
    groups = -(-args.texts // 100)
    bound = groups / (args.rpm / 60)
    contenders = [("before: embed, concurrency=1", lambda e: ours(e, texts, args.dims, 1)),
                  ("after: embed (limiter, 8)", lambda e: ours(e, texts, args.dims, 8)),
                  (f"bare requests, {args.workers} threads", lambda e: bare(e, texts, args.dims, args.workers))]
    try:
        import google.genai  # noqa: F401
        contenders.append((f"SDK, {args.workers} threads", lambda e: sdk(e, texts, args.dims, args.workers)))
    except ImportError:
        print("google-genai is not installed: the SDK row is left out (pip install google-genai)")
    rows = []
    emulator = Emulator()
    try:
        for name, run in contenders:
            reset(emulator, args.rpm)
            wall, got = run(emulator)
            f = figures(emulator, wall, got, args.texts)
            ratio = f"{bound / wall:.2f}" if f["lost"] == 0 else "-"
            rows.append([name, f"{wall:.2f}", ratio, f"{(f['sent'] - f['refused']) / groups:.2f}",
                         f["refused"], f["lost"]])
    finally:
        emulator.stop()
    print(f"{args.texts} texts, {groups} groups of 100, {args.rpm:g} requests/min: bound {bound:.2f} s")
    print(table(["contender", "wall s", "bound/wall", "answered req per 100", "429s", "lost"], rows))


if __name__ == "__main__":
    main()
