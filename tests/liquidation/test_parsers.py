"""Parsers against the real recorded payloads (fixtures) and documented shapes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from reportgen.errors import ParseError
from reportgen.liquidation.parsers import (
    base_coin,
    listed_coin,
    parse_clearinghouse_state,
    parse_hyperliquid,
    parse_leaderboard,
    parse_market_series,
    parse_meta_and_asset_ctxs,
    parse_venue,
    request_params,
    top_addresses,
    venue_symbol,
)

from .conftest import raw

BIN = "https://fapi.binance.com"


def test_binance_klines_and_oi_from_recordings(fixtures) -> None:
    # Real fapi.binance.com answers for the same two hours (tests/fixtures/PROVENANCE.md);
    # the second bar (19:00) was still open when recorded.
    klines = (fixtures / "binance/klines_BTCUSDT_1h_2026-08-15.json").read_text()
    oi = (fixtures / "binance/openInterestHist_BTCUSDT_1h_2026-08-15.json").read_text()
    raws = [raw("liq_binance", f"{BIN}/fapi/v1/klines?symbol=BTCUSDT&interval=1h", klines),
            raw("liq_binance", f"{BIN}/futures/data/openInterestHist?symbol=BTCUSDT&period=1h",
                oi)]
    s = parse_market_series("binance", raws)["BTC"]
    assert s.ts_ms.tolist() == [1786816800000, 1786820400000]
    assert s.high.tolist() == [63083.0, 63029.7] and s.low.tolist() == [63011.6, 63026.2]
    assert s.taker_buy_share[0] == pytest.approx(460.737 / 1116.068)
    # OI read at each bar's own close: the 19:00 reading for the 18:00 bar; none exists yet
    # for the open 19:00 bar (no older reading is carried forward); the 18:00 reading is the
    # first bar's opening one
    assert s.oi[0] == 111688.14 and math.isnan(s.oi[1])
    assert s.oi_before == 111856.664


def test_kpepe_reads_1000pepe_answers() -> None:
    # The map's KPEPE (Hyperliquid's kPEPE) is Binance's 1000PEPEUSDT, at the same price
    last = [[0, "0.0101", "0.0110", "0.0090", "0.0105", "10", 299999, "0", 1, "6", "0", "0"]]
    oi = [{"symbol": "1000PEPEUSDT", "sumOpenInterest": "5", "sumOpenInterestValue": "0.05",
           "timestamp": 300000}]
    raws = [raw("liq_binance", f"{BIN}/fapi/v1/klines?symbol=1000PEPEUSDT", json.dumps(last)),
            raw("liq_binance", f"{BIN}/futures/data/openInterestHist?symbol=1000PEPEUSDT",
                json.dumps(oi))]
    data = parse_venue("binance", raws, "KPEPE")
    assert data.series is not None and data.series.close.tolist() == [0.0105]
    assert venue_symbol("binance", "kPEPE") == "1000PEPEUSDT"
    assert venue_symbol("bybit", "KPEPE") == "1000PEPEUSDT"
    assert listed_coin("okx", "KPEPE") is None and listed_coin("okx", "BTC") == "BTC"


def test_binance_mark_klines_preferred_for_prices() -> None:
    last = [[0, "100", "110", "90", "105", "10", 299999, "0", 1, "6", "0", "0"]]
    mark = [[0, "101", "108", "95", "104", "0", 299999, "0", 60, "0", "0", "0"]]
    oi = [{"symbol": "ETHUSDT", "sumOpenInterest": "5", "sumOpenInterestValue": "500",
           "timestamp": 300000}]
    s = parse_market_series("binance", [
        raw("liq_binance", f"{BIN}/fapi/v1/klines?symbol=ETHUSDT", json.dumps(last)),
        raw("liq_binance", f"{BIN}/fapi/v1/markPriceKlines?symbol=ETHUSDT", json.dumps(mark)),
        raw("liq_binance", f"{BIN}/futures/data/openInterestHist?symbol=ETHUSDT", json.dumps(oi)),
    ])["ETH"]
    assert (s.high[0], s.low[0]) == (108.0, 95.0)
    assert s.taker_buy_share[0] == pytest.approx(0.6)  # from last-price klines


def test_bybit_real_linear_answers_newest_first_and_counted_once(fixtures) -> None:
    # Real api.bybit.com answers (2026-08-15), newest first; no singleOpenInterest, so
    # openInterest, "the sum of both sides" (v5 docs), is halved.
    kl = (fixtures / "bybit/kline_BTCUSDT_60_2026-08-15.json").read_text()
    oi = (fixtures / "bybit/open-interest_BTCUSDT_1h_2026-08-15.json").read_text()
    base = "https://api.bybit.com/v5/market"
    s = parse_market_series("bybit", [
        raw("liq_bybit", f"{base}/open-interest?category=linear&symbol=BTCUSDT&intervalTime=1h",
            oi),
        raw("liq_bybit", f"{base}/kline?category=linear&symbol=BTCUSDT&interval=60", kl),
    ])["BTC"]
    assert s.ts_ms.tolist() == [1786816800000, 1786820400000]  # ascending
    assert s.close.tolist() == [63027.8, 63032.3]
    assert s.oi[0] == 64992.054 / 2 and math.isnan(s.oi[1])  # the 19:00 reading, halved
    assert s.oi_before == 65041.568 / 2
    assert np.isnan(s.taker_buy_share).all()


@pytest.mark.parametrize(("name", "symbol", "step_ms"), [
    ("open-interest_BTCUSDT_5min_2026-09-15.json", "BTCUSDT", 300_000),
    ("open-interest_ETHUSDT_1h_2026-09-15.json", "ETHUSDT", 3_600_000),
])
def test_bybit_real_answers_with_both_fields_read_single_side(fixtures, name: str,
                                                               symbol: str,
                                                               step_ms: int) -> None:
    # Real /v5/market/open-interest answers of 2026-09-15 carrying both fields
    # (tests/fixtures/PROVENANCE.md): openInterest is exactly twice singleOpenInterest, and
    # singleOpenInterest is what the map counts under either setting. Their oldest row
    # carries its time in seconds: it lands on the same grid as the others.
    body = json.loads((fixtures / "bybit" / name).read_text())
    rows = body["result"]["list"]
    for row in rows:
        assert float(row["openInterest"]) == pytest.approx(2 * float(row["singleOpenInterest"]),
                                                           rel=1e-7)
    newest = int(rows[0]["timestamp"])
    bars = {"retCode": 0, "retMsg": "OK", "result": {"symbol": symbol, "list": [
        [str(newest - step_ms * i), "1", "2", "0.5", "1.5", "10", "1"]
        for i in range(1, len(rows) + 1)]}}  # constructed bars, one closing at each reading
    base = "https://api.bybit.com/v5/market"
    for choice in ("halve", "single"):
        s = parse_market_series("bybit", [
            raw("liq_bybit", f"{base}/open-interest?category=linear&symbol={symbol}",
                json.dumps(body)),
            raw("liq_bybit", f"{base}/kline?category=linear&symbol={symbol}", json.dumps(bars)),
        ], choice)[symbol.removesuffix("USDT")]
        # every reading, the seconds-stamped oldest one included, at its bar's close
        assert s.oi.tolist() == [float(r["singleOpenInterest"]) for r in rows][::-1]


def test_bybit_single_open_interest_preferred() -> None:
    # Constructed, in the 2026 documented shape: openInterest two-sided, singleOpenInterest
    # one side.
    oi = {"retCode": 0, "retMsg": "OK", "result": {"symbol": "BTCUSDT", "list": [
        {"openInterest": "200.0", "singleOpenInterest": "100", "timestamp": "300000"}]}}
    kl = {"retCode": 0, "retMsg": "OK", "result": {"symbol": "BTCUSDT", "list": [
        ["0", "1", "2", "0.5", "1.5", "10", "1"]]}}
    s = parse_market_series("bybit", [
        raw("liq_bybit", "https://api.bybit.com/v5/market/open-interest", json.dumps(oi)),
        raw("liq_bybit", "https://api.bybit.com/v5/market/kline", json.dumps(kl)),
    ])["BTC"]
    assert s.oi.tolist() == [100.0]


def test_bybit_error_body_raises() -> None:
    bad = raw("liq_bybit", "https://api.bybit.com/v5/market/open-interest",
              '{"retCode":10001,"retMsg":"params error","result":{}}')
    with pytest.raises(ParseError, match="params error") as info:
        parse_market_series("bybit", [bad])
    assert info.value.raw is bad


def test_okx_real_history_candles(fixtures) -> None:
    # Real www.okx.com history-candles (2026-08-15, newest first, last column "confirm": the
    # 19:00 bar was still open); the OI history beside it is constructed (no recording).
    candles = (fixtures / "okx/market-history-candles_BTC-USDT-SWAP_1H_2026-08-15.json"
               ).read_text()
    oi = {"code": "0", "msg": "", "data": [["1786820400000", "3384273", "33842.73", "1"],
                                           ["1786816800000", "3380000", "33800.00", "1"]]}
    base = "https://www.okx.com/api/v5"
    s = parse_market_series("okx", [
        raw("liq_okx", f"{base}/market/history-candles?instId=BTC-USDT-SWAP&bar=1H", candles),
        raw("liq_okx", f"{base}/rubik/stat/contracts/open-interest-history?instId=BTC-USDT-SWAP",
            json.dumps(oi)),
    ])["BTC"]
    assert s.ts_ms.tolist() == [1786816800000, 1786820400000]
    assert s.open.tolist() == [63045.5, 63028.0] and s.high.tolist() == [63081.5, 63032.2]
    assert s.oi[0] == 33842.73 and math.isnan(s.oi[1])
    assert s.oi_before == 33800.0


def test_okx_oi_history_uses_coin_column() -> None:
    # documented shape: data rows [ts, oi (contracts), oiCcy (coin), oiUsd], newest first
    oi = {"code": "0", "msg": "", "data": [["600000", "200", "2", "200000"],
                                           ["300000", "100", "1", "100000"]]}
    candles = {"code": "0", "msg": "", "data": [["300000", "1", "2", "0.5", "1", "1"],
                                                ["0", "1", "2", "0.5", "1", "1"]]}
    base = "https://www.okx.com/api/v5"
    s = parse_market_series("okx", [
        raw("liq_okx", f"{base}/rubik/stat/contracts/open-interest-history?instId=BTC-USDT-SWAP",
            json.dumps(oi)),
        raw("liq_okx", f"{base}/market/history-mark-price-candles?instId=BTC-USDT-SWAP",
            json.dumps(candles)),
    ])["BTC"]
    assert s.oi.tolist() == [1.0, 2.0]


def test_hyperliquid_recordings(fixtures) -> None:
    meta = json.loads((fixtures / "hyperliquid/metaAndAssetCtxs_trimmed_4_assets_2026-09-27.json")
                      .read_text())
    assets = parse_meta_and_asset_ctxs(meta)
    assert assets["BTC"].mark_px == 84981.0 and assets["BTC"].max_leverage == 40
    assert assets["ETH"].open_interest == pytest.approx(1109512.2198)
    whale = json.loads((fixtures / "hyperliquid/clearinghouseState_cross_whale_2026-09-27.json")
                       .read_text())
    pos = parse_clearinghouse_state(whale, "0xabc")
    assert len(pos) == 6
    assert sum(p.liquidation_px is None for p in pos) == 4
    avax = next(p for p in pos if p.coin == "AVAX")
    assert avax.szi == -4788.3 and avax.liquidation_px == pytest.approx(647.020287706)
    legacy = json.loads((fixtures / "hyperliquid/clearinghouseState_legacy_format_2023-03-27.json")
                        .read_text())
    btc = next(p for p in parse_clearinghouse_state(legacy) if p.coin == "BTC")
    assert btc.liquidation_px == pytest.approx(173198.69592357) and btc.szi < 0


def test_leaderboard_top_accounts(fixtures) -> None:
    rows = parse_leaderboard(json.loads(
        (fixtures / "hyperliquid/leaderboard_sample_60_rows_2026.json").read_text()))
    assert len(rows) == 60
    top = top_addresses(rows, 5, 100.0)
    assert len(top) == 5
    values = dict(rows)
    assert [values[a] for a in top] == sorted((v for v in values.values()), reverse=True)[:5]
    assert all(values[a] >= 100 for a in top_addresses(rows, 100, 100.0))
    assert len(top_addresses(rows, 100, 100.0)) < 60  # dust accounts filtered


def test_parse_hyperliquid_by_shape_and_fragment(fixtures) -> None:
    url = "https://api.hyperliquid.xyz/info"
    raws = [
        raw("liq_hyperliquid", f"{url}#type=metaAndAssetCtxs", (fixtures / "hyperliquid/"
            "metaAndAssetCtxs_trimmed_4_assets_2026-09-27.json").read_bytes()),
        raw("liq_hyperliquid", f"{url}#type=clearinghouseState&user=0x1", (fixtures / "hyperliquid/"
            "clearinghouseState_cross_whale_2026-09-27.json").read_bytes()),
    ]
    data = parse_hyperliquid(raws)
    assert data.accounts == 1 and data.positions[0].user == "0x1"
    assert request_params(raws[1]) == {"type": "clearinghouseState", "user": "0x1"}


@pytest.mark.parametrize(("sym", "coin"), [("BTCUSDT", "BTC"), ("ETH-USDT-SWAP", "ETH"),
                                           ("BTC", "BTC"), ("1000PEPEUSDT", "1000PEPE")])
def test_base_coin(sym: str, coin: str) -> None:
    assert base_coin(sym) == coin


# OKX's open interest of 2026-08-15 19:04 UTC (transcribed from EzequielBes/invest @
# c9195eef : market-data/internal/exchange/okx/testdata/open_interest.json,
# /api/v5/public/open-interest; `oi` in contracts of 0.01 BTC).
OKX_BTC_0815_CONTRACTS = 3_384_273.06000001729


def test_bybit_open_interest_choice_cross_checked(fixtures) -> None:
    # The 2026-08-15 answer carries no singleOpenInterest: halved (the default) it is
    # 32 496 BTC; taken as published (the operator's "single") 64 992. An answer with
    # singleOpenInterest is read from that field under both choices.
    base = "https://api.bybit.com/v5/market"
    raws = [raw("liq_bybit", f"{base}/open-interest?category=linear&symbol=BTCUSDT",
                (fixtures / "bybit/open-interest_BTCUSDT_1h_2026-08-15.json").read_text()),
            raw("liq_bybit", f"{base}/kline?category=linear&symbol=BTCUSDT",
                (fixtures / "bybit/kline_BTCUSDT_60_2026-08-15.json").read_text())]
    halved = parse_market_series("bybit", raws)["BTC"].oi[0]
    published = parse_market_series("bybit", raws, bybit_open_interest="single")["BTC"].oi[0]
    assert published == 64_992.054 and halved == pytest.approx(32_496.027)
    two_sided = json.dumps({"retCode": 0, "retMsg": "OK", "result": {
        "symbol": "BTCUSDT", "category": "linear", "nextPageCursor": "", "list": [
            {"openInterest": "129984.108", "singleOpenInterest": "64992.054",
             "timestamp": "1786820400000"}]}})  # constructed, in the 2026 documented shape
    raws[0] = raw("liq_bybit", f"{base}/open-interest?category=linear&symbol=BTCUSDT", two_sided)
    for choice in ("single", "halve"):
        assert parse_market_series("bybit", raws, choice)["BTC"].oi[0] == 64_992.054


@pytest.mark.parametrize(("choice", "words"), [
    ("single", "Bybit's openInterest taken as published by operator setting"),
    ("halve", "Bybit's open interest counted once: singleOpenInterest, else half of "
              "openInterest"),
])
def test_bybit_convention_in_the_caption(choice, words) -> None:
    from reportgen import sample
    from reportgen.liquidation.config import LiqConfig
    from reportgen.liquidation.section import SOURCES, build_liquidation_section

    day = sample.SAMPLE_LAST
    raws = {src: sample.load_raws(src, day) for src in SOURCES.values()}
    result = build_liquidation_section(raws, "BTC", LiqConfig(bybit_open_interest=choice),
                                       sample.fetched_at(day))
    assert words in result.captions["cex"]
    assert "capped at the venue's open interest" in result.captions["cex"]
    assert result.cex.assumptions["bybit_open_interest"] == choice
