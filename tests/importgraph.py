"""The package's import graph, read from the source with ast, for the boundary tests.

Every `import` counts, wherever it is (module level, inside a function, under
TYPE_CHECKING): a lazy import is still a dependency. An imported name resolves to the
closest module that exists (`from reportgen.view import Brief` → `reportgen.view`).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reportgen"


@cache
def graph() -> dict[str, frozenset[str]]:
    """Module → the reportgen modules it imports."""
    modules: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([base] if base else [])])
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            found |= {target for name in names if (target := resolve(name)) and target != module}
        edges[module] = frozenset(found)
    return edges


def in_package(prefix: str) -> list[str]:
    return sorted(m for m in graph() if m == prefix or m.startswith(prefix + "."))


def reachable(start: str, *, through_config: bool = False) -> set[str]:
    """Every module `start` imports, directly or not. Unless `through_config`, the search
    does not go on through reportgen.config: what config imports is its own rule (below)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph()[todo.pop()]:
            if target not in seen:
                seen.add(target)
                if through_config or target != "reportgen.config":
                    todo.append(target)
    return seen


def strongly_connected() -> list[set[str]]:
    """The import cycles: strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph()[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph()):
        if node not in index:
            visit(node)
    return groups
