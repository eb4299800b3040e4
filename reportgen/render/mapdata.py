"""Each symbol's map of the day as data (`reportgen.mapdata.DayMap`), written beside its
charts for the site's Liquidation Map pages: the published buckets of the CEX estimate and
of Hyperliquid's positions, by leverage tier, and the report day's hourly heatmap rows on
the same price grid. Made from the map result collect stored, like the charts: render never
runs the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from reportgen import numbers
from reportgen.mapdata import DayMap, MapBucket, MapHeat, MapLayer, map_file
from reportgen.render.pool import Files

if TYPE_CHECKING:
    from reportgen.liquidation.result import Heatmap, LiquidationResult
    from reportgen.liquidation.summary import MapSummary

HEAT_HOURS = 24  # the heatmap rows a day's file carries: its own day, not the whole lookback


def _coverage(s: MapSummary) -> str | None:
    c = s.coverage
    if s.kind == "estimated":
        share = c.get("share_of_open_positions")
        return (f"mapped {numbers.percent(100 * share, 1)} of open interest"
                if isinstance(share, (int, float)) else None)
    parts = []
    if c.get("accounts"):
        parts.append(f"{c['accounts']} accounts")
    long_, short = c.get("coverage_long"), c.get("coverage_short")
    if isinstance(long_, (int, float)) and isinstance(short, (int, float)):
        parts.append(f"{numbers.percent(100 * long_, 1)} of long and "
                     f"{numbers.percent(100 * short, 1)} of short open interest")
    return ", ".join(parts) or None


def _layer(s: MapSummary) -> MapLayer:
    from reportgen.liquidation.result import VENUE_TITLES

    # "Binance+Bybit+OKX" (the estimate's summary) or "hyperliquid": as titles, one list
    venues = [VENUE_TITLES.get(v.lower(), v) for v in s.venue.split("+")]
    estimated = s.kind == "estimated"
    names = "+".join(venues)
    n_t = len(s.tiers)
    return MapLayer(
        key="cex" if estimated else "hyperliquid",
        kind="estimated" if estimated else "reported",
        title=f"CEX estimate ({names})" if estimated else "Hyperliquid positions (reported)",
        venues=venues, as_of=s.as_of, mark_price=s.mark_price, tiers=list(s.tiers),
        buckets=[MapBucket(
            price_low=b.price_low, price_high=b.price_high,
            long_by_tier=list(b.long_by_tier or [b.long_usd, *[0.0] * (n_t - 1)]),
            short_by_tier=list(b.short_by_tier or [b.short_usd, *[0.0] * (n_t - 1)]),
        ) for b in sorted(s.buckets, key=lambda b: b.price_low)],
        total_long_usd=s.total_long_usd, total_short_usd=s.total_short_usd,
        beyond_range_long_usd=s.beyond_range_long_usd,
        beyond_range_short_usd=s.beyond_range_short_usd,
        no_liquidation_price_usd=s.no_liquidation_price_usd, coverage=_coverage(s),
    )


def _heat(h: Heatmap, *, as_of_day_end: float, size: float, low: float, high: float) -> MapHeat | None:
    """The heatmap's rows of the report day, summed onto the published grid (`size`) over
    [low, high). The model's finer buckets each go to the published bucket holding their
    middle; amounts are rounded to whole dollars (the file is for a picture)."""
    since = as_of_day_end - HEAT_HOURS * 3600
    rows = [i for i, t in enumerate(h.times) if since < t.timestamp() <= as_of_day_end]
    n_cols = round((high - low) / size)
    if not rows or n_cols <= 0 or not h.values:
        return None
    target = []
    for j in range(len(h.values[0])):
        middle = h.price_low0 + (j + 0.5) * h.bucket_size
        target.append(math.floor((middle - low) / size) if low <= middle < high else -1)
    usd = []
    for i in rows:
        out = [0.0] * n_cols
        for j, value in enumerate(h.values[i]):
            k = target[j]
            if k >= 0 and value > 0:
                out[k] += value
        usd.append([round(v) for v in out])
    return MapHeat(times=[h.times[i] for i in rows], price_low=low, bucket_size=size, usd=usd,
                   mark=[h.price[i] for i in rows] if len(h.price) == len(h.times)
                   else [math.nan] * len(rows))


def day_map(result: LiquidationResult, day: date, *, sample: bool) -> DayMap | None:
    """`result` as the site's data, or None when neither map was made."""
    maps = [s for s in (result.cex, result.hyperliquid) if s is not None]
    if not maps:
        return None
    size = maps[0].bucket_size
    low = min(s.range_low if s.range_low is not None else s.mark_price for s in maps)
    high = max(s.range_high if s.range_high is not None else s.mark_price + size for s in maps)
    end = result.as_of if result.as_of else None
    heat = None
    if result.heatmap is not None and end is not None:
        heat = _heat(result.heatmap, as_of_day_end=end.timestamp(), size=size, low=low, high=high)
    return DayMap(
        symbol=result.symbol, day=day, as_of=result.as_of, sample=sample, bucket_size=size,
        mark_price=maps[0].mark_price, range_low=low, range_high=high,
        layers=[_layer(s) for s in maps], heat=heat, unavailable=dict(result.unavailable),
    )


def map_data_files(maps: Sequence[LiquidationResult], day: date, *, sample: bool) -> Files:
    """{charts/liqmap_<symbol>.json: bytes} for each symbol with a map."""
    files = {}
    for result in maps:
        data = day_map(result, day, sample=sample)
        if data is not None:
            files[map_file(data.symbol)] = (data.model_dump_json(exclude_none=False) + "\n").encode()
    return files

