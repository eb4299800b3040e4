"""Liquidation-map charts for one report day, drawn from the map results collect stored.

Render never runs the liquidation model: collect computed each symbol's map once and kept it
in the archive (`StoredMap`, bucket arrays and heatmap); the pipeline hands those results
here. Files go through the run's OutputWriter into `reports/D/charts/` (SVG for HTML/PDF,
2x PNG for email): one figure per symbol, and its heatmap when `heatmaps` is on
(`liquidation.heatmaps`); a sample day's charts say so on the image.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.writer import OutputWriter

if TYPE_CHECKING:
    from reportgen.liquidation.result import LiquidationResult


def render_liquidation_charts(maps: Sequence[LiquidationResult], writer: OutputWriter,
                              report_dir: str, *, sample: bool = False,
                              heatmaps: bool = False) -> list[Path]:
    """Every chart of every symbol's map in `maps`, written under `report_dir`/charts."""
    if not maps:
        return []
    from reportgen.liquidation.chart import render_charts

    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="reportgen-charts-") as tmp:
        for result in maps:
            for path in render_charts(result, Path(tmp), formats=("svg", "png"), sample=sample,
                                      heatmap=heatmaps):
                written.append(writer.write_bytes(f"{report_dir}/charts/{path.name}", path.read_bytes()))
    return written
