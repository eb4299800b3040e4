"""The brief's view-model: plain typed dataclasses the templates read attribute by attribute.

Built by `reportgen.brief` (pure) from the archived snapshots and what each source declares
it contributes (`reportgen.figures`); read by `reportgen.render` and `reportgen.publish`.
Nothing here is `Any`: a renamed field is a type error, not a figure silently "unavailable".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Literal

from reportgen.units import Unit

Direction = Literal["up", "down", "flat"]
# How a section is drawn: cards of figures, or one of the sections with a layout of its own.
SectionKind = Literal["figures", "liquidation", "etf", "news", "watch"]


def direction(change: float | None) -> Direction | None:
    """"up", "down" or "flat" for a change; None when there is none."""
    if change is None:
        return None
    if abs(change) < 1e-9:
        return "flat"
    return "up" if change > 0 else "down"


@dataclass(frozen=True)
class SourceRef:
    """One entry of the sources list; figures point at it by `key` (footnote number)."""

    key: int
    name: str
    url: str | None
    as_of: datetime | None
    method: str


@dataclass(frozen=True)
class Rank:
    """How unusual a day's move is against the same figure's earlier days
    (`reportgen.trends.rank`): of the `seen` previous observations, `larger` moved more
    either way; `record` when no earlier move of the same sign was as large for at least
    `reportgen.trends.RECORD_MIN_GAP` observations, the last one as large on `since` (None:
    none in the `span` observations searched)."""

    larger: int
    seen: int
    record: bool = False
    since: date | None = None
    span: int = 0

    @property
    def score(self) -> float:
        """The share of the window this move beat: 1.0 when none moved more."""
        return (self.seen - self.larger) / self.seen if self.seen else 0.0


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
    change_7d_pct: float | None = None  # relative change over 7 days, in %
    note: str | None = None  # e.g. the Fear & Greed label
    remark: str | None = None  # how unusual the day's move is ("largest daily gain since …")
    rank: Rank | None = None  # the same, as data, for ranking the day's moves
    reason: str | None = None
    source: SourceRef | None = None

    @property
    def available(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Story:
    """A headline of the news sections (plain text; the link is http(s) or None)."""

    title: str
    link: str | None
    sources: list[str]
    summary: str
    published: datetime | None
    time_known: bool = True  # False: the feed gave the day, not the time (none is shown)


@dataclass(frozen=True)
class EtfRow:
    fund: str
    flow: float | None  # US$ m; None: no figure ("-" on Farside)
    direction: Direction | None
    name: str = ""  # the fund's name ("Grayscale Bitcoin Mini Trust ETF" for "BTC")


@dataclass(frozen=True)
class EtfTable:
    """One asset's ETF flows, or why they are missing (`reason`)."""

    asset: str
    label: str
    reason: str | None = None
    note: str | None = None
    rows: list[EtfRow] = field(default_factory=list)
    total: float | None = None
    total_direction: Direction | None = None
    cumulative: float | None = None
    flow_date: date | None = None  # the trading day shown
    # Record and streak of the day's total ("largest daily inflow since …", "5th straight
    # day of inflows"), from `reportgen.trends`.
    remarks: list[str] = field(default_factory=list)
    rank: Rank | None = None  # the day's total against the trading days before it
    # The last trading days' totals (US$ m) through flow_date, oldest first, for the chart.
    recent: list[tuple[date, float]] = field(default_factory=list)
    chart: str | None = None  # the chart's SVG, relative to the report folder

    @property
    def png(self) -> str | None:
        """The chart's PNG (email, PDF: WeasyPrint lays out a PNG far faster than an SVG)."""
        return str(PurePosixPath(self.chart).with_suffix(".png")) if self.chart else None


@dataclass(frozen=True)
class CascadeStep:
    """Notional liquidated if the price moves `move_pct` percent towards one side."""

    side: str  # "long" (a fall) or "short" (a rise)
    move_pct: float
    price: float
    usd: float


@dataclass(frozen=True)
class ClusterLevel:
    """One of the largest liquidation clusters a map's text lists: `usd` of `side` ("long"
    below the mark, "short" above) between `price_low` and `price_high`."""

    side: str
    usd: float
    price_low: float
    price_high: float

    @property
    def middle(self) -> float:
        """The middle of the cluster's price range (where its distance is measured to)."""
        return (self.price_low + self.price_high) / 2


