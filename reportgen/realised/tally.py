"""Realised liquidations over a window: total, longs/shorts, by venue, the largest single
order. Pure: same frames and window in, same `RealisedDay` out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from reportgen.realised.frames import VENUES, RealisedLiquidation, parse_frame


class VenueTally(BaseModel):
    """One venue's liquidations in the window."""

    venue: str
    orders: int
    usd: float
    long_usd: float
    short_usd: float


class RealisedDay(BaseModel):
    """The liquidations reported in [start, end): sums in US$, by the side of the position
    liquidated and by venue; `venues` lists the venues with at least one liquidation
    recorded in the window (one without is absent: nothing tells "no liquidation" from "not
    recorded", and over 24 h an all-market stream is never quiet).
    `rejected_frames`: frames that could not be read (kept raw in the archive);
    `skipped`: OKX events left out for want of a contract value; `duplicates`: the same
    liquidation reported twice (stream and REST)."""

    start: datetime
    end: datetime
    as_of: datetime
    orders: int
    total_usd: float
    long_usd: float
    short_usd: float
    venues: list[VenueTally]
    largest: RealisedLiquidation | None
    rejected_frames: int = 0
    skipped: int = 0
    duplicates: int = 0
    rejected: dict[str, str] = {}

    def venue(self, name: str) -> VenueTally | None:
        return next((v for v in self.venues if v.venue == name), None)


@dataclass(frozen=True)
class Frame:
    """A recorded frame: its venue and text (one stream message, or one OKX REST answer)."""

    venue: str
    text: str


def tally(frames: Iterable[Frame], start: datetime, end: datetime, *,
          contract_values: Mapping[str, float] | None = None) -> RealisedDay:
    """Parse every frame and sum the liquidations that happened in [start, end).

    Frames may reach beyond the window (the caller selects them with a margin; REST pages
    span what they span): only events in it count. Unreadable frames are counted, never
    fatal; the same liquidation seen twice (a stream frame and a REST page) is counted once."""
    seen: set[tuple[object, ...]] = set()
    events: list[RealisedLiquidation] = []
    rejected = skipped = duplicates = 0
    for frame in frames:
        parsed = parse_frame(frame.venue, frame.text, contract_values)
        if parsed.kind == "rejected":
            rejected += 1
            continue
        skipped += parsed.skipped
        for event in parsed.events:
            if not start <= event.time < end:
                continue
            if event.key() in seen:
                duplicates += 1
                continue
            seen.add(event.key())
            events.append(event)
    venues = []
    for name in VENUES:
        mine = [e for e in events if e.venue == name]
        if not mine:
            continue
        venues.append(VenueTally(
            venue=name, orders=len(mine), usd=sum(e.notional_usd for e in mine),
            long_usd=sum(e.notional_usd for e in mine if e.side == "long"),
            short_usd=sum(e.notional_usd for e in mine if e.side == "short")))
    largest = max(events, key=lambda e: (e.notional_usd, e.time), default=None)
    return RealisedDay(
        start=start, end=end, as_of=end, orders=len(events),
        total_usd=sum(v.usd for v in venues), long_usd=sum(v.long_usd for v in venues),
        short_usd=sum(v.short_usd for v in venues), venues=venues, largest=largest,
        rejected_frames=rejected, skipped=skipped, duplicates=duplicates,
    )
