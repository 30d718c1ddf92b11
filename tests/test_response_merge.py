"""Response merging against a plain oracle, at every step; costs that stay linear; close(); Chunk."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import all_recordings
from gemini_magic.errors import GeminiError
from gemini_magic.answer.response import Chunk, Response

TEXT_KEYS = {"text", "thought", "thoughtSignature"}


def oracle_parts(parts: list[dict]) -> list[dict]:
    """The merging rules of response.py, written the simple way (join on every step)."""
    merged: list[dict] = []
    open_text = False
    for part in parts:
        mergeable = "text" in part and part.keys() <= TEXT_KEYS
        if (mergeable and open_text and "thoughtSignature" not in part
                and bool(part.get("thought")) == bool(merged[-1].get("thought"))):
            merged[-1]["text"] += part["text"]
            continue
        merged.append(dict(part))
        open_text = mergeable
    return merged


def oracle_text(parts: list[dict], thought: bool = False) -> str:
    return "".join(p["text"] for p in oracle_parts(parts) if "text" in p and bool(p.get("thought")) == thought)


PART = st.one_of(
    st.builds(lambda t: {"text": t}, st.text(max_size=6)),
    st.builds(lambda t: {"text": t, "thought": True}, st.text(max_size=6)),
    st.builds(lambda t, s: {"text": t, "thoughtSignature": s}, st.text(max_size=4), st.sampled_from(["c2ln", "AAA="])),
    st.builds(lambda t: {"thought": True, "text": t, "thoughtSignature": "dGg="}, st.text(max_size=4)),
    st.just({"functionCall": {"name": "f", "args": {"x": 1}}}),
    st.builds(lambda t: {"text": t, "videoMetadata": {"fps": 1}}, st.text(max_size=4)),  # text, but not merged
    st.just({"inlineData": {"mimeType": "image/png", "data": "iVBO"}}),
)
CHUNKS = st.lists(st.lists(PART, max_size=3), max_size=25)


def chunk_of(parts: list[dict], index: int = 0) -> dict:
    return {"candidates": [{"content": {"parts": parts, "role": "model"}, "index": index}]}


@settings(max_examples=300, deadline=None)
@given(CHUNKS, st.lists(st.sampled_from(["text", "thoughts", "parts", "none"]), min_size=25, max_size=25),
       st.booleans())
def test_merging_matches_the_oracle_at_every_step(chunks, reads, received):
    response = Response(streamed=True)
    seen: list[dict] = []
    for parts, read in zip(chunks, reads):
        chunk = chunk_of(parts)
        if received:
            response.add_received(chunk, json.dumps(chunk).encode())
        else:
            response.add(chunk)
        seen += parts
        if read == "text":
            assert response.text == oracle_text(seen)
        elif read == "thoughts":
            assert response.thoughts == oracle_text(seen, thought=True)
        elif read == "parts":
            assert response.parts == oracle_parts(seen)
    assert response.parts == oracle_parts(seen)
    assert response.text == oracle_text(seen)
    assert response.thoughts == oracle_text(seen, thought=True)
    assert response.to_content() == {"role": "model", "parts": oracle_parts(seen)}
    assert response.raw == [chunk_of(parts) for parts in chunks]


def test_parts_are_copies_and_the_open_text_part_keeps_growing():
    response = Response(streamed=True)
    response.add({"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]})
    first = response.parts
    first[0]["text"] = "changed"
    response.add({"candidates": [{"content": {"parts": [{"text": "lo"}]}}]})
    assert response.parts == [{"text": "Hello"}] and response.text == "Hello"


def test_eight_candidates_each_keep_their_own_text_and_the_lowest_index_is_first():
    response = Response(streamed=True)
    for step in range(3):
        response.add({"candidates": [{"content": {"parts": [{"text": f"{i}{step}"}]}, "index": i}
                                     for i in (5, 3, 7, 4, 6, 9, 8, 10)]})
    assert response.candidate.index == 3
    assert response.text == "303132"
    assert [c.text for c in response.candidates][-1] == "100101102"


def per_chunk_cost(count: int, make_chunk, read) -> float:
    """Best of three: CPU seconds per chunk to add `count` chunks, calling `read` after each."""
    best = float("inf")
    for _ in range(3):
        response = Response(streamed=True)
        started = time.process_time()
        for i in range(count):
            chunk = make_chunk(i)
            response.add_received(chunk, b"{}")
            read(response)
        best = min(best, (time.process_time() - started) / count)
    return best


def test_reading_the_text_so_far_on_every_chunk_costs_the_same_per_chunk_at_any_length():
    # Joining every piece on each read made the 8x longer stream cost about 8x more per chunk.
    make = lambda i: chunk_of([{"text": "0123456789"}])  # noqa: E731
    short = per_chunk_cost(20_000, make, lambda r: len(r.text))
    long = per_chunk_cost(160_000, make, lambda r: len(r.text))
    assert long < 3 * short, (short, long)


def test_reading_thoughts_so_far_on_every_chunk_stays_flat_too():
    make = lambda i: chunk_of([{"text": "0123456789", "thought": True}])  # noqa: E731
    short = per_chunk_cost(5_000, make, lambda r: len(r.thoughts))
    long = per_chunk_cost(80_000, make, lambda r: len(r.thoughts))
    assert long < 3 * short, (short, long)


def test_citations_on_every_chunk_merge_in_linear_time_in_order_and_once():
    def make(i):
        sources = [{"startIndex": 10 * i, "endIndex": 10 * i + 10, "uri": f"https://example.com/{i}"}]
        if i:
            sources.insert(0, {"uri": f"https://example.com/{i - 1}", "endIndex": 10 * i, "startIndex": 10 * i - 10})
        chunk = chunk_of([{"text": "x"}])
        chunk["candidates"][0]["citationMetadata"] = {"citationSources": sources}
        return chunk

    # A list-membership check made this quadratic: about 1.8 s for 8,000 chunks.
    short = per_chunk_cost(1_000, make, lambda r: None)
    long = per_chunk_cost(8_000, make, lambda r: None)
    assert long < 3 * short, (short, long)
    response = Response([make(i) for i in range(5)])
    assert [c["uri"] for c in response.citation_sources] == [f"https://example.com/{i}" for i in range(5)]


def test_citation_sources_with_nested_values_are_deduplicated_too():
    source = {"uri": "https://a", "publicationDate": {"year": 2024, "month": 1}, "title": "A"}
    chunk = chunk_of([{"text": "x"}])
    chunk["candidates"][0]["citationMetadata"] = {"citationSources": [source, dict(source), {"uri": "https://b"}]}
    response = Response([chunk, chunk])
    assert response.citation_sources == [source, {"uri": "https://b"}]


def test_citation_sources_whose_hashes_collide_are_still_compared(monkeypatch):
    import gemini_magic.answer.candidate as candidate_module

    monkeypatch.setattr(candidate_module, "_citation_hash", lambda source: 7)  # every source collides
    sources = [{"uri": "https://a"}, {"uri": "https://b"}, {"uri": "https://a"}, {"uri": "https://c"},
               {"uri": "https://b"}]
    chunk = chunk_of([{"text": "x"}])
    chunk["candidates"][0]["citationMetadata"] = {"citationSources": sources}
    assert [c["uri"] for c in Response([chunk]).citation_sources] == ["https://a", "https://b", "https://c"]


def test_raw_keeps_every_chunk_exactly_in_order_whichever_way_it_was_added():
    chunks = [chunk_of([{"text": f"piece {i} Zażółć 🙂"}]) for i in range(6)]
    response = Response(chunks[:1], streamed=True)
    response.add_received(chunks[1], json.dumps(chunks[1], ensure_ascii=False).encode())
    response.add(chunks[2])
    assert response.raw == chunks[:3]  # read half-way: later chunks are parsed on the next read
    response.add_received(chunks[3], json.dumps(chunks[3], indent=2).encode())
    response.add_received(chunks[4], json.dumps(chunks[4]).encode())
    response.add(chunks[5])
    assert response.raw == chunks and response.chunk_count == 6
    assert response.raw[1] is response.raw[1]  # parsed once, then kept


def test_a_long_stream_keeps_its_raw_bytes_and_text_and_little_else():
    # One bytes object and one text piece kept per chunk cost about 2.3 times the payload.
    import tracemalloc

    response = Response(streamed=True)
    count = 20_000
    payload = 0
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(count):
            data = json.dumps(chunk_of([{"text": f"{i:09d} "}])).encode()  # new bytes, as a stream reads
            response.add_received(json.loads(data), data)
            payload += len(data) + 10
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 1.5 * payload, (kept, payload)
    assert response.chunk_count == count and len(response.text) == 10 * count
    assert response.raw[-1] == chunk_of([{"text": f"{count - 1:09d} "}])


def test_close_is_the_one_commit_point():
    response = Response(streamed=True)
    response.add_received(chunk_of([{"text": "Hi"}]), b'{"candidates": [{"content": {"parts": [{"text": "Hi"}]}}]}')
    assert not response.closed
    error = GeminiError("The connection dropped.")
    response.close(error=error, elapsed=1.5)
    assert response.closed and response.error is error and response.elapsed == 1.5
    assert not response.interrupted and response.incomplete and response.text == "Hi"
    with pytest.raises(GeminiError, match="closed"):
        response.add(chunk_of([{"text": "!"}]))
    with pytest.raises(GeminiError, match="closed"):
        response.add_received(chunk_of([{"text": "!"}]), b"{}")
    with pytest.raises(GeminiError, match="already closed"):
        response.close()
    assert response.text == "Hi" and response.chunk_count == 1


def test_close_after_an_interrupt_and_after_completion():
    interrupted = Response(streamed=True)
    interrupted.close(interrupted=True)
    assert interrupted.interrupted and interrupted.incomplete and interrupted.error is None
    done = Response(streamed=True)
    done.add(chunk_of([{"text": "ok"}]))
    done.elapsed = 0.25  # still settable, as before
    done.close()
    assert done.closed and done.elapsed == 0.25 and not done.interrupted and done.error is None


def test_chunk_gives_its_own_text_thoughts_raw_and_the_whole_answer():
    whole = Response(streamed=True, model="gemini-2.5-flash")
    data = {"candidates": [{"content": {"parts": [{"text": "think", "thought": True}, {"text": "Hi"},
                                                  {"functionCall": {"name": "f", "args": {}}}]},
                            "finishReason": "STOP"}],
            "usageMetadata": {"totalTokenCount": 4}}
    whole.add(data)
    chunk = Chunk(data, whole)
    assert (chunk.text, chunk.thoughts, chunk.raw, chunk.response) == ("Hi", "think", data, whole)
    # anything else is read from a Response of this chunk alone
    assert chunk.finish_reason == "STOP" and chunk.usage == {"totalTokenCount": 4}
    assert chunk.function_calls == [{"name": "f", "args": {}}] and chunk.model == "gemini-2.5-flash"
    assert repr(chunk) == "<Chunk text='Hi'>"
    with pytest.raises(AttributeError):
        chunk.no_such_attribute  # noqa: B018


@pytest.mark.parametrize("path", all_recordings(".sse"), ids=lambda p: p.name)
def test_chunk_text_is_what_a_one_chunk_response_gives_on_every_recording(path):
    text = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
    events = [json.loads(block[len("data: "):]) for block in text.split("\n\n") if block.startswith("data: ")]
    assert events
    for event in events:
        alone = Response([event])
        assert Chunk(event).text == alone.text
        assert Chunk(event).thoughts == alone.thoughts
