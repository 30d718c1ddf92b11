"""One candidate's answer as an ordered list of pieces: text (Markdown and plain) and media display data.

What the model makes comes in order — text, an image, more text, code and its output, a call and its
result — and the views keep that order. A piece is either

- `Text(markdown, plain)`: answer text with its citation markers, code blocks, call sections; or
- `Media(bundle, markdown, plain)`: an image (its original bytes), an audio player, the search
  suggestions; `markdown`/`plain` name it where only text can go.

`answer_pieces(response, candidate)` builds them for the final display (with citations, the exchange
of an automatic calling loop from `response.steps`, a typed answer as a table); `live_pieces` the
cheaper streaming version (no citations, a typed answer as growing formatted JSON). Thoughts are left
out (the final view shows them apart).

    pieces = answer_pieces(response, response.candidate)
    [type(p).__name__ for p in pieces]       # ['Text', 'Media', 'Text', 'Text']
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..escape import answer_markdown
from ..answer.part_kinds import fence, kind_of
from .calls import call_markdown, call_text, records_from_parts, steps_records
from .cited import Citations, rendered_search_html
from .formats import formatted
from .media import audio_bundle, image_bundle
from .typed import fields_markdown, pretty_partial_json, records_markdown, typed_view

__all__ = ["Text", "Media", "answer_pieces", "live_pieces", "join_text", "typed_error"]


@dataclass
class Text:
    markdown: str
    plain: str


@dataclass
class Media:
    bundle: dict
    markdown: str
    plain: str
    #: HTML we made (an audio player), not the service's: the explorer may put it inside its Markdown.
    ours: bool = True


def answer_pieces(response, candidate, *, output_format: str = "markdown", first: bool = True) -> list:
    """The final pieces of `candidate` (`first`: it is the response's first candidate, which carries the
    exchange of an automatic calling loop). Citation markers only for Markdown and text formats."""
    if candidate is None:
        return []
    pieces: list = []
    if first:
        pieces += _earlier_steps(response, output_format)
    typed = typed_view(response) if first and output_format in ("markdown", "json") else None
    if typed is None and first and output_format == "markdown" and _typed_json(response):
        output_format = "json"
    if typed is not None and typed[0] in ("table", "fields"):
        kind, columns, rows = typed
        table = records_markdown(columns, rows) if kind == "table" else fields_markdown(columns, rows[0])
        text = candidate.text
        parsed = _pretty_json(text)
        pieces.append(Text(table, parsed))
        return pieces
    if typed is not None and output_format == "markdown":
        output_format = "json"  # a typed answer that makes no table is still JSON: shown indented
    cited = Citations.of(candidate.text, candidate.grounding_metadata, candidate.citations) \
        if output_format in ("markdown", "text") else Citations(())
    pieces += _walk(candidate.parts, output_format, cited)
    if cited.sources:
        pieces.append(Text(cited.sources_markdown(), cited.sources_text()))
    search = rendered_search_html(candidate.grounding_metadata)
    if search is not None:
        queries = (candidate.grounding_metadata or {}).get("webSearchQueries") or ()
        label = "Google Search suggestions" + (f": {', '.join(map(str, queries))}" if queries else "")
        pieces.append(Media({"text/html": search, "text/plain": label}, "", "", ours=False))
    return pieces


def live_pieces(response, candidate, *, output_format: str = "markdown") -> list:
    """The pieces while streaming: the answer so far (a typed JSON answer formatted as it grows)."""
    if candidate is None:
        return []
    answer_type = getattr(response, "answer_type", None)
    if answer_type is not None and getattr(answer_type, "is_json", False):
        pretty = pretty_partial_json(candidate.text)
        return [Text(fence(pretty, "json"), pretty)] if pretty else []
    # Calls read as one line each while streaming: whether they run is not known yet (add_call shows it).
    return _walk(candidate.parts, output_format, Citations(()), sections=False)


def _typed_json(response) -> bool:
    answer_type = getattr(response, "answer_type", None)
    return answer_type is not None and bool(getattr(answer_type, "is_json", False))


def typed_error(response) -> str | None:
    """The one line of why `.parsed` fails for a typed JSON answer, else None."""
    typed = typed_view(response)
    return typed[1] if typed is not None and typed[0] == "error" else None


def join_text(pieces: list, *, markdown: bool) -> str:
    """The pieces as one text, media named where they are (`[image/png, 1.2 MB]`)."""
    texts = [(p.markdown if markdown else p.plain) for p in pieces]
    return "\n\n".join(t for t in texts if t)


# -- walking the parts ----------------------------------------------------------------------------------

def _walk(parts: list[dict], output_format: str, cited: Citations, calls: list[dict] | None = None,
          sections: bool = True) -> list:
    """Pieces from wire parts in order. `calls`: records that answer this turn's call parts (shown instead
    of the bare calls); `sections=False`: calls as one line each, no sections. Text parts advance the
    character offset the citation markers are placed by."""
    builder = _Builder(output_format)
    offset = 0
    group: list[dict] = []
    audio_done = False
    kinds = [kind_of(part) for part in parts]
    for index, part in enumerate(parts):
        kind = kinds[index]
        if kind.is_call and not sections:
            builder.block(kind.markdown(part), kind.text(part))
            continue
        if kind.is_call:
            group.append(part)
            if index + 1 < len(parts) and kinds[index + 1].is_call:
                continue
            records = calls if calls is not None else records_from_parts(group)
            group = []
            if records:
                builder.block("\n\n".join(call_markdown(r) for r in records), "\n".join(call_text(r) for r in records))
            continue
        if not kind.shown(part):
            continue  # thought text and thought images: the final view shows thoughts apart
        if kind.name == "text":
            text = part["text"]
            if text:
                builder.text(cited.insert(text, offset, markdown=True), cited.insert(text, offset, markdown=False))
                offset += len(text)
            continue
        if kind.name == "image":
            bundle = image_bundle(part)
            if bundle is not None:
                builder.media(Media(bundle, kind.markdown(part), kind.text(part)))
                continue
        elif kind.name == "audio":
            if not audio_done:
                audio_done = True
                bundle = _audio(parts)
                if bundle is not None:
                    builder.media(Media(bundle, f"[{bundle['text/plain'].strip('<>')}]", bundle["text/plain"]))
                    continue
            else:
                continue
        builder.block(kind.markdown(part), kind.text(part))
    return builder.done()


def _earlier_steps(response, output_format: str) -> list:
    """The model turns and tool results before the final answer, from `response.calling_steps`."""
    steps = getattr(response, "calling_steps", None)  # an Interaction has none
    if not steps:
        return []
    if steps[-1].get("kind") == "model" and steps[-1].get("response") is response:
        steps = steps[:-1]  # the answer itself is shown from its candidate
    pieces: list = []
    shown = steps_records(steps)
    for index, step in enumerate(steps):
        if step.get("kind") != "model":
            continue
        answered = index + 1 < len(steps) and steps[index + 1].get("kind") == "tool"
        calls = shown[index + 1] if answered else None
        parts = (step.get("content") or {}).get("parts") or ()
        pieces += _walk(list(parts), output_format, Citations(()), calls=calls)
    return pieces


def _audio(parts: list[dict]) -> dict | None:
    """One player for the answer's audio: PCM pieces of the same type joined into a WAV, else the first."""
    import base64

    from ..answer.media_out import is_pcm, pcm_to_wav

    blobs = [(kind.mime_type(p), kind.data(p)) for p in parts
             if (kind := kind_of(p)).name == "audio" and kind.shown(p)]
    if not blobs:
        return None
    first = blobs[0][0]
    try:
        if is_pcm(first):
            data = b"".join(base64.b64decode(data) for mime, data in blobs if mime == first)
            return audio_bundle(pcm_to_wav(data, first))
        return audio_bundle(base64.b64decode(blobs[0][1]), first.split(";")[0])
    except Exception:  # noqa: BLE001 - undecodable audio: the answer names it instead of a player
        return None


