"""Parts are told apart in one place: the table of part kinds (`gemini_magic/answer/part_kinds.py`,
and `render/part_kinds.py` for the views), so a new kind of part is one row in that table.

A *switch on part types* is a function that tests one part dict for two or more kinds of wire part:
`"text" in part` ... `part.get("inlineData")` ... `"functionCall" in part`, in any mix of `in` / `not
in` tests and `.get("...")` calls on the same expression (`inlineData`/`inline_data` and
`fileData`/`file_data` count as one kind each). Code that asks about one kind (`"functionCall" in
p`), reads a flag (`part.get("thought")`) or builds parts (`{"text": ...}`) is not a switch. Read with
`ast`, never by importing the package; every function of the package is checked, nested ones
included.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

PACKAGE = Path(importlib.util.find_spec("gemini_magic").origin).resolve().parent  # found, not imported

#: Each wire field that makes a part what it is → the kind it stands for.
PART_FIELDS = {"text": "text", "inlineData": "inline data", "inline_data": "inline data", "fileData": "file",
               "file_data": "file", "functionCall": "function call", "functionResponse": "function response",
               "executableCode": "executable code", "codeExecutionResult": "code execution result"}

#: The table's own modules: the only places that may switch on part types.
TABLE = {"answer/part_kinds.py", "render/part_kinds.py"}

#: Switches left outside the table for now, "module path:function" → why (not the kinds the views show).
KNOWN = {
    # counts the request's inline bytes as base64 and names its largest parts for the size error
    "parts/sizes.py:part_size": "request size in base64 bytes (issue 25 item 4 left it)",
    "parts/sizes.py:_mime": "names a part in the request-size error",
    # what a Live session can take as realtimeInput (text, inline images and audio; not files)
    "parts/live_input.py:realtime_messages": "Live input conversion",
    # pairs each functionCall with the functionResponse that answers it
    "render/calls.py:records_from_parts": "call/response pairing",
    # render/live.py belongs to another change (issue 25); route it through kind_of there
    "render/live.py:_has_media_or_calls": "owned by the live view's change",
}


def switches_in(source: str) -> list[tuple[str, int, list[str]]]:
    """(function name, line, kinds tested) for every function in `source` that tests one expression
    for two or more kinds of part."""
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        kinds_by_target: dict[str, set[str]] = {}
        for node in ast.walk(function):
            field, target = _part_test(node)
            if field is not None:
                kinds_by_target.setdefault(ast.dump(target), set()).add(PART_FIELDS[field])
        for kinds in kinds_by_target.values():
            if len(kinds) >= 2:
                found.append((getattr(function, "name", "<lambda>"), function.lineno, sorted(kinds)))
    return found


def _part_test(node: ast.AST) -> tuple[str | None, ast.AST | None]:
    """`"field" in x` / `"field" not in x` / `x.get("field")` for a part field: (field, x); else (None, None)."""
    if (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn))
            and isinstance(node.left, ast.Constant) and node.left.value in PART_FIELDS):
        return node.left.value, node.comparators[0]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value in PART_FIELDS):
        return node.args[0].value, node.func.value
    return None, None


def package_switches() -> dict[str, list[str]]:
    """"module path:function" → kinds tested, for every switch outside the table's modules."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in TABLE:
            continue
        for name, line, kinds in switches_in(path.read_text(encoding="utf-8")):
            found[f"{relative}:{name}"] = [f"line {line}", *kinds]
    return found


def test_no_switch_on_part_types_outside_the_table():
    new = {where: kinds for where, kinds in package_switches().items() if where not in KNOWN}
    assert not new, ("ask the table of part kinds (gemini_magic.answer.part_kinds.kind_of(part) and the kind's "
                     f"methods; a new kind is a row in KINDS) instead of testing part fields here: {new}")


def test_the_checker_reads_the_package():
    """It reads real code: the switches still known are found where they are (when none is left,
    KNOWN can be emptied and this test removed)."""
    assert package_switches().keys() & KNOWN.keys()


SWITCH = '''
def describe_parts(parts):
    pieces = []
    for part in parts:
        if part.get("thought"):
            continue
        if "text" in part:
            pieces.append(part["text"])
        elif "inlineData" in part:
            pieces.append(f"[{part['inlineData'].get('mimeType', 'data')}]")
        elif "functionCall" in part:
            pieces.append(f"[call {part['functionCall'].get('name')}]")
    return " ".join(pieces)

def as_text(parts):
    for part in parts:
        if "text" in part:
            yield part["text"]
            continue
        blob = part.get("inlineData") or {}
        yield blob.get("mimeType")

def has_media(candidate):
    return any("inlineData" in p or "functionCall" in p for p in candidate.parts)
'''

INNOCENT = '''
def calls(parts):
    return [p["functionCall"] for p in parts if "functionCall" in p]

def blob_of(part):
    return part.get("inlineData") or part.get("inline_data")

def thoughts(parts):
    return [p for p in parts if p.get("thought") and p.get("text")]

def build(text, data):
    return [{"text": text}, {"inlineData": {"mimeType": "image/png", "data": data}}]

def two_parts(a, b):
    return "text" in a and "functionCall" in b
'''


def test_the_checker_finds_chains_and_lets_single_tests_pass():
    """The checker can fail: the chains this change removed are found (each function, its kinds), and
    one-kind tests, flags, builders and tests on two different parts pass."""
    found = switches_in(SWITCH)
    assert [(name, kinds) for name, _, kinds in found] == [
        ("describe_parts", ["function call", "inline data", "text"]),
        ("as_text", ["inline data", "text"]),
        ("has_media", ["function call", "inline data"]),
    ]
    assert switches_in(INNOCENT) == []
