"""The one table of part kinds: what each kind of wire part is called and how it reads as text.

Pure (standard library only) and below both the converters (`parts/describe.py`, the dry run's
descriptions) and the views (`render/`), so that every place that shows a part asks the same table.
Each kind gives, for one wire part:

- `label`: its name for people ("text", "thought", "image", "function call", ...);
- `summary(part)`: one line of what it holds ("12 characters: 'Hello world!'", "image/png, 1.2 kB");
- `detail(part)`: a longer monospace body when it has one (code, its output, JSON arguments), else None;
- `text(part)` / `markdown(part)`: how it reads inside an answer, in plain text and in Markdown
  (every string from the service escaped in the Markdown, `gemini_magic.escape`; a text part's own
  Markdown is the model's, which the views pass through `answer_markdown`);
- `image(part)`: `(mime_type, base64)` when it is an image (for its thumbnail), else None; browsers
  show the types in `DISPLAYABLE_IMAGES` as they are, others must be converted first;
- `mime_type(part)` and `size(part)` (bytes it carries inside a request);
- `shown(part)`: whether it belongs to the answer a person reads (not a thought, text or image);
  `is_call`: a function call or response (the views group these into call sections);
- `tag(part)`: a short stand-in for a transcript (`"[image/png]"`, `"[call get_rainfall]"`);
- `as_text(part)`: its content as plain text when it is text (text, text-like inline data), else None;
- `data(part)`: the base64 bytes of inline data, else None;
- `content_item(part)`: the same content as an Interactions API content item, None if it has none.

A kind names the wire `fields` its parts carry, so `kind_of` tries only the rows that can match.
The views build their HTML from these (render/part_kinds.py), and the transcript, the tool results,
the Interactions input and Live's turns ask them too, so a new kind is one entry in `KINDS`
(tests/test_layering.py fails if a chain of part-type tests appears outside the table's modules).

    >>> kind_of({"functionCall": {"name": "get_rainfall", "args": {"city": "Kraków"}}}).markdown(
    ...     {"functionCall": {"name": "get_rainfall", "args": {"city": "Kraków"}}})
    '→ function call: `get_rainfall({"city": "Kraków"})`'
    >>> kind_of({"text": "Hi", "thought": True}).label
    'thought'
"""

from __future__ import annotations

import base64
import json
import re

from ..escape import code_span, fence_language, markdown_text
from ..units import base64_size, human_size, plural

PREVIEW_CHARS = 60
_BACKTICKS = re.compile(r"`{3,}")
#: Image types every browser shows, so an `<img>` of the part's own bytes works as a thumbnail.
DISPLAYABLE_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")
_MEDIA_PREFIXES = ("image/", "audio/", "video/")  # inline data with a kind of its own


def fence(body: str, language: str = "") -> str:
    """A fenced code block that no run of backticks inside `body` can close early (`language` reduced
    to the characters of a language name)."""
    longest = max((len(m.group()) for m in _BACKTICKS.finditer(body)), default=2)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{fence_language(language)}\n{body.rstrip(chr(10))}\n{ticks}"


