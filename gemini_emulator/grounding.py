"""Grounded answers (``googleSearch``, ``urlContext``, ``googleMaps``): a fixed non-ASCII answer with sources.

Nothing is searched or fetched. The answer is a line naming the emulator, then three Vietnamese
sentences (diacritics, and one emoji) so that citation offsets are put to the test. Its
``groundingMetadata`` is shaped like recordings/grounding/fb_unary-google-search.json:

* ``webSearchQueries``: the prompt's first words (Google Search only);
* ``searchEntryPoint.renderedContent``: a small HTML chip linking the query (Google Search only);
* ``groundingChunks``: ``{"web": {"uri", "title"}}`` per source, fake but plausible
  ``https://example.org/...`` addresses (``{"maps": {"uri", "title", "placeId"}}`` for Google Maps;
  with URL context the prompt's own URLs are the sources, never fetched);
* ``groundingSupports``: one per Vietnamese sentence, ``{"segment": {"startIndex", "endIndex",
  "text"}, "groundingChunkIndices", "confidenceScores"}``, where the indices are UTF-8 **byte**
  offsets into the answer text (``startIndex`` left out when 0, as proto JSON does), so
  ``text.encode()[startIndex:endIndex].decode() == segment["text"]``.

With URL context the candidate also carries ``urlContextMetadata.urlMetadata[] {retrievedUrl,
urlRetrievalStatus: "URL_RETRIEVAL_STATUS_SUCCESS"}``, and streamed chunks before the last carry an
empty ``groundingMetadata: {}``, as recorded (fb_stream_url-context.sse).

The Interactions API carries the same citations as ``url_citation`` annotations on the text
(``annotations``), also in UTF-8 bytes (recordings/interactions/vercel_google-search.chunks.txt).
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote_plus, urlsplit

from gemini_magic.constants import EMULATOR_MARKER

SENTENCES = (
    "Huế là cố đô của Việt Nam, nằm bên bờ sông Hương.",
    "Mùa mưa ở Huế kéo dài từ tháng Chín đến tháng Mười Hai 🌧️.",
    "Bún bò Huế và cơm hến là những món ăn nổi tiếng nhất của thành phố.",
)
SOURCES = (
    ("https://example.org/vi/hue/co-do", "example.org"),
    ("https://example.org/vi/hue/thoi-tiet", "Thời tiết Huế – example.org"),
    ("https://example.org/vi/hue/am-thuc", "Ẩm thực Huế – example.org"),
)
SUPPORTS = ((0,), (1, 0), (2,))  # groundingChunkIndices per sentence
CONFIDENCE = (0.91, 0.87, 0.78)
QUERY_WORDS = 8
URL = re.compile(r"https?://[^\s<>\"')\]]+")


def answer_text(prompt: str) -> str:
    return (f"{EMULATOR_MARKER} A grounded answer from the local emulator: nothing was searched or "
            "fetched, and the sources are made up.\n\n" + " ".join(SENTENCES) + "\n")


def query(prompt: str) -> str:
    words = prompt.split()[:QUERY_WORDS]
    return " ".join(words) or "Huế"


def entry_point(search: str) -> dict:
    link = f"https://example.org/search?q={quote_plus(search)}"
    rendered = ('<style>\n.container { display: flex; }\n.chip { display: inline-block; border: solid 1px; '
                'border-radius: 16px; padding: 5px 16px; }\n</style>\n<div class="container">\n  '
                f'<div class="carousel">\n    <a class="chip" href="{html.escape(link)}">{html.escape(search)}</a>\n'
                "  </div>\n</div>\n")
    return {"renderedContent": rendered}


def sources(built_in: list, prompt: str) -> list[dict]:
    """The groundingChunks: fake web pages, the prompt's URLs (URL context) or places (Maps)."""
    if "google_maps" in built_in and "google_search" not in built_in:
        return [{"maps": {"uri": f"https://example.org/maps/place/{n}", "title": title.split(" – ")[0],
                          "placeId": f"places/emulator-{n}"}} for n, (_, title) in enumerate(SOURCES)]
    urls = URL.findall(prompt) if "url_context" in built_in else []
    chunks = [{"web": {"uri": url, "title": urlsplit(url).hostname or url}} for url in urls[:len(SOURCES)]]
    for uri, title in SOURCES[len(chunks):]:
        chunks.append({"web": {"uri": uri, "title": title}})
    return chunks


def supports(text: str) -> list[dict]:
    """One support per Vietnamese sentence, its segment located by UTF-8 byte offsets in ``text``."""
    data = text.encode("utf-8")
    found = []
    for number, sentence in enumerate(SENTENCES):
        start = data.find(sentence.encode("utf-8"))
        if start < 0:  # cut off (max_output_tokens): nothing to support
            continue
        segment = {"startIndex": start, "endIndex": start + len(sentence.encode("utf-8")), "text": sentence}
        if start == 0:
            del segment["startIndex"]
        found.append({"segment": segment, "groundingChunkIndices": list(SUPPORTS[number]),
                      "confidenceScores": [CONFIDENCE[number]] * len(SUPPORTS[number])})
    return found


def metadata(built_in: list, prompt: str, text: str) -> dict:
    """The full groundingMetadata of the answer ``text`` (see the module docstring for its keys)."""
    found: dict = {}
    if "google_search" in built_in:
        found["searchEntryPoint"] = entry_point(query(prompt))
    found["groundingChunks"] = sources(built_in, prompt)
    found["groundingSupports"] = supports(text)
    if "google_search" in built_in:
        found["webSearchQueries"] = [query(prompt)]
    return found


def url_metadata(built_in: list, prompt: str) -> dict | None:
    """``urlContextMetadata`` for URL context: every URL of the prompt, reported as retrieved."""
    if "url_context" not in built_in:
        return None
    return {"urlMetadata": [{"retrievedUrl": url, "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"}
                            for url in URL.findall(prompt)]}


def annotations(built_in: list, prompt: str, text: str) -> list[dict]:
    """Interactions API ``url_citation`` annotations: one per (supported segment, source), byte offsets."""
    chunks = sources(built_in, prompt)
    found = []
    for support in supports(text):
        segment = support["segment"]
        for index in support["groundingChunkIndices"]:
            source = chunks[index].get("web") or chunks[index].get("maps") or {}
            found.append({"start_index": segment.get("startIndex", 0), "end_index": segment["endIndex"],
                          "url": source.get("uri", ""), "title": source.get("title", ""), "type": "url_citation"})
    return found


def grounds(built_in: list) -> bool:
    return any(kind in built_in for kind in ("google_search", "url_context", "google_maps"))
