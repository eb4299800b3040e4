"""OI-flow reconstruction of liquidation levels with path-dependent removal (pure, numpy).

Per bar: (1) sweep cohorts whose bucket the mark low (longs) or high
(shorts) traded into, (2) on rising OI add new long/short cohorts at the bar's typical price
split over leverage tiers, (3) on falling OI net the drop against this bar's sweeps and
remove the rest from the whole book pro rata (positions opened before the window close too,
so mapped cohorts lose only their share), (4) cap each side at the venue's open interest: a
contract is one long and one short, so the longs (or shorts) the map holds can never exceed
OI × price — without the cap, sustained one-sided taker flow piles one side up past it.
Cohorts live in a (bucket × tier) array per side with a lazy per-side scale factor, so
pro-rata removal, the cap and decay are O(1) and a sweep is one slice; the per-bar loop
touches numpy only when something happens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

SIDE_RULES = ("aggressor", "candle", "even")


@dataclass(frozen=True)
class MarketSeries:
    """One venue's bars for one symbol, aligned: OI at each bar's close, mark OHLC.

    `oi` is one-sided open interest in base coin (a contract counted once), NaN for a bar
    without a reading at its close; `oi_before` the reading at the first bar's open (so even
    one bar has a change); `taker_buy_share` is taker-buy volume / volume, NaN where unknown
    (then 0.5 is used); `is_mark` says which bars' prices are mark prices (the others are
    last-price stand-ins for failed mark-price pages).
    """

    venue: str
    symbol: str
    ts_ms: np.ndarray
    oi: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    taker_buy_share: np.ndarray
    oi_before: float = math.nan
    interval_ms: int | None = None
    is_mark: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.ts_ms.shape[0])


@dataclass(frozen=True)
class ModelParams:
    """What the model assumes for one venue and symbol."""

    leverages: tuple[int, ...]
    weights: np.ndarray          # per tier, sums to 1
    long_factor: np.ndarray      # liquidation price / entry, per tier
    short_factor: np.ndarray
    bucket_size: float
    side_rule: str = "aggressor"
    decay_half_life_bars: float | None = None
    interval_ms: int = 300_000
    snapshot_ms: int = 3_600_000  # heatmap snapshot whenever a bar closes on this grid


@dataclass
class VenueMap:
    """Live (unswept) estimated positions of one venue at the end of the series."""

    venue: str
    symbol: str
    bucket_size: float
    k0: int                      # bucket index of row 0: price_low = (k0 + row) × size
    long_usd: np.ndarray         # (n_buckets, n_tiers)
    short_usd: np.ndarray
    leverages: tuple[int, ...]
    mark_price: float
    as_of_ms: int                # close time of the last bar
    oi_usd: float                # current one-sided OI at the mark
    opened_usd: float            # notional mapped over the window (both sides)
    swept_long_usd: np.ndarray   # per bar: notional the model saw liquidated
    swept_short_usd: np.ndarray
    capped_long_usd: float = 0.0   # removed by the open-interest cap over the window
    capped_short_usd: float = 0.0
    # heatmap: live notional per bucket at bar closes on the snapshot grid
    snapshot_ms: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    snapshots: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (n_snap, n_buckets)

    @property
    def live_usd(self) -> float:
        return float(self.long_usd.sum() + self.short_usd.sum())


def effective_buy_share(series: MarketSeries, rule: str) -> np.ndarray:
    """Share of each bar's new OI mapped to longs (and of closing OI taken from shorts)."""
    if rule == "aggressor":
        beta = np.where(np.isfinite(series.taker_buy_share), series.taker_buy_share, 0.5)
        return np.clip(beta, 0.0, 1.0)
    if rule == "candle":
        # most OSS maps: the whole change goes to the candle's direction
        return np.where(series.close > series.open, 1.0,
                        np.where(series.close < series.open, 0.0, 0.5))
    if rule == "even":
        return np.full(len(series), 0.5)
    raise ValueError(f"side_rule must be one of {SIDE_RULES}, got {rule!r}")