def preview(text: str, width: int = PREVIEW_CHARS) -> str:
    """The text on one line, cut at `width` characters, quoted: `'Hello world …'`."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= width else flat[:width - 1] + "…")


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


class PartKind:
    """One kind of part. Subclasses set `name`/`label` and override what differs; the base is the fallback."""

    name = "unknown"
    label = "part"
    #: Whether the kind belongs to the answer a person reads (thoughts do not: they are shown apart).
    in_answer = True
    #: A step of function calling (a call or its response): the views show these as call sections.
    is_call = False
    #: The wire fields a part of this kind has one of (`kind_of` tries the kind only on such parts);
    #: None: `matches` may accept any part, so it is tried on every one.
    fields: tuple[str, ...] | None = None

    def matches(self, part: dict) -> bool:
        return True

    def mime_type(self, part: dict) -> str:
        return ""

    def size(self, part: dict) -> int:
        return len(_json(part).encode("utf-8"))

    def label_for(self, part: dict) -> str:
        """The label of this part: the kind's, or for an unknown part the wire field it carries."""
        return self.label if self.name != "unknown" else self.key(part)

    def key(self, part: dict) -> str:
        """The wire field that makes the part what it is (the fallback's first field but the signature)."""
        return next((k for k in part if k != "thoughtSignature"), "empty")

    def summary(self, part: dict) -> str:
        return f"{self.key(part)} part"

    def detail(self, part: dict) -> str | None:
        rest = {k: v for k, v in part.items() if k != "thoughtSignature"}
        return json.dumps(rest, indent=2, ensure_ascii=False, default=str) if rest else None

    def text(self, part: dict) -> str:
        return f"[{self.key(part)}]"

    def markdown(self, part: dict) -> str:
        return markdown_text(self.text(part))

    def image(self, part: dict) -> tuple[str, str] | None:
        return None

    def shown(self, part: dict) -> bool:
        """Whether the part belongs to the answer a person reads: its kind does, and it is not flagged
        a thought (thought text and thought images are shown apart)."""
        return self.in_answer and not part.get("thought")

    def tag(self, part: dict) -> str:
        """A short stand-in for the part in a transcript: its text, or a bracketed word (`"[image/png]"`)."""
        return f"[{self.key(part)}]"

    def as_text(self, part: dict) -> str | None:
        """The part's content as plain text when it is text (text parts, text-like inline data), else None."""
        return None

    def data(self, part: dict) -> str | None:
        """The base64 bytes the part carries inside the request (inline data), else None."""
        return None

    def content_item(self, part: dict) -> dict | None:
        """The part as an Interactions API content item (`{"type": "text", "text": ...}`, media with its
        `data` or `uri`), or None when it has no such form."""
        return None

    def __repr__(self) -> str:
        return f"<PartKind {self.name}>"


class TextKind(PartKind):
    name = label = "text"
    fields = ("text",)

    def matches(self, part):
        return isinstance(part.get("text"), str) and not part.get("thought")

    def mime_type(self, part):
        return "text/plain"

    def size(self, part):
        return len(part["text"].encode("utf-8"))

    def summary(self, part):
        return f"{plural(len(part['text']), 'character')}: {preview(part['text'])}"

    def detail(self, part):
        return None

    def text(self, part):
        return part["text"]

    markdown = text  # the model's Markdown: the views neutralise its HTML (escape.answer_markdown)
    tag = as_text = text

    def content_item(self, part):
        return {"type": "text", "text": part["text"]}


class ThoughtKind(TextKind):
    name = label = "thought"
    in_answer = False

    def matches(self, part):
        return isinstance(part.get("text"), str) and bool(part.get("thought"))

    def content_item(self, part):
        return None  # the model's thoughts are not sent back as input


class InlineDataKind(PartKind):
    """Bytes inside the request (`inlineData`) that are not image, audio or video (its subkinds)."""

    name = "inline data"
    fields = ("inlineData", "inline_data")
    label = "inline data"
    prefix = ""

    def matches(self, part):  # helpers inlined: kind_of runs this for every media part of a stream
        blob = part.get("inlineData") or part.get("inline_data")
        if not isinstance(blob, dict):
            return False
        mime = str(blob.get("mimeType") or blob.get("mime_type") or "")
        return mime.startswith(self.prefix) if self.prefix else not mime.startswith(_MEDIA_PREFIXES)

    def mime_type(self, part):
        return _mime(_inline(part)) or "application/octet-stream"

    def size(self, part):
        return base64_size(str(_inline(part).get("data") or ""))

    def summary(self, part):
        return f"{self.mime_type(part)}, {human_size(self.size(part))}"

    def detail(self, part):
        return None

    def text(self, part):
        return f"[{self.summary(part)}]"

    def tag(self, part):
        return f"[{_mime(_inline(part)) or 'data'}]"

    def data(self, part):  # per Live audio message: no helper call
        return str((part.get("inlineData") or part.get("inline_data")).get("data") or "")

    def as_text(self, part):
        mime = str(_mime(_inline(part)))
        if mime.startswith("text/") or mime in _TEXT_LIKE:
            return base64.b64decode(self.data(part)).decode("utf-8", "replace")
        return None

    def content_item(self, part):
        mime_type = self.mime_type(part)
        return {"type": media_kind(mime_type), "data": self.data(part), "mime_type": mime_type}


