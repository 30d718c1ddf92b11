"""The notebook as context for a prompt: `{notebook}`, `{vars}`, the fix request and code answers.

Plain functions of plain values (the magics pass IPython's `In`, `Out` and namespace; plain Python
passes its own), with no I/O:

- `summarize(value)`: one short line for any object, its library never imported to tell its type
  (a DataFrame "DataFrame 100 rows x 3 columns (a int64, b object, c float64)", an array "ndarray
  (3, 4) float64", an image "image 640x480", a figure "figure 640x480", a str its first characters).
- `notebook_text(sources, outputs, errors, budget_tokens=8000)`: the cells run so far, newest kept
  first when they do not all fit the budget (tokens estimated as characters / 4), with a note
  saying how many earlier cells were left out. Each cell's source in a fenced block, then its
  output as short text (`summarize`; a DataFrame also its first rows) or its error's last line.
- `variables_text(namespace, hidden=())`: the user's variables, one line each (name, summary), at
  most `MAX_VARIABLES`.
- `fix_prompt(source, error, variables, instruction="")`: what `%gemini fix` sends.
- `code_system(system, language)`: a system instruction that asks for code for a cell.

The API key never reaches the model through them: the keys of GOOGLE_API_KEY / GEMINI_API_KEY, the
keys clients registered (redaction.register_secret) and anything shaped like a Google API key are
replaced by [REDACTED] in every summary and text (a `headers` dict holding `x-goog-api-key`, a cell
that sets the key).

Bounds: a summary is at most `SUMMARY_CHARS` characters; a DataFrame's head `HEAD_ROWS` rows.

    >>> summarize([1, 2, 3])
    'list of 3: [1, 2, 3]'
    >>> print(notebook_text({1: "x = 2", 2: "x / 0"}, {}, {2: "ZeroDivisionError: division by zero"}))
    The notebook so far (2 cells):
    <BLANKLINE>
    In[1]:
    ```python
    x = 2
    ```
    <BLANKLINE>
    In[2]:
    ```python
    x / 0
    ```
    Error: ZeroDivisionError: division by zero
"""

from __future__ import annotations

import ast
from typing import Any, Mapping

SUMMARY_CHARS = 160
HEAD_ROWS = 5
MAX_VARIABLES = 40
CHARS_PER_TOKEN = 4
DEFAULT_BUDGET = 8000


def _type_names(value: Any) -> set[str]:
    """"library.Name" of each class of `value` ("pandas.DataFrame", "PIL.Image"): the top package and
    the class name, so a library moving its classes between modules is still recognised."""
    return {f"{str(klass.__module__).split('.')[0]}.{klass.__qualname__}" for klass in type(value).__mro__}


def without_keys(text: str) -> str:
    """`text` without the API key (see the module docstring)."""
    import os

    from .constants import API_KEY_ENV_VARS
    from .redaction import redact_keys

    return redact_keys(text, [key.strip() for key in map(os.environ.get, API_KEY_ENV_VARS) if key])


def _short(text: str, limit: int = SUMMARY_CHARS) -> str:
    text = without_keys(" ".join(str(text).split()))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def summarize(value: Any) -> str:
    """One line saying what `value` is: type, shape, dtypes, a few values; at most SUMMARY_CHARS."""
    names = _type_names(value)
    if "pandas.DataFrame" in names:
        rows, columns = value.shape
        dtypes = ", ".join(f"{name} {dtype}" for name, dtype in list(value.dtypes.items())[:12])
        more = f", +{columns - 12} more" if columns > 12 else ""
        return _short(f"DataFrame {rows:,} rows x {columns:,} columns ({dtypes}{more})", SUMMARY_CHARS * 2)
    if "pandas.Series" in names:
        return _short(f"Series {len(value):,} values {value.dtype}, name {value.name!r}: "
                      f"{', '.join(map(repr, value.head(HEAD_ROWS).tolist()))}")
    if "numpy.ndarray" in names:
        return _short(f"ndarray {tuple(value.shape)} {value.dtype}: {value.ravel()[:6].tolist()}")
    if "PIL.Image" in names:
        return f"image {value.width}x{value.height} {value.mode}"
    if "matplotlib.Figure" in names:
        width, height = (round(v) for v in value.get_size_inches() * value.dpi)
        return f"figure {width}x{height}"
    if isinstance(value, BaseException):
        return _short(f"{type(value).__name__}: {value}")
    if isinstance(value, (str, bytes)):
        kind = type(value).__name__
        return _short(f"{kind} of {len(value):,} characters: {value[:SUMMARY_CHARS]!r}" if kind == "str"
                      else f"{kind} of {len(value):,} bytes")
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return _short(f"{type(value).__name__} of {len(value):,}: {value!r}")
    if callable(value) and hasattr(value, "__code__"):
        import inspect

        try:
            signature = str(inspect.signature(value))
        except (TypeError, ValueError):
            signature = "(...)"
        return _short(f"function {value.__name__}{signature}")
    try:
        shown = repr(value)
    except Exception:  # a broken __repr__ must not stop the prompt
        shown = "(no repr)"
    return _short(f"{type(value).__name__}: {shown}")


