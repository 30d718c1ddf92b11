"""An input transformer that keeps `%gemini What is the capital of France?` a prompt.

IPython reads a line ending in `word?` as a help request (its HelpEnd transformer turns it into
`%pinfo France`), so the prompt would never run. IPython lets extensions add their own cleanup
transformers (`InteractiveShell.input_transformers_cleanup`, run before that rule); this one turns a
`%gemini ...?` line into the equivalent `run_line_magic` call. `%gemini?` still shows the help.
"""

from __future__ import annotations

import re

_LINE = re.compile(r"^(?P<indent>[ \t]*)%gemini[ \t]+(?P<rest>\S.*?)[ \t]*$")


def keep_question_marks(lines: list[str]) -> list[str]:
    """Rewrite `%gemini PROMPT?` lines into `get_ipython().run_line_magic('gemini', 'PROMPT?')`."""
    result = []
    for line in lines:
        body = line.rstrip("\r\n")
        match = _LINE.match(body)
        rest = match.group("rest") if match else ""
        if match and rest.endswith("?") and rest.strip("?").strip() and not rest.endswith("\\"):
            ending = line[len(body):]
            result.append(f"{match.group('indent')}get_ipython().run_line_magic('gemini', {rest!r}){ending}")
        else:
            result.append(line)
    return result


def register(shell) -> None:
    if keep_question_marks not in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.append(keep_question_marks)


def unregister(shell) -> None:
    while keep_question_marks in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.remove(keep_question_marks)
