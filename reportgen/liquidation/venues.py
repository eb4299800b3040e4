"""Per-venue liquidation-price formulas, leverage-tier weights and Bybit's one-sided open interest.

All formulas are for linear (USDT/USDC-margined) perpetuals in isolated margin, as documented
by each venue. `side` is +1 for a long, -1 for a short. The functions
accept floats or numpy arrays (the model evaluates every tier of every bar at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

F = TypeVar("F", float, np.ndarray)


def binance_liq_price(entry: F, qty: float, leverage: F, side: int, mmr: float,
                      cum: float = 0.0) -> F:
    """Binance isolated: LP = (WB + cum − side·Q·EP) / (Q·MMR − side·Q), WB = Q·EP/L.

    With cum = 0 this is EP(1 − 1/L)/(1 − MMR) for a long, EP(1 + 1/L)/(1 + MMR) for a short.
    """
    wb = qty * entry / leverage
    lp: F = (wb + cum - side * qty * entry) / (qty * mmr - side * qty)
    return lp


def bybit_liq_price(entry: F, leverage: F, side: int, mmr: float, qty: float = 1.0,
                    mm_deduction: float = 0.0, extra_margin: float = 0.0) -> F:
    """Bybit isolated: LP = EP ∓ (IM − MM)/Q ∓ extra/Q, IM = Q·EP/L, MM = Q·EP·MMR − deduction."""
    im = qty * entry / leverage
    mm = qty * entry * mmr - mm_deduction
    lp: F = entry - side * (im - mm) / qty - side * extra_margin / qty
    return lp


def okx_liq_price(entry: F, leverage: F, side: int, mmr: float, fee: float,
                  contracts: float = 1.0, ct_val: float = 1.0) -> F:
    """OKX isolated (margin ratio 100 %): long (EP·n·ct − M)/(n·ct·(1 − mmr − fee)),
    short (EP·n·ct + M)/(n·ct·(1 + mmr + fee)), M = EP·n·ct/L."""
    size = contracts * ct_val
    margin = entry * size / leverage
    lp: F = (entry * size - side * margin) / (size * (1 - side * (mmr + fee)))
    return lp


def liq_factors(venue: str, leverages: np.ndarray, mmr: float,
                okx_fee: float = 0.0005) -> tuple[np.ndarray, np.ndarray]:
    """Liquidation price as a multiple of entry, per leverage, for (longs, shorts).

    Every formula above is linear in the entry price for a fresh isolated position with no
    maintenance amount, so the model multiplies entries by these factors.
    """
    lev = np.asarray(leverages, dtype=float)
    one = np.ones_like(lev)  # entry = 1 per tier, so the result is the factor itself
    if venue == "binance":
        return binance_liq_price(one, 1.0, lev, 1, mmr), binance_liq_price(one, 1.0, lev, -1, mmr)
    if venue == "bybit":
        return bybit_liq_price(one, lev, 1, mmr), bybit_liq_price(one, lev, -1, mmr)
    if venue == "okx":
        return okx_liq_price(one, lev, 1, mmr, okx_fee), okx_liq_price(one, lev, -1, mmr, okx_fee)
    raise ValueError(f"unknown venue {venue!r} (binance, bybit or okx)")


def tier_weights_for(leverages: Sequence[int], weights: Sequence[float],
                     max_leverage: float) -> np.ndarray:
    """Tier weights with tiers above the venue's max leverage set to 0, renormalised."""
    w = np.array(weights, dtype=float)
    w[np.asarray(leverages, dtype=float) > max_leverage] = 0.0
    total = w.sum()
    if total <= 0:
        raise ValueError(f"no leverage tier is allowed below the venue maximum {max_leverage}x")
    out: np.ndarray = w / total
    return out


# Contract units -> base coin. Binance OI is in coin; OKX `oi` in contracts of ctVal coin
# (we prefer its `oiCcy`). Bybit's v5 `GET /v5/market/open-interest` documents `openInterest`
# as "the sum of both sides" and `singleOpenInterest` as "the single side" (its example:
# 63910691 / 31955346); real answers carrying both show the same 2x (BTCUSDT 2026-09-15:
# 52,664.642 / 26,332.321). "Returns single side data" is the old v3 page, not this endpoint.
def bybit_one_sided(open_interest: F, single: F | None = None, *, halve: bool = True) -> F:
    """Bybit open interest counted once: `singleOpenInterest` when given, else half of
    `openInterest` (the sum of both sides). `halve=False` takes an answer without
    `singleOpenInterest` as published (the operator's `bybit_open_interest: single`)."""
    if single is not None:
        return single
    if halve:
        half: F = open_interest / 2.0
        return half
    return open_interest