def output_text(value: Any) -> str:
    """A cell's output as short text: `summarize`, plus the first rows of a DataFrame."""
    line = summarize(value)
    if "pandas.DataFrame" in _type_names(value):
        try:
            head = value.head(HEAD_ROWS).to_string(max_colwidth=40)
        except Exception:
            head = ""
        return f"{line}\n{without_keys(head)}" if head else line
    return line


def _cell_text(number: int, source: str, outputs: Mapping, errors: Mapping) -> str:
    lines = [f"In[{number}]:", f"```python\n{source.rstrip()}\n```"]
    if number in errors:
        lines.append(f"Error: {errors[number]}")
    elif number in outputs:
        lines.append(f"Out[{number}]: {output_text(outputs[number])}")
    return "\n".join(lines)


def notebook_text(sources: Mapping[int, str] | list, outputs: Mapping[int, Any] | None = None,
                  errors: Mapping[int, str] | None = None, budget_tokens: int = DEFAULT_BUDGET) -> str:
    """The cells run so far as text within `budget_tokens` (characters / 4): sources by execution
    number (a dict, or IPython's `In` list, whose entry 0 is empty), outputs (IPython's `Out`) and
    errors (execution number → the error's last line). When they do not all fit, the newest cells are
    kept and a note says how many earlier ones were left out; one cell larger than the whole budget
    is cut, with a note."""
    if isinstance(sources, list):
        sources = dict(enumerate(sources))
    outputs, errors = outputs or {}, errors or {}
    cells = [(n, s) for n, s in sorted(sources.items()) if isinstance(s, str) and s.strip()]
    budget = max(int(budget_tokens), 1) * CHARS_PER_TOKEN
    kept: list[str] = []
    used = 0
    for number, source in reversed(cells):
        text = _cell_text(number, source, outputs, errors)
        if used + len(text) > budget:
            if not kept:  # the newest cell alone is over the budget: keep its start
                kept.append(text[:budget] + f"\n(In[{number}] cut to fit {budget_tokens:,} tokens)")
            break
        kept.append(text)
        used += len(text) + 2
    left_out = len(cells) - len(kept)
    head = f"The notebook so far ({len(cells)} cell{'s' if len(cells) != 1 else ''})"
    if not cells:
        return "The notebook so far: no cells have been run yet."
    if left_out:
        head += f"; the {left_out} earliest left out to stay within {budget_tokens:,} tokens"
    return without_keys(head + ":\n\n" + "\n\n".join(reversed(kept)))


def variables_text(namespace: Mapping[str, Any], hidden: Any = ()) -> str:
    """The user's variables, one line each (`name: summary`), sorted by name; names starting with `_`,
    modules and `hidden` (IPython's own names) left out; at most MAX_VARIABLES, with a note beyond."""
    import types

    names = sorted(name for name, value in namespace.items()
                   if not name.startswith("_") and name not in hidden and not isinstance(value, types.ModuleType)
                   and name not in ("In", "Out", "get_ipython", "exit", "quit"))
    lines = [f"- {name}: {summarize(namespace[name])}" for name in names[:MAX_VARIABLES]]
    if len(names) > MAX_VARIABLES:
        lines.append(f"- ({len(names) - MAX_VARIABLES} more variables left out)")
    return "The user's variables:\n" + "\n".join(lines) if lines else "The user's variables: none yet."


def names_in(source: str) -> list[str]:
    """The names a cell's source reads or assigns, in order of first use (none when it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = [node.id for node in ast.walk(tree) if isinstance(node, ast.Name)]
    return list(dict.fromkeys(found))


def fix_prompt(source: str, error: str, variables: Mapping[str, Any], instruction: str = "",
               number: int | None = None) -> str:
    """What `%gemini fix` sends: the failing cell's source, the error (traceback as text), summaries of
    the variables the cell names, and the user's `instruction` when given."""
    where = f"In[{number}]" if number is not None else "the cell"
    lines = [f"This notebook cell ({where}) failed. Explain briefly why, then give the whole fixed cell.",
             "", "The cell:", f"```python\n{source.rstrip()}\n```", "", "The error:", error.strip()]
    if variables:
        lines += ["", "Variables the cell names, as they are now:"]
        lines += [f"- {name}: {summarize(value)}" for name, value in list(variables.items())[:MAX_VARIABLES]]
    if instruction.strip():
        lines += ["", f"Also: {instruction.strip()}"]
    return without_keys("\n".join(lines))


def code_system(system: str | None, language: str = "python") -> str:
    """`system` (may be None) followed by the request for code for a notebook cell in `language`."""
    ask = (f"You write code for a Jupyter notebook running a {language} kernel. Answer with a short "
           f"explanation and exactly one fenced ```{language} code block holding the complete code for one "
           "new cell; it will be placed in the notebook, not run.")
    return f"{system}\n\n{ask}" if system else ask
