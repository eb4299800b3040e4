"""View-model classes of the brief (plain dataclasses: templates read attributes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

Direction = Literal["up", "down", "flat"]
Unit = Literal["usd", "pct", "change", "count", "gwei", "index"]


@dataclass(frozen=True)
class SourceRef:
    """One entry of the sources list; figures point at it by `key` (footnote number)."""

    key: int
    name: str
    url: str | None
    as_of: datetime | None
    method: str


@dataclass(frozen=True)
class Figure:
    """One number of the brief. `value` None means unavailable, and `reason` says why."""

    label: str
    unit: Unit
    value: float | None
    decimals: int = 0
    change_pct: float | None = None  # relative change vs previous day, in %
    change_pts: float | None = None  # absolute change (percentage points, index points)
    direction: Direction | None = None
    note: str | None = None  # e.g. the Fear & Greed label
    reason: str | None = None
    source: SourceRef | None = None

    @property
    def available(self) -> bool:
        return self.value is not None


@dataclass
class Section:
    """A section of the brief: available with content, or unavailable with a reason."""

    id: str
    title: str
    reason: str | None = None
    figures: list[Figure] = field(default_factory=list)
    items: list[Any] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    source: SourceRef | None = None
    # Parts of an available section that are not (e.g. "ETH ETF flows"), besides figures.
    gaps: list[str] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return self.reason is None

    @property
    def missing(self) -> list[str]:
        """What an available section lacks: its unavailable figures and other parts."""
        return [f.label for f in self.figures if not f.available] + list(self.gaps)

    @property
    def status(self) -> str:
        """"ok", "partial: <what is missing>" or "unavailable: <why>" (run records, CLI)."""
        if not self.available:
            return f"unavailable: {self.reason}"
        if self.missing:
            return "partial: " + ", ".join(self.missing)
        return "ok"


@dataclass
class Brief:
    title: str
    day: date
    zone: str
    sample: bool
    generated_at: datetime
    sections: list[Section]
    sources: list[SourceRef]
    original_url: str | None = None
    archive_url: str | None = None
    author: str | None = None           # report.author: PDF Author, <meta name="author">
    assets: dict[str, str] = field(default_factory=dict)  # chart name → file name

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    @property
    def unavailable(self) -> list[Section]:
        """Sections with a gap: unavailable, or missing a figure or part."""
        return [s for s in self.sections if not s.available or s.missing]

    @property
    def complete(self) -> bool:
        return not self.unavailable
