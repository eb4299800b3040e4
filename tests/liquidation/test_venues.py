"""Liquidation-price formulas per venue against hand-worked and recorded examples."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.liquidation.venues import (
    binance_liq_price,
    bybit_liq_price,
    bybit_one_sided,
    liq_factors,
    okx_liq_price,
    tier_weights_for,
)


def test_binance_first_bracket_closed_form() -> None:
    # cum = 0: long EP(1 − 1/L)/(1 − MMR) = 100000 × 0.9 / 0.996 = 90 361.45
    assert binance_liq_price(100_000.0, 1.0, 10.0, 1, 0.004) == pytest.approx(90_361.4458, rel=1e-9)
    assert binance_liq_price(100_000.0, 1.0, 10.0, -1, 0.004) == pytest.approx(
        110_000 / 1.004, rel=1e-12)


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
    # v5 docs: openInterest is "the sum of both sides", singleOpenInterest "the single side"
    assert bybit_one_sided(63_910_691.0, 31_955_346.0) == 31_955_346.0
    assert bybit_one_sided(52_664.642) == 26_332.321
    assert bybit_one_sided(65_041.568, halve=False) == 65_041.568  # operator's "single"
    assert bybit_one_sided(63_910_691.0, 31_955_346.0, halve=False) == 31_955_346.0
