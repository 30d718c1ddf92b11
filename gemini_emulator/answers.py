"""Deterministic answers that describe what the emulator received, and the token rule.

The answer to a request is short Markdown: a first line that starts with ``EMULATOR_MARKER`` and
names the model, then one paragraph each for the prompt (the last user turn's text, verbatim), the
system instruction, the attachments (one ``[image 1: 640x480]`` label each, with what the bytes turned
out to be), the conversation (``history.py``: which turn, the first words of each earlier one), the
declared functions none of which the prompt named (with the rule that makes a call), and the
generation settings; only the paragraphs that apply. A prompt that mentions "Markdown" also gets a
fixed sample of Markdown (headings, a list, code, a table) so renderers can be tested; no other
answer carries it. A system instruction that asks for a "code block" (``--new-cell``, ``%gemini fix``)
gets a fixed ```python block (a ``greet`` function). With ``responseMimeType: application/json`` the same facts come as a JSON object
instead (the marker then sits in its ``"emulator"`` field, keeping the JSON valid); with a response
schema the answer fits the schema instead (``structured.py``).

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
            kind, summary, description = media.look(part.mime_type, io.BytesIO(part.data))
            found.append({"mimeType": part.mime_type, "bytes": len(part.data), "description": description,
                          "kind": kind, "summary": summary})
        elif part.kind == "file":
            with part.file.open() as stream:
                kind, summary, description = media.look(part.mime_type, stream)
            found.append({"file": part.file.name, "mimeType": part.mime_type, "bytes": part.file.size,
                          "description": description, "kind": kind, "summary": summary})
        elif part.kind in ("function_call", "function_response"):
            found.append({"mimeType": None, "bytes": 0, "description": f"`{part.name}`",
                          "kind": part.kind.replace("_", " ")})  # "function call `name`"
        elif part.kind == "other":
            found.append({"mimeType": None, "bytes": 0, "description": f"{part.name or 'unknown'} part",
                          "kind": "a"})  # "a thought part"
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


def _attachment_lines(found: list[dict]) -> list[str]:
    """`- [image 1: 640x480] image/png, 1,234 bytes: PNG image, 640 x 480, mode RGB`: one line per
    attachment, its label numbered within its kind; function parts as `- function call `name``."""
    numbers: dict[str, int] = {}
    lines = []
    for item in found:
        if item["mimeType"] is None:
            lines.append(f"- {item['kind']} {item['description']}")
            continue
        kind = item["kind"]
        numbers[kind] = numbers.get(kind, 0) + 1
        label = f"[{kind} {numbers[kind]}" + (f": {item['summary']}]" if item.get("summary") else "]")
        if item.get("file"):
            head = f"file {item['file']} ({item['mimeType']}, {item['bytes']:,} bytes)"
        else:
            head = f"{item['mimeType']}, {item['bytes']:,} bytes"
        lines.append(f"- {label} {head}: {item['description']}" if item["description"] else f"- {label} {head}")
    return lines


def tools_line(declared: list) -> str | None:
    """The functions declared but not called, and how a prompt makes the emulator call one."""
    if not declared:
        return None
    shown = []
    for declaration in declared:
        properties = (declaration.schema or {}).get("properties") or {}
        shown.append(f"`{declaration.name}({', '.join(properties)})`")
    return (f"**Tools declared:** {', '.join(shown)}. None was called: the emulator calls a function when "
            "the prompt names it (its name, or the words of its name).")


SAMPLE_CODE = """```python
def greet(name: str) -> str:
    \"\"\"Return a friendly greeting.\"\"\"
    return f"Hello, {name}!"
```
"""


def wants_code(request) -> bool:
    """A system instruction that asks for a code block gets a sample one (for code-to-cell and its tests)."""
    system = " ".join(p.text for p in request.system if p.kind == "text") if request.system else ""
    return "code block" in system.lower()


def wants_sample(request) -> bool:
    """A prompt that mentions Markdown gets the sample of Markdown (for renderers and their tests)."""
    return "markdown" in prompt_text(request).lower()


def markdown_answer(request, model: str, found: list[dict], candidate: int = 0, count: int = 1,
                    declared: list | None = None) -> str:
    first = f"{EMULATOR_MARKER} {model} was not asked: the local emulator echoes what it received."
    if count > 1:
        first += f" Candidate {candidate + 1} of {count}."
    paragraphs = [first, f'**Prompt:** "{prompt_text(request)}"']
    if request.system:
        system = " ".join(p.text for p in request.system if p.kind == "text")
        paragraphs.append(f'**System instruction:** "{system}"')
    if found:
        paragraphs.append("\n".join(["**Attachments:**", *_attachment_lines(found)]))
    if len(request.contents) > 1:
        paragraphs.append(f"**Turns:** {len(request.contents)}")
    conversation = history.history_lines(request.contents)
    if conversation:
        paragraphs.append("\n".join(line for line in conversation if line))
    tools = tools_line(declared or [])
    if tools:
        paragraphs.append(tools)
    if request.config:
        paragraphs.append(f"**Generation settings:** {settings_line(request.config)}")
    text = "\n\n".join(paragraphs) + "\n"
    if wants_code(request) and not wants_sample(request):
        text += "\n" + SAMPLE_CODE
    return text + "\n" + SAMPLE_MARKDOWN if wants_sample(request) else text


def json_answer(request, model: str, found: list[dict], candidate: int = 0, count: int = 1) -> str:
    answer = {"emulator": INTRO, "model": model, "prompt": prompt_text(request)}
    if request.system:
        answer["systemInstruction"] = " ".join(p.text for p in request.system if p.kind == "text")
    answer["attachments"] = [{k: v for k, v in item.items() if k not in ("kind", "summary") and (k != "file" or v)}
                             for item in found]
    answer["turns"] = len(request.contents)
    conversation = history.history_json(request.contents)
    if conversation:
        answer["conversation"] = conversation
    answer["generationConfig"] = request.config
    if count > 1:
        answer["candidate"] = f"{candidate + 1} of {count}"
    return json.dumps(answer, indent=2, ensure_ascii=False)


def answer_text(request, model: str, found: list[dict], candidate: int = 0, count: int = 1,
                declared: list | None = None) -> str:
    """The answer's text; `declared` are the function declarations of the request (none was called)."""
    fitted = structured.answer(request.settings, prompt_text(request), candidate)  # a schema was given
    if fitted is not None:
        return fitted
    if request.settings.get("responseMimeType") == "application/json":
        return json_answer(request, model, found, candidate, count)
    return markdown_answer(request, model, found, candidate, count, declared)


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
        "**Writing the answer**\n\nThe answer lists what was received, in a few short lines.\n\n\n",
    ]


def apply_limits(text: str, settings: dict) -> tuple[str, str]:
    """Cut at the first stop sequence, then at maxOutputTokens; returns (text, finishReason).

    Stop sequences are looked for everywhere but in the first line and the echo of the generation
    settings, which name the stop sequences themselves (in structured output, everywhere).
    """
    stops = [s for s in settings.get("stopSequences") or [] if s]
    skipped: list[tuple[int, int]] = []
    if not structured.wanted(settings):  # structured output is generated from its first byte
        skipped.append((0, text.find("\n") + 1 if "\n" in text else len(text)))
        echo = text.find("**Generation settings:**")
        if echo >= 0:
            skipped.append((echo, text.find("\n", echo) if "\n" in text[echo:] else len(text)))
    positions = []
    for stop in stops:
        start = text.find(stop)
        while start >= 0 and any(a <= start < b for a, b in skipped):
            start = text.find(stop, start + 1)
        if start >= 0:
            positions.append(start)
    if positions:
        text = text[:min(positions)]
    limit = settings.get("maxOutputTokens")
    if limit and text_tokens(text) > limit:
        data = text.encode("utf-8")[:limit * 4]
        return data.decode("utf-8", "ignore"), "MAX_TOKENS"  # never split a character
    return text, "STOP"
