"""Benchmark of the liquidation map (run: .venv/bin/python bench/bench_liqmap.py [--check]).

1. The OI-flow model on 30 days of 5-minute bars for three venues × two symbols
   (synthetic random walks, seeded): target < 1 s for all six.
2. The Hyperliquid aggregation of 100 000 positions (from decoded clearinghouseState bodies
   to the bucketed map): target < 0.2 s.
3. (`--check`, or `--check-only`) the score of `liqmap --check-against` on the bundled
   sample map of 2025-06-11 (BTC, model buckets of US$100): seeded sets of 100 events placed
   uniformly at random within ±5/10/15/20/30 % of the mark, the map's two largest clusters,
   and those cluster events shifted away from the mark. Targets (docs/liquidation-check.md):
   random sets lift > 1.2 in at most 5 %; cluster events lift > 2 with p < 0.01.
Prints medians, shares and the table; no assertions.
"""

from __future__ import annotations

import statistics

import numpy as np
from timing import median_of, timings

from reportgen.liquidation.check import DEFAULT_BAND_PCT, score_map_against_events
from reportgen.liquidation.config import LiqConfig
from reportgen.liquidation.estimate import estimate
from reportgen.liquidation.events import LiqEvent
from reportgen.liquidation.hyperliquid import aggregate, arrays_from_states
from reportgen.liquidation.model import MarketSeries
from reportgen.liquidation.summary import MapSummary

BARS = 30 * 288
START_MS = 1_746_057_600_000  # 2025-05-01 00:00 UTC
STEP_MS = 300_000


def synthetic_series(venue: str, symbol: str, price0: float, oi0: float,
                     rng: np.random.Generator) -> MarketSeries:
    """Geometric random walk with intrabar wicks; OI wanders and follows |returns|."""
    ret = rng.standard_t(4, BARS) * 0.0012
    close = price0 * np.exp(np.cumsum(ret))
    open_ = np.r_[price0, close[:-1]]
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.0007, BARS)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.0007, BARS)))
    oi = oi0 * np.exp(np.cumsum(rng.normal(0, 0.0008, BARS) + 0.3 * np.abs(ret) - 0.00032))
    buy = np.clip(0.5 + 4 * ret + rng.normal(0, 0.03, BARS), 0.05, 0.95)
    ts = START_MS + np.arange(BARS, dtype=np.int64) * STEP_MS
    return MarketSeries(venue, symbol, ts, oi, open_, high, low, close, buy)


