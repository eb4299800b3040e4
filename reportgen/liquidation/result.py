"""What the liquidation model computes for one symbol, as data: the result the brief's words
and the charts are made from.

Collect runs the model once per day and stores each symbol's `StoredMap` in the archive;
render draws the charts from it and never runs the model (tests/core/test_phase_boundaries.py
checks this). So this module imports no parser, model or source: only the map's published
form (`summary`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from reportgen.liquidation.summary import MapSummary

VENUE_TITLES = {"binance": "Binance", "bybit": "Bybit", "okx": "OKX", "hyperliquid": "Hyperliquid"}


class Heatmap(BaseModel):
    """Time × price grid of estimated live liquidation notional (US$)."""

    times: list[datetime]
    price_low0: float
    bucket_size: float
    values: list[list[float]]   # [time][bucket]
    price: list[float]


class VenueStatus(BaseModel):
    """What one venue gave for one symbol: the span of data the map used, or why none.

    `status`: "used" (modelled), "open interest only" (current OI, no history: counted in the
    coverage, not mapped) or "dropped". `problems` are the failed or unreadable requests
    ("<error> on <path>"), also when the venue was still used (a fallback stood in)."""

    venue: str
    status: Literal["used", "open interest only", "dropped"]
    reason: str | None = None
    bars: int = 0
    bar_minutes: int | None = None
    first: datetime | None = None
    last: datetime | None = None
    last_price_bars: int = 0
    accounts: int | None = None
    problems: list[str] = []


class OpenInterestDay(BaseModel):
    """One venue's open interest of one symbol over the 24 h before the map's as-of, from
    the history the map downloads: the last reading (`at`) and the one 24 h before it,
    in base coin counted once (Bybit: `singleOpenInterest`, else half of `openInterest`).
    `usd` values the last reading at the venue's last bar close. `reason`: why a reading is
    missing."""

    venue: str
    coins: float | None = None
    at: datetime | None = None
    coins_before: float | None = None
    before_at: datetime | None = None
    usd: float | None = None
    reason: str | None = None


def problems_text(problems: list[str], shown: int = 2) -> str:
    """The first `shown` problems, "; "-joined, and how many more there are."""
    more = f" (+{len(problems) - shown} more)" if len(problems) > shown else ""
    return "; ".join(problems[:shown]) + more


class LiquidationResult(BaseModel):
    """Everything the brief shows about one symbol's liquidation levels."""

    symbol: str
    as_of: datetime
    cex: MapSummary | None = None
    hyperliquid: MapSummary | None = None
    # large; kept for the charts, left out of the JSON dump (see StoredMap)
    heatmap: Heatmap | None = Field(default=None, exclude=True)
    unavailable: dict[str, str] = {}
    captions: dict[str, str] = {}
    venues: dict[str, VenueStatus] = {}
    # Open interest now and 24 h before, per CEX venue (`reportgen.liquidation.oi_change`).
    open_interest: dict[str, OpenInterestDay] = {}

    def gaps(self) -> list[str]:
        """One line per venue that was dropped or stood in for: for the caption's readers
        and for `reportgen status`."""
        out = []
        for v in self.venues.values():
            title = VENUE_TITLES.get(v.venue, v.venue)
            if v.status != "used":
                out.append(f"{self.symbol}: {title} {v.status}: {v.reason}")
            elif v.problems:
                out.append(f"{self.symbol}: {title} partial: {problems_text(v.problems)}")
        return out


class StoredMap(BaseModel):
    """One symbol's result as collect computed it, heatmap included: what the archive keeps
    (`Archive.put_results`) and render draws the charts from."""

    result: LiquidationResult
    heatmap: Heatmap | None = None

    @classmethod
    def of(cls, result: LiquidationResult) -> StoredMap:
        return cls(result=result, heatmap=result.heatmap)

    def full(self) -> LiquidationResult:
        """The result with its heatmap back in place."""
        return self.result.model_copy(update={"heatmap": self.heatmap})
