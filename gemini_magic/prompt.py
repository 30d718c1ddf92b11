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
- `{expr!r}`, `{expr!s}`, `{expr!a}` and `{expr:spec}` (both: `{x!r:>30}`) are filled as `str.format`
  fills them: the object's repr or str, formatted, as text (`{total:,.2f}`, `{when:%Y-%m-%d}`). A
  spec the object refuses raises `TemplateError`.
- A brace expression that starts with a variable of the namespace but is not a reference is refused
  with `TemplateError` saying how to write it, never sent as text in silence: spaces inside the braces
  (`{ x }`), a column name with a space (`{row.my col}`: write `{row["my col"]}`), a variable key
  (`{d[k]}`), a slice, a call (`{f()}`), a private attribute (`{obj._cache}`).
- Everything else is text, untouched: JSON (`{"a": 1}`, also nested: a lone `}}` is not an
  escape), code blocks (`{ return x; }`, and `{ x }` when `x` is no variable), set literals `{1, 2}`,
  operators `{a+b}`, empty braces `{}` and braces spanning lines.

A reference whose root name is not in the namespace, or whose attribute or key does not exist,
raises `UndefinedNameError` (a `NameError`), whose message says how to write literal braces; so do
`{x!r}` and `{x:>30}` (a standard format spec) when `x` is not defined.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from .errors import TemplateError, UndefinedNameError  # defined in errors.py; imported from here too
from .lazy_re import lazy_compile

# `{{text}}` escapes and `{text}` candidates; neither may contain a brace or a line break.
_TOKEN = lazy_compile(r"\{\{([^{}\n]*)\}\}|\{([^{}\n]*)\}")

_MISSING = object()


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


# The standard format spec mini-language: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
_STANDARD_SPEC = lazy_compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?\d*[_,]?(?:\.\d+)?[bcdeEfFgGnosxX%]?\Z")
_ROOT = lazy_compile(r"\s*([^\W\d]\w*)\s*([.\[(]|\Z)")


class DeferredValue:
    """A value known only later (a row's `{row.col}`): `split_template` keeps it as an item and hands it
    the conversion and format spec written after it (`with_format`), to apply once the value is known."""

    def with_format(self, conversion: str | None, spec: str) -> "DeferredValue":
        raise NotImplementedError


def format_value(value: Any, conversion: str | None, spec: str, expr: str = "value") -> str:
    """`value` as `str.format` fills `{expr!conversion:spec}`; raises TemplateError when the spec does
    not fit the value."""
    if conversion == "r":
        value = repr(value)
    elif conversion == "s":
        value = str(value)
    elif conversion == "a":
        value = ascii(value)
    try:
        return format(value, spec)
    except (ValueError, TypeError) as error:
        raise TemplateError(f"`{{{expr}}}` in the prompt cannot be filled: format spec {spec!r} does not fit the "
                            f"{type(value).__name__} value ({error}). Fix the spec, or write {{{{{expr}}}}} for "
                            "literal braces.") from None


def _formatted(candidate: str):
    """(reference, steps, conversion, spec) for `ref!c:spec` / `ref:spec` / `ref!c`, else None."""
    for position, char in enumerate(candidate):
        if char not in "!:" or position == 0:
            continue
        steps = _steps(candidate[:position])
        if steps is None:
            continue
        rest, conversion = candidate[position:], None
        if rest.startswith("!"):
            if len(rest) < 2 or rest[1] not in "rsa" or (len(rest) > 2 and rest[2] != ":"):
                return None
            conversion, rest = rest[1], rest[2:]
        return candidate[:position], steps, conversion, rest[1:] if rest else ""
    return None


def _odd(candidate: str) -> tuple[str, str] | None:
    """(root name, why it is no reference) when a candidate starts like a reference but is not one."""
    match = _ROOT.match(candidate)
    if match is None:
        return None
    root, after = match.groups()
    if candidate != candidate.strip() and _steps(candidate.strip()) is not None:
        inner = candidate.strip()
        return root, f"it has spaces inside its braces: write {{{inner}}} to put `{inner}` here"
    if not after:
        return None
    rest = candidate[match.end(1):].lstrip()
    attribute = re.match(r"\.\s*([^\W\d][^.\[]*?)\s*\Z", rest)
    if attribute and " " in attribute.group(1):
        return root, f'a name with spaces is read with brackets: write {{{root}["{attribute.group(1)}"]}}'
    if after == "(" or re.search(r"\w\s*\(", rest):
        return root, "calls are not run in a prompt: compute the value into a variable first"
    if re.search(r"\.\s*_", rest):
        return root, "private attributes (starting with _) are not read"
    if after == "[":
        return root, 'keys are constants (`{d["key"]}`, `{xs[0]}`): variable keys and slices are not read'
    return root, "a reference is a name with .attribute and [constant] steps"


