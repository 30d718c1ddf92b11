"""An input transformer that keeps `%gemini What is the capital of France?` a prompt.

IPython reads a line ending in `word?` as a help request (its HelpEnd transformer turns it into
`%pinfo France`), so the prompt would never run. IPython lets extensions add their own cleanup
transformers (`InteractiveShell.input_transformers_cleanup`, run before that rule); this one turns a
`%gemini ...?` line into the equivalent `run_line_magic` call. `%gemini?` still shows the help.

IPython also refuses a cell magic with an empty body before the magic runs, so `%%gemini --help`
alone in a cell would never reach it: `help_cells` turns such a cell into `%gemini --help`.
"""

from __future__ import annotations

import re

# Patterns as text, compiled on first use by re's own cache (not at %load_ext, which registers these).
_LINE = r"^(?P<indent>[ \t]*)%gemini[ \t]+(?P<rest>\S.*?)[ \t]*$"


def keep_question_marks(lines: list[str]) -> list[str]:
    """Rewrite `%gemini PROMPT?` lines into `get_ipython().run_line_magic('gemini', 'PROMPT?')`."""
    result = []
    for line in lines:
        body = line.rstrip("\r\n")
        match = re.match(_LINE, body)
        rest = match.group("rest") if match else ""
        if match and rest.endswith("?") and rest.strip("?").strip() and not rest.endswith("\\"):
            ending = line[len(body):]
            result.append(f"{match.group('indent')}get_ipython().run_line_magic('gemini', {rest!r}){ending}")
        else:
            result.append(line)
    return result


_HELP_CELL = r"^(?P<indent>[ \t]*)%%gemini(?P<rest>[ \t].*)?$"


def help_cells(lines: list[str]) -> list[str]:
    """Rewrite a cell that is only `%%gemini --help` (or `-h`, `help`) into the line magic's help."""
    first = lines[0].rstrip("\r\n") if lines else ""
    match = re.match(_HELP_CELL, first)
    if not match or any(line.strip() for line in lines[1:]):
        return lines
    rest = (match.group("rest") or "").strip()
    words = rest.split()
    if not (words == ["help"] or "-h" in words or "--help" in words):
        return lines
    return [f"{match.group('indent')}get_ipython().run_line_magic('gemini', {rest!r})\n"]


TRANSFORMERS = (keep_question_marks, help_cells)


def register(shell) -> None:
    for transformer in TRANSFORMERS:
        if transformer not in shell.input_transformers_cleanup:
            shell.input_transformers_cleanup.append(transformer)


def unregister(shell) -> None:
    for transformer in TRANSFORMERS:
        while transformer in shell.input_transformers_cleanup:
            shell.input_transformers_cleanup.remove(transformer)
