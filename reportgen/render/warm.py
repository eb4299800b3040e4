"""Imported once by the render pool's fork server (`reportgen.render.pool`), so that every
worker starts with matplotlib and WeasyPrint already loaded. Nothing else imports it."""

import contextlib

import matplotlib.backends.backend_agg
import matplotlib.backends.backend_svg
import matplotlib.figure

import reportgen.liquidation.chart
import reportgen.render.etf_chart

# A missing system library (Pango) is an OSError: the PDF job reports it (render.pdf).
with contextlib.suppress(OSError):
    import weasyprint

__all__ = ["matplotlib", "reportgen", "weasyprint"]
