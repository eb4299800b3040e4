"""The brief as a typed view-model, built purely from archived snapshots.

`build_brief(day, snapshots, previous, contributors=...)` takes what the sources said about
the report date (and about the day before, for changes) and what each source declares it
contributes, and returns a `Brief`: every figure with its value, change vs the previous day,
direction, provenance and — when missing — the reason. No I/O and no formatting here:
templates format through `reportgen.render.filters`.
"""

from reportgen.brief.build import Contributor, build_brief
from reportgen.view import Brief, Figure, Section

__all__ = ["Brief", "Contributor", "Figure", "Section", "build_brief"]
