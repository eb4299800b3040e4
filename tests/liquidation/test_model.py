"""The OI-flow model against a scenario solved by hand."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.liquidation.model import MarketSeries, ModelParams, run_model


def series(rows: list[tuple[float, float, float, float, float]], buy: float = np.nan,
           ) -> MarketSeries:
    """rows of (open, high, low, close, oi)."""
    a = np.array(rows, dtype=float)
    n = len(rows)
    return MarketSeries("test", "BTC", np.arange(n, dtype=np.int64) * 1000, a[:, 4], a[:, 0],
                        a[:, 1], a[:, 2], a[:, 3], np.full(n, buy))


PARAMS = ModelParams(leverages=(10,), weights=np.array([1.0]), long_factor=np.array([0.9]),
                     short_factor=np.array([1.1]), bucket_size=100.0, side_rule="even",
                     interval_ms=1000, snapshot_ms=1000)


def as_dict(m, side: str) -> dict[float, float]:
    arr = (m.long_usd if side == "long" else m.short_usd)[:, 0]
    return {float((m.k0 + i) * m.bucket_size): round(float(v), 6)
            for i, v in enumerate(arr) if v > 1e-9}


def test_hand_solved_scenario() -> None:
    s = series([
        (1000, 1000, 1000, 1000, 10),   # t0: first reading, nothing opens
        (1000, 1000, 1000, 1000, 20),   # t1: +10 @1000 -> long 5000 @900, short 5000 @1100
        (1200, 1210, 1190, 1200, 30),   # t2: high 1210 sweeps the 1100 shorts (5000);
                                        #     +10 @1200 -> long 6000 @1080, short 6000 @1320
        (1200, 1200, 1200, 1200, 25),   # t3: −5 @1200 = 6000 closes: each side loses
                                        #     2·6000·½ / (30·1200) = 1/6
        (1200, 1200, 1000, 1050, 22),   # t4: low 1000 sweeps the 1000-bucket long (5000);
                                        #     −3 @1083.33 = 3250 < swept 5000: nothing more
    ])
    m = run_model(s, PARAMS)
    assert as_dict(m, "long") == {900.0: pytest.approx(5000 * 5 / 6)}
    assert as_dict(m, "short") == {1300.0: pytest.approx(5000.0)}
    assert m.swept_short_usd.tolist() == [0, 0, 5000, 0, 0]
    assert m.swept_long_usd.tolist() == pytest.approx([0, 0, 0, 0, 5000])
    assert m.mark_price == 1050
    assert m.opened_usd == pytest.approx(22_000)
    assert m.oi_usd == pytest.approx(22 * 1050)
    # snapshots after every bar: live notional per bucket
    assert m.snapshots.shape[0] == 5
    assert m.snapshots[1].sum() == pytest.approx(10_000)
    assert m.snapshots[2].sum() == pytest.approx(17_000)
    assert m.snapshots[3].sum() == pytest.approx(17_000 * 5 / 6)


def test_oi_drop_larger_than_sweeps_removes_the_rest() -> None:
    s = series([
        (1000, 1000, 1000, 1000, 10),
        (1000, 1000, 1000, 1000, 20),   # long 5000 @900, short 5000 @1100
        (1000, 1000, 1000, 1000, 10),   # −10 @1000 = 10 000: fraction 2·10000·½ / 20000 = ½
    ])
    m = run_model(s, PARAMS)
    assert as_dict(m, "long") == {900.0: pytest.approx(2500)}
    assert as_dict(m, "short") == {1100.0: pytest.approx(2500)}


def test_closing_never_goes_negative() -> None:
    s = series([(1000, 1000, 1000, 1000, 10), (1000, 1000, 1000, 1000, 20),
                (1000, 1000, 1000, 1000, 0.5)])
    m = run_model(s, PARAMS)
    assert m.long_usd.min() >= 0 and m.short_usd.min() >= 0


def test_aggressor_split_uses_taker_buy_share() -> None:
    s = series([(1000, 1000, 1000, 1000, 10), (1000, 1000, 1000, 1000, 20)], buy=0.8)
    p = ModelParams((10,), np.array([1.0]), np.array([0.9]), np.array([1.1]), 100.0,
                    "aggressor", interval_ms=1000, snapshot_ms=1000)
    m = run_model(s, p)
    assert as_dict(m, "long") == {900.0: pytest.approx(8000)}
    assert as_dict(m, "short") == {1100.0: pytest.approx(2000)}


def test_candle_rule_gives_up_candles_to_longs() -> None:
    s = series([(1000, 1000, 1000, 1000, 10), (990, 1010, 990, 1000, 20)])
    p = ModelParams((10,), np.array([1.0]), np.array([0.9]), np.array([1.1]), 100.0, "candle",
                    interval_ms=1000, snapshot_ms=1000)
    m = run_model(s, p)
    assert m.short_usd.sum() == 0
    assert m.long_usd.sum() == pytest.approx(10_000)


def test_tiers_spread_over_buckets() -> None:
    p = ModelParams((5, 10), np.array([0.5, 0.5]), np.array([0.8, 0.9]), np.array([1.2, 1.1]),
                    100.0, "even", interval_ms=1000, snapshot_ms=1000)
    m = run_model(series([(1000, 1000, 1000, 1000, 10), (1000, 1000, 1000, 1000, 20)]), p)
    row = lambda price: int(price / 100) - m.k0  # noqa: E731
    assert m.long_usd[row(800)].tolist() == [2500, 0]
    assert m.long_usd[row(900)].tolist() == [0, 2500]
    assert m.short_usd[row(1200)].tolist() == [2500, 0]


def test_decay_halves_after_half_life() -> None:
    p = ModelParams((10,), np.array([1.0]), np.array([0.9]), np.array([1.1]), 100.0, "even",
                    decay_half_life_bars=1.0, interval_ms=1000, snapshot_ms=1000)
    m = run_model(series([(1000, 1000, 1000, 1000, 10), (1000, 1000, 1000, 1000, 20),
                          (1000, 1000, 1000, 1000, 20)]), p)
    assert m.long_usd.sum() == pytest.approx(5000 * 0.25)


def test_missing_oi_readings_change_nothing() -> None:
    s = series([(1000, 1000, 1000, 1000, np.nan), (1000, 1000, 1000, 1000, np.nan),
                (1000, 1000, 1000, 1000, 10)])
    m = run_model(s, PARAMS)
    assert m.live_usd == 0


def test_one_side_never_holds_more_than_the_open_interest() -> None:
    # Sustained taker selling (β = 0.2) while OI wanders up and down around 10 000 BTC at a
    # flat price: every rise maps 80 % to shorts, every fall takes only 2·R·β of them back.
    # Before the cap the shorts reached 1.34× the open interest (impossible: each short has a
    # long on the other side, so one side is at most OI).
    from reportgen.liquidation.config import LiqConfig
    from reportgen.liquidation.estimate import params_for

    rng = np.random.default_rng(1)
    n = 2016  # 7 days of 5-minute bars
    price = np.full(n, 100_000.0)
    oi = 10_000 + np.cumsum(rng.normal(0, 30, n))
    s = MarketSeries("binance", "BTC", np.arange(n, dtype=np.int64) * 300_000, oi, price,
                     price * 1.0003, price * 0.9997, price, np.full(n, 0.2))
    m = run_model(s, params_for("binance", "BTC", LiqConfig(), 100.0, 300_000))
    side_cap = oi[-1] * 100_000.0
    assert m.short_usd.sum() <= side_cap * (1 + 1e-9)
    assert m.short_usd.sum() > 0.9 * side_cap        # the cap binds here …
    assert m.capped_short_usd > 0
    assert m.long_usd.sum() < 0.2 * side_cap        # … and the other side is untouched
    assert m.capped_long_usd == 0
