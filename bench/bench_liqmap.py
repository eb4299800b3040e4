"""Benchmark of the liquidation map (run: .venv/bin/python bench/bench_liqmap.py).

1. The OI-flow model on 30 days of 5-minute bars for three venues × two symbols
   (synthetic random walks, seeded): target < 1 s for all six.
2. The Hyperliquid aggregation of 100 000 positions (from decoded clearinghouseState bodies
   to the bucketed map): target < 0.2 s.
Prints the median of several runs; no assertions.
"""

from __future__ import annotations

import statistics

import numpy as np
from timing import median_of, timings

from reportgen.liquidation.config import LiqConfig
from reportgen.liquidation.estimate import estimate
from reportgen.liquidation.hyperliquid import aggregate, arrays_from_states
from reportgen.liquidation.model import MarketSeries

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


if __name__ == "__main__":
    main()
