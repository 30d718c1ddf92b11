"""Paths to files, and files already uploaded through the Files API.

A path is typed by its content first (the magic numbers `media.sniff` knows), then by its suffix:
- images follow the image rules (the file's bytes are sent unchanged when the API can use them);
- PDF, audio and video are sent as inlineData with their type;
- `.csv` is sent as `text/csv` inlineData;
- text and code files (`.txt .md .py .json .js .ts .html .css .yaml .toml .sql .r .c .cpp .java
  .go .rs` and more, or any suffix whose content is UTF-8 text) become one text part:
  "File: analysis.py" and the content in a fenced block labelled with the language.
Files over the inline budget are uploaded with `client.upload_file(path, mime_type=...)` when a
client is at hand (the part is then fileData), otherwise a ConversionError says how to upload them.
"""

from __future__ import annotations

import mimetypes
import os
import re
import stat
from pathlib import Path
from typing import Any

from ..errors import ConversionError
from .builders import file_data
from .media import as_text, media_part, sniff

LANGUAGES = {
    ".txt": "", ".text": "", ".log": "", ".md": "markdown", ".markdown": "markdown", ".rst": "rst",
    ".py": "python", ".pyi": "python", ".ipynb": "json", ".json": "json", ".jsonl": "json",
    ".js": "javascript", ".mjs": "javascript", ".jsx": "jsx", ".ts": "typescript", ".tsx": "tsx",
    ".html": "html", ".htm": "html", ".css": "css", ".scss": "scss", ".xml": "xml", ".svg": "xml",
    ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".ini": "ini", ".cfg": "ini", ".sql": "sql",
    ".r": "r", ".c": "c", ".h": "c", ".cpp": "cpp", ".cc": "cpp", ".cxx": "cpp", ".hpp": "cpp",
    ".java": "java", ".kt": "kotlin", ".scala": "scala", ".go": "go", ".rs": "rust", ".rb": "ruby",
    ".php": "php", ".swift": "swift", ".cs": "csharp", ".m": "", ".jl": "julia", ".lua": "lua",
    ".pl": "perl", ".sh": "bash", ".bash": "bash", ".zsh": "zsh", ".ps1": "powershell",
    ".tex": "latex", ".bib": "bibtex", ".tsv": "", ".dockerfile": "dockerfile", ".proto": "protobuf",
    ".graphql": "graphql", ".vue": "vue", ".dart": "dart", ".hs": "haskell", ".ex": "elixir",
}
TABLE_SUFFIXES = {".csv": "text/csv"}
SNIFF_SIZE = 4096


def fenced(name: str, text: str, language: str) -> str:
    """"File: name" and the text in a fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"File: {name}\n{fence}{language}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{fence}"


def path_part(obj: Any, context) -> dict:
    """A path to a file (pathlib.Path or any os.PathLike), typed by content and suffix."""
    from ..wire.upload import check_regular_file, display_name_of

    path = Path(os.fsdecode(os.fspath(obj))).expanduser()
    shown, name = display_name_of(str(path)), display_name_of(path.name)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConversionError(f"No file at {shown}. Check the name and the working directory ({Path.cwd()}).") from None
    if stat.S_ISDIR(info.st_mode):
        raise ConversionError(f"{shown} is a directory; name the files in it one by one, "
                              f"e.g. {{files}} with files = sorted(Path({shown!r}).glob('*.png')).")
    check_regular_file(info, shown, ConversionError)  # a FIFO or device would block the kernel on open
    size = info.st_size
    with open(path, "rb") as file:
        head = file.read(SNIFF_SIZE)
    suffix = path.suffix.lower()
    mime_type = sniff(head) or TABLE_SUFFIXES.get(suffix)
    if mime_type is None and suffix not in LANGUAGES:
        guessed = mimetypes.guess_type(path.name)[0]
        if guessed and guessed.split("/")[0] in ("image", "audio", "video") or guessed == "application/pdf":
            mime_type = guessed
        elif as_text(head[:-4] if len(head) == SNIFF_SIZE else head) is None:
            raise ConversionError(
                f"Cannot tell what kind of file {name} is ({size:,} bytes, starting {head[:8]!r}). "
                "Send it with its MIME type: gemini_magic.parts.Blob(path.read_bytes(), \"type/subtype\"), "
                "or upload it with client.upload_file(path, mime_type=...).")
    what = f"The file {shown}"
    if mime_type is None:
        if size > context.settings.inline_part_budget:
            return context.upload(path, "text/plain", what, size)
        return _text_file(path, suffix, context)
    if size > context.settings.inline_part_budget and not mime_type.startswith("image/"):
        return context.upload(path, mime_type, what, size)
    return media_part(path.read_bytes(), mime_type, context, what, source=path)


def _text_file(path: Path, suffix: str, context) -> dict:
    from ..wire.upload import display_name_of

    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        context.note(f"{display_name_of(path.name)} is not valid UTF-8; undecodable bytes were replaced")
    return {"text": fenced(display_name_of(path.name), text, LANGUAGES.get(suffix, ""))}


def uploaded_file_part(obj: Any, context) -> dict:
    """A file uploaded through the Files API (gemini_magic.wire.upload.File): a fileData part."""
    state = str(getattr(obj, "state", "") or "").upper()
    if state == "FAILED":
        raise ConversionError(f"The uploaded file {getattr(obj, 'name', '')} failed processing on the "
                              "service; upload it again.")
    if state == "PROCESSING":
        context.note(f"{getattr(obj, 'name', 'the file')} is still PROCESSING; the request may fail "
                     "until it is ACTIVE")
    return file_data(obj.mime_type, obj.uri)

