"""View-model classes of the brief; they live in `reportgen.view` (sources build their
sections' parts from them, and a source may not import the brief)."""

from reportgen.view import (
    Brief,
    Direction,
    EtfRow,
    EtfTable,
    Figure,
    LiqMap,
    Section,
    SourceRef,
    Story,
)

__all__ = ["Brief", "Direction", "EtfRow", "EtfTable", "Figure", "LiqMap", "Section",
           "SourceRef", "Story"]
