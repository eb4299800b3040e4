"""The package's import graph keeps the pipeline's layers apart (the rules below), and
loading the config pulls in no network or drawing library.

The graph is read from the source (every `import`, at module level, inside functions and
under TYPE_CHECKING alike: a lazy or type-only import is still a dependency a reader
follows). A rule broken by a module another branch is reworking is listed in KNOWN with
the reason; anything else fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.importgraph import graph, strongly_connected

# (importer prefix, imported prefix, why it must not happen)
RULES = [
    ("reportgen.brief", "reportgen.sources", "the brief is pure: sources hand it declarations"),
    ("reportgen.brief", "reportgen.registry", "the brief is pure: the caller passes contributors"),
    ("reportgen.brief", "reportgen.archive", "the brief is pure"),
    ("reportgen.brief", "reportgen.render", "the brief is pure"),
    ("reportgen.brief", "reportgen.publish", "the brief is pure"),
    ("reportgen.render", "reportgen.sources", "render draws from stored results"),
    ("reportgen.render", "reportgen.liquidation.model", "charts are drawn from the stored map result"),
    ("reportgen.render", "reportgen.liquidation.estimate", "charts are drawn from the stored map result"),
    ("reportgen.render", "reportgen.liquidation.section", "charts are drawn from the stored map result"),
    ("reportgen.render", "reportgen.liquidation.fetch", "charts are drawn from the stored map result"),
    ("reportgen.render", "reportgen.liquidation.parsers", "charts are drawn from the stored map result"),
    ("reportgen.render", "reportgen.liquidation.hyperliquid", "charts are drawn from the stored map result"),
    ("reportgen.render", "reportgen.liquidation.command", "charts are drawn from the stored map result"),
    ("reportgen.render", "reportgen.liquidation.check", "charts are drawn from the stored map result"),
    ("reportgen.config", "reportgen.sources", "config reaches sources only through the registry"),
    ("reportgen.config", "reportgen.liquidation", "loading config loads no model code"),
    ("reportgen.config", "reportgen.news", "loading config loads no feed parser"),
    ("reportgen.sources", "reportgen.pipeline", "a source does I/O and parsing only"),
    ("reportgen.sources", "reportgen.brief", "a source declares figures; the brief builds"),
    ("reportgen.sources", "reportgen.render", "a source does I/O and parsing only"),
    ("reportgen.sources", "reportgen.registry", "the registry finds sources, not the reverse"),
    ("reportgen.archive", "reportgen.sources", "the archive is given model classes"),
    ("reportgen.publish", "reportgen.pipeline", "publish reads what render wrote"),
    ("reportgen.publish", "reportgen.sources", "publish reads what render wrote"),
    ("reportgen.pipeline", "reportgen.ops", "ops drive the pipeline, not the reverse"),
    ("reportgen.dayguard", "reportgen.ops", "the pipeline's guard is below ops"),
    ("reportgen.locks", "reportgen.ops", "the pipeline's locks are below ops"),
]

# Broken rules and cycles still to remove (none: the phases work removed the last ones).
KNOWN: set[tuple[str, str]] = set()
KNOWN_CYCLES: list[set[str]] = []

HEAVY = ("httpx", "requests", "pycoingecko", "feedparser", "matplotlib", "numpy", "weasyprint",
         "PIL", "boto3", "botocore")


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_layers_import_one_way() -> None:
    broken = sorted(
        f"{importer} imports {imported}: {why}"
        for importer, targets in graph().items() for imported in targets
        for low, high, why in RULES
        if _under(importer, low) and _under(imported, high)
        and (importer, imported) not in KNOWN
    )
    assert not broken, "\n".join(broken)


def test_no_module_is_in_a_cycle() -> None:
    cycles = [c for c in strongly_connected() if c not in KNOWN_CYCLES]
    assert not cycles, "import cycles:\n" + "\n".join(" ↔ ".join(sorted(c)) for c in cycles)


def test_loading_the_config_imports_no_network_or_drawing_library(tmp_path: Path) -> None:
    code = ("import sys, reportgen.config as c; c.load_config(); "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, check=True)
    assert done.stdout.strip() == "", f"loading the config imported {done.stdout.strip()}"
