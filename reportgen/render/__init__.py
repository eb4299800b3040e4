"""Render phase: the Brief view-model → files in the report's folder.

One template per format sharing partials and the filters in `render.filters`. Charts are
drawn from the map results collect stored (`render.charts`, matplotlib imported lazily).
`render_report` writes a day's files and then its manifest (`reportgen.manifest`), which is
all the phases after render read. No network here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.brief.model import Brief
from reportgen.manifest import MANIFEST_NAME, ReportManifest, report_dir
from reportgen.render.environment import assets_dir, environment
from reportgen.render.pool import Files, Job, RenderPool
from reportgen.render.report import build_manifest
from reportgen.writer import OutputWriter

if TYPE_CHECKING:
    from reportgen.liquidation.result import LiquidationResult

FORMAT_FILES = {"html": "brief.html", "md": "brief.md", "pdf": "brief.pdf"}
PAGE_FILE = "body.html"  # the brief without its page, for layouts that wrap it (the site)


def render_html(brief: Brief, *, for_print: bool = False, body_only: bool = False) -> str:
    """The brief as a web page; `for_print` is the PDF's source, whose charts are the PNGs
    (the page-width look at 1120 px, ~190 dpi at the PDF's 150 mm): WeasyPrint lays out a PNG
    in milliseconds where it took ~0.7 s per chart to parse the SVG. `body_only`: the brief
    without its page (body.html), for layouts that wrap it, such as the site's."""
    return environment().get_template("brief.html.j2").render(brief=brief, for_print=for_print,
                                                              body_only=body_only)


def render_markdown(brief: Brief) -> str:
    return environment().get_template("brief.md.j2").render(brief=brief)


def render_pdf(brief: Brief, report_dir: Path) -> bytes:
    """The brief as PDF, from its print HTML (charts as the PNGs in `report_dir`)."""
    return print_html_to_pdf(render_html(brief, for_print=True), report_dir)


def print_html_to_pdf(html: str, report_dir: Path) -> bytes:
    from reportgen.render.pdf import html_to_pdf

    return html_to_pdf(
        html, base_dir=report_dir, allowed=[assets_dir(), report_dir],
        stylesheets=[],  # print.css is embedded in the HTML under @media print
    )


def pdf_file(print_html: str, report_dir: Path) -> Files:
    """The PDF as a render job: from the print HTML, not the Brief, so that only a string
    goes to the worker (the charts it embeds must be in `report_dir` already)."""
    return {FORMAT_FILES["pdf"]: print_html_to_pdf(print_html, report_dir)}


def render_brief(brief: Brief, writer: OutputWriter, report_dir: str, formats: list[str]) -> list[Path]:
    """Write the brief as HTML (with its body-only page, body.html) and Markdown, those of
    `formats`, into `report_dir` (relative to the writer's root); byte-identical for the
    same Brief. The PDF is `render_report`'s: it waits on the charts it embeds."""
    written = []
    if "html" in formats:
        written.append(writer.write_text(f"{report_dir}/{FORMAT_FILES['html']}",
                                         render_html(brief)))
        written.append(writer.write_text(f"{report_dir}/{PAGE_FILE}",
                                         render_html(brief, body_only=True)))
    if "md" in formats:
        written.append(writer.write_text(f"{report_dir}/{FORMAT_FILES['md']}",
                                         render_markdown(brief)))
    return written


@dataclass
class Rendered:
    """What render wrote for one day: every file, and the manifest it wrote last."""

    files: list[Path]
    manifest: ReportManifest


def without_site_links(brief: Brief) -> Brief:
    """The view-model less its report-history link, which depends on where the site is
    (`site.url`, a publishing setting) rather than on the data: what the manifest's digest
    covers, so a send configured with the site matches a render configured without it."""
    return dataclasses.replace(brief, archive_url=None)


def render_report(brief: Brief, writer: OutputWriter, formats: list[str],
                  maps: Sequence[LiquidationResult] = (), *, heatmaps: bool = False,
                  pool: RenderPool | None = None) -> Rendered:
    """The render phase for one day: charts from the stored map results (the HTML and PDF
    embed them; `heatmaps` adds each symbol's heatmap), each map as data for the site
    (`render.mapdata`), the brief in each of `formats`, then `manifest.json` listing them all.

    With `pool`'s workers the work is ordered by what waits on what: the PNG charts first
    (the PDF embeds them), then the PDF and, beside it, the SVG charts of the web page.
    Without a pool, all of it happens here."""
    from reportgen.render.charts import chart_jobs
    from reportgen.render.mapdata import map_data_files

    pool = pool or RenderPool(workers=0)
    folder = report_dir(brief.day)

    def write(files: Files) -> list[Path]:
        return [writer.write_bytes(f"{folder}/{name}", files[name]) for name in sorted(files)]

    # HTML and Markdown first: handing jobs to the pool waits for its workers to be ready.
    pages = render_brief(brief, writer, folder, formats)
    print_html = render_html(brief, for_print=True) if "pdf" in formats else None
    pngs = pool.run(chart_jobs(brief, maps, "png", heatmaps=heatmaps))
    files = write(pngs.wait())
    writer.path(folder).mkdir(parents=True, exist_ok=True)  # the PDF's base URL
    pdf = pool.run([Job(pdf_file, (print_html, writer.path(folder)))] if print_html else [])
    svgs = pool.run(chart_jobs(brief, maps, "svg", heatmaps=heatmaps))
    files += write(svgs.wait()) + pages + write(pdf.wait())
    files += write(map_data_files(maps, brief.day, sample=brief.sample))  # the site's map pages
    names = [path.relative_to(writer.path(folder)).as_posix() for path in files]
    manifest = build_manifest(brief, render_markdown(without_site_links(brief)), names,
                              page=PAGE_FILE if PAGE_FILE in names else None)
    files.append(writer.write_text(f"{folder}/{MANIFEST_NAME}",
                                   manifest.model_dump_json(indent=1) + "\n"))
    return Rendered(files=files, manifest=manifest)
