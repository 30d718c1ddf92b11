"""Citations in characters: groundingSupports and citationMetadata place them by UTF-8 byte offsets, and
`Response.citations` gives `(start, end, sources)` over `.text` so that `text[start:end]` is the segment,
for Vietnamese and emoji answers too. Every shared grounding recording is decoded and checked."""

from __future__ import annotations

import json

import pytest

from gemini_magic.answer.citations import ByteOffsets, citation_spans, grounding_sources
from gemini_magic.answer.response import Response

try:
    from .conftest import all_recordings, recording
except ImportError:
    from conftest import all_recordings, recording

SOURCES = [{"web": {"uri": "https://a.example/hue", "title": "Huế"}},
           {"web": {"uri": "https://b.example/mua", "title": "Mùa mưa"}}]


def supports_for(text: str, segments: list[tuple[str, list[int]]]) -> dict:
    """groundingMetadata whose supports point at each segment's UTF-8 byte range in `text`."""
    data = text.encode()
    supports = []
    for segment, indices in segments:
        start = data.index(segment.encode())
        entry = {"endIndex": start + len(segment.encode()), "text": segment}
        if start:
            entry["startIndex"] = start  # proto JSON leaves 0 out
        supports.append({"segment": entry, "groundingChunkIndices": indices})
    return {"groundingChunks": SOURCES, "groundingSupports": supports}


def test_vietnamese_and_emoji_segments_land_on_their_characters():
    text = "Huế là cố đô 🏯 của Việt Nam. Mùa mưa ở Huế kéo dài 🌧️ từ tháng Chín."
    segments = [("Huế là cố đô 🏯 của Việt Nam.", [0]), ("Mùa mưa ở Huế kéo dài 🌧️ từ tháng Chín.", [1, 0])]
    spans = citation_spans(text, supports_for(text, segments))
    assert [text[start:end] for start, end, _ in spans] == [segment for segment, _ in segments]
    assert spans[1][2] == [{"uri": "https://b.example/mua", "title": "Mùa mưa"},
                           {"uri": "https://a.example/hue", "title": "Huế"}]
    # the same offsets used as str indices would be wrong: that is what this module is for
    byte_end = len(segments[0][0].encode())
    assert text[:byte_end] != segments[0][0]


def test_ascii_text_uses_offsets_as_they_are():
    text = "The sky is blue. Grass is green."
    spans = citation_spans(text, supports_for(text, [("Grass is green.", [1])]))
    assert spans == [(17, 32, [{"uri": "https://b.example/mua", "title": "Mùa mưa"}])]


def test_byte_offsets_inside_a_character_and_past_the_end():
    offsets = ByteOffsets("aế😀b")  # bytes: a=0, ế=1..3, 😀=4..7, b=8
    assert [offsets.chars(b) for b in (0, 1, 2, 3, 4, 7, 8, 9, 100)] == [0, 1, 1, 1, 2, 2, 3, 4, 4]
    assert offsets.byte_length == 9


def test_a_segment_counted_in_characters_is_found_where_its_text_is():
    text = "Đà Lạt mát mẻ. Đà Lạt có nhiều hoa."
    start = text.index("Đà Lạt có")  # character offsets, as a service that got it wrong would send
    metadata = {"groundingChunks": SOURCES, "groundingSupports": [
        {"segment": {"startIndex": start, "endIndex": len(text), "text": "Đà Lạt có nhiều hoa."},
         "groundingChunkIndices": [0]}]}
    (begin, end, _), = citation_spans(text, metadata)
    assert text[begin:end] == "Đà Lạt có nhiều hoa."


def test_a_segment_not_in_the_text_is_left_out_and_bad_chunk_indices_are_skipped():
    text = "Một câu."
    metadata = {"groundingChunks": SOURCES[:1], "groundingSupports": [
        {"segment": {"endIndex": 5, "text": "không có"}, "groundingChunkIndices": [0]},
        {"segment": {"endIndex": len(text.encode()), "text": text}, "groundingChunkIndices": [0, 7, -1]}]}
    assert citation_spans(text, metadata) == [(0, 8, [{"uri": "https://a.example/hue", "title": "Huế"}])]


