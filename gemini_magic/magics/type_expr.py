"""`--schema EXPR`: a Python type named in the kernel, or an expression of one (`list[Place]`,
`dict[str, Score]`, `Place | None`, `Literal["yes", "no"]`), read without running arbitrary code.

The expression is parsed with `ast` and only names, attributes, subscripts, tuples, constants and `|`
are accepted (no calls, no operators else); names are looked up in the user's namespace, then in
builtins and `typing`, and only then is the checked expression evaluated.
"""

from __future__ import annotations

import ast
import builtins
import typing
from typing import Any

from IPython.core.error import UsageError

_ALLOWED = (ast.Expression, ast.Name, ast.Load, ast.Attribute, ast.Subscript, ast.Tuple, ast.List, ast.Constant,
            ast.BinOp, ast.BitOr, ast.UnaryOp, ast.USub)


def evaluate_type(expression: str, namespace: dict) -> Any:
    """The type `expression` names; UsageError when it is not a type expression or names nothing."""
    text = expression.strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise UsageError(f"--schema {expression!r} is not a Python type expression; write one such as "
                         "list[Place] or a class name.") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED) or (isinstance(node, ast.BinOp) and not isinstance(node.op, ast.BitOr)):
            raise UsageError(f"--schema {expression!r}: only type expressions are read (names, [], ., |, "
                             "constants); build anything else in a cell first and name it.")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise UsageError(f"--schema {expression!r}: private attributes are not read.")
    scope: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in scope:
            if node.id in namespace:
                scope[node.id] = namespace[node.id]
            elif hasattr(builtins, node.id):
                scope[node.id] = getattr(builtins, node.id)
            elif hasattr(typing, node.id):
                scope[node.id] = getattr(typing, node.id)
            else:
                raise UsageError(f"--schema {expression}: {node.id} is not defined; define the class first "
                                 "(a dataclass, TypedDict, Enum or pydantic model).")
    try:
        return eval(compile(tree, "<--schema>", "eval"), {"__builtins__": {}}, scope)  # noqa: S307 - checked above
    except Exception as error:  # a subscript the type does not take, say
        raise UsageError(f"--schema {expression}: {type(error).__name__}: {error}") from None
