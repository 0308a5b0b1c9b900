"""The layout the code keeps: no import cycles, engines that do not name kinds, a thin cli.

These read the source as text and syntax trees: they pin how the package is built, so a
new kind stays one module and one registry line (see the README's Design section)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "convshape"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module of ours that ``name`` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # ``from . import calc`` imports the module calc; ``from .calc import run``, calc.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        # Every module imports the package it is in; that is no edge worth naming.
        found.update(target for target in targets if target in modules and target not in (name, "convshape"))
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_module_imports_one_that_imports_it_back():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert _cycle(graph) is None, " → ".join(_cycle(graph))


def test_the_cycle_check_can_fail():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


KIND_NAME = re.compile(r"\bKind\.([A-Z][A-Z0-9_]*)\b")


def test_at_most_three_files_name_three_kinds_or_more():
    naming = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                    if len(set(KIND_NAME.findall(path.read_text(encoding="utf-8")))) >= 3)
    assert len(naming) <= 3, naming


def test_cli_is_thin():
    """The commands live in convshape/commands/; cli.py registers them and guards the run."""
    assert len((PACKAGE / "cli.py").read_text(encoding="utf-8").splitlines()) < 400


def test_no_family_of_kinds_imports_the_registry():
    """The registry imports its families by name, when a stack first names one of their kinds
    (an edge the cycle check above cannot see): none of them may import it back."""
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}

    def reaches(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    families = [name for name in modules if name.startswith("convshape.ops.")]
    assert len(families) > 10
    assert [name for name in families if "convshape.kinds" in reaches(name)] == []
