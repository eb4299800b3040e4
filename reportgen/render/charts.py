"""The charts of one report day, as jobs for a `RenderPool` (reportgen.render.pool).

Render never runs the liquidation model: collect computed each symbol's map once and kept it
in the archive (`StoredMap`, bucket arrays and heatmap); the pipeline hands those results
here. Each job draws in a temporary folder and returns its files as {path in the report
folder: bytes}; render writes them through the run's OutputWriter into `reports/D/charts/`
(SVG for the web page, 2x PNG for email and the PDF): one figure per liquidation map, its
heatmap when `heatmaps` is on (`liquidation.heatmaps`), and one per ETF table with a chart.
A sample day's charts say so on the image.

Each chart comes in looks (`liquidation.chart.Look`, named by its suffix, which the
templates' `chart_variant` filter adds): SVGs at the page's width, light and dark (the web
page); PNGs at the page's width, light (the PDF), and at a phone's, light and dark (the
email, and the web page on a phone: <picture> picks the look). Each look is a save of a few
tenths of a second, so a phone's look is a 2x PNG only, not an SVG as well.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from reportgen.render.pool import Files, Job
from reportgen.view import Brief, EtfTable

if TYPE_CHECKING:
    from reportgen.liquidation.chart import Look
    from reportgen.liquidation.result import LiquidationResult

CHART_FOLDER = "charts"
# The looks drawn in each format, as (phone, dark): SVG for the web page at its width; PNG
# for the PDF (the page's width, light) and for the email and a phone's web page (the
# phone's width, light and dark).
FORMAT_LOOKS = {
    "svg": ((False, False), (False, True)),
    "png": ((False, False), (True, False), (True, True)),
}


def _looks(fmt: str) -> list[Look]:
    from reportgen.liquidation.chart import Look

    return [Look(phone=phone, dark=dark) for phone, dark in FORMAT_LOOKS.get(fmt, ((False, False),))]


def draw_liquidation(result: LiquidationResult, fmt: str, sample: bool, heatmaps: bool) -> Files:
    """Every chart of one symbol's map, in format `fmt`, in that format's looks."""
    from reportgen.liquidation.chart import render_charts

    with tempfile.TemporaryDirectory(prefix="reportgen-charts-") as tmp:
        paths = render_charts(result, Path(tmp), formats=(fmt,), sample=sample, heatmap=heatmaps,
                              looks=_looks(fmt))
        return {f"{CHART_FOLDER}/{path.name}": path.read_bytes() for path in paths}


def draw_etf(table: EtfTable, fmt: str, sample: bool) -> Files:
    """One ETF table's chart, at the path the view-model names, in format `fmt`, in that
    format's looks."""
    from reportgen.liquidation.chart import look_paths
    from reportgen.render.etf_chart import draw

    chart = PurePosixPath(table.chart or "").with_suffix(f".{fmt}")
    looks = _looks(fmt)
    files: Files = {}
    with tempfile.TemporaryDirectory(prefix="reportgen-etf-") as tmp:
        for look in [x for x in looks if not x.dark]:
            light, dark = look_paths(Path(tmp), chart.stem, [fmt], looks, look.phone)
            draw(table, light, sample=sample, dark=dark, look=look)
            files |= {str(chart.with_name(path.name)): path.read_bytes() for path in light + dark}
    return files


def chart_jobs(brief: Brief, maps: Sequence[LiquidationResult], fmt: str, *,
               heatmaps: bool = False) -> list[Job]:
    """The day's drawings in format `fmt` (one job each, so workers share them out): each
    symbol's liquidation map, then each ETF table's chart."""
    jobs = [Job(draw_liquidation, (result, fmt, brief.sample, heatmaps)) for result in maps]
    jobs += [Job(draw_etf, (table, fmt, brief.sample)) for section in brief.sections
             if section.kind == "etf" and section.available
             for table in section.tables if table.chart and not table.reason]
    return jobs
