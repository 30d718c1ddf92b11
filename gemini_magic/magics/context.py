"""The notebook itself as context: `{In[4]}`, `{Out[4]}`, `{last_error}` in a prompt, and the id of
the cell being run (for conversations, where re-running a cell replaces its turn).

- `{In[4]}` is that cell's source as a fenced code block (text); `{Out[4]}` is that output object,
  converted like any kernel object (IPython keeps it in `Out`).
- `{last_error}` is the last exception raised by the user's code in this kernel, with its traceback as
  plain text (ANSI colour codes removed); our own one-line UsageErrors do not count. A variable named
  `last_error` wins over it.
- `{notebook}` is the cells run so far (source, outputs as short text, errors' last lines) within
  `GeminiMagics.notebook_tokens`, with a note on what was left out; `{vars}` summarises the user's
  variables (gemini_magic/notebook.py). Variables of those names win over them.
- The cell id comes with each execution from JupyterLab, Notebook 7 and VS Code; IPython hands it to
  the `pre_run_cell` event's info (`info.cell_id`). Terminal IPython has none.
"""

from __future__ import annotations

import re
import traceback
from typing import Any

_ANSI = r"\x1b\[[0-9;?]*[ -/]*[@-~]"  # compiled on first use by re's cache (not at %load_ext)


class NotebookContext:
    """Tracks the running cell's id and the last error of the user's code (IPython events)."""

    def __init__(self) -> None:
        self.cell_id: str | None = None
        self.last_error: tuple | None = None   # (type, value, traceback)
        self.clean_runs_since_error = 0  # cells that ran without error after last_error's
        self.last_error_cell: tuple[int | None, str] | None = None  # (execution count, source) of it
        self.errors: dict[int, str] = {}  # execution count → the error's last line, for {notebook}
        self.budget_tokens = 8000  # {notebook}'s budget (GeminiMagics.notebook_tokens)

    def register(self, shell) -> None:
        shell.events.register("pre_run_cell", self._pre_run_cell)
        shell.events.register("post_run_cell", self._post_run_cell)

    def unregister(self, shell) -> None:
        for event, callback in (("pre_run_cell", self._pre_run_cell), ("post_run_cell", self._post_run_cell)):
            try:
                shell.events.unregister(event, callback)
            except ValueError:
                pass

    def _pre_run_cell(self, info) -> None:
        self.cell_id = getattr(info, "cell_id", None) or None

    def _post_run_cell(self, result) -> None:
        from IPython.core.error import UsageError

        self.cell_id = None  # a magic run outside a cell (a callback, `run_cell_magic`) is no cell's re-run

        error = result.error_in_exec
        before = result.error_before_exec  # a SyntaxError is caught by IPython before the cell runs
        if error is None and isinstance(before, SyntaxError):
            error = before
        if error is None:
            if self.last_error is not None and before is None:
                self.clean_runs_since_error += 1
        elif not isinstance(error, (UsageError, KeyboardInterrupt)):
            self.clean_runs_since_error = 0
            self.last_error = (type(error), error, error.__traceback__)
            info = getattr(result, "info", None)
            self.last_error_cell = (result.execution_count, getattr(info, "raw_cell", "") or "")
            if result.execution_count is not None:
                self.errors[result.execution_count] = f"{type(error).__name__}: {error}".splitlines()[0][:300]

    def namespace(self, user_ns: dict) -> "PromptNamespace":
        return PromptNamespace(user_ns, self)