def run_model(series: MarketSeries, params: ModelParams) -> VenueMap:
    """Replay `series` and return the estimated live liquidation levels at its last bar."""
    n = len(series)
    size = params.bucket_size
    n_tiers = len(params.leverages)
    if n == 0:
        raise ValueError(f"{series.venue} {series.symbol}: no bars to model")
    beta = effective_buy_share(series, params.side_rule)
    entry = (series.high + series.low + series.close) / 3.0
    oi = series.oi.astype(float)
    d_oi = np.diff(oi, prepend=series.oi_before if math.isfinite(series.oi_before) else oi[0])
    d_oi[~np.isfinite(d_oi)] = 0.0  # bars without an OI reading change nothing

    long_px = entry[:, None] * params.long_factor[None, :]
    short_px = entry[:, None] * params.short_factor[None, :]
    long_k = np.floor(long_px / size).astype(np.int64)
    short_k = np.floor(short_px / size).astype(np.int64)
    low_k = np.floor(series.low / size).astype(np.int64)
    high_k = np.floor(series.high / size).astype(np.int64)
    k0 = int(min(long_k.min(), low_k.min()))
    k1 = int(max(short_k.max(), high_k.max())) + 1
    n_b = k1 - k0

    opened = np.where(d_oi > 0, d_oi * entry, 0.0)
    add_long = (opened * beta)[:, None] * params.weights[None, :]
    add_short = (opened * (1.0 - beta))[:, None] * params.weights[None, :]
    closing = np.where(d_oi < 0, -d_oi * entry, 0.0)
    # A drop of R contracts closes R longs and R shorts out of the whole book (including
    # positions opened before the window or on the passive side, which we do not map). The
    # taker-buy share tilts who closed: longs lose 2R(1-β), shorts 2Rβ, pro rata over OI.
    oi_prev = np.r_[series.oi_before if math.isfinite(series.oi_before) else oi[0], oi[:-1]]
    side_total = np.where(np.isfinite(oi_prev), oi_prev * entry, 0.0)
    # one side's notional can never exceed the open interest (one-sided) at the bar's price
    cap_l_list = np.where(np.isfinite(oi), oi * entry, np.inf).tolist()

    decay = 1.0
    if params.decay_half_life_bars:
        decay = 0.5 ** (1.0 / params.decay_half_life_bars)

    # Python lists: scalar access to numpy arrays costs far more in the loop.
    low_l = (low_k - k0).tolist()
    high_l = (high_k - k0).tolist()
    open_l = (opened > 0).tolist()
    close_l = closing.tolist()
    beta_l = beta.tolist()
    side_total_l = side_total.tolist()
    lk = long_k - k0
    sk = short_k - k0
    lk_max = lk.max(axis=1).tolist()
    sk_min = sk.min(axis=1).tolist()
    tiers = np.arange(n_tiers)

    L = np.zeros((n_b, n_tiers))
    S = np.zeros((n_b, n_tiers))
    s_l = s_s = 1.0            # true value = stored × scale
    tot_l = tot_s = 0.0
    hi_l = 0                   # longs live only in rows < hi_l
    lo_s = n_b                 # shorts live only in rows >= lo_s
    swept_l = np.zeros(n)
    swept_s = np.zeros(n)
    capped_l = capped_s = 0.0
    close_ms = series.ts_ms + params.interval_ms
    snap_l = ((close_ms % params.snapshot_ms) == 0).tolist()
    snap_l[-1] = True
    snap_rows: list[np.ndarray] = []
    snap_ts: list[int] = []
    snap_ts_l = close_ms.tolist()

    for t in range(n):
        c_l = c_s = 0.0
        kl = low_l[t]
        if kl < hi_l:
            seg = L[kl:hi_l]
            c_l = float(seg.sum()) * s_l
            seg.fill(0.0)
            hi_l = kl
            tot_l = max(tot_l - c_l, 0.0)
            swept_l[t] = c_l
        kh = high_l[t]
        if kh >= lo_s:
            seg = S[lo_s:kh + 1]
            c_s = float(seg.sum()) * s_s
            seg.fill(0.0)
            lo_s = kh + 1
            tot_s = max(tot_s - c_s, 0.0)
            swept_s[t] = c_s
        if open_l[t]:
            L[lk[t], tiers] += add_long[t] / s_l
            S[sk[t], tiers] += add_short[t] / s_s
            a_l = float(add_long[t].sum())
            a_s = float(add_short[t].sum())
            tot_l += a_l
            tot_s += a_s
            hi_l = max(hi_l, lk_max[t] + 1)
            lo_s = min(lo_s, sk_min[t])
        elif close_l[t] > 0.0:
            # liquidations already took OI out of the market: net them first
            rest = close_l[t] - c_l - c_s
            if rest > 0.0:
                b = beta_l[t]
                whole = side_total_l[t]
                if tot_l > 0.0:
                    f = max(0.0, 1.0 - 2.0 * rest * (1.0 - b) / max(tot_l, whole))
                    s_l *= f
                    tot_l *= f
                if tot_s > 0.0:
                    f = max(0.0, 1.0 - 2.0 * rest * b / max(tot_s, whole))
                    s_s *= f
                    tot_s *= f
        cap = cap_l_list[t]
        if tot_l > cap:
            capped_l += tot_l - cap
            s_l *= cap / tot_l
            tot_l = cap
        if tot_s > cap:
            capped_s += tot_s - cap
            s_s *= cap / tot_s
            tot_s = cap
        if decay != 1.0:
            s_l *= decay
            s_s *= decay
            tot_l *= decay
            tot_s *= decay
        # keep the lazy scales away from underflow / zero
        if s_l < 1e-150:
            L *= s_l
            s_l = 1.0
            if tot_l <= 0.0:
                L.fill(0.0)
        if s_s < 1e-150:
            S *= s_s
            s_s = 1.0
            if tot_s <= 0.0:
                S.fill(0.0)
        if snap_l[t]:
            snap_rows.append(L.sum(axis=1) * s_l + S.sum(axis=1) * s_s)
            snap_ts.append(snap_ts_l[t])

    long_usd = L * s_l
    short_usd = S * s_s
    mark = float(series.close[-1])
    last_oi = oi[np.isfinite(oi)]
    return VenueMap(
        venue=series.venue, symbol=series.symbol, bucket_size=size, k0=k0,
        long_usd=long_usd, short_usd=short_usd, leverages=params.leverages,
        mark_price=mark, as_of_ms=int(series.ts_ms[-1]) + params.interval_ms,
        oi_usd=float(last_oi[-1]) * mark if last_oi.size else math.nan,
        opened_usd=float(opened.sum()),
        swept_long_usd=swept_l, swept_short_usd=swept_s,
        capped_long_usd=capped_l, capped_short_usd=capped_s,
        snapshot_ms=np.array(snap_ts, dtype=np.int64),
        snapshots=np.vstack(snap_rows) if snap_rows else np.zeros((0, n_b)),
    )
