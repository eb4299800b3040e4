"""Realised-vs-predicted check on a case solved by hand, and the event formats."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reportgen.liquidation.buckets import LiqMap
from reportgen.liquidation.check import check_against, parse_events
from reportgen.liquidation.summary import summarise


def test_event_frames_and_side_semantics() -> None:
    # Frames built in each venue's documented stream shape (no traceable public recording of
    # these streams is kept; see tests/fixtures/PROVENANCE.md).
    binance = json.dumps(frame_binance("SELL", 82651.9, 0.19))
    bybit = json.dumps({"topic": "allLiquidation.BTCUSDT", "type": "snapshot", "ts": 2,
                        "data": [{"T": 1, "s": "BTCUSDT", "S": "Buy", "v": "0.006",
                                  "p": "82396.90"},
                                 {"T": 2, "s": "BTCUSDT", "S": "Buy", "v": "0.1",
                                  "p": "82390.0"}]})
    okx = json.dumps(frame_okx("long", "sell", 82655.7, 8.55))
    events = parse_events("\n".join([binance, bybit, okx]), {"BTC": 0.01})
    assert [(e.venue, e.side) for e in events] == [
        ("binance", "long"),   # order side SELL = a long liquidated
        ("bybit", "long"), ("bybit", "long"),  # position side Buy = a long liquidated
        ("okx", "long"),       # posSide long
    ]
    b = events[0]
    assert (b.price, b.qty) == (82651.90, 0.190)
    assert events[1].usd == pytest.approx(0.006 * 82396.90)
    assert events[3].qty == pytest.approx(8.55 * 0.01) and events[3].price == 82655.7
    # a JSON array of frames reads the same
    assert len(parse_events(json.dumps([json.loads(binance), json.loads(bybit)]))) == 3


def frame_okx(pos_side: str, side: str, bk_px: float, sz: float) -> dict:
    return {"arg": {"channel": "liquidation-orders", "instType": "SWAP"}, "data": [{
        "instId": "BTC-USDT-SWAP", "instFamily": "BTC-USDT", "instType": "SWAP", "uly": "BTC-USDT",
        "details": [{"posSide": pos_side, "side": side, "bkPx": str(bk_px), "sz": str(sz),
                     "bkLoss": "0", "ccy": "", "ts": "1"}]}]}


def frame_binance(side: str, price: float, qty: float) -> dict:
    return {"stream": "!forceOrder@arr", "data": {"e": "forceOrder", "E": 1, "o": {
        "s": "BTCUSDT", "S": side, "o": "LIMIT", "f": "IOC", "q": str(qty), "p": str(price),
        "ap": str(price), "X": "FILLED", "l": str(qty), "z": str(qty), "T": 1}}}


def frame_bybit(side: str, price: float, qty: float) -> dict:
    return {"topic": "allLiquidation.BTCUSDT", "type": "snapshot", "ts": 1,
            "data": [{"T": 1, "s": "BTCUSDT", "S": side, "v": str(qty), "p": str(price)}]}


def test_share_within_one_bucket_hand_case() -> None:
    # map: bucket 100; long levels at 99 000 (big) and 97 000 (tiny, under the 5 % floor);
    # short level at 101 000
    k0 = 960
    n = 60
    long_ = np.zeros((n, 1))
    short = np.zeros((n, 1))
    long_[990 - k0, 0] = 1_000_000
    long_[970 - k0, 0] = 10_000
    short[1010 - k0, 0] = 500_000
    m = LiqMap("BTC", "x", "estimated", 100_000.0, 100.0, k0, ("10x",), long_, short)
    summary = summarise(m, as_of=None, cluster_buckets=1, cascade_pcts=[2])
    frames = [
        frame_binance("SELL", 99_150.0, 2.0),   # long, bucket 99 100: neighbour of 99 000 → hit
        frame_bybit("Buy", 98_850.0, 1.0),      # long, bucket 98 800: two away → miss
        frame_binance("SELL", 97_050.0, 1.0),   # long at the tiny level: below floor → miss
        frame_bybit("Sell", 101_020.0, 1.0),    # short, bucket 101 000 → hit
        frame_binance("BUY", 103_000.0, 1.0),   # short, far from any level → miss
    ]
    events = parse_events(json.dumps(frames))
    report = check_against(summary, events, level_floor=0.05)
    long_total = 2 * 99_150 + 98_850 + 97_050
    assert report.long.realised_usd == pytest.approx(long_total)
    assert report.long.share == pytest.approx(2 * 99_150 / long_total)
    assert report.short.share == pytest.approx(101_020 / (101_020 + 103_000))
    assert report.long.events == 3 and report.short.events == 2
    # with no floor the tiny level counts too
    report0 = check_against(summary, events, level_floor=0.0)
    assert report0.long.hit_usd == pytest.approx(2 * 99_150 + 97_050)


def test_no_events_gives_no_share() -> None:
    m = LiqMap("ETH", "x", "estimated", 2500.0, 5.0, 500, ("10x",), np.ones((1, 1)),
               np.zeros((1, 1)))
    report = check_against(summarise(m, as_of=None, cluster_buckets=1, cascade_pcts=[2]), [])
    assert report.long.share is None and "no longs" in report.text
