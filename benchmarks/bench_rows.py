"""One prompt over 300 rows against a rate limit, beside a plain ThreadPoolExecutor over the official SDK;
and embeddings of 10,000 short texts.

    python benchmarks/bench_rows.py [--rows 300] [--rpm 1200] [--latency 0.1] [--texts 10000] [--dims 768]

The emulator runs in its own process with a latency per generate request and a per-minute limit
(a token bucket: rpm/60 requests a second, a burst of one second's worth), answering the service's
429 with RetryInfo past it. The limit's bound is rows / (rpm / 60) seconds: no client can finish
sooner (bar the one-second burst). Figures per contender: wall time, bound / wall (goal >= 0.9),
requests sent per row (1.0 plus the 429s provoked), 429s, rows lost (goal 0: a row with no answer);
bound / wall is shown only for a run that lost no row (losing rows is faster).

- gemini_magic: `map_prompts(client, template, rows, concurrency=8)` (defaults otherwise).
- SDK: google-genai's `Client(http_options=HttpOptions(base_url=emulator))` with its default
  settings, `ThreadPoolExecutor(8)` over `client.models.generate_content`, a row lost when it raises.

Embeddings: `embed(client, texts, dimensions=D)` (groups of 100, 4 at a time): wall time and requests,
beside the SDK's `embed_content` called once with every text (what its docs show).
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
MODEL = "gemini-2.5-flash"
TEMPLATE = "Classify this review as positive or negative: {row.text} (rating {row.stars})"


def prepare(emulator: Emulator, rpm: float, latency: float) -> None:
    emulator.control("POST", "/emulator/reset", {})
    emulator.control("POST", "/emulator/config", {"rate_limit_rpm": rpm, "latency": latency})


def counts(emulator: Emulator) -> tuple[int, int]:
    """(generate requests received, 429s answered) since the last reset."""
    log = emulator.control("GET", "/emulator/requests")
    sent = sum(1 for r in log if r["path"].endswith(":generateContent"))
    return sent, emulator.control("GET", "/emulator/config")["rate_limited"]


def rows_data(n: int) -> list[dict]:
    return [{"text": f"review number {i}: the kettle {'works' if i % 3 else 'broke'}", "stars": 1 + i % 5}
            for i in range(n)]


def run_ours(emulator: Emulator, rows: list[dict]) -> dict:
    from gemini_magic import Client
    from gemini_magic.api.rows import map_prompts

    client = Client(api_key=KEY, base_url=emulator.base_url)
    started = time.perf_counter()
    answers = map_prompts(client, TEMPLATE, rows, model=MODEL, concurrency=8)
    wall = time.perf_counter() - started
    lost = sum(1 for a in answers if a.error is not None)
    wrong = sum(1 for a, r in zip(answers, rows) if a.error is None and r["text"] not in a.text)
    return {"wall": wall, "lost": lost, "wrong": wrong}


def run_sdk(emulator: Emulator, rows: list[dict]) -> dict:
    from google import genai
    from google.genai import types

    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=emulator.base_url))
    prompts = [TEMPLATE.replace("{row.text}", r["text"]).replace("{row.stars}", str(r["stars"])) for r in rows]

    def one(prompt: str):
        try:
            return client.models.generate_content(model=MODEL, contents=prompt).text
        except Exception as error:  # the row is lost: a plain loop has nothing else to do with it
            return error

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, prompts))
    wall = time.perf_counter() - started
    lost = sum(1 for a in answers if isinstance(a, Exception))
    wrong = sum(1 for a, r in zip(answers, rows) if not isinstance(a, Exception) and r["text"] not in (a or ""))
    kinds = sorted({type(a).__name__ for a in answers if isinstance(a, Exception)})
    return {"wall": wall, "lost": lost, "wrong": wrong, "errors": ", ".join(kinds)}


def embed_ours(emulator: Emulator, texts: list[str], dims: int) -> dict:
    from gemini_magic import Client
    from gemini_magic.api.embeddings import embed

    client = Client(api_key=KEY, base_url=emulator.base_url)
    emulator.control("POST", "/emulator/reset", {})
    started = time.perf_counter()
    vectors = embed(client, texts, dimensions=dims)
    wall = time.perf_counter() - started
    log = emulator.control("GET", "/emulator/requests")
    return {"wall": wall, "requests": len(log), "shape": f"{vectors.shape} {vectors.dtype}", "failed": ""}


def embed_sdk(emulator: Emulator, texts: list[str], dims: int) -> dict:
    from google import genai
    from google.genai import types

    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=emulator.base_url))
    emulator.control("POST", "/emulator/reset", {})
    started = time.perf_counter()
    try:
        result = client.models.embed_content(model="gemini-embedding-001", contents=texts,
                                             config=types.EmbedContentConfig(output_dimensionality=dims))
        shape, failed = f"({len(result.embeddings)}, {len(result.embeddings[0].values)}) list", ""
    except Exception as error:
        shape, failed = "-", f"{type(error).__name__}: {str(error).splitlines()[0][:70]}"
    wall = time.perf_counter() - started
    log = emulator.control("GET", "/emulator/requests")
    return {"wall": wall, "requests": len(log), "shape": shape, "failed": failed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--rpm", type=float, default=1200)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--dims", type=int, default=768)
    args = parser.parse_args()
    rows = rows_data(args.rows)
    bound = args.rows / (args.rpm / 60)
    emulator = Emulator()
    try:
        lines = []
        for name, run in (("gemini_magic map_prompts", run_ours), ("SDK + ThreadPoolExecutor(8)", run_sdk)):
            prepare(emulator, args.rpm, args.latency)
            result = run(emulator, rows)
            sent, refused = counts(emulator)
            ratio = f"{bound / result['wall']:.2f}" if not result["lost"] else "- (rows lost)"
            lines.append([name, f"{result['wall']:.1f} s", ratio, f"{sent / args.rows:.3f}",
                          str(refused), str(result["lost"]), str(result["wrong"]), result.get("errors", "")])
        print(f"\n{args.rows} rows, {args.latency * 1000:.0f} ms latency, {args.rpm:.0f} requests/minute "
              f"(bound {bound:.1f} s)")
        print(table(["contender", "wall", "bound/wall", "requests/row", "429s", "rows lost", "wrong rows",
                     "errors"], lines))
        texts = [f"short text {i}" for i in range(args.texts)]
        lines = []
        for name, run in (("gemini_magic embed", embed_ours), ("SDK embed_content(all)", embed_sdk)):
            result = run(emulator, texts, args.dims)
            lines.append([name, f"{result['wall']:.1f} s", str(result["requests"]), result["shape"], result["failed"]])
        print(f"\nEmbeddings of {args.texts:,} short texts, {args.dims} dimensions")
        print(table(["contender", "wall", "requests", "result", "failure"], lines))
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
