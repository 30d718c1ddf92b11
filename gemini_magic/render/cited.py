"""Citation markers in an answer: `[1]`, `[2]` after each supported segment, and the numbered sources.

The spans come from `gemini_magic.answer.citations.citation_spans` (character offsets, converted from the
UTF-8 byte offsets the service sends) when that module is there, else from `byte_spans` below, a
small converter of `groundingSupports` alone. `Citations` numbers the sources in order of first use
and gives the markers that go at each character offset of the answer text.

    >>> text = "Huế mưa nhiều. 🌧️ Hà Nội ít hơn."
    >>> metadata = {"groundingChunks": [{"web": {"uri": "https://a.example", "title": "A"}}],
    ...             "groundingSupports": [{"segment": {"startIndex": 0, "endIndex": 19},
    ...                                    "groundingChunkIndices": [0]}]}
    >>> cited = Citations.of(text, metadata)
    >>> cited.insert(text, 0, markdown=False)
    'Huế mưa nhiều.[1] 🌧️ Hà Nội ít hơn.'
"""

from __future__ import annotations

from bisect import bisect_right

from ..escape import html_text, markdown_text

__all__ = ["Citations", "byte_spans", "rendered_search_html"]


def byte_spans(text: str, grounding_metadata: dict | None) -> list[tuple[int, int, list[dict]]]:
    """`[(start, end, sources)]` in characters from `groundingSupports` (UTF-8 byte offsets), each
    source `{"uri", "title"}`; used when gemini_magic.answer.citations is not there."""
    metadata = grounding_metadata or {}
    chunks = []
    for chunk in metadata.get("groundingChunks") or ():
        inner = next((v for v in chunk.values() if isinstance(v, dict)), {}) if isinstance(chunk, dict) else {}
        chunks.append({"uri": inner.get("uri"), "title": inner.get("title")})
    starts, position = [], 0
    for character in text:  # the byte offset where each character starts
        starts.append(position)
        position += len(character.encode("utf-8", "surrogatepass"))

    def chars(offset) -> int:
        return len(text) if offset >= position else bisect_right(starts, max(0, offset)) - 1

    spans = []
    for support in metadata.get("groundingSupports") or ():
        segment = support.get("segment") or {}
        try:
            start, end = int(segment.get("startIndex") or 0), int(segment.get("endIndex", position))
        except (TypeError, ValueError):
            continue
        sources = [chunks[i] for i in support.get("groundingChunkIndices") or () if isinstance(i, int)
                   and 0 <= i < len(chunks)]
        spans.append((chars(start), chars(end), sources))
    return sorted(spans, key=lambda span: (span[0], span[1]))


def _spans(text: str, grounding_metadata, citation_sources) -> list:
    try:
        from ..answer.citations import citation_spans
    except ImportError:  # the shared module is not there: groundingSupports only
        return byte_spans(text, grounding_metadata)
    return citation_spans(text, grounding_metadata, citation_sources or ())


class Citations:
    """Numbered sources (`sources`: `[{"uri", "title"}]`, number = index + 1) and the marker numbers
    at each character offset of one answer text (`marks`: `{offset: [1, 3]}`)."""

    def __init__(self, spans) -> None:
        self.sources: list[dict] = []
        self.marks: dict[int, list[int]] = {}
        numbers: dict[tuple, int] = {}
        for _start, end, sources in spans:
            for source in sources:
                key = (source.get("uri"), source.get("title"))
                if key not in numbers:
                    self.sources.append(source)
                    numbers[key] = len(self.sources)
                at = self.marks.setdefault(end, [])
                if numbers[key] not in at:
                    at.append(numbers[key])

    @classmethod
    def of(cls, text: str, grounding_metadata: dict | None = None, citation_sources=()) -> Citations:
        """The citations of an answer `text` (its text parts joined, thoughts left out)."""
        if not grounding_metadata and not citation_sources:
            return cls(())
        return cls(_spans(text, grounding_metadata, citation_sources))

    def __bool__(self) -> bool:
        return bool(self.marks)

    def marker(self, numbers: list[int], *, markdown: bool) -> str:
        """`[1][2]`; in Markdown each a link to its source when it has a web address."""
        if not markdown:
            return "".join(f"[{n}]" for n in numbers)
        pieces = []
        for n in numbers:
            uri = str(self.sources[n - 1].get("uri") or "")
            pieces.append(f"[\\[{n}\\]]({_link(uri)})" if uri.startswith(("https://", "http://")) else f"\\[{n}\\]")
        return "".join(pieces)

    def insert(self, piece: str, start: int, *, markdown: bool) -> str:
        """`piece` (the answer text from character `start` on) with the markers of the segments that end
        inside it (a segment ending at `start` itself was marked in the piece before)."""
        ends = sorted(e for e in self.marks if start < e <= start + len(piece))
        if not ends:
            return piece
        out, last = [], 0
        for end in ends:
            out.append(piece[last:end - start])
            out.append(self.marker(self.marks[end], markdown=markdown))
            last = end - start
        out.append(piece[last:])
        return "".join(out)

    def sources_markdown(self) -> str:
        """A numbered list of the sources, linked when they have a web address."""
        lines = ["**Sources**", ""]
        for n, source in enumerate(self.sources, start=1):
            uri = str(source.get("uri") or "")
            title = markdown_text(source.get("title") or uri or "source")
            lines.append(f"{n}. [{title}]({_link(uri)})" if uri.startswith(("https://", "http://")) else f"{n}. {title}")
        return "\n".join(lines)

    def sources_text(self) -> str:
        """`Sources:` then `[1] title — uri` per source."""
        lines = ["Sources:"]
        for n, source in enumerate(self.sources, start=1):
            title, uri = source.get("title") or "", source.get("uri") or ""
            lines.append(f"[{n}] " + " — ".join(str(x) for x in (title, uri) if x) if (title or uri) else f"[{n}] source")
        return "\n".join(lines)


#: The search suggestions' frame: no scripts, no same origin (so no access to the notebook page or its
#: cookies), no forms; its links (the chips) may open a new tab, as Google's display requirements ask.
SEARCH_SANDBOX = "allow-popups allow-popups-to-escape-sandbox"
SEARCH_FRAME_HEIGHT = 72  # px: the chips carousel is one row; a taller one scrolls inside the frame


def rendered_search_html(grounding_metadata: dict | None) -> str | None:
    """The search entry point's `renderedContent` (HTML and CSS the service requires showing with a
    grounded answer, https://ai.google.dev/gemini-api/docs/google-search) inside a sandboxed
    `<iframe srcdoc>`, never as live HTML in the page: whatever it holds, no script of it runs and it
    cannot reach the notebook. Links inside open in a new tab. None when there is none."""
    entry = (grounding_metadata or {}).get("searchEntryPoint") or {}
    content = entry.get("renderedContent")
    if not (isinstance(content, str) and content.strip()):
        return None
    page = '<base target="_blank">' + content
    return (f'<iframe class="gemini-search-suggestions" sandbox="{SEARCH_SANDBOX}" referrerpolicy="no-referrer" '
            f'title="Google Search suggestions" srcdoc="{html_text(page)}" '
            f'style="width:100%;height:{SEARCH_FRAME_HEIGHT}px;border:0;display:block"></iframe>')


def _link(uri: str) -> str:
    return uri.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")

