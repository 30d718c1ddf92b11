"""The package's imports run downward only, with no circles, as the layers in its docstring say.

Every import is read with `ast`, never by importing the package (so this test loads nothing of it
and writes nothing into it, not even a __pycache__), and every kind of import counts: statements
inside functions (a lazy import is still a dependency), and imports by a string:
`importlib.import_module("gemini_magic.x")` or `__import__(...)` with a literal name (relative ones
resolved against `package=`), and any other string literal that names a module of the package
exactly, such as IPython's `for_type_by_name("gemini_magic.answer.response", "Response")` registrations.
An import whose name is computed (`import_module(f".{name}", __name__)`) is allowed only in a
package's `__init__` loading its own submodules (the lazy attributes); anywhere else it fails.
A module may import from its own layer or a lower one. The emulator is its own package beside this
one, `gemini_emulator`: it imports only `gemini_magic.constants`, and only the magics import it.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(importlib.util.find_spec("gemini_magic").origin).resolve().parent  # found, not imported
EMULATOR = Path(importlib.util.find_spec("gemini_emulator").origin).resolve().parent

#: Upward string imports known and owned by another change; each names the issue that removes it.
KNOWN_UPWARD: set[str] = set()


def package_docstring() -> str:
    return ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))) or ""


def layers() -> dict[str, int]:
    """Top-level name (module or subpackage) → layer number, from the package docstring."""
    found = {}
    for number, names in re.findall(r"layer (\d+): ([\w, ]+)", package_docstring()):
        for name in names.split(","):
            found[name.strip()] = int(number)
    return found


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _exists(module: str, root: Path = PACKAGE) -> bool:
    path = root.parent / module.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _resolve(name: str, level: int, package: str) -> str:
    """`from ..x import y` / `import_module("..x", package)`: the absolute module name."""
    if not level:
        return name
    base = package.split(".")
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


_IMPORT_FUNCTIONS = {"import_module", "__import__"}


def imports_in(source: str, name: str, is_package: bool = False, prefix: str = "gemini_magic",
               root: Path = PACKAGE) -> tuple[set[str], list[str]]:
    """The `prefix` modules that the source of module `name` imports (absolute names), and the lines
    of imports by a computed name, from statements anywhere in it and from string imports."""
    package = name if is_package else name.rsplit(".", 1)[0]
    found: set[str] = set()
    computed: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith(prefix))
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node.module or "", node.level, package)
            if not target.startswith(prefix):
                continue
            for alias in node.names:  # `from . import explain` imports the submodule explain
                submodule = f"{target}.{alias.name}"
                found.add(submodule if _exists(submodule, root) else target)
        elif isinstance(node, ast.Call):
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if function not in _IMPORT_FUNCTIONS or not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                level = len(first.value) - len(first.value.lstrip("."))
                target = _resolve(first.value.lstrip("."), level, package)
                if target.startswith(prefix):
                    found.add(target)
            else:
                computed.append(f"{name}:{node.lineno}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # a module named by a string ("gemini_magic.render.row_progress", for_type_by_name tuples)
            if re.fullmatch(rf"{prefix}(\.\w+)+", node.value) and _exists(node.value, root):
                found.add(node.value)
    return found, computed


def imports_of(path: Path) -> set[str]:
    """The gemini_magic modules a file imports (absolute names), wherever and however it imports them."""
    return imports_in(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")[0]


def graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def top(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_every_top_level_module_has_a_layer():
    named = layers()
    tops = {top(m) for m in graph() if top(m)}
    assert tops - set(named) == set(), "give these a layer in gemini_magic/__init__.py's docstring"


def test_imports_run_downward():
    named = layers()
    upward = []
    for module, targets in graph().items():
        if module == "gemini_magic":
            continue
        for target in targets:
            if target != "gemini_magic" and named[top(target)] < named[top(module)]:
                if f"{module} → {target}" not in KNOWN_UPWARD:
                    upward.append(f"{module} → {target}")
    assert not upward, "imports that run upward:\n" + "\n".join(sorted(upward))


def emulator_graph() -> dict[str, set[str]]:
    """gemini_emulator module → the gemini_magic modules it imports."""
    return {module_name(path, EMULATOR): imports_in(path.read_text(encoding="utf-8"), module_name(path, EMULATOR),
                                                     path.name == "__init__.py")[0]
            for path in EMULATOR.rglob("*.py")}


def test_the_emulator_is_beside_the_package_and_imports_only_constants():
    assert not (PACKAGE / "emulator").exists() and EMULATOR.parent == PACKAGE.parent
    modules = emulator_graph()
    assert len(modules) > 30  # the checker does read the emulator
    bad = [f"{module} → {target}" for module, targets in modules.items() for target in targets
           if target != "gemini_magic.constants"]
    assert not bad, bad
    assert {"gemini_magic.constants"} <= set().union(*modules.values())


def test_only_the_magics_import_the_emulator_and_only_lazily():
    found = []
    for path in PACKAGE.rglob("*.py"):
        module = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.split(".")[0] == "gemini_emulator" for name in names):
                found.append((module, id(node) in top_level))
    assert found, "the magics start the emulator by importing gemini_emulator"
    assert all(top(module) == "magics" and not at_top for module, at_top in found), found


def test_no_import_circles():
    edges = {module: {t for t in targets if t != module} for module, targets in graph().items()
             if module != "gemini_magic"}
    # A package's __init__ re-exporting its submodules is not a circle: drop edges from a package to
    # its own submodules.
    for module in edges:
        edges[module] = {t for t in edges[module] if not t.startswith(module + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt in edges and not state.get(nxt):
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if not state.get(node):
            visit(node)
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def test_imports_by_a_computed_name_are_only_lazy_attributes_of_a_package():
    bad = []
    for path in PACKAGE.rglob("*.py"):
        _, computed = imports_in(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")
        if computed and path.name != "__init__.py":
            bad.extend(computed)
    assert not bad, f"import these by a literal name (or as a statement), so the layers can be checked: {bad}"


PROBE = """
import importlib