class PromptNamespace:
    """What `{names}` in a prompt resolve against: the user's variables, plus `In` as code blocks and
    `last_error` as a traceback (only `.get` is used, see prompt.split_template)."""

    def __init__(self, user_ns: dict, context: NotebookContext) -> None:
        self.user_ns = user_ns
        self.context = context

    def get(self, name: str, default: Any = None) -> Any:
        if name == "In" and isinstance(self.user_ns.get("In"), list):
            return CellSources(self.user_ns["In"])
        if name == "last_error" and name not in self.user_ns:
            return last_error_text(self.context.last_error)
        if name == "notebook" and name not in self.user_ns:
            return "\n" + self.notebook() + "\n"
        if name == "vars" and name not in self.user_ns:
            from ..notebook import variables_text

            return "\n" + variables_text(self.user_ns, self.hidden()) + "\n"
        return self.user_ns.get(name, default)

    def __contains__(self, name: str) -> bool:
        return name in self.user_ns or name in ("In", "last_error", "notebook", "vars")

    def hidden(self) -> set:
        """IPython's own names in the namespace (`user_ns_hidden`), left out of {vars}."""
        from IPython import get_ipython

        shell = get_ipython()
        return set(getattr(shell, "user_ns_hidden", {}) or {}) if shell is not None else set()

    def notebook(self) -> str:
        """{notebook}: the cells run before this one (IPython's `In` and `Out`), within the budget."""
        from ..notebook import notebook_text

        from IPython import get_ipython

        shell = get_ipython()
        raw = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
        sources = raw if isinstance(raw, list) and raw else self.user_ns.get("In")  # as typed, magics too
        sources = dict(enumerate(sources[:-1])) if isinstance(sources, list) else {}  # the last one is running
        outputs = self.user_ns.get("Out") if isinstance(self.user_ns.get("Out"), dict) else {}
        return notebook_text(sources, outputs, self.context.errors, self.context.budget_tokens)


class CellSources:
    """`In[k]` as a fenced Python code block (text in the prompt)."""

    def __init__(self, sources: list) -> None:
        self.sources = sources

    def __getitem__(self, index):
        source = self.sources[index]
        if not isinstance(index, int):
            raise TypeError("use one cell number, as in {In[4]}")
        return f"\n```python\n{source.rstrip()}\n```\n"

    def __len__(self) -> int:
        return len(self.sources)


def last_error_text(error: tuple | None) -> str:
    """The exception and its traceback as plain text; UndefinedNameError when there is none."""
    if error is None:
        from ..errors import UndefinedNameError  # not at %load_ext, which registers this module's events

        raise UndefinedNameError("`{last_error}` names the last error of this kernel, and there is none yet "
                                 "(errors of %gemini itself do not count). Run the failing cell first.",
                                 "last_error")
    etype, value, tb = error
    while tb is not None and "IPython" in tb.tb_frame.f_code.co_filename.replace("\\", "/").split("/"):
        tb = tb.tb_next  # IPython's own frames (run_code's exec) come first: the user's code starts after
    from ..notebook import without_keys

    text = without_keys("".join(traceback.format_exception(etype, value, tb)))
    return f"\n```text\n{re.sub(_ANSI, '', text).rstrip()}\n```\n"


def user_traceback_text(error: tuple | None) -> str:
    """For `%gemini fix`: the error with the user's frames only (the notebook's cells and the user's own
    files; library and standard-library frames left out, except the one that raised), at most 20 frames,
    as a fenced text block. UndefinedNameError when there is no error."""
    import sysconfig

    if error is None:
        return last_error_text(error)
    etype, value, tb = error
    library = tuple(p for p in {sysconfig.get_paths().get(k) for k in ("stdlib", "purelib", "platlib")} if p)
    frames = [f for f in traceback.extract_tb(tb)
              if "IPython" not in f.filename.replace("\\", "/").split("/")]
    kept = [f for f in frames if not f.filename.startswith(library) and "site-packages" not in f.filename
            and not f.filename.endswith((".pyx", ".pxi"))]
    if frames and (not kept or kept[-1] is not frames[-1]):
        kept.append(frames[-1])  # where it was raised, even inside a library
    lines = ["Traceback (most recent call last, the user's frames):\n", *traceback.format_list(kept[-20:])]
    lines += traceback.format_exception_only(etype, value)
    from ..notebook import without_keys

    return f"\n```text\n{re.sub(_ANSI, '', without_keys(''.join(lines))).rstrip()}\n```\n"
