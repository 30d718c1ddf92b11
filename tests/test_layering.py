"""The package's imports run downward only, with no circles, as the layers in its docstring say.

Every import is read with `ast`, those inside functions included (a lazy import is still a
dependency): a module may import from its own layer or a lower one; the emulator only constants.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import gemini_magic

PACKAGE = Path(gemini_magic.__file__).resolve().parent


def layers() -> dict[str, int]:
    """Top-level name (module or subpackage) → layer number, from the package docstring."""
    found = {}
    for number, names in re.findall(r"layer (\d+): ([\w, ]+)", gemini_magic.__doc__):
        for name in names.split(","):
            found[name.strip()] = int(number)
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The gemini_magic modules a file imports (absolute names), wherever the import statement is."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("gemini_magic"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("gemini_magic"):
                continue
            for alias in node.names:  # `from . import explain` imports the submodule explain
                submodule = f"{target}.{alias.name}"
                found.add(submodule if (PACKAGE.parent / submodule.replace(".", "/")).with_suffix(".py").exists()
                          or (PACKAGE.parent / submodule.replace(".", "/") / "__init__.py").exists() else target)
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def top(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_every_top_level_module_has_a_layer():
    named = layers()
    tops = {top(m) for m in graph() if top(m)}
    assert tops - set(named) - {"emulator"} == set(), "give these a layer in gemini_magic/__init__.py's docstring"


def test_imports_run_downward():
    named = layers()
    upward = []
    for module, targets in graph().items():
        if module == "gemini_magic" or top(module) == "emulator":
            continue
        for target in targets:
            if target != "gemini_magic" and top(target) != "emulator" and named[top(target)] < named[top(module)]:
                upward.append(f"{module} → {target}")
            if top(target) == "emulator" and top(module) != "magics":
                upward.append(f"{module} → {target} (only the magics start an emulator)")
    assert not upward, "imports that run upward:\n" + "\n".join(sorted(upward))


def test_the_emulator_imports_only_constants():
    bad = [f"{module} → {target}" for module, targets in graph().items() if top(module) == "emulator"
           for target in targets if top(target) not in ("emulator", "constants")]
    assert not bad, bad


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


def test_the_checker_sees_an_upward_import(tmp_path):
    """The checker itself can fail: an upward import written to a temporary module is found."""
    bad = PACKAGE / "wire" / "_layering_probe.py"
    bad.write_text("def f():\n    from ..render import final\n")
    try:
        assert "gemini_magic.render.final" in imports_of(bad) or "gemini_magic.render" in imports_of(bad)
    finally:
        bad.unlink()


def _exception_classes(path: Path, known: set[str]) -> list[str]:
    """Public classes defined in `path` that derive (by name) from an exception class."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            bases = {base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "") for base in node.bases}
            if bases & known or any(b.endswith(("Error", "Exception", "Interrupt")) for b in bases):
                found.append(node.name)
    return found


def test_every_error_class_is_defined_in_errors_and_drawn_in_its_tree():
    from gemini_magic import errors

    defined = {name for name, value in vars(errors).items()
               if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == errors.__name__}
    known = defined | {"Exception", "BaseException", "KeyboardInterrupt", "ValueError", "TypeError", "NameError"}
    elsewhere = [f"{module_name(path)}.{name}" for path in PACKAGE.rglob("*.py")
                 if top(module_name(path)) not in ("emulator", "errors") for name in _exception_classes(path, known)]
    assert not elsewhere, f"define these in gemini_magic/errors.py (re-export them where they were): {elsewhere}"
    tree = errors.__doc__.split("\n\n\n")[0] if errors.__doc__ else ""
    missing = sorted(name for name in defined if not re.search(rf"^    (?:.*[└├]── )?{name}\b", tree, re.M))
    assert not missing, f"draw these in errors.py's docstring tree: {missing}"
    assert len(defined) >= 30
