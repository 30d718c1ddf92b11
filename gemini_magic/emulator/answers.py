"""Deterministic answers that describe what the emulator received, and the token rule.

The answer to a request is Markdown that starts with ``EMULATOR_MARKER``, echoes the model, the
system instruction, the last user turn's text verbatim and one line per attachment (what the bytes
turned out to be: image size, table shape, audio length...), then a fixed sample of Markdown so
renderers can be tested. A request with earlier turns also says which turn of the conversation it
is and quotes the first words of each earlier user turn (``history.py``). With
``responseMimeType: application/json`` the same facts come as a JSON object instead (the marker
then sits in its ``"emulator"`` field, keeping the JSON valid); with a response schema the answer
fits the schema instead (``structured.py``).

Token rule (deterministic, shared by generateContent, streamGenerateContent and countTokens):

* a text is ``ceil(len(text.encode("utf-8")) / 4)`` tokens;
* an image (inline or file) is 258 tokens;
* text-like inline data or file (text/*, CSV, JSON, XML, YAML) is ``ceil(size_in_bytes / 4)`` tokens;
* any other inline data or file is ``ceil(size_in_bytes / 1000)`` tokens;
* function calls and responses count as the text of their compact JSON.

``promptTokenCount`` sums the system instruction and every part of every content.
"""

from __future__ import annotations

import io
import json
import math
import re

from gemini_magic.constants import EMULATOR_MARKER

from . import history, media, structured

IMAGE_TOKENS = 258
WORDS_PER_CHUNK = 3
INTRO = f"{EMULATOR_MARKER} This answer comes from the local emulator, not from a Gemini model."
MODALITY_ORDER = ("TEXT", "IMAGE", "AUDIO", "VIDEO", "DOCUMENT")

SAMPLE_MARKDOWN = """## A sample of Markdown

This paragraph is here so that renderers can be tested. It has **bold words**, *italic words*, \
`inline code` and a few characters outside ASCII (café, naïve, Grüße, 東京, →) whose UTF-8 bytes \
outnumber their characters, which matters for citation offsets.

- The first point of a short bulleted list
- A second point with **bold** and *italic* words
- A third point that closes the list

```python
def greet(name: str) -> str:
    \"\"\"Return a friendly greeting.\"\"\"
    return f"Hello, {name}!"
```

| Column | Meaning | Value |
| --- | --- | --- |
| alpha | the first row | 1 |
| beta | the second row | 2 |

That is the end of the emulated answer: no model was asked, nothing left this machine.
"""


def text_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 4)


def modality(mime_type: str) -> str:
    mime = (mime_type or "").lower()
    for prefix, name in (("image/", "IMAGE"), ("audio/", "AUDIO"), ("video/", "VIDEO")):
        if mime.startswith(prefix):
            return name
    return "DOCUMENT" if mime == "application/pdf" else "TEXT"


def is_text_like(mime_type: str) -> bool:
    """text/*, CSV, JSON, XML, YAML and JavaScript data: counted as text (UTF-8 bytes / 4)."""
    mime = (mime_type or "").lower().split(";")[0].strip()
    subtype = mime.split("/", 1)[-1]
    return mime.startswith("text/") or subtype in ("csv", "json", "xml", "yaml", "x-yaml", "javascript",
                                                   "x-ndjson", "jsonl") or subtype.endswith(("+json", "+xml"))


def part_tokens(part) -> tuple[str, int]:
    """(modality, tokens) of one received part, by the token rule above."""
    if part.kind == "text":
        return "TEXT", text_tokens(part.text)
    if part.kind in ("inline", "file"):
        size = part.file.size if part.kind == "file" else len(part.data)
        if is_text_like(part.mime_type):  # a CSV or JSON file is text to the model, not media
            return "TEXT", math.ceil(size / 4)
        kind = modality(part.mime_type)
        return kind, IMAGE_TOKENS if kind == "IMAGE" else math.ceil(size / 1000)
    return "TEXT", text_tokens(json.dumps(part.raw, separators=(",", ":"), ensure_ascii=False))


def prompt_tokens(request) -> tuple[int, list[dict]]:
    """Total prompt tokens and the per-modality ``promptTokensDetails`` list."""
    by_modality: dict[str, int] = {}
    parts = list(request.system or [])
    for content in request.contents:
        parts.extend(content.parts)
    for part in parts:
        kind, tokens = part_tokens(part)
        by_modality[kind] = by_modality.get(kind, 0) + tokens
    details = [{"modality": name, "tokenCount": by_modality[name]}
               for name in MODALITY_ORDER if name in by_modality]
    return sum(by_modality.values()), details or [{"modality": "TEXT", "tokenCount": 0}]


def chunk_text(text: str, words: int = WORDS_PER_CHUNK) -> list[str]:
    """Split into pieces of a few words; whitespace is kept, so ``"".join(pieces) == text``."""
    tokens = re.findall(r"\s*\S+", text)
    trailing = text[sum(len(t) for t in tokens):]
    if trailing:
        tokens.append(trailing)
    pieces = ["".join(tokens[i:i + words]) for i in range(0, len(tokens), words)]
    return pieces or [text]


def last_user_turn(request):
    for content in reversed(request.contents):
        if content.role == "user":
            return content
    return request.contents[-1]