def test_citation_metadata_sources_become_spans_too():
    text = "Xin chào thế giới, đây là một đoạn trích."
    quoted = "đây là một đoạn trích"
    start = text.encode().index(quoted.encode())
    sources = [{"startIndex": start, "endIndex": start + len(quoted.encode()), "uri": "https://c.example",
                "license": "mit"}, {"uri": "https://no-offsets.example"}]
    assert citation_spans(text, None, sources) == [
        (text.index(quoted), text.index(quoted) + len(quoted),
         [{"uri": "https://c.example", "title": None, "license": "mit"}])]


def test_grounding_sources_of_every_kind():
    metadata = {"groundingChunks": [
        {"web": {"uri": "https://w", "title": "W"}},
        {"maps": {"uri": "https://m", "title": "M", "placeId": "p"}},
        {"retrievedContext": {"text": "...", "fileSearchStore": "fileSearchStores/x"}}]}
    assert grounding_sources(metadata) == [{"uri": "https://w", "title": "W"}, {"uri": "https://m", "title": "M"},
                                           {"uri": None, "title": "fileSearchStores/x"}]
    assert grounding_sources(None) == []


def test_response_citations_over_streamed_text():
    text = "Phở là món ăn 🍜 nổi tiếng. Nó có nước dùng thơm."
    metadata = supports_for(text, [("Nó có nước dùng thơm.", [0])])
    pieces = [text[:5], text[5:17], text[17:]]
    chunks = [{"candidates": [{"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}]}
              for piece in pieces]
    chunks[-1]["candidates"][0].update(finishReason="STOP", groundingMetadata=metadata)
    response = Response(chunks, streamed=True)
    (start, end, sources), = response.citations
    assert response.text[start:end] == "Nó có nước dùng thơm." and sources[0]["title"] == "Huế"
    assert response.citation_sources == []


def _segments(metadata: dict) -> list[str]:
    return [support["segment"]["text"] for support in metadata.get("groundingSupports") or ()]


@pytest.mark.parametrize("path", [p for p in all_recordings(".json", ".sse") if p.parent.name == "grounding"],
                         ids=lambda p: p.name)
def test_every_grounding_recording_places_its_citations(client, emulator, path):
    stream = path.suffix == ".sse"
    emulator.replay(path.read_bytes(), content_type="text/event-stream" if stream else "application/json",
                    match="stream" if stream else "generate")
    model = "gemini-2.5-flash"
    response = (client.stream(model, "hi", tools=["google_search"]).until_done() if stream
                else client.generate(model, "hi", tools=["google_search"]))
    metadata = response.grounding_metadata
    segments = _segments(metadata)
    assert segments, "the recording has grounding supports"
    assert [response.text[start:end] for start, end, _ in response.citations] == segments
    assert all(source["uri"] or source["title"] for _, _, sources in response.citations for source in sources)
    assert emulator.requests[-1].json["tools"] == [{"googleSearch": {}}]


def test_every_grounding_recording_is_here():
    names = {p.name for p in all_recordings(".json", ".sse") if p.parent.name == "grounding"}
    if not names:
        recording("grounding/fb_unary-google-search.json")  # skips when the recordings are not beside us
    assert {"fb_unary-google-search.json", "fb_stream_url-context.sse"} <= names


def test_emulator_search_answer_in_vietnamese(client):
    response = client.generate("gemini-2.5-flash", "Mùa mưa ở Huế?", tools=["google_search"])
    assert len(response.citations) == 3
    texts = [response.text[start:end] for start, end, _ in response.citations]
    assert texts == _segments(response.grounding_metadata)
    assert "🌧️" in texts[1] and texts[1].startswith("Mùa mưa")
    assert [source["uri"] for source in response.citations[1][2]] == [
        "https://example.org/vi/hue/thoi-tiet", "https://example.org/vi/hue/co-do"]


def test_emulator_search_answer_streamed(client):
    response = client.stream("gemini-3-flash-preview", "Mùa mưa ở Huế?", tools=["url_context", "google_search"]).until_done()
    texts = [response.text[start:end] for start, end, _ in response.citations]
    assert texts and texts == _segments(response.grounding_metadata)
    assert json.dumps(response.request["tools"]) == json.dumps([{"urlContext": {}}, {"googleSearch": {}}])
