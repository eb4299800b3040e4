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

from tests.importgraph import PACKAGE, graph, in_package, reachable, strongly_connected

# The liquidation model: what turns payloads into maps. Render draws the map result collect
# stored (liquidation.result, .summary, .buckets, .chart) and imports none of these.
LIQUIDATION_MODEL = {f"reportgen.liquidation.{name}" for name in (
    "parsers", "model", "estimate", "hyperliquid", "venues", "section", "fetch", "history",
    "check", "command", "cli")}

# The modules of the phases this test is about: none may be in an import cycle.
PHASE_MODULES = ("reportgen.pipeline", "reportgen.publish", "reportgen.render",
                 "reportgen.dayguard", "reportgen.manifest", "reportgen.collect")


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
    assert "reportgen.publish.reports" in graph()["reportgen.pipeline"]  # a lazy import counts


def test_the_phases_are_in_no_import_cycle() -> None:
    cycles = [sorted(group) for group in strongly_connected()
              if any(m == p or m.startswith(p + ".") for m in group for p in PHASE_MODULES)]
    assert not cycles, f"import cycles: {cycles}"


def test_publish_never_imports_the_pipeline_a_source_or_the_model() -> None:
    # Publish reads what render wrote (the manifest and its files) and the view-model it is
    # handed; building that view-model (brief.build, sections) is the pipeline's work.
    forbidden = {"reportgen.pipeline", "reportgen.collect", "reportgen.brief.build",
                 "reportgen.sections", "reportgen.dayguard", *LIQUIDATION_MODEL}
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
    assert "reportgen.pipeline" not in reachable("reportgen.dayguard", through_config=True)
