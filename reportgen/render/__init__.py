"""Render phase: the Brief view-model → files in the report's folder.

One template per format sharing partials and the filters in `render.filters`. Charts are
made by the liquidation package (matplotlib, imported lazily). No network here.
"""

from __future__ import annotations

from pathlib import Path

from reportgen.brief.model import Brief
from reportgen.render.environment import assets_dir, environment
from reportgen.writer import OutputWriter

FORMAT_FILES = {"html": "brief.html", "md": "brief.md", "pdf": "brief.pdf"}


def render_html(brief: Brief, *, for_print: bool = False) -> str:
    """The brief as a web page; `for_print` is the PDF's source, whose charts are the PNGs
    (made for email at 1120 px, ~190 dpi at the PDF's 150 mm): WeasyPrint lays out a PNG
    in milliseconds where it took ~0.7 s per chart to parse the SVG."""
    return environment().get_template("brief.html.j2").render(brief=brief, for_print=for_print)


def render_markdown(brief: Brief) -> str:
    return environment().get_template("brief.md.j2").render(brief=brief)


def render_pdf(brief: Brief, report_dir: Path) -> bytes:
    from reportgen.render.pdf import html_to_pdf

    return html_to_pdf(
        render_html(brief, for_print=True), base_dir=report_dir,
        allowed=[assets_dir(), report_dir],
        stylesheets=[],  # print.css is embedded in the HTML under @media print
    )


def render_brief(brief: Brief, writer: OutputWriter, report_dir: str, formats: list[str]) -> list[Path]:
    """Write the brief in each of `formats` into `report_dir` (relative to the writer's root).
    HTML and Markdown come out byte-identical for the same Brief."""
    written = []
    folder = writer.path(report_dir)
    for fmt in ("html", "md", "pdf"):
        if fmt not in formats:
            continue
        target = f"{report_dir}/{FORMAT_FILES[fmt]}"
        if fmt == "html":
            written.append(writer.write_text(target, render_html(brief)))
        elif fmt == "md":
            written.append(writer.write_text(target, render_markdown(brief)))
        else:
            folder.mkdir(parents=True, exist_ok=True)
            written.append(writer.write_bytes(target, render_pdf(brief, folder)))
    return written