def _tokens(text: str):
    """Yield ("text", str), ("ref", expr, steps, conversion, spec, strict) and ("odd", text, root, why)
    tokens in order. A ref that is not `strict` is text when its root is not in the namespace (`{a:int}`
    may be a type annotation); an odd one is text unless its root is."""
    position = 0
    for match in _TOKEN.finditer(text):
        escaped, candidate = match.group(1), match.group(2)
        if escaped is not None:
            yield "text", text[position:match.start()] + "{" + escaped + "}"
            position = match.end()
            continue
        yield "text", text[position:match.start()]
        steps, whole = _steps(candidate), text[match.start():match.end()]
        formatted = None if steps is not None else _formatted(candidate)
        odd = None if steps is not None or formatted is not None else _odd(candidate)
        if steps is not None:
            yield "ref", candidate, steps, None, "", True
        elif formatted is not None:
            expr, found, conversion, spec = formatted
            strict = conversion is not None or (bool(_STANDARD_SPEC.match(spec)) and not any(c.isspace() for c in spec))
            yield "ref", expr, found, conversion, spec, strict, whole
        elif odd is not None:
            yield "odd", whole, *odd
        else:
            yield "text", whole
        position = match.end()
    yield "text", text[position:]


def references(text: str) -> list[str]:
    """The reference expressions in a prompt, each once, in order of first appearance.

        >>> references('Plot {fig} of {df["a"]} and {fig}; JSON {"k": 1}; escaped {{x}}')
        ['fig', 'df["a"]']
    """
    found: list[str] = []
    for token in _tokens(text):
        if token[0] == "ref" and token[5] and token[1] not in found:  # `{a:int}` may be no reference
            found.append(token[1])
    return found


def _undefined_root(expr: str, name: str, written: str | None = None) -> UndefinedNameError:
    if written is not None and written != expr:
        return UndefinedNameError(f"`{{{written}}}` in the prompt refers to `{name}`, a variable that is not defined. "
                                  f"Define it first, or write {{{{{written}}}}} for literal braces.", name)
    if expr == name:
        where = f"`{{{name}}}` in the prompt refers to a variable that is not defined."
    else:
        where = f"`{{{expr}}}` in the prompt refers to `{name}`, a variable that is not defined."
    return UndefinedNameError(f"{where} Define it first, or write {{{{{expr}}}}} for literal braces.", name)


def resolve(expr: str, namespace: dict, steps: list | None = None, written: str | None = None) -> Any:
    """The object a reference names, e.g. `resolve('d["key"]', ns)`; raises UndefinedNameError.
    `written`: the brace's text when it adds a conversion or spec (`x!r`), for the message."""
    steps = _steps(expr) if steps is None else steps
    if steps is None:
        raise ValueError(f"{expr!r} is not a reference (a name with .attribute and [constant] steps).")
    kind, root = steps[0]
    value = namespace.get(root, _MISSING)
    if value is _MISSING:
        raise _undefined_root(expr, root, written)
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
                f"`{{{written or expr}}}` in the prompt cannot be resolved: {missing}. "
                f"Fix the reference, or write {{{{{written or expr}}}}} for literal braces.", root)
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
        if token[0] == "text":
            item = token[1]
        elif token[0] == "odd":
            whole, root, why = token[1:]
            if namespace.get(root, _MISSING) is _MISSING:
                item = whole  # code or prose that happens to look like one: no such variable
            else:
                raise TemplateError(f"`{whole}` in the prompt is not a reference gemini_magic can fill: {why}. "
                                    f"Write {{{whole}}} for literal braces.")
        else:
            expr, steps, conversion, spec, strict = token[1:6]
            if not strict and namespace.get(steps[0][1], _MISSING) is _MISSING:
                item = token[6]  # `{a:int}`, `{name:string}`: a type annotation, not a reference
            else:
                shown = token[6][1:-1] if len(token) > 6 else expr
                item = resolve(expr, namespace, steps, shown)
                if conversion is not None or spec:
                    item = (item.with_format(conversion, spec) if isinstance(item, DeferredValue)
                            else format_value(item, conversion, spec, shown))
        if isinstance(item, str):
            if not item:
                continue
            if items and isinstance(items[-1], str):
                items[-1] += item
                continue
        items.append(item)
    return items
