"""What a source contributes to the brief, declared in its own module.

- `Indicator`: one figure read from the source's parsed model — label, unit, decimals, the
  model field it comes from, and its previous-day rule (how its change is made).
- `FigureSection`: a section of figure cards of its own (the stablecoins one); indicators
  go to the "Indicators" section unless they name another.
- `CustomSection`: a section with a layout of its own (liquidation, ETF, news), built by a
  pure function from the source's model.

The brief (`reportgen.brief.build`) applies these to the archived snapshots; nothing else
names a source's fields. Declarations are checked when the source class is defined: an
indicator naming a field its model does not have fails at import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel

from reportgen.models import SourceSnapshot
from reportgen.units import Unit
from reportgen.view import Rank, Section, SectionKind, SourceRef

M = TypeVar("M", bound=BaseModel)

INDICATORS = "indicators"
# How a figure's change vs the previous day is made: "pct" relative, "pts" absolute
# (percentage points or index points), "none" no change shown.
Change = Literal["pct", "pts", "none"]


def model_of(model: type[M], snapshot: SourceSnapshot | None) -> M | None:
    """The parsed model of a usable snapshot, or None."""
    if snapshot is None or not snapshot.ok or not isinstance(snapshot.data, model):
        return None
    return snapshot.data


def rejected(snapshot: SourceSnapshot | None) -> dict[str, str]:
    """Field → the plausibility rule its value broke (see `reportgen.sources.checks`)."""
    if snapshot is None or not snapshot.ok or snapshot.data is None:
        return {}
    found = getattr(snapshot.data, "rejected", None)
    return dict(found) if isinstance(found, dict) else {}


@dataclass(frozen=True)
class Reading:
    """What an indicator found in one snapshot, before the brief compares days."""

    value: float | None
    previous: float | None = None       # the day before, as carried in the day's own answer
    reported_change: float | None = None  # a relative change the upstream reports itself
    note: str | None = None
    detail: str | None = None
    week_ago: float | None = None  # the value 7 days before, for the 7 d change
    remark: str | None = None      # how unusual the day's move is (`reportgen.trends`)
    rank: Rank | None = None       # the same, as data (`reportgen.trends.rank`)
    why: str | None = None         # why the value is missing, when the model says


class FigureSpec(Protocol):
    """An indicator with its model type bound (what the brief iterates)."""

    @property
    def label(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def unit(self) -> Unit: ...
    @property
    def decimals(self) -> int: ...
    @property
    def section(self) -> str: ...
    @property
    def change(self) -> Change: ...
    @property
    def essential(self) -> bool: ...
    @property
    def missing(self) -> str | None: ...
    @property
    def uses_previous_day(self) -> bool: ...

    def read(self, snapshot: SourceSnapshot | None) -> Reading | None: ...

    def check(self) -> None: ...


@dataclass(frozen=True)
class Indicator(Generic[M]):
    """One figure of the brief, read from a source's model `M`.

    `key` is the model field the value comes from (and its name in the model's `rejected`
    mapping); `value` reads it (or derives it from several fields). The change vs the
    previous day (`change`): from `reported_change` when the upstream gives one, else
    against `previous` (the day before, from the day's own answer) when given, else against
    the same figure in the previous day's snapshot. `missing`: why the figure is absent when
    the snapshot is fine but the value is None (default: the source's reason). `essential`:
    without it its section is unavailable. `detail`: a sentence on how it was made, shown
    under its section. `week_ago` gives the value 7 days before (a 7 d change is shown);
    `remark` says how unusual the day's move is ("largest daily drop since …"). `why`: the
    model's own reason for a missing value (one venue of several that did not answer),
    before `missing`."""

    label: str
    model: type[M]
    key: str
    value: Callable[[M], float | None]
    unit: Unit
    decimals: int = 0
    section: str = INDICATORS
    change: Change = "pct"
    previous: Callable[[M], float | None] | None = None
    reported_change: Callable[[M], float | None] | None = None
    note: Callable[[M], str | None] | None = None
    detail: Callable[[M], str | None] | None = None
    week_ago: Callable[[M], float | None] | None = None
    remark: Callable[[M], str | None] | None = None
    rank: Callable[[M], Rank | None] | None = None
    essential: bool = False
    missing: str | None = None
    why: Callable[[M], str | None] | None = None

    @property
    def uses_previous_day(self) -> bool:
        """Whether the change needs the previous day's snapshot."""
        return self.change != "none" and self.previous is None and self.reported_change is None

    def read(self, snapshot: SourceSnapshot | None) -> Reading | None:
        data = model_of(self.model, snapshot)
        if data is None:
            return None
        return Reading(
            value=None if self.key in rejected(snapshot) else self.value(data),
            previous=self.previous(data) if self.previous else None,
            reported_change=self.reported_change(data) if self.reported_change else None,
            note=self.note(data) if self.note else None,
            detail=self.detail(data) if self.detail else None,
            week_ago=self.week_ago(data) if self.week_ago else None,
            remark=self.remark(data) if self.remark else None,
            rank=self.rank(data) if self.rank else None,
            why=self.why(data) if self.why else None,
        )

    def check(self) -> None:
        if self.key not in self.model.model_fields:
            raise TypeError(f"indicator {self.label!r}: {self.model.__name__} has no field "
                            f"{self.key!r}")


@dataclass(frozen=True)
class FigureSection:
    """A section of figure cards a source adds (its indicators name it in `section`)."""

    id: str
    title: str


# The derivatives line: funding, open interest and realised liquidations, one figure section
# that several sources add to (each declares it, so it has its title whichever runs).
DERIVATIVES = FigureSection("derivatives", "Derivatives")


class SectionSpec(Protocol):
    """A custom section with its model type bound (what the brief iterates)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def kind(self) -> SectionKind: ...
    @property
    def what(self) -> str: ...

    def build_from(self, day: date, snapshot: SourceSnapshot | None,
                   ref: SourceRef | None) -> Section | None: ...


@dataclass(frozen=True)
class CustomSection(Generic[M]):
    """A section with a layout of its own, built by `build(day, model, ref)` (pure) when the
    source's snapshot is usable; otherwise the section is unavailable and says why (`what`
    names the data in that sentence, e.g. "ETF flows")."""

    id: str
    title: str
    kind: SectionKind
    model: type[M]
    build: Callable[[date, M, SourceRef | None], Section]
    what: str

    def build_from(self, day: date, snapshot: SourceSnapshot | None,
                   ref: SourceRef | None) -> Section | None:
        data = model_of(self.model, snapshot)
        return None if data is None else self.build(day, data, ref)