def synthetic_states(n_positions: int, rng: np.random.Generator) -> list[dict]:
    """Decoded clearinghouseState bodies, 4 positions each (BTC/ETH/SOL), ~15 % without
    liquidation price."""
    states = []
    mark = 108_600.0
    for a in range(n_positions // 4):
        positions = []
        for j in range(4):
            coin = "BTC" if j < 2 else ("ETH" if j == 2 else "SOL")
            side = 1 if rng.random() < 0.55 else -1
            szi = side * float(np.exp(rng.normal(-1, 1.5)))
            lev = int(rng.choice([3, 5, 10, 20, 40]))
            liq = None if rng.random() < 0.15 else f"{mark * (1 - side * 0.9 / lev):.1f}"
            positions.append({"type": "oneWay", "position": {
                "coin": coin, "szi": f"{szi:.5f}", "leverage": {"type": "cross", "value": lev},
                "entryPx": "108000.0", "positionValue": f"{abs(szi) * mark:.6f}",
                "liquidationPx": liq, "marginUsed": "1.0", "maxLeverage": 40}})
        states.append({"assetPositions": positions, "time": a})
    return states


def main() -> None:
    rng = np.random.default_rng(7)
    config = LiqConfig(lookback_days=30, interval="5m")
    data = {
        "BTC": {v: synthetic_series(v, "BTC", 105_000, oi, rng)
                for v, oi in (("binance", 80_000), ("bybit", 52_000), ("okx", 26_000))},
        "ETH": {v: synthetic_series(v, "ETH", 2_600, oi, rng)
                for v, oi in (("binance", 2e6), ("bybit", 1e6), ("okx", 6e5))},
    }
    end_ms = START_MS + BARS * STEP_MS

    def model_all() -> None:
        for sym, by_venue in data.items():
            estimate(by_venue, sym, config, end_ms)

    model_all()  # warm-up
    times = timings(model_all, 7)
    med = statistics.median(times)
    est = estimate(data["BTC"], "BTC", config, end_ms)
    print(f"model: 30 d × 5-min × 3 venues × 2 symbols ({6 * BARS:,} bar-steps): "
          f"median {med * 1000:.0f} ms (runs {', '.join(f'{t * 1000:.0f}' for t in times)} ms)"
          f"  [target < 1000 ms]")
    print(f"       BTC live {est.coverage['live_usd'] / 1e9:.2f} B US$, "
          f"{est.map.n} buckets, heatmap {est.heatmap.values.shape}")

    states = synthetic_states(100_000, rng)
    n_btc = sum(1 for s in states for p in s["assetPositions"] if p["position"]["coin"] == "BTC")

    def hl_all() -> None:
        pos = arrays_from_states(states, "BTC")
        aggregate(pos, "BTC", 108_600.0, 100.0, 0.3)

    def hl_bucket_only(pos=arrays_from_states(states, "BTC")) -> None:  # noqa: B008
        aggregate(pos, "BTC", 108_600.0, 100.0, 0.3)

    hl_all()
    med_hl = median_of(hl_all, 7)
    med_b = median_of(hl_bucket_only, 7)
    print(f"hyperliquid: 100,000 positions ({n_btc:,} BTC) from decoded states to map: "
          f"median {med_hl * 1000:.0f} ms; bucketing alone {med_b * 1000:.1f} ms  "
          f"[target < 200 ms]")


def sample_map() -> MapSummary:
    """The bundled sample's BTC estimate of 2025-06-11 at the model's own buckets."""
    from reportgen import sample
    from reportgen.liquidation.section import SOURCES, build_liquidation_section

    day = sample.SAMPLE_LAST
    raws = {src: sample.load_raws(src, day) for src in SOURCES.values()}
    cex = build_liquidation_section(raws, "BTC", LiqConfig(max_buckets=None),
                                    sample.fetched_at(day)).cex
    assert cex is not None and cex.as_of is not None
    return cex


def at_liquidation_prices(m: MapSummary, prices: np.ndarray, usd: np.ndarray) -> list[LiqEvent]:
    """Events liquidated at `prices` (longs below the mark, shorts above), reported at their
    bankruptcy prices as Bybit would, one a minute after the map's as-of."""
    assert m.as_of is not None
    t0 = int(m.as_of.timestamp() * 1000)
    mmr = LiqConfig().mmr("bybit", "BTC")
    out = []
    for i, (px, u) in enumerate(zip(prices.tolist(), usd.tolist(), strict=True)):
        side = "long" if px < m.mark_price else "short"
        bk = px * (1 - mmr if side == "long" else 1 + mmr)
        out.append(LiqEvent("bybit", "BTC", side, bk, u / px, t0 + 60_000 * (i + 1)))
    return out


def cluster_prices(m: MapSummary, per_cluster: int = 20, shift: float = 0.0) -> np.ndarray:
    """`per_cluster` prices spread over each of the map's two largest clusters, moved
    `shift` (share of the mark) away from the mark."""
    out = []
    for c in m.clusters:
        away = -shift if c.side == "long" else shift
        out += (np.linspace(c.price_low, c.price_high, per_cluster, endpoint=False)
                + away * m.mark_price).tolist()
    return np.array(out)


def check_table(sets: int = 200, permutations: int = 999) -> None:
    m = sample_map()
    mmr = LiqConfig().mmr

    def score(prices: np.ndarray, usd: np.ndarray | None = None) -> tuple[float, float]:
        usd = np.ones(len(prices)) * 1e5 if usd is None else usd
        s = score_map_against_events(m, at_liquidation_prices(m, prices, usd), mmr=mmr,
                                     permutations=permutations)
        assert s.lift is not None and s.p_value is not None
        return s.lift, s.p_value

    print(f"check: sample map BTC {m.as_of:%Y-%m-%d %H:%M} UTC, mark {m.mark_price:,.0f}, "
          f"${m.bucket_size:,.0f} buckets, band ±{DEFAULT_BAND_PCT * 100:g} %, "
          f"{permutations} random moves per score")
    print(f"  random events, {sets} seeded sets of 100 (equal notional) each:")
    print("    within   lift>1.2   median lift   95th pct   max    p<0.05   p<0.01")
    for within in (0.05, 0.10, 0.15, 0.20, 0.30):
        lifts, ps = [], []
        for seed in range(sets):
            rng = np.random.default_rng(seed)
            lift, p = score(m.mark_price * (1 + rng.uniform(-within, within, 100)))
            lifts.append(lift)
            ps.append(p)
        a, b = np.array(lifts), np.array(ps)
        print(f"    ±{within * 100:>2.0f} %   {np.mean(a > 1.2) * 100:>6.1f} %   "
              f"{np.median(a):>9.2f}    {np.percentile(a, 95):>8.2f}   {a.max():>5.2f}  "
              f"{np.mean(b < 0.05) * 100:>6.1f} %  {np.mean(b < 0.01) * 100:>6.1f} %")
    lifts, ps = [], []
    for seed in range(sets):
        rng = np.random.default_rng(seed)
        prices = m.mark_price * (1 + rng.uniform(-0.10, 0.10, 100))
        lift, p = score(prices, np.exp(rng.normal(10, 1.5, 100)))
        lifts.append(lift)
        ps.append(p)
    a, b = np.array(lifts), np.array(ps)
    print(f"    ±10 %, heavy-tailed notional (log-normal σ 1.5): lift>1.2 in "
          f"{np.mean(a > 1.2) * 100:.1f} % of sets, median {np.median(a):.2f}, max {a.max():.2f}; "
          f"p<0.05 in {np.mean(b < 0.05) * 100:.1f} %")
    print("  events at the map's two largest clusters (20 each), then moved away from the mark:")
    print("    shift     lift    p")
    for shift in (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, -0.005, -0.01):
        lift, p = score(cluster_prices(m, shift=shift))
        print(f"    {shift * 100:+5.1f} %  {lift:>5.2f}   {p:.3f}")
    prices = m.mark_price * (1 + np.random.default_rng(0).uniform(-0.1, 0.1, 10_000))
    events = at_liquidation_prices(m, prices, np.ones(10_000) * 1e5)
    med = median_of(lambda: score_map_against_events(m, events, mmr=mmr), 3)
    print(f"  one score of 10,000 events with 999 random moves: median {med * 1000:.0f} ms")


if __name__ == "__main__":
    import sys

    if "--check-only" not in sys.argv:
        main()
    if "--check" in sys.argv or "--check-only" in sys.argv:
        check_table()
