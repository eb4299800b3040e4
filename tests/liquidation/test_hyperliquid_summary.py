"""Hyperliquid aggregation, buckets, clusters, cascade and JSON shape."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reportgen.liquidation.buckets import LiqMap, bucket_index, clip_to_range, combine
from reportgen.liquidation.hyperliquid import aggregate, arrays_from_states
from reportgen.liquidation.summary import cascade, cumulative, fmt_usd, summarise


def state(*positions: tuple[str, float, float, float | None, int]) -> dict:
    """positions of (coin, szi, positionValue, liquidationPx, leverage)."""
    return {"assetPositions": [{"type": "oneWay", "position": {
        "coin": c, "szi": str(szi), "positionValue": str(pv),
        "liquidationPx": None if liq is None else str(liq),
        "leverage": {"type": "cross", "value": lev}, "entryPx": "100000"}}
        for c, szi, pv, liq, lev in positions]}


def test_bucket_rule_floor() -> None:
    assert bucket_index(101_550.0, 100.0) == 1015
    assert bucket_index(0.3, 0.1) == 3  # 0.3/0.1 = 2.9999… in floats
    assert bucket_index(np.array([99.99, 100.0]), 100.0).tolist() == [0, 1]


def test_aggregate_positions_by_side_band_and_no_liq() -> None:
    states = [
        state(("BTC", 1.0, 100_000, 95_050, 10), ("BTC", -2.0, 200_000, 104_999, 25),
              ("ETH", 3.0, 7_500, 2_000, 5)),
        state(("BTC", 0.5, 50_000, None, 20), ("BTC", 0.2, 20_000, 95_000, 3),
              ("BTC", -1.0, 100_000, 250_000, 40)),
    ]
    pos = arrays_from_states(states, "BTC")
    m = aggregate(pos, "BTC", 100_000.0, 100.0, range_pct=0.3, open_interest=10.0, accounts=2)
    row = bucket_index(95_050.0, 100.0) - m.k0
    assert m.long_by_tier[row].tolist() == [20_000, 100_000, 0, 0]   # ≤5x and 6–10x bands
    assert m.short_usd[bucket_index(104_999.0, 100.0) - m.k0] == 200_000
    assert m.no_liquidation_price_usd == 50_000                      # counted apart
    assert m.beyond_range_short_usd == 100_000                       # 250 000 is off the axis
    assert m.long_usd.sum() == 120_000
    assert m.extra["positions_without_liquidation_price"] == 1
    assert m.extra["coverage_long"] == pytest.approx(1.7 / 10)


def small_map() -> LiqMap:
    # mark 1000, bucket 10, rows 0..20 = prices 900..1100
    n = 21
    long_ = np.zeros((n, 1))
    short = np.zeros((n, 1))
    long_[9, 0] = 100     # 990
    long_[5, 0] = 300     # 950
    long_[4, 0] = 200     # 940
    short[12, 0] = 50     # 1020
    short[19, 0] = 400    # 1090
    return LiqMap("BTC", "test", "estimated", 1000.0, 10.0, 90, ("10x",), long_, short)


def test_cumulative_curves() -> None:
    cl, cs = cumulative(small_map())
    # longs summed from the mark (row 10) down to each row; nothing above the mark
    assert cl[10] == 0 and cl[9] == 100 and cl[5] == 400 and cl[4] == 600 and cl[0] == 600
    assert cl[11] == 0 and cs[10] == 0 and cs[12] == 50 and cs[20] == 450 and cs[9] == 0


def test_cascade_hand_values() -> None:
    rows = {(r.side, r.move_pct): r.usd for r in cascade(small_map(), [2, 5, 10])}
    # falls 2 % -> 980: buckets 980..1000 hold 990 (100); 5 % -> 950: + 950 (300)
    assert rows[("long", 2)] == 100 and rows[("long", 5)] == 400 and rows[("long", 10)] == 600
    # rises 2 % -> 1020: bucket 1020 counts (50); 10 % -> 1100: all 450
    assert rows[("short", 2)] == 50 and rows[("short", 5)] == 50 and rows[("short", 10)] == 450


def test_clusters_and_sentences() -> None:
    s = summarise(small_map(), as_of=None, cluster_buckets=2, cascade_pcts=[2, 5])
    long_c = next(c for c in s.clusters if c.side == "long")
    assert (long_c.usd, long_c.price_low, long_c.price_high) == (500, 940, 960)
    assert long_c.text == "US$500 of longs between $940 and $960"
    # the level is worked from the mark, which the sentence names (issue 21)
    assert s.sentences[2].startswith("If BTC falls 2% from the $1,000 mark (to $980): US$100 of longs")


def test_json_shape() -> None:
    s = summarise(small_map(), as_of=None, cluster_buckets=2, cascade_pcts=[2])
    d = json.loads(s.model_dump_json())
    for key in ("symbol", "venue", "mark_price", "bucket_size", "buckets",
                "no_liquidation_price_usd"):
        assert key in d
    b = d["buckets"][0]
    assert set(b) >= {"price_low", "price_high", "long_usd", "short_usd"}
    assert b["price_low"] == 940 and b["price_high"] == 950 and b["long_usd"] == 200
    assert s.to_map().long_usd.sum() == 600  # round trip


def test_combine_aligns_grids_and_clip_moves_to_beyond() -> None:
    a = small_map()
    b = LiqMap("BTC", "x", "estimated", 1000.0, 10.0, 95, ("10x",), np.ones((2, 1)),
               np.zeros((2, 1)))
    c = combine([a, b], "a+b", 1000.0)
    assert c.long_usd.sum() == 602 and c.long_usd[5] == 301
    clipped = clip_to_range(c, 0.05)  # 950 … 1050
    assert clipped.beyond_range_long_usd == 200 and clipped.beyond_range_short_usd == 400


def test_fmt_usd() -> None:
    assert fmt_usd(1.23e9) == "US$1.2 B"
    assert fmt_usd(350e6) == "US$350 M"
    assert fmt_usd(12_300) == "US$12.3 K"