class ImageKind(InlineDataKind):
    name = label = "image"
    prefix = "image/"

    def image(self, part):
        data = _inline(part).get("data")
        return (self.mime_type(part), data) if data else None


class AudioKind(InlineDataKind):
    name = label = "audio"
    prefix = "audio/"


class VideoKind(InlineDataKind):
    name = label = "video"
    prefix = "video/"


class FileDataKind(PartKind):
    """An uploaded file (or a YouTube URL) the request refers to (`fileData`): no bytes inside."""

    name = "file"
    fields = ("fileData", "file_data")
    label = "file"

    def matches(self, part):
        return isinstance(part.get("fileData") or part.get("file_data"), dict)

    def _data(self, part):
        return part.get("fileData") or part.get("file_data")

    def mime_type(self, part):
        data = self._data(part)
        return data.get("mimeType") or data.get("mime_type") or ""

    def uri(self, part) -> str:
        data = self._data(part)
        return str(data.get("fileUri") or data.get("file_uri") or "")

    def size(self, part):
        return 0

    def summary(self, part):
        return f"uploaded file {self.uri(part)}"

    def detail(self, part):
        return None

    def text(self, part):
        mime = self.mime_type(part)
        return f"[file {mime}: {self.uri(part)}]" if mime else f"[file: {self.uri(part)}]"

    def tag(self, part):
        return f"[file {self.uri(part)}]"

    def content_item(self, part):
        mime_type = self.mime_type(part)
        item = {"type": media_kind(mime_type), "uri": self.uri(part) or None}
        if mime_type:
            item["mime_type"] = mime_type
        return item


class FunctionCallKind(PartKind):
    name = label = "function call"
    fields = ("functionCall",)
    is_call = True

    def matches(self, part):
        return isinstance(part.get("functionCall"), dict)

    def call(self, part) -> str:
        call = part["functionCall"]
        return f"{call.get('name', '?')}({_json(call.get('args', {}))})"

    def summary(self, part):
        return self.call(part)

    def detail(self, part):
        return None

    def text(self, part):
        return f"→ function call: {self.call(part)}"

    def markdown(self, part):
        return f"→ function call: {code_span(self.call(part))}"

    def tag(self, part):
        return f"[call {part['functionCall'].get('name')}]"


class FunctionResponseKind(PartKind):
    name = label = "function response"
    fields = ("functionResponse",)
    is_call = True

    def matches(self, part):
        return isinstance(part.get("functionResponse"), dict)

    def summary(self, part):
        return str(part["functionResponse"].get("name", "?"))

    def detail(self, part):
        response = part["functionResponse"].get("response")
        return json.dumps(response, indent=2, ensure_ascii=False, default=str) if response is not None else None

    def text(self, part):
        return f"→ function response: {self.summary(part)}"

    def markdown(self, part):
        return f"→ function response: {code_span(self.summary(part))}"

    def tag(self, part):
        return f"[result of {part['functionResponse'].get('name')}]"


class ExecutableCodeKind(PartKind):
    name = "executable code"
    fields = ("executableCode",)
    label = "code"

    def matches(self, part):
        return isinstance(part.get("executableCode"), dict)

    def language(self, part) -> str:
        language = str(part["executableCode"].get("language", "")).lower()
        return "" if language == "language_unspecified" else language

    def summary(self, part):
        code = str(part["executableCode"].get("code", ""))
        return f"{self.language(part) or 'code'}, {plural(len(code.splitlines()), 'line')}"

    def detail(self, part):
        return str(part["executableCode"].get("code", ""))

    def text(self, part):
        return fence(self.detail(part), self.language(part))

    markdown = text  # a fence: literal whatever the code holds


