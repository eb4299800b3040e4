"""Words and JSON for a map: cumulative curves, largest clusters, the ±x % cascade.

Conventions: a long is liquidated when price falls to its bucket, so the cumulative long
curve sums buckets from the mark downwards; shorts from the mark upwards. "Falls 5 %" counts
every bucket the price touches on the way, including the bucket holding the threshold.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
from pydantic import BaseModel

from reportgen import numbers
from reportgen.liquidation.buckets import LiqMap, bucket_index


class Bucket(BaseModel):
    """One price bucket of the JSON output."""

    price_low: float
    price_high: float
    long_usd: float
    short_usd: float
    long_by_tier: list[float] | None = None
    short_by_tier: list[float] | None = None


class Cluster(BaseModel):
    """The densest run of `cluster_buckets` adjacent buckets on one side of the mark."""

    side: str
    usd: float
    price_low: float
    price_high: float
    text: str


class CascadeRow(BaseModel):
    """Cumulative notional liquidated if price moves `move_pct` towards one side."""

    side: str
    move_pct: float
    price: float
    usd: float
    text: str


class MapSummary(BaseModel):
    """A map as published: the JSON form plus clusters, cascade and caption data."""

    symbol: str
    venue: str
    kind: str
    as_of: datetime | None = None
    unit: str = "US$ notional"
    mark_price: float
    bucket_size: float
    tiers: list[str]
    buckets: list[Bucket]
    no_liquidation_price_usd: float
    beyond_range_long_usd: float
    beyond_range_short_usd: float
    # the price range the map covers (its plotted range): levels outside are "beyond"
    range_low: float | None = None
    range_high: float | None = None
    total_long_usd: float
    total_short_usd: float
    clusters: list[Cluster]
    cascade: list[CascadeRow]
    sentences: list[str]
    assumptions: dict[str, Any] | None = None
    coverage: dict[str, Any] = {}

    def to_map(self) -> LiqMap:
        """Dense arrays back from the (sparse) bucket list, e.g. for charts."""
        size = self.bucket_size
        n_t = max(len(self.tiers), 1)
        if not self.buckets:
            k0, n = bucket_index(self.mark_price, size), 1
        else:
            ks = [bucket_index(b.price_low + size / 2, size) for b in self.buckets]
            k0, n = min(ks), max(ks) - min(ks) + 1
        long_ = np.zeros((n, n_t))
        short = np.zeros((n, n_t))
        for b in self.buckets:
            r = bucket_index(b.price_low + size / 2, size) - k0
            long_[r] = b.long_by_tier if b.long_by_tier else [b.long_usd] + [0.0] * (n_t - 1)
            short[r] = b.short_by_tier if b.short_by_tier else [b.short_usd] + [0.0] * (n_t - 1)
        return LiqMap(self.symbol, self.venue, self.kind, self.mark_price, size, k0,
                      tuple(self.tiers) or ("all",), long_, short,
                      self.no_liquidation_price_usd, self.beyond_range_long_usd,
                      self.beyond_range_short_usd)


def fmt_usd(x: float) -> str:
    """US$1.2 B / US$350 M / US$12.0 K / US$512: the brief's number style
    (`reportgen.numbers.usd`)."""
    return numbers.usd(x)


def price_decimals(size: float) -> int:
    """Decimals needed to print bucket edges of `size` exactly."""
    return 0 if size >= 1 else min(8, max(0, -math.floor(math.log10(size))))


def fmt_price(p: float, size: float) -> str:
    """$101,500 for BTC, $2,505 for ETH, $0.0975 for small coins."""
    return numbers.price(p, price_decimals(size))


def cumulative(m: LiqMap) -> tuple[np.ndarray, np.ndarray]:
    """(long, short) cumulative curves per bucket row: longs summed from the mark down to the
    row (zero above the mark), shorts from the mark up to the row (zero below)."""
    km = m.mark_index
    rows = np.arange(m.n)
    long_ = np.where(rows <= km, m.long_usd, 0.0)
    short = np.where(rows >= km, m.short_usd, 0.0)
    cum_l = np.cumsum(long_[::-1])[::-1]
    cum_s = np.cumsum(short)
    return np.where(rows <= km, cum_l, 0.0), np.where(rows >= km, cum_s, 0.0)


def largest_cluster(m: LiqMap, side: str, width: int) -> Cluster | None:
    """The `width`-bucket window holding the most notional on `side` of the mark."""
    km = m.mark_index
    values = m.long_usd if side == "long" else m.short_usd
    rows = np.arange(m.n)
    values = np.where(rows <= km, values, 0.0) if side == "long" else \
        np.where(rows >= km, values, 0.0)
    if values.sum() <= 0:
        return None
    w = max(1, min(width, m.n))
    sums = np.convolve(values, np.ones(w), mode="valid")  # sums[i] = rows i..i+w-1
    best = float(sums.max())
    candidates = np.flatnonzero(sums >= best * (1 - 1e-12))
    centre = candidates + (w - 1) / 2
    i = int(candidates[np.argmin(np.abs(centre - km))])  # ties: nearest the mark
    # trim empty edge buckets so the quoted range is where the money sits
    window = values[i:i + w]
    nz = np.flatnonzero(window > 0)
    lo_row, hi_row = i + int(nz[0]), i + int(nz[-1])
    lo = (m.k0 + lo_row) * m.bucket_size
    hi = (m.k0 + hi_row + 1) * m.bucket_size
    word = "longs" if side == "long" else "shorts"
    text = (f"{fmt_usd(best)} of {word} between {fmt_price(lo, m.bucket_size)} and "
            f"{fmt_price(hi, m.bucket_size)}")
    return Cluster(side=side, usd=best, price_low=lo, price_high=hi, text=text)


def cascade(m: LiqMap, pcts: list[float]) -> list[CascadeRow]:
    """Cumulative longs liquidated if price falls x %, shorts if it rises x %."""
    km = m.mark_index
    out = []
    for side in ("long", "short"):
        for pct in pcts:
            x = pct / 100.0
            price = m.mark_price * (1 - x if side == "long" else 1 + x)
            kt = bucket_index(price, m.bucket_size) - m.k0
            if side == "long":
                lo, hi = max(kt, 0), min(km, m.n - 1)
                usd = float(m.long_usd[lo:hi + 1].sum()) if hi >= lo else 0.0
                verb, word = "falls", "longs"
            else:
                lo, hi = max(km, 0), min(kt, m.n - 1)
                usd = float(m.short_usd[lo:hi + 1].sum()) if hi >= lo else 0.0
                verb, word = "rises", "shorts"
            # The level is worked from the mark, not the close the brief's prices show:
            # the mark is named so that a reader never sees two unexplained prices.
            text = (f"If {m.symbol} {verb} {numbers.percent(pct)} from the "
                    f"{fmt_price(m.mark_price, m.bucket_size)} mark "
                    f"(to {fmt_price(price, m.bucket_size)}): "
                    f"{fmt_usd(usd)} of {word}")
            out.append(CascadeRow(side=side, move_pct=pct, price=price, usd=usd, text=text))
    return out


def summarise(m: LiqMap, *, as_of: datetime | None, cluster_buckets: int,
              cascade_pcts: list[float], assumptions: dict[str, Any] | None = None,
              coverage: dict[str, Any] | None = None) -> MapSummary:
    """The published form of `m`: sparse bucket list, clusters, cascade and sentences."""
    price_low = m.price_low
    buckets = []
    long_t, short_t = m.long_by_tier, m.short_by_tier
    nonzero = np.flatnonzero((long_t.sum(axis=1) > 0) | (short_t.sum(axis=1) > 0))
    for r in nonzero.tolist():
        buckets.append(Bucket(
            price_low=round(float(price_low[r]), 10),
            price_high=round(float(price_low[r] + m.bucket_size), 10),
            long_usd=float(long_t[r].sum()), short_usd=float(short_t[r].sum()),
            long_by_tier=[float(v) for v in long_t[r]],
            short_by_tier=[float(v) for v in short_t[r]],
        ))
    clusters = [c for c in (largest_cluster(m, "long", cluster_buckets),
                            largest_cluster(m, "short", cluster_buckets)) if c]
    rows = cascade(m, cascade_pcts)
    sentences = [c.text for c in clusters] + [r.text for r in rows]
    if m.no_liquidation_price_usd > 0:
        sentences.append(f"{fmt_usd(m.no_liquidation_price_usd)} of positions have no "
                         "liquidation price (over-collateralised) and are not on the map")
    range_low = float(m.price_low[0]) if m.n else None
    range_high = float(m.price_low[-1] + m.bucket_size) if m.n else None
    beyond = [f"{fmt_usd(usd)} of {word} {where} {fmt_price(edge, m.bucket_size)}"
              for usd, word, where, edge in (
                  (m.beyond_range_long_usd, "longs", "below", range_low),
                  (m.beyond_range_short_usd, "shorts", "above", range_high))
              if usd >= 1 and edge is not None]  # float dust from sums is not money
    if beyond:
        sentences.append(" and ".join(beyond) + " liquidate outside the map's range "
                         "(not on the chart)")
    return MapSummary(
        symbol=m.symbol, venue=m.venue, kind=m.kind, as_of=as_of, mark_price=m.mark_price,
        bucket_size=m.bucket_size, tiers=list(m.tiers), buckets=buckets,
        no_liquidation_price_usd=m.no_liquidation_price_usd,
        beyond_range_long_usd=m.beyond_range_long_usd,
        beyond_range_short_usd=m.beyond_range_short_usd,
        range_low=range_low, range_high=range_high,
        total_long_usd=float(long_t.sum()), total_short_usd=float(short_t.sum()),
        clusters=clusters, cascade=rows, sentences=sentences, assumptions=assumptions,
        coverage=coverage or {},
    )