@dataclass(frozen=True)
class LiqPart:
    """One panel of a symbol's liquidation chart (CEX estimate or Hyperliquid positions): its
    method caption and sentences, or why it is missing (`reason`)."""

    kind: str
    label: str
    caption: str | None = None
    lines: list[str] = field(default_factory=list)
    reason: str | None = None
    venue: str = ""  # the venues the map covers ("Binance+Bybit+OKX", "hyperliquid")
    mark: float | None = None  # the perp mark price the cascade's levels are worked from
    cascade: list[CascadeStep] = field(default_factory=list)
    clusters: list[ClusterLevel] = field(default_factory=list)  # the largest, one per side


@dataclass(frozen=True)
class LiqMap:
    """One chart of the liquidation section (file paths relative to the report folder): a
    symbol's map with its panels (`parts`), or an extra chart such as the heatmap, or why it
    is missing (`reason`). `source` is the line printed under the chart."""

    title: str
    symbol: str = ""
    chart: str | None = None
    png: str | None = None
    alt: str = ""
    source: str | None = None
    caption: str | None = None
    parts: list[LiqPart] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    reason: str | None = None
    # One line under the chart: where the largest clusters sit against the mark.
    takeaway: str | None = None


@dataclass(frozen=True)
class CalendarEvent:
    """A scheduled event of the calendar file (`calendar:` in the config, read by
    `reportgen.agenda`): on `day`, at `at` when its time is known (aware, in its own zone)."""

    day: date
    name: str
    kind: str = ""
    at: datetime | None = None
    source: str | None = None  # who publishes the date ("Federal Reserve: FOMC calendar")


@dataclass(frozen=True)
class WatchLevel:
    """A liquidation cluster to watch: the nearest of the largest clusters the liquidation
    section lists on one side of the mark (`panel`: the map it comes from)."""

    symbol: str
    side: str  # "long" (below the mark) or "short" (above)
    usd: float
    price_low: float
    price_high: float
    mark: float
    panel: str
    text: str


@dataclass(frozen=True)
class WatchEvent:
    """A calendar event in the brief's window, with its line as the brief prints it."""

    event: CalendarEvent
    text: str


@dataclass
class Section:
    """A section of the brief: available with content, or unavailable with a reason."""

    id: str
    title: str
    kind: SectionKind = "figures"
    reason: str | None = None
    figures: list[Figure] = field(default_factory=list)
    # How the figures were made, one sentence each (our own words and numbers, not escaped
    # in Markdown).
    notes: list[str] = field(default_factory=list)
    items: list[Story] = field(default_factory=list)
    tables: list[EtfTable] = field(default_factory=list)
    maps: list[LiqMap] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    # A short reader's guide printed before the section's charts ("How to read …").
    guide: str | None = None
    source: SourceRef | None = None
    # Parts of an available section that are not (e.g. "ETH ETF flows"), besides figures.
    gaps: list[str] = field(default_factory=list)
    # "What to watch": liquidation levels and the calendar's events in the coming days.
    levels: list[WatchLevel] = field(default_factory=list)
    events: list[WatchEvent] = field(default_factory=list)

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


@dataclass(frozen=True)
class MapScoreRow:
    """The previous day's liquidation map of one symbol, scored against the liquidations
    recorded in the 24 h after it (reportgen.liquidation.check): for the brief's sentence and,
    through the report manifest, the site's table of recent scores."""

    symbol: str
    map_day: date  # the day whose map was scored
    lift: float | None
    lift_long: float | None
    lift_short: float | None
    p_value: float | None
    events: int


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
    # "The day in brief": 3–5 sentences from the view-model (reportgen.brief.story).
    story: list[str] = field(default_factory=list)
    # Its one-line headline (≤ 90 characters): the email subject and the page's og:title.
    story_title: str = ""
    # Its short form (≤ 200 characters): preheader, og:description, feed and index line.
    story_summary: str = ""
    # Yesterday's maps, scored (empty when nothing was recorded to score them with).
    map_scores: list[MapScoreRow] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """The day in brief in at most 200 characters (email preheader, feed, OpenGraph)."""
        return self.story_summary or " ".join(self.story)

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    @property
    def unavailable(self) -> list[Section]:
        """Sections with a gap: unavailable, or missing a figure or part."""
        return [s for s in self.sections if not s.available or s.missing]

    @property
    def complete(self) -> bool:
        return not self.unavailable