def _pretty_json(text: str) -> str:
    try:
        from ..answer.readers import json_from_text

        return json.dumps(json_from_text(text), indent=2, ensure_ascii=False, default=str)
    except ValueError:
        return text


class _Builder:
    """Joins text and blocks the way `answer_text` does, breaking the text where media come."""

    def __init__(self, output_format: str) -> None:
        self.output_format = output_format
        self.pieces: list = []
        self.md: list[str] = []
        self.plain: list[str] = []
        self.after_block = False

    def text(self, markdown: str, plain: str) -> None:
        """The model's text: its Markdown kept, its raw HTML and unsafe links neutralised (a code or
        JSON format fences it whole instead, which keeps it literal)."""
        if self.output_format == "markdown":
            markdown = answer_markdown(markdown)
        sep = "\n\n" if self.after_block else ""
        self.md.append(sep + markdown)
        self.plain.append(sep + plain)
        self.after_block = False

    def block(self, markdown: str, plain: str) -> None:
        if self.md and not self.after_block:
            last = self.plain[-1]
            sep = "" if last.endswith("\n\n") else "\n" if last.endswith("\n") else "\n\n"
        else:
            sep = "\n\n" if self.after_block else ""
        self.md.append(sep + markdown)
        self.plain.append(sep + plain)
        self.after_block = True

    def media(self, media: Media) -> None:
        self._flush()
        self.pieces.append(media)

    def _flush(self) -> None:
        if self.md:
            md, plain = "".join(self.md), "".join(self.plain)
            self.pieces.append(Text(formatted(md, self.output_format, markdown=True),
                                    formatted(plain, self.output_format, markdown=False)))
        self.md, self.plain, self.after_block = [], [], False

    def done(self) -> list:
        self._flush()
        return self.pieces
