"""One day's liquidation map as data: what render writes beside the charts
(`reports/D/charts/liqmap_<symbol>.json`, listed in the day's manifest) and what the site's
Liquidation Map pages are built from.

Render makes it from the map result collect stored (never from the model); publish reads it
back with `DayMap.model_validate_json` and never imports the liquidation package. A seam
module, like `reportgen.manifest`: render and publish both import it, and it imports neither.

    {"version": 1, "symbol": "BTC", "day": "2025-06-11", "as_of": "2025-06-12T00:00:00Z",
     "sample": true, "bucket_size": 500.0, "mark_price": 108600.0,
     "range_low": 76000.0, "range_high": 141500.0,
     "layers": [                                   # the CEX estimate first, then Hyperliquid
       {"key": "cex", "kind": "estimated", "venues": ["Binance", "Bybit", "OKX"],
        "title": "CEX estimate (Binance+Bybit+OKX)", "tiers": ["5x", "10x", …],
        "buckets": [{"price_low": 81000.0, "price_high": 81500.0,
                     "long_by_tier": [14690898.3, 0, 0, 0, 0], "short_by_tier": [0, …]}, …],
        "total_long_usd": …, "total_short_usd": …, "beyond_range_long_usd": …, …}, …],
     "heat": {"times": [...], "price_low": 95000.0, "bucket_size": 500.0,
              "usd": [[…], …], "mark": [...]},     # the report day's hourly snapshots
     "unavailable": {"hyperliquid": "why"}}

Every amount is US$ notional at the liquidation price's bucket; a bucket holds the levels
with price_low <= price < price_high. A long liquidates when the price falls to its bucket,
a short when it rises to it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

MAPDATA_VERSION: Literal[1] = 1


def map_file(symbol: str) -> str:
    """The day's map data file, relative to the report folder: charts/liqmap_btc.json."""
    return f"charts/liqmap_{symbol.lower()}.json"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MapBucket(_Frozen):
    """One price bucket of one layer: notional by leverage tier, longs and shorts."""

    price_low: float
    price_high: float
    long_by_tier: list[float]   # US$, in the layer's `tiers` order
    short_by_tier: list[float]

    @property
    def long_usd(self) -> float:
        return sum(self.long_by_tier)

    @property
    def short_usd(self) -> float:
        return sum(self.short_by_tier)


class MapLayer(_Frozen):
    """One map on the shared price axis: the CEX estimate or Hyperliquid's positions."""

    key: Literal["cex", "hyperliquid"]
    kind: Literal["estimated", "reported"]
    title: str                  # "CEX estimate (Binance+Bybit+OKX)"
    venues: list[str]           # ["Binance", "Bybit", "OKX"] or ["Hyperliquid"]
    as_of: datetime | None = None
    mark_price: float
    tiers: list[str]            # "5x", … (estimate) or "≤5x", … (Hyperliquid's bands)
    buckets: list[MapBucket]    # buckets holding anything, lowest price first
    total_long_usd: float
    total_short_usd: float
    beyond_range_long_usd: float = 0.0
    beyond_range_short_usd: float = 0.0
    no_liquidation_price_usd: float = 0.0
    coverage: str | None = None  # "10.8 % of open interest", "48 accounts"

    @model_validator(mode="after")
    def _tiers_match(self) -> MapLayer:
        for b in self.buckets:
            if len(b.long_by_tier) != len(self.tiers) or len(b.short_by_tier) != len(self.tiers):
                raise ValueError(f"{self.key}: bucket {b.price_low} has a figure per tier "
                                 f"other than the layer's {len(self.tiers)} tiers")
        return self


class MapHeat(_Frozen):
    """Estimated live liquidation notional over the report day: one row per snapshot time,
    one column per price bucket from `price_low` upwards."""

    times: list[datetime]
    price_low: float
    bucket_size: float
    usd: list[list[int]]        # [time][bucket], whole US$ (the file is for a picture)
    mark: list[float]           # the mark price at each time

    @model_validator(mode="after")
    def _shape(self) -> MapHeat:
        if len(self.usd) != len(self.times) or len(self.mark) != len(self.times):
            raise ValueError("heat: one row of values and one mark price per time")
        if len({len(row) for row in self.usd}) > 1:
            raise ValueError("heat: every row has the same number of buckets")
        return self


class DayMap(_Frozen):
    """One symbol's liquidation map of one report day (see the module doc)."""

    version: Literal[1] = MAPDATA_VERSION
    symbol: str
    day: date
    as_of: datetime
    sample: bool
    bucket_size: float
    mark_price: float
    range_low: float
    range_high: float
    layers: list[MapLayer]
    heat: MapHeat | None = None
    unavailable: dict[str, str] = {}   # layer ("cex", "hyperliquid") or venue → why not there

    def layer(self, key: str) -> MapLayer | None:
        return next((layer for layer in self.layers if layer.key == key), None)
