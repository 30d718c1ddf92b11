"""The fenced code blocks of a Markdown answer, and the code of them that belongs in a notebook cell.

CommonMark's fences: a line of three or more backticks or tildes (indented at most three spaces)
opens a block, with an optional info string whose first word is the language; a line of the same
character, at least as long, closes it; an unclosed block runs to the end of the text (a stream cut
short still gives its code).

Pure and standard library only (layer 7).

    >>> answer = "Try this:\\n\\n```python\\nprint(1)\\n```\\n\\nand in a shell:\\n\\n```bash\\nls\\n```\\n"
    >>> code_blocks(answer)
    [('python', 'print(1)'), ('bash', 'ls')]
    >>> cell_code(answer, "python")
    'print(1)'
"""

from __future__ import annotations

import re

_OPEN = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})[ \t]*([^`\n]*)$")

#: Info strings that mean the kernel's language, per language (lower case).
ALIASES = {
    "python": ("python", "py", "python3", "ipython", "ipython3", "pycon"),
    "r": ("r",),
    "julia": ("julia", "jl"),
}


def code_blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced block of `text` in order: (language, code); language "" when none is given, in
    lower case; code without its fences and without the trailing line break."""
    blocks: list[tuple[str, str]] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        opened = _OPEN.match(lines[index])
        if not opened:
            index += 1
            continue
        fence, info = opened.group(1), opened.group(2).strip()
        language = info.split()[0].lower().strip("{}.") if info else ""
        body: list[str] = []
        index += 1
        while index < len(lines):
            line = lines[index].strip()
            if line.startswith(fence[0] * len(fence)) and not line.strip(fence[0]):
                break
            body.append(lines[index])
            index += 1
        blocks.append((language, "\n".join(body).rstrip("\n")))
        index += 1
    return blocks


def cell_code(text: str, language: str = "python", *, last: bool = False) -> str | None:
    """The code of `text` for a cell of a `language` kernel: its blocks in that language (or with no
    language given), joined by a blank line in order; None when it has none. Blocks in another
    language (a shell session, JSON output) are left out. `last`: only the last such block (a fix:
    an answer that quotes the broken cell first must not have it joined into the fixed one)."""
    accepted = ALIASES.get(language.lower(), (language.lower(),))
    found = [code for name, code in code_blocks(text) if (name in accepted or not name) and code.strip()]
    if last:
        found = found[-1:]
    return "\n\n".join(found) if found else None
