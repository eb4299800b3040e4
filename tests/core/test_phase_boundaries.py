"""The phases' boundaries (issue 11): each phase reads only what the one before
made. Render draws the charts from the stored map result (no source, no model, no archive);
publish reads what render wrote and the view-model it is handed (no pipeline, no source, no
raw payloads); the pipeline, publish, render and the run guard are in no import cycle.

Checked on the import graph read from the source (ast): every `import` counts, wherever it
is (module level, inside a function, under TYPE_CHECKING): a lazy import is still a
dependency, and it is followed to what it imports in turn (not through reportgen.config,
whose own imports are another rule). The layer rules between the other packages are in
the general import-graph test.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "reportgen"

# The liquidation model: what turns payloads into maps. Render draws the map result collect
# stored (liquidation.result, .summary, .buckets, .chart) and imports none of these.
LIQUIDATION_MODEL = {f"reportgen.liquidation.{name}" for name in (
    "parsers", "model", "estimate", "hyperliquid", "venues", "section", "fetch", "history",
    "check", "command", "cli")}

# The modules of the phases this test is about: none may be in an import cycle.
PHASE_MODULES = ("reportgen.pipeline", "reportgen.publish", "reportgen.render",
                 "reportgen.ops.guard", "reportgen.manifest", "reportgen.collect")


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


def offenders(prefix: str, forbidden: set[str] | None = None, *,
              forbidden_prefixes: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Modules of `prefix` that reach a forbidden module, with what they reach."""
    out = {}
    for module in in_package(prefix):
        bad = sorted(t for t in reachable(module)
                     if t in (forbidden or set()) or t.startswith(forbidden_prefixes))
        if bad:
            out[module] = bad
    return out


def test_the_graph_is_read() -> None:
    assert "reportgen.pipeline" in graph()
    assert "reportgen.publish.phase" in graph()["reportgen.pipeline"]
    assert "reportgen.publish.mailer" in graph()["reportgen.pipeline"]  # a lazy import counts


def test_the_phases_are_in_no_import_cycle() -> None:
    cycles = [sorted(group) for group in strongly_connected()
              if any(m == p or m.startswith(p + ".") for m in group for p in PHASE_MODULES)]
    assert not cycles, f"import cycles: {cycles}"


def test_publish_never_imports_the_pipeline_a_source_or_the_model() -> None:
    # Publish reads what render wrote (the manifest and its files) and the view-model it is
    # handed; building that view-model (brief.build, sections) is the pipeline's work.
    forbidden = {"reportgen.pipeline", "reportgen.collect", "reportgen.brief.build",
                 "reportgen.sections", "reportgen.ops.guard", *LIQUIDATION_MODEL}
    assert offenders("reportgen.publish", forbidden,
                     forbidden_prefixes=("reportgen.sources",)) == {}


def test_publish_never_reads_raw_payloads() -> None:
    for path in (PACKAGE / "publish").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in (".payloads(", ".latest_payloads(", ".failed_payloads(", ".snapshots(",
                     ".snapshot("):
            assert call not in text, f"{path.name} calls {call}"


def test_render_never_imports_a_source_the_model_or_the_archive() -> None:
    forbidden = {"reportgen.archive", "reportgen.collect", "reportgen.pipeline",
                 *LIQUIDATION_MODEL}
    assert offenders("reportgen.render", forbidden,
                     forbidden_prefixes=("reportgen.sources", "reportgen.publish")) == {}


def test_the_brief_is_pure() -> None:
    forbidden = {"reportgen.archive", "reportgen.collect", "reportgen.pipeline", "reportgen.http"}
    assert offenders("reportgen.brief", forbidden, forbidden_prefixes=(
        "reportgen.sources", "reportgen.render", "reportgen.publish")) == {}


def test_the_archive_imports_no_source_and_the_run_guard_no_pipeline() -> None:
    assert offenders("reportgen.archive", forbidden_prefixes=("reportgen.sources",)) == {}
    assert offenders("reportgen.manifest", forbidden_prefixes=(
        "reportgen.render", "reportgen.publish", "reportgen.pipeline")) == {}
    assert "reportgen.pipeline" not in reachable("reportgen.ops.guard", through_config=True)