def later():
    importlib.import_module("gemini_magic.render.final")

def relative():
    return importlib.import_module("..magics.cell", __package__)

def dunder():
    __import__("gemini_magic.api.client")

def formatter(ip):
    ip.display_formatter.formatters["text/html"].for_type_by_name("gemini_magic.answer.response", "Response", str)

def computed(name):
    return importlib.import_module(f"gemini_magic.{name}")
"""


def test_the_checker_sees_statement_and_string_imports():
    """The checker itself can fail: each kind of import in a synthetic module (never written to disk)
    is found, and an upward one is reported as upward."""
    found, computed = imports_in(PROBE, "gemini_magic.wire._probe")
    assert {"gemini_magic.render.final", "gemini_magic.magics.cell", "gemini_magic.api.client",
            "gemini_magic.answer.response"} <= found
    assert computed == ["gemini_magic.wire._probe:17"]  # the f-string import
    statement, _ = imports_in("def f():\n    from ..render import final\n", "gemini_magic.wire._probe")
    assert statement == {"gemini_magic.render.final"}
    named = layers()
    upward = {t for t in found if named[top(t)] < named["wire"]}
    assert {"gemini_magic.render.final", "gemini_magic.magics.cell", "gemini_magic.api.client"} <= upward


def test_every_known_upward_import_is_still_there():
    """An allowance in KNOWN_UPWARD whose import is gone is stale and fails here, so the set only
    shrinks (issue 25 item 1 emptied it: the callers pass the row progress view down to api/)."""
    stale = []
    for known in KNOWN_UPWARD:
        module, target = known.split(" → ")
        path = PACKAGE.joinpath(*module.split(".")[1:]).with_suffix(".py")
        if not path.exists() or target not in imports_of(path):
            stale.append(known)
    assert not stale, f"remove these from KNOWN_UPWARD: {stale}"


def test_checking_the_layers_imports_nothing_of_the_package_and_writes_nothing_into_it():
    before = {p: p.stat().st_mtime_ns for p in PACKAGE.rglob("*")}
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import test_layering as t; t.graph(); t.layers(); "
            "t.test_every_error_class_is_defined_in_errors_and_drawn_in_its_tree(); "
            "print(sorted(m for m in sys.modules if m.startswith('gemini_magic')))")
    done = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    after = {p: p.stat().st_mtime_ns for p in PACKAGE.rglob("*")}
    assert after == before


def _exception_classes(path: Path, known: set[str]) -> list[str]:
    """Public classes defined in `path` that derive (by name) from an exception class: one of `known`,
    one named like an exception, or one defined earlier in the same file."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            bases = {base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "") for base in node.bases}
            if bases & (known | set(found)) or any(b.endswith(("Error", "Exception", "Interrupt")) for b in bases):
                found.append(node.name)
    return [name for name in found if not name.startswith("_")]


def test_every_error_class_is_defined_in_errors_and_drawn_in_its_tree():
    defined = set(_exception_classes(PACKAGE / "errors.py", {"Exception", "KeyboardInterrupt"}))
    known = defined | {"Exception", "BaseException", "KeyboardInterrupt", "ValueError", "TypeError", "NameError"}
    elsewhere = [f"{module_name(path)}.{name}" for path in PACKAGE.rglob("*.py")
                 if top(module_name(path)) != "errors" for name in _exception_classes(path, known)]
    assert not elsewhere, f"define these in gemini_magic/errors.py (re-export them where they were): {elsewhere}"
    tree = (ast.get_docstring(ast.parse((PACKAGE / "errors.py").read_text(encoding="utf-8"))) or "").split("\n\n\n")[0]
    missing = sorted(name for name in defined if not re.search(rf"^    (?:.*[└├]── )?{name}\b", tree, re.M))
    assert not missing, f"draw these in errors.py's docstring tree: {missing}"
    assert len(defined) >= 30
