"""The code's shape: layers that only point down, no import cycle, files a person can read.

The engine's floors, lowest first (README, "How the code is laid out"): music <- io <- models and render <- data <-
pipelines <- eval <- train <- cli; the app stands on all of them. Every import of a module (at the top of a file or
inside a function) must reach its own package or a lower floor. Imports under ``if TYPE_CHECKING:`` are for
annotations only and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# (prefix, floor): the longest matching prefix decides. Modules on one floor may import their own package only (the
# entry points ``python -m engine.generate``, ``engine.evaluate``, ``engine.train`` and ``engine.data`` belong to
# engine.cli).
PACKAGE_OF = {
    "engine.generate": "engine.cli",
    "engine.evaluate": "engine.cli",
    "engine.train.__main__": "engine.cli",
    "engine.data.__main__": "engine.cli",
}
FLOORS = [
    ("engine", 0),  # the package itself (an empty __init__)
    ("engine.paths", 0),
    ("engine.music", 0),
    ("engine.io", 1),
    ("engine.models", 2),
    ("engine.render", 2),
    ("engine.data", 3),
    ("engine.pipelines", 4),
    ("engine.eval", 5),
    ("engine.train", 6),
    ("engine.cli", 7),
    ("engine.train.__main__", 7),
    ("engine.data.__main__", 7),
    ("engine.generate", 7),
    ("engine.evaluate", 7),
    ("app", 8),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _floor(module: str) -> tuple[str, int] | None:
    """(the module's package, its floor), or None for a module no floor holds."""
    matches = [(prefix, floor) for prefix, floor in FLOORS if module == prefix or module.startswith(prefix + ".")]
    if not matches:
        return None
    prefix, floor = max(matches, key=lambda match: len(match[0]))
    return PACKAGE_OF.get(prefix, prefix), floor


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST, known: set[str]) -> set[str]:
    """Modules a file imports when it runs (``from pkg import submodule`` counts as the submodule)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in known else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    files = [p for folder in ("engine", "app") for p in sorted((ROOT / folder).rglob("*.py"))]
    modules = {_module_name(p): p for p in files}
    known = set(modules)
    return {
        name: {m for m in _runtime_imports(ast.parse(path.read_text()), known) if m in known}
        for name, path in modules.items()
    }


GRAPH = _graph()


def test_every_module_has_a_floor():
    assert [m for m in GRAPH if _floor(m) is None] == []


def test_imports_only_point_down():
    wrong = []
    for module, targets in GRAPH.items():
        prefix, floor = _floor(module)  # type: ignore[misc]  # every module has one (the test above)
        for target in targets:
            target_prefix, target_floor = _floor(target)  # type: ignore[misc]
            if target_floor > floor or (target_floor == floor and target_prefix != prefix):
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_the_app_imports_neither_the_trainers_nor_torch():
    imported = {}
    for path in sorted((ROOT / "app").rglob("*.py")) + [ROOT / "app.py"]:
        every = _runtime_imports(ast.parse(path.read_text()), set())
        bad = sorted(m for m in every if m == "torch" or m.startswith(("torch.", "engine.train")))
        if bad:
            imported[str(path.relative_to(ROOT))] = bad
    assert imported == {}


def test_there_is_no_import_cycle():
    # Tarjan's strongly connected components: a component of more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def connect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            connect(module)
    assert cycles == []


@pytest.mark.parametrize("path", sorted((ROOT / "engine").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_engine_file_is_over_450_lines(path):
    assert len(path.read_text().splitlines()) <= 450


# Names several modules define on purpose, each its own thing: every command line's parser and entry point, every
# trainer's train(), a module's logger, a suite's description of its data, a TypeVar.
SAME_NAME_ON_PURPOSE = {"main", "build_parser", "train", "log", "DATA", "T"}


def test_every_public_function_class_and_constant_of_the_engine_is_defined_once():
    """A metric, limit, default or helper has one home (a module re-exporting it by import does not define it)."""
    homes: dict[str, list[str]] = {}
    for path in sorted((ROOT / "engine").rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and n.id.isupper()]
            else:
                continue
            for name in names:
                if not name.startswith("_") and name not in SAME_NAME_ON_PURPOSE:
                    homes.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert {name: where for name, where in homes.items() if len(where) > 1} == {}
