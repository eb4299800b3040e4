"""The brief as a typed view-model, built purely from archived snapshots.

`build_brief(day, snapshots, previous, ...)` takes what the sources said about the report
date (and about the day before, for changes) and returns a `Brief`: every figure with its
value, change vs the previous day, direction, provenance and — when missing — the reason.
No I/O and no formatting here: templates format through `reportgen.render.filters`.
"""

from reportgen.brief.build import build_brief
from reportgen.brief.model import Brief, Figure, Section

__all__ = ["Brief", "Figure", "Section", "build_brief"]
