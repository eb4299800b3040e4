"""The charts of one report day, as jobs for a `RenderPool` (reportgen.render.pool).

Render never runs the liquidation model: collect computed each symbol's map once and kept it
in the archive (`StoredMap`, bucket arrays and heatmap); the pipeline hands those results
here. Each job draws in a temporary folder and returns its files as {path in the report
folder: bytes}; render writes them through the run's OutputWriter into `reports/D/charts/`
(SVG for the web page, 2x PNG for email and the PDF): one figure per liquidation map, its
heatmap when `heatmaps` is on (`liquidation.heatmaps`), and one per ETF table with a chart.
A sample day's charts say so on the image.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from reportgen.render.pool import Files, Job
from reportgen.view import Brief, EtfTable

if TYPE_CHECKING:
    from reportgen.liquidation.result import LiquidationResult

CHART_FOLDER = "charts"


def draw_liquidation(result: LiquidationResult, fmt: str, sample: bool, heatmaps: bool) -> Files:
    """Every chart of one symbol's map, in format `fmt`."""
    from reportgen.liquidation.chart import render_charts

    with tempfile.TemporaryDirectory(prefix="reportgen-charts-") as tmp:
        paths = render_charts(result, Path(tmp), formats=(fmt,), sample=sample, heatmap=heatmaps)
        return {f"{CHART_FOLDER}/{path.name}": path.read_bytes() for path in paths}


def draw_etf(table: EtfTable, fmt: str, sample: bool) -> Files:
    """One ETF table's chart, at the path the view-model names, in format `fmt`."""
    from reportgen.render.etf_chart import draw

    chart = PurePosixPath(table.chart or "").with_suffix(f".{fmt}")
    with tempfile.TemporaryDirectory(prefix="reportgen-etf-") as tmp:
        path = Path(tmp) / chart.name
        draw(table, path, sample=sample)
        return {str(chart): path.read_bytes()}


def chart_jobs(brief: Brief, maps: Sequence[LiquidationResult], fmt: str, *,
               heatmaps: bool = False) -> list[Job]:
    """The day's drawings in format `fmt` (one job each, so workers share them out): each
    symbol's liquidation map, then each ETF table's chart."""
    jobs = [Job(draw_liquidation, (result, fmt, brief.sample, heatmaps)) for result in maps]
    jobs += [Job(draw_etf, (table, fmt, brief.sample)) for section in brief.sections
             if section.kind == "etf" and section.available
             for table in section.tables if table.chart and not table.reason]
    return jobs
