"""Prompt templates: `{name}` in a prompt puts the kernel object of that name at that point.

    >>> split_template("Compare {a} with {b}.", {"a": 1, "b": [2]})
    ['Compare ', 1, ' with ', [2], '.']
    >>> split_template('Literal {{a}}, JSON {"a": 1}, code { return x; }', {})
    ['Literal {a}, JSON {"a": 1}, code { return x; }']

The grammar, read left to right:

- `{{text}}`, where text holds no brace, is the literal `{text}` (the Python `str.format` escape).
- `{expr}` is a reference when `expr` is a name followed by any number of `.attribute` and
  `[constant]` steps: `{df}`, `{images[0]}`, `{result.figure}`, `{d["key"]}`, `{x[-1]}`,
  `{grid[0, 1]}`. It is resolved in the namespace with `getattr` and `[]`, never with `eval`:
  the text is parsed with `ast.parse(..., mode="eval")` and only Name, Attribute, Subscript and
  constant keys (a negative number counts as constant) are accepted.
- Everything else is text, untouched: JSON (`{"a": 1}`, also nested: a lone `}}` is not an
  escape), code blocks (`{ return x; }`, `{ x }` - a reference has no space inside its braces),
  set literals `{1, 2}`, format specs `{x:>3}`, calls `{f()}`, operators `{a+b}`, private
  attributes `{obj._cache}`, empty braces `{}` and braces spanning lines.

A reference whose root name is not in the namespace, or whose attribute or key does not exist,
raises `UndefinedNameError` (a `NameError`), whose message says how to write literal braces.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from .errors import GeminiError

# `{{text}}` escapes and `{text}` candidates; neither may contain a brace or a line break.
_TOKEN = re.compile(r"\{\{([^{}\n]*)\}\}|\{([^{}\n]*)\}")

_MISSING = object()


class UndefinedNameError(GeminiError, NameError):
    """A `{reference}` in a prompt names a variable, attribute or key that does not exist."""

    def __init__(self, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name


def _is_constant_key(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is not Ellipsis
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float)
    if isinstance(node, ast.Tuple):
        return bool(node.elts) and all(_is_constant_key(e) for e in node.elts)
    return False


def _key_value(node: ast.AST) -> Any:
    return ast.literal_eval(node)


def _steps(expr: str) -> list[tuple[str, Any]] | None:
    """The lookup steps of a reference (`[("name", "df"), ("attr", "x"), ("key", 0)]`), or None."""
    if not expr or expr != expr.strip():
        return None
    try:
        node = ast.parse(expr, mode="eval").body
    except (SyntaxError, ValueError):
        return None
    steps: list[tuple[str, Any]] = []
    while True:
        if isinstance(node, ast.Name):
            steps.append(("name", node.id))
            return steps[::-1]
        if isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                return None
            steps.append(("attr", node.attr))
            node = node.value
        elif isinstance(node, ast.Subscript) and _is_constant_key(node.slice):
            steps.append(("key", _key_value(node.slice)))
            node = node.value
        else:
            return None


def _tokens(text: str):
    """Yield ("text", str) and ("ref", expr, steps) tokens in order."""
    position = 0
    for match in _TOKEN.finditer(text):
        escaped, candidate = match.group(1), match.group(2)
        if escaped is not None:
            yield "text", text[position:match.start()] + "{" + escaped + "}"
        else:
            steps = _steps(candidate)
            if steps is None:
                yield "text", text[position:match.end()]
            else:
                yield "text", text[position:match.start()]
                yield "ref", candidate, steps
        position = match.end()
    yield "text", text[position:]


def references(text: str) -> list[str]:
    """The reference expressions in a prompt, each once, in order of first appearance.

        >>> references('Plot {fig} of {df["a"]} and {fig}; JSON {"k": 1}; escaped {{x}}')
        ['fig', 'df["a"]']
    """
    found: list[str] = []
    for token in _tokens(text):
        if token[0] == "ref" and token[1] not in found:
            found.append(token[1])
    return found


def _undefined_root(expr: str, name: str) -> UndefinedNameError:
    if expr == name:
        where = f"`{{{name}}}` in the prompt refers to a variable that is not defined."
    else:
        where = f"`{{{expr}}}` in the prompt refers to `{name}`, a variable that is not defined."
    return UndefinedNameError(f"{where} Define it first, or write {{{{{expr}}}}} for literal braces.", name)


def resolve(expr: str, namespace: dict, steps: list | None = None) -> Any:
    """The object a reference names, e.g. `resolve('d["key"]', ns)`; raises UndefinedNameError."""
    steps = _steps(expr) if steps is None else steps
    if steps is None:
        raise ValueError(f"{expr!r} is not a reference (a name with .attribute and [constant] steps).")
    kind, root = steps[0]
    value = namespace.get(root, _MISSING)
    if value is _MISSING:
        raise _undefined_root(expr, root)
    path = root
    for kind, step in steps[1:]:
        if kind == "attr":
            try:
                found = getattr(value, step, _MISSING)
                missing = f"`{path}` (a {type(value).__name__}) has no attribute `{step}`"
            except Exception as error:  # a property that raises: say so, don't show its traceback
                found, missing = _MISSING, f"reading `{path}.{step}` raised {type(error).__name__}: {error}"
            path += "." + step
        else:
            try:
                found = value[step]
            except Exception as error:  # KeyError, IndexError, TypeError, or whatever __getitem__ raises
                found = _MISSING
                reason = "no such key" if isinstance(error, KeyError) else str(error) or type(error).__name__
                missing = f"`{path}[{step!r}]` failed on the {type(value).__name__} `{path}`: {reason}"
            path += f"[{step!r}]"
        if found is _MISSING:
            raise UndefinedNameError(
                f"`{{{expr}}}` in the prompt cannot be resolved: {missing}. "
                f"Fix the reference, or write {{{{{expr}}}}} for literal braces.", root)
        value = found
    return value


def split_template(text: str, namespace: dict) -> list:
    """Split a prompt into text and the objects its `{references}` name, in order.

    Adjacent strings are merged (a str variable joins the text around it) and empty ones dropped;
    a name used twice gives the same object twice.

        >>> import types
        >>> ns = {"r": types.SimpleNamespace(fig="FIG"), "xs": [10, 20, 30], "d": {"k": "V"}}
        >>> split_template('{r.fig} {xs[-1]} {d["k"]} {{literal}}', ns)
        ['FIG ', 30, ' V {literal}']
    """
    items: list = []
    for token in _tokens(text):
        item = token[1] if token[0] == "text" else resolve(token[1], namespace, token[2])
        if isinstance(item, str):
            if not item:
                continue
            if items and isinstance(items[-1], str):
                items[-1] += item
                continue
        items.append(item)
    return items
