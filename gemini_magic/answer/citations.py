"""Citations over an answer's text, in characters: where each grounded or cited stretch starts and ends.

The service places citations by UTF-8 **byte** offsets (`groundingSupports[].segment.startIndex/endIndex`
and `citationMetadata.citationSources[].startIndex/endIndex`), counted over the answer text (its text
parts joined, thoughts left out). Used as str indices they drift on any non-ASCII answer: "Huế" is 3
characters and 4 bytes. This module turns them into character offsets.

    >>> text = "Huế ở miền Trung. Hà Nội ở miền Bắc."
    >>> metadata = {"groundingChunks": [{"web": {"uri": "https://a.example", "title": "A"}}],
    ...             "groundingSupports": [{"segment": {"startIndex": 0, "endIndex": 23,
    ...                                                "text": "Huế ở miền Trung."},
    ...                                    "groundingChunkIndices": [0]}]}
    >>> spans = citation_spans(text, metadata)
    >>> spans
    [(0, 17, [{'uri': 'https://a.example', 'title': 'A'}])]
    >>> text[spans[0][0]:spans[0][1]]
    'Huế ở miền Trung.'

Pure: no I/O, no imports from the rest of the package.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Iterable

__all__ = ["citation_spans", "grounding_sources", "ByteOffsets"]


class ByteOffsets:
    """Character offsets of UTF-8 byte offsets into one text (a table built once, O(log n) a look-up).

    `chars(b)` is the character that byte `b` falls in (a byte inside a multi-byte character counts as
    that character's start; offsets past the end give `len(text)`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.ascii = text.isascii()
        self._starts: list[int] = []
        if not self.ascii:
            position = 0
            for character in text:  # byte offset where each character starts
                self._starts.append(position)
                position += len(character.encode("utf-8", "surrogatepass"))
            self._length = position
        else:
            self._length = len(text)

    @property
    def byte_length(self) -> int:
        return self._length

    def chars(self, offset: int) -> int:
        offset = max(0, int(offset))
        if self.ascii:
            return min(offset, len(self.text))
        if offset >= self._length:
            return len(self.text)
        return bisect_right(self._starts, offset) - 1


def grounding_sources(metadata: dict | None) -> list[dict]:
    """`groundingChunks` as sources `{"uri", "title"}` in their order (web, maps, retrieved context;
    a missing field is None)."""
    sources = []
    for chunk in (metadata or {}).get("groundingChunks") or ():
        inner = next((value for value in chunk.values() if isinstance(value, dict)), {}) if isinstance(chunk, dict) else {}
        title = inner.get("title")
        if title is None and inner.get("fileSearchStore"):
            title = inner["fileSearchStore"]
        sources.append({"uri": inner.get("uri"), "title": title})
    return sources


def citation_spans(text: str, grounding_metadata: dict | None = None,
                   citation_sources: Iterable[dict] = ()) -> list[tuple[int, int, list[dict]]]:
    """`[(start, end, sources)]` over `text` in characters, sorted by position: one per grounding
    support (its sources from `groundingChunkIndices`) and one per citationMetadata source that has
    offsets (its `uri`, `title`, and `license` when given). `text` must be the answer text the
    offsets were counted over (`Response.text`).

    A segment whose byte slice does not match its `text` (a service that counted characters, say) is
    placed where its text occurs nearest the given offset; a segment that is not in `text` at all is
    left out rather than placed wrongly."""
    offsets = ByteOffsets(text)
    spans: list[tuple[int, int, list[dict]]] = []
    metadata = grounding_metadata or {}
    chunks = grounding_sources(metadata)
    for support in metadata.get("groundingSupports") or ():
        segment = support.get("segment") or {}
        placed = _place(text, offsets, segment.get("startIndex", 0), segment.get("endIndex"), segment.get("text"))
        if placed is None:
            continue
        indices = support.get("groundingChunkIndices") or ()
        sources = [dict(chunks[i]) for i in indices if isinstance(i, int) and 0 <= i < len(chunks)]
        spans.append((placed[0], placed[1], sources))
    for source in citation_sources or ():
        if "endIndex" not in source:
            continue
        placed = _place(text, offsets, source.get("startIndex", 0), source.get("endIndex"), None)
        if placed is None:
            continue
        cited = {"uri": source.get("uri"), "title": source.get("title")}
        if source.get("license"):
            cited["license"] = source["license"]
        spans.append((placed[0], placed[1], [cited]))
    spans.sort(key=lambda span: (span[0], span[1]))
    return spans


def _place(text: str, offsets: ByteOffsets, start: Any, end: Any, expected: str | None) -> tuple[int, int] | None:
    try:
        start = int(start or 0)
        end = offsets.byte_length if end is None else int(end)
    except (TypeError, ValueError):
        return None
    if end < start:
        return None
    first, last = offsets.chars(start), offsets.chars(end)
    if not expected or text[first:last] == expected:
        return first, last
    # The slice does not hold the segment's text: find the occurrence nearest to where it was said to be.
    found, best = text.find(expected), None
    while found != -1:
        if best is None or abs(found - first) < abs(best - first):
            best = found
        found = text.find(expected, found + 1)
    return None if best is None else (best, best + len(expected))
