"""Price buckets: the map both sources share (price_low = floor(p / size) × size).

A `LiqMap` is a dense run of buckets starting at bucket index `k0`, with long and short
notional per bucket and per tier (leverage tier for the estimate, leverage band for
Hyperliquid). Dense arrays keep sums and cumulative curves one numpy call each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import numpy as np


def _decimal_floor(price: float, size: float) -> int:
    """floor(price / size) in decimal: each float read as the shortest decimal that gives it
    back (the number the upstream wrote, for prices parsed from its strings)."""
    quotient = Decimal(repr(float(price))) / Decimal(repr(float(size)))
    return int(quotient.to_integral_value(rounding=ROUND_FLOOR))


def bucket_index(price: Any, size: float) -> Any:
    """floor(price / size) as the decimal numbers say, for a scalar or an array.

    Prices are decimal strings upstream; in binary, 0.3 / 0.1 is 2.9999999999999996 and
    94,999.99999999999 / 100 rounds up to 950.0. A float quotient within 1e-9 of an integer
    is therefore settled in decimal (`_decimal_floor`): 0.3 lands in bucket 3 (the edge
    it names) and 94,999.99999999999 in bucket 949 (it is below 95,000). Elsewhere the float
    floor is exact, and fast for the model's arrays.
    """
    p = np.asarray(price, dtype=float)
    q = p / size
    out = np.floor(q)
    close = np.abs(q - np.rint(q)) <= 1e-9 * np.maximum(1.0, np.abs(q))
    close &= np.isfinite(q)
    if close.any():
        flat_p, flat_out = p.reshape(-1), out.reshape(-1)
        for i in np.flatnonzero(close.reshape(-1)).tolist():
            flat_out[i] = _decimal_floor(float(flat_p[i]), size)
        out = flat_out.reshape(p.shape)
    result = out.astype(np.int64)
    return int(result) if result.ndim == 0 else result


@dataclass
class LiqMap:
    """Liquidation notional (US$) per price bucket, side and tier."""

    symbol: str
    venue: str                       # "binance+bybit+okx", "hyperliquid", …
    kind: str                        # "estimated" or "reported"
    mark_price: float
    bucket_size: float
    k0: int
    tiers: tuple[str, ...]
    long_by_tier: np.ndarray         # (n_buckets, n_tiers)
    short_by_tier: np.ndarray
    no_liquidation_price_usd: float = 0.0
    beyond_range_long_usd: float = 0.0
    beyond_range_short_usd: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.long_by_tier.shape[0])

    @property
    def long_usd(self) -> np.ndarray:
        out: np.ndarray = self.long_by_tier.sum(axis=1)
        return out

    @property
    def short_usd(self) -> np.ndarray:
        out: np.ndarray = self.short_by_tier.sum(axis=1)
        return out

    @property
    def price_low(self) -> np.ndarray:
        return (self.k0 + np.arange(self.n)) * self.bucket_size

    @property
    def mark_index(self) -> int:
        """Row of the bucket holding the mark price (may lie outside 0..n-1)."""
        return int(bucket_index(self.mark_price, self.bucket_size)) - self.k0


def combine(maps: list[LiqMap], venue: str, mark_price: float) -> LiqMap:
    """Sum maps of one symbol (same bucket size and tiers) onto one grid. Each venue's data
    enters once: callers pass one map per venue."""
    if not maps:
        raise ValueError("combine needs at least one map")
    size, tiers = maps[0].bucket_size, maps[0].tiers
    if any(m.bucket_size != size or m.tiers != tiers for m in maps):
        raise ValueError("maps to combine must share bucket size and tiers")
    k0 = min(m.k0 for m in maps)
    k1 = max(m.k0 + m.n for m in maps)
    long_ = np.zeros((k1 - k0, len(tiers)))
    short = np.zeros_like(long_)
    for m in maps:
        long_[m.k0 - k0: m.k0 - k0 + m.n] += m.long_by_tier
        short[m.k0 - k0: m.k0 - k0 + m.n] += m.short_by_tier
    return LiqMap(
        maps[0].symbol, venue, maps[0].kind, mark_price, size, k0, tiers, long_, short,
        no_liquidation_price_usd=sum(m.no_liquidation_price_usd for m in maps),
        beyond_range_long_usd=sum(m.beyond_range_long_usd for m in maps),
        beyond_range_short_usd=sum(m.beyond_range_short_usd for m in maps),
    )


def clip_to_range(m: LiqMap, range_pct: float) -> LiqMap:
    """Exactly the buckets within mark ± range_pct (empty ones added where the map is
    narrower), so the map's range is the same whatever its data; what lies beyond goes to
    the beyond-range totals (a short liquidating at 5× the mark would otherwise stretch the
    axis)."""
    lo = bucket_index(m.mark_price * (1 - range_pct), m.bucket_size) - m.k0
    hi = bucket_index(m.mark_price * (1 + range_pct), m.bucket_size) - m.k0 + 1
    n = max(hi - lo, 1)
    long_, short = np.zeros((n, len(m.tiers))), np.zeros((n, len(m.tiers)))
    lo_c, hi_c = max(lo, 0), min(hi, m.n)
    if lo_c < hi_c:
        long_[lo_c - lo: hi_c - lo] = m.long_by_tier[lo_c:hi_c]
        short[lo_c - lo: hi_c - lo] = m.short_by_tier[lo_c:hi_c]
    return replace(
        m, k0=m.k0 + lo, long_by_tier=long_, short_by_tier=short,
        beyond_range_long_usd=m.beyond_range_long_usd + float(m.long_by_tier.sum() - long_.sum()),
        beyond_range_short_usd=m.beyond_range_short_usd
        + float(m.short_by_tier.sum() - short.sum()),
    )


def grid_factor(n_buckets: int, max_buckets: int | None) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that brings `n_buckets` to `max_buckets` or
    fewer (None: no limit)."""
    if not max_buckets or n_buckets <= max_buckets:
        return 1
    factor, steps = 1, (2, 2.5, 2)  # 1 → 2 → 5 → 10 → 20 → 50 …
    i = 0
    while math.ceil(n_buckets / factor) > max_buckets:
        factor = round(factor * steps[i % 3])
        i += 1
    return factor


def regrid(m: LiqMap, factor: int) -> LiqMap:
    """The map on a grid `factor` times coarser, aligned to multiples of the new size (so
    bucket edges stay round numbers); notional per bucket is summed."""
    if factor <= 1:
        return m
    k = m.k0 + np.arange(m.n)
    group = np.floor_divide(k, factor)
    g0 = int(group[0]) if m.n else bucket_index(m.mark_price, m.bucket_size * factor)
    n = int(group[-1]) - g0 + 1 if m.n else 1
    long_, short = np.zeros((n, len(m.tiers))), np.zeros((n, len(m.tiers)))
    np.add.at(long_, group - g0, m.long_by_tier)
    np.add.at(short, group - g0, m.short_by_tier)
    return replace(m, bucket_size=m.bucket_size * factor, k0=g0, long_by_tier=long_,
                   short_by_tier=short)