class CodeExecutionResultKind(PartKind):
    name = "code execution result"
    fields = ("codeExecutionResult",)
    label = "code output"

    def matches(self, part):
        return isinstance(part.get("codeExecutionResult"), dict)

    def outcome(self, part) -> str:
        return str(part["codeExecutionResult"].get("outcome", ""))

    def summary(self, part):
        return self.outcome(part) or "output"

    def detail(self, part):
        return str(part["codeExecutionResult"].get("output", ""))

    def label_line(self, part) -> str:
        outcome = self.outcome(part)
        said = _OUTCOMES.get(outcome, outcome.removeprefix("OUTCOME_").lower().replace("_", " "))
        return f"Output ({said})" if said else "Output"

    def text(self, part):
        return f"{self.label_line(part)}:\n\n" + fence(self.detail(part))

    def markdown(self, part):
        return f"{markdown_text(self.label_line(part))}:\n\n" + fence(self.detail(part))


#: How a codeExecutionResult's outcome reads after "Output".
_OUTCOMES = {"OUTCOME_OK": "ran OK", "OUTCOME_FAILED": "failed", "OUTCOME_DEADLINE_EXCEEDED": "timed out",
             "OUTCOME_UNSPECIFIED": "", "": ""}


#: Inline data read as text besides `text/*` (a tool result can carry these inside its JSON).
_TEXT_LIKE = ("application/json", "application/xml")


def media_kind(mime_type: str) -> str:
    """The Interactions content item type for a MIME type: image, audio, video, else document."""
    head = mime_type.split("/", 1)[0]
    return head if head in ("image", "audio", "video") else "document"


def _inline(part: dict):
    return part.get("inlineData") or part.get("inline_data")


def _mime(blob: dict) -> str:
    return blob.get("mimeType") or blob.get("mime_type") or ""


#: Every kind, looked up in order: the first that matches wins, the last (the fallback) matches all.
#: (The media kinds exclude each other by MIME type; audio is first as Live and TTS stream it in many parts.)
KINDS: tuple[PartKind, ...] = (
    TextKind(), ThoughtKind(), AudioKind(), ImageKind(), VideoKind(), InlineDataKind(), FileDataKind(),
    FunctionCallKind(), FunctionResponseKind(), ExecutableCodeKind(), CodeExecutionResultKind(), PartKind(),
)
_BY_NAME = {kind.name: kind for kind in KINDS}
_TEXT, _THOUGHT = _BY_NAME["text"], _BY_NAME["thought"]


def kind_of(part: dict) -> PartKind:
    """The kind of a wire part (always one: unknown parts get the fallback, named "unknown"): the first
    of `KINDS` that matches it, trying only the kinds that can (by their `fields`)."""
    if isinstance(part.get("text"), str):  # the common case first (a stream is mostly text): the
        return _THOUGHT if part.get("thought") else _TEXT  # first two rows' own tests, in their order
    keys = tuple(part)
    kinds = _CANDIDATES.get(keys) if _CANDIDATES_OF[0] is KINDS else None
    for kind in kinds or _candidates(keys):
        if kind.matches(part):
            return kind
    raise AssertionError("the fallback kind matches every part")  # pragma: no cover


_CANDIDATES: dict[tuple, tuple[PartKind, ...]] = {}
_CANDIDATES_OF: list = [None]  # the KINDS that _CANDIDATES was built from (a new row starts it afresh)


def _candidates(keys: tuple) -> tuple[PartKind, ...]:
    """The kinds, in table order, that may match a part with these fields (cached per set of fields)."""
    if _CANDIDATES_OF[0] is not KINDS:
        _CANDIDATES.clear()
        _CANDIDATES_OF[0] = KINDS
    found = tuple(kind for kind in KINDS if kind.fields is None or not set(kind.fields).isdisjoint(keys))
    if len(_CANDIDATES) < 256:  # parts come in a handful of shapes; odd ones are not kept
        _CANDIDATES[keys] = found
    return found


def kind_named(name: str) -> PartKind:
    """The kind called `name` ("text", "image", "function call", ...); KeyError for others."""
    return _BY_NAME[name]