def attachments(request) -> list[dict]:
    """One entry per non-text part of the last user turn: mimeType, bytes, description, file name."""
    found = []
    for part in last_user_turn(request).parts:
        if part.kind == "inline":
            description = media.describe(part.mime_type, io.BytesIO(part.data))
            found.append({"mimeType": part.mime_type, "bytes": len(part.data), "description": description})
        elif part.kind == "file":
            with part.file.open() as stream:
                description = media.describe(part.mime_type, stream)
            found.append({"file": part.file.name, "mimeType": part.mime_type, "bytes": part.file.size,
                          "description": description})
        elif part.kind in ("function_call", "function_response"):
            found.append({"mimeType": None, "bytes": 0, "description": f"{part.kind.replace('_', ' ')} "
                                                                      f"`{part.name}`"})
        elif part.kind == "other":
            found.append({"mimeType": None, "bytes": 0, "description": f"{part.name or 'unknown'} part"})
    return found


def prompt_text(request) -> str:
    return " ".join(p.text for p in last_user_turn(request).parts if p.kind == "text" and not p.thought)


def settings_line(config: dict) -> str:
    if not config:
        return "(none)"
    items = []
    for key in sorted(config):
        value = config[key]
        shown = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"),
                                                                  sort_keys=True, ensure_ascii=False)
        items.append(f"{key}={shown}")
    return ", ".join(items)


def _attachment_line(item: dict) -> str:
    if item.get("file"):
        head = f"- file {item['file']} ({item['mimeType']}, {item['bytes']:,} bytes)"
    elif item["mimeType"] is None:
        return f"- {item['description']}"
    else:
        head = f"- {item['mimeType']}, {item['bytes']:,} bytes"
    return f"{head}: {item['description']}" if item["description"] else head


def markdown_answer(request, model: str, found: list[dict], candidate: int = 0, count: int = 1) -> str:
    lines = [INTRO, ""]
    if count > 1:
        lines += [f"Candidate {candidate + 1} of {count}", ""]
    lines += ["## What I received", "", f"**Model:** {model}", ""]
    if request.system:
        system = " ".join(p.text for p in request.system if p.kind == "text")
        lines += [f'**System instruction:** "{system}"', ""]
    lines += [f'**Prompt:** "{prompt_text(request)}"', ""]
    if found:
        lines += ["**Attachments:**", ""] + [_attachment_line(item) for item in found] + [""]
    if len(request.contents) > 1:
        lines += [f"**Turns:** {len(request.contents)}", ""]
    lines += history.history_lines(request.contents)
    lines += [f"**Generation settings:** {settings_line(request.config)}", "", SAMPLE_MARKDOWN]
    return "\n".join(lines)


def json_answer(request, model: str, found: list[dict], candidate: int = 0, count: int = 1) -> str:
    answer = {"emulator": INTRO, "model": model, "prompt": prompt_text(request)}
    if request.system:
        answer["systemInstruction"] = " ".join(p.text for p in request.system if p.kind == "text")
    answer["attachments"] = [{k: v for k, v in item.items() if k != "file" or v} for item in found]
    answer["turns"] = len(request.contents)
    conversation = history.history_json(request.contents)
    if conversation:
        answer["conversation"] = conversation
    answer["generationConfig"] = request.config
    if count > 1:
        answer["candidate"] = f"{candidate + 1} of {count}"
    return json.dumps(answer, indent=2, ensure_ascii=False)


def answer_text(request, model: str, found: list[dict], candidate: int = 0, count: int = 1) -> str:
    fitted = structured.answer(request.settings, prompt_text(request), candidate)  # a schema was given
    if fitted is not None:
        return fitted
    if request.settings.get("responseMimeType") == "application/json":
        return json_answer(request, model, found, candidate, count)
    return markdown_answer(request, model, found, candidate, count)


def _count(number: int, noun: str) -> str:
    """"1 turn", "2 turns": the emulator's own plural (it imports nothing of the client)."""
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def thought_chunks(request, found: list[dict]) -> list[str]:
    """Thought summaries in the service's shape: a bold heading, a paragraph, three newlines."""
    prompt = prompt_text(request)
    attachments = "There is no attachment to inspect" if not found else (
        "There is 1 attachment to inspect; it is" if len(found) == 1 else
        f"There are {len(found)} attachments to inspect; each is")
    return [
        f"**Reading the prompt**\n\n{EMULATOR_MARKER} The emulator reads the last user turn: "
        f"{_count(len(prompt), 'character')} of text in {_count(len(request.contents), 'turn')}.\n\n\n",
        f"**Looking at the attachments**\n\n{attachments}"
        + (" opened and described from its bytes.\n\n\n" if found else ".\n\n\n"),
        "**Writing the answer**\n\nThe answer lists what was received and ends with a sample of "
        "Markdown for renderers.\n\n\n",
    ]


def apply_limits(text: str, settings: dict) -> tuple[str, str]:
    """Cut at the first stop sequence, then at maxOutputTokens; returns (text, finishReason).

    Stop sequences are looked for only in the sample of Markdown, the part standing in for what a
    model would generate: the echo of the request above it names the stop sequences themselves
    (in structured output, everywhere).
    """
    stops = [s for s in settings.get("stopSequences") or [] if s]
    generated = text.find(SAMPLE_MARKDOWN[:20])
    generated = len(text) if generated < 0 else generated
    if structured.wanted(settings):
        generated = 0  # structured output is generated from its first byte
    positions = [text.find(s, generated) for s in stops if s in text[generated:]]
    if positions:
        text = text[:min(positions)]
    limit = settings.get("maxOutputTokens")
    if limit and text_tokens(text) > limit:
        data = text.encode("utf-8")[:limit * 4]
        return data.decode("utf-8", "ignore"), "MAX_TOKENS"  # never split a character
    return text, "STOP"
