"""`Candidate`: one candidate answer of a `Response`, merged part by part as chunks arrive.

The merging rules are in response.py's docstring: consecutive text parts of the same kind are joined
(a `thoughtSignature` starts a new part), every other part is kept in order, citation sources are
kept once each, looked up by hash.
"""

from __future__ import annotations

import json

_TEXT_KEYS = {"text", "thought", "thoughtSignature"}


class Candidate:
    """One candidate answer (`-n 2` asks for several); `Response` shows the first."""

    # Defaults live on the class so that creating a candidate stays cheap.
    role = "model"
    finish_reason: str | None = None
    finish_message: str | None = None
    grounding_metadata: dict | None = None
    url_context_metadata: dict | None = None
    avg_logprobs: float | None = None
    logprobs_result: dict | None = None
    _open_start: int | None = None  # where the open (last, still growing) text part starts in its buffer
    _open_thought = False  # whether that open text part is a thought

    def __init__(self, index: int) -> None:
        self.index = index
        self.safety_ratings: list[dict] = []
        self.citations: list[dict] = []
        self._citation_index: dict = {}  # hash of a source -> its position in citations (a list on collision)
        # Part dicts in order. The open text part's "text" is stale: its text is the tail of
        # _answer or _thoughts from _open_start, filled in when the part is sealed or copied out.
        self._parts: list[dict] = []
        self._answer = ""  # every answer text piece so far, joined (extended in place)
        self._thoughts = ""  # every thought text piece so far, joined

    def _absorb(self, data: dict) -> None:
        # One pass over the keys that are there: this runs once per streamed chunk.
        for key, value in data.items():
            if key == "content":
                self.role = value.get("role", self.role)
                for part in value.get("parts") or ():
                    if len(part) == 1 and self._open_start is not None and not self._open_thought and "text" in part:
                        # The usual streamed piece, continuing the answer: extended in place, as in _extend.
                        text, self._answer = self._answer, ""
                        text += part["text"]
                        self._answer = text
                    else:
                        self._add_part(part)
            elif key == "index":
                continue
            elif key == "finishReason":
                self.finish_reason = value or self.finish_reason
            elif key == "finishMessage":
                self.finish_message = value
            elif key == "safetyRatings":
                self.safety_ratings = list(value)
            elif key == "citationMetadata":
                self._add_citations((value or {}).get("citationSources") or ())
            elif key == "groundingMetadata":
                if value or self.grounding_metadata is None:  # the first chunk may carry an empty {}
                    self.grounding_metadata = value
            elif key == "urlContextMetadata":
                self.url_context_metadata = value
            elif key == "avgLogprobs":
                self.avg_logprobs = value
            elif key == "logprobsResult":
                self.logprobs_result = value

    def _add_citations(self, sources) -> None:
        # Equal (==) sources are kept once, as a list-membership test would, but found by hash.
        index, citations = self._citation_index, self.citations
        for source in sources:
            key = _citation_hash(source)
            found = index.get(key)
            if found is None:
                index[key] = len(citations)
            elif isinstance(found, int):
                if citations[found] == source:
                    continue
                index[key] = [found, len(citations)]
            elif any(citations[i] == source for i in found):
                continue
            else:
                found.append(len(citations))
            citations.append(source)

    def _add_part(self, part: dict) -> None:
        if "text" not in part:
            self._seal()
            self._parts.append(dict(part))
            return
        if len(part) == 1 and self._open_start is not None and not self._open_thought:
            # The usual streamed piece, continuing the answer: extended in place, as in _extend.
            text, self._answer = self._answer, ""
            text += part["text"]
            self._answer = text
            return
        thought = bool(part.get("thought"))
        mergeable = len(part) == 1 or part.keys() <= _TEXT_KEYS
        if (mergeable and self._open_start is not None and thought == self._open_thought
                and "thoughtSignature" not in part):
            self._extend(part["text"], thought)
            return
        self._seal()
        self._parts.append(dict(part))
        if mergeable:
            self._open_start = len(self._thoughts if thought else self._answer)
            self._open_thought = thought
        self._extend(part["text"], thought)

    def _extend(self, piece: str, thought: bool) -> None:
        # The attribute is cleared first so that the local is the only reference and `+=` can
        # resize the string in place (CPython), which keeps reading the text so far O(new text).
        if thought:
            text, self._thoughts = self._thoughts, ""
            text += piece
            self._thoughts = text
        else:
            text, self._answer = self._answer, ""
            text += piece
            self._answer = text

    def _open_text(self) -> str:
        return (self._thoughts if self._open_thought else self._answer)[self._open_start:]

    def _seal(self) -> None:
        if self._open_start is not None:
            self._parts[-1]["text"] = self._open_text()
            self._open_start = None

    @property
    def parts(self) -> list[dict]:
        """The merged parts, in order (copies: changing them does not change the response)."""
        parts = [dict(p) for p in self._parts]
        if self._open_start is not None:
            parts[-1]["text"] = self._open_text()
        return parts

    @property
    def text(self) -> str:
        """The answer text, thoughts excluded; "" when there is none."""
        return self._answer

    @property
    def thoughts(self) -> str:
        """Thought summaries (asked for with includeThoughts), joined; "" when there are none."""
        return self._thoughts

    @property
    def function_calls(self) -> list[dict]:
        return [p["functionCall"] for p in self._parts if "functionCall" in p]

    def to_content(self) -> dict:
        """This candidate as a Content for the next turn's history (signatures kept)."""
        return {"role": "model", "parts": self.parts}

    def __repr__(self) -> str:
        return f"<Candidate {self.index} finish_reason={self.finish_reason} text={short(self.text)!r}>"


def _citation_hash(source: dict) -> int:
    """A hash equal for equal (==) citation sources, whatever their key order."""
    try:
        return hash(frozenset(source.items()))
    except TypeError:  # a nested value (publicationDate is a dict)
        return hash(json.dumps(source, sort_keys=True, default=repr))


def short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
