"""Liquidation-map charts for one report day, redrawn from the archived payloads.

The model is pure and fast (milliseconds per symbol), so charts are recomputed from the
archive at render time rather than stored; files go through the OutputWriter into
`reports/D/charts/` (SVG for HTML/PDF, 2x PNG for email): one figure per symbol, and its
heatmap when `liquidation.heatmaps` is on; a sample day's charts say so on the image.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from reportgen.archive import Archive
from reportgen.clock import day_end
from reportgen.config import Config
from reportgen.liquidation.config import LiqConfig
from reportgen.sources.liquidation import VENUE_SOURCES
from reportgen.writer import OutputWriter


def render_liquidation_charts(config: Config, day: date, archive: Archive, writer: OutputWriter,
                              report_dir: str) -> list[Path]:
    snapshot = archive.snapshot(day, "liquidation")
    settings = config.settings_for("liquidation", LiqConfig)
    if snapshot is None or not snapshot.ok:
        return []
    from reportgen.liquidation.chart import render_charts
    from reportgen.liquidation.section import build_liquidation_section

    grouped = {name: archive.payloads(day, name) for name in VENUE_SOURCES}
    as_of = day_end(day, config.timezone)
    sample = archive.is_sample_day(day)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="reportgen-charts-") as tmp:
        for symbol in settings.symbols:
            result = build_liquidation_section(grouped, symbol, settings, as_of)
            for path in render_charts(result, Path(tmp), formats=("svg", "png"), sample=sample,
                                      heatmap=settings.heatmaps):
                written.append(writer.write_bytes(f"{report_dir}/charts/{path.name}", path.read_bytes()))
    return written
