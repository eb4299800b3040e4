"""Liquidation-price formulas per venue against hand-worked and recorded examples."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reportgen.liquidation.venues import (
    BINANCE_BTC_BRACKETS,
    binance_liq_price,
    binance_liq_price_bracketed,
    bracket_for,
    bybit_liq_price,
    bybit_one_sided,
    hyperliquid_liq_price,
    liq_factors,
    okx_contracts_to_coin,
    okx_liq_price,
    parse_ccxt_brackets,
    tier_weights_for,
)


def test_binance_bracketed_example_from_reference() -> None:
    # 1 BTC @ 100 000, 20x: notional 100 k is bracket 2 (0.5 %, cum 50)
    # long: (5000 + 50 − 100000) / (0.005 − 1) = 95 427.14
    assert binance_liq_price_bracketed(100_000, 1, 20, +1) == pytest.approx(95_427.136, abs=0.01)
    # short: (5000 + 50 + 100000) / (0.005 + 1) = 104 527.36
    assert binance_liq_price_bracketed(100_000, 1, 20, -1) == pytest.approx(104_527.363, abs=0.01)


def test_binance_first_bracket_closed_form() -> None:
    # cum = 0: long EP(1 − 1/L)/(1 − MMR) = 100000 × 0.9 / 0.996 = 90 361.45
    assert binance_liq_price(100_000.0, 1.0, 10.0, 1, 0.004) == pytest.approx(90_361.4458, rel=1e-9)
    assert binance_liq_price(100_000.0, 1.0, 10.0, -1, 0.004) == pytest.approx(
        110_000 / 1.004, rel=1e-12)


def test_binance_brackets_from_ccxt_fixture(fixtures) -> None:
    tiers = json.loads((fixtures / "binance/leverage_tiers_BTCUSDT_ccxt_freqtrade_c9ae5e1.json")
                       .read_text())
    parsed = parse_ccxt_brackets(tiers["BTC/USDT:USDT"])
    assert parsed[:4] == BINANCE_BTC_BRACKETS
    assert bracket_for(49_999, parsed).mmr == 0.004
    assert bracket_for(50_000, parsed).cum == 50.0


def test_bybit_docs_example() -> None:
    # 1 BTC @ 20 000, 50x, MMR 0.5 %: IM 400, MM 100 -> 20 000 − 300 = 19 700
    assert bybit_liq_price(20_000.0, 50.0, 1, 0.005) == pytest.approx(19_700.0)
    assert bybit_liq_price(20_000.0, 50.0, -1, 0.005) == pytest.approx(20_300.0)
    # extra margin of 100 USDT on 1 BTC moves the long 100 lower
    assert bybit_liq_price(20_000.0, 50.0, 1, 0.005, extra_margin=100.0) == pytest.approx(19_600.0)


def test_okx_hand_example() -> None:
    # 1 contract of BTC-USDT-SWAP (0.01 BTC) @ 100 000, 10x: M = 100 USDT
    # long (1000 − 100) / (0.01 × (1 − 0.004 − 0.0005)) = 90 000 / 0.9955
    long_ = okx_liq_price(100_000.0, 10.0, 1, 0.004, 0.0005, contracts=1, ct_val=0.01)
    short = okx_liq_price(100_000.0, 10.0, -1, 0.004, 0.0005, contracts=1, ct_val=0.01)
    assert long_ == pytest.approx(90_000 / 0.9955, rel=1e-12)
    assert short == pytest.approx(110_000 / 1.0045, rel=1e-12)
    assert okx_contracts_to_coin(2_216_113.01, 0.01) == pytest.approx(22_161.1301)


def test_hyperliquid_cross_whale_reported_prices(fixtures) -> None:
    state = json.loads((fixtures / "hyperliquid/clearinghouseState_cross_whale_2026-09-27.json")
                       .read_text())
    available = float(state["marginSummary"]["accountValue"]) - float(
        state["crossMaintenanceMarginUsed"])
    by_coin = {p["position"]["coin"]: p["position"] for p in state["assetPositions"]}
    for coin in ("AVAX", "DOGE"):
        p = by_coin[coin]
        szi = float(p["szi"])
        mark = float(p["positionValue"]) / abs(szi)
        side = 1 if szi > 0 else -1
        ours = hyperliquid_liq_price(mark, side, available, szi, p["maxLeverage"])
        assert ours == pytest.approx(float(p["liquidationPx"]), rel=1e-7)


def test_factors_match_formulas_and_order() -> None:
    levs = np.array([5, 10, 25, 50, 100])
    for venue in ("binance", "bybit", "okx"):
        lf, sf = liq_factors(venue, levs, 0.005)
        assert np.all(np.diff(lf) > 0) and np.all(np.diff(sf) < 0)  # higher leverage, closer
        assert np.all(lf < 1) and np.all(sf > 1)
    lf, _ = liq_factors("bybit", levs, 0.005)
    assert lf[1] == pytest.approx(1 - 0.1 + 0.005)
    with pytest.raises(ValueError, match="unknown venue"):
        liq_factors("kraken", levs, 0.005)


def test_tier_weights_renormalised_above_venue_max() -> None:
    w = tier_weights_for([5, 10, 25, 50, 100], [0.25, 0.30, 0.25, 0.15, 0.05], 40)
    assert w[3] == w[4] == 0
    assert w.sum() == pytest.approx(1.0)
    assert w[0] == pytest.approx(0.25 / 0.80)


def test_bybit_counts_open_interest_once() -> None:
    # with singleOpenInterest (2026 answers) openInterest is two-sided; without it, one-sided
    assert bybit_one_sided(63_910_691.0, 31_955_346.0) == 31_955_346.0
    assert bybit_one_sided(65_041.568) == 65_041.568
