"""Hyperliquid map from real positions: each position's own `liquidationPx`, bucketed.

Notional is the position's `positionValue` (mark × |szi|). Positions with no liquidation
price (over-collateralised cross accounts) are summed into `no_liquidation_price_usd`, and
prices beyond mark ± range into the beyond-range totals: nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from reportgen.liquidation.buckets import LiqMap, bucket_index
from reportgen.liquidation.parsers import HlPosition

# Leverage bands used to stack Hyperliquid bars (the position's own leverage setting).
BAND_EDGES: tuple[float, ...] = (5.0, 10.0, 20.0)
BAND_LABELS: tuple[str, ...] = ("≤5x", "6–10x", "11–20x", ">20x")


@dataclass
class PositionArrays:
    """Positions of one coin as columns: side (+1/-1), notional, liq price (NaN = none)."""

    side: np.ndarray
    notional: np.ndarray
    liq_px: np.ndarray
    leverage: np.ndarray
    size: np.ndarray          # |szi| in coins
    isolated: np.ndarray      # True: isolated margin; False: cross

    def __len__(self) -> int:
        return int(self.side.shape[0])


def coin_name(names: Iterable[str], coin: str) -> str | None:
    """The venue's own spelling of `coin`: Hyperliquid names are case-sensitive ("kPEPE",
    "kBONK"), users type them any way. An exact match wins, else a unique case-insensitive one."""
    names = list(dict.fromkeys(names))
    if coin in names:
        return coin
    folded = [n for n in names if n.casefold() == coin.casefold()]
    return folded[0] if len(folded) == 1 else None


def arrays_from_positions(positions: Iterable[HlPosition], coin: str) -> PositionArrays:
    """Columns of the positions of `coin` (flat positions, szi = 0, are skipped)."""
    rows = [(p.szi, p.position_value, np.nan if p.liquidation_px is None else p.liquidation_px,
             p.leverage, float(p.leverage_type == "isolated"))
            for p in positions if p.coin == coin and p.szi != 0]
    return _columns(rows)


def arrays_from_states(states: Iterable[Mapping[str, Any]], coin: str) -> PositionArrays:
    """Columns straight from decoded clearinghouseState bodies (fast path for many accounts).
    `coin` is the venue's exact name (see `coin_name`)."""
    rows = []
    for state in states:
        for item in state.get("assetPositions", ()):
            p = item["position"]
            if p["coin"] != coin:
                continue
            szi = float(p["szi"])
            if szi == 0:
                continue
            liq = p.get("liquidationPx")
            lev = p.get("leverage") or {}
            rows.append((szi, float(p["positionValue"]), np.nan if liq is None else float(liq),
                         float(lev.get("value", 0)), float(lev.get("type") == "isolated")))
    return _columns(rows)


def _columns(rows: list[tuple[float, float, float, float, float]]) -> PositionArrays:
    a = np.array(rows, dtype=float).reshape(-1, 5)
    return PositionArrays(side=np.sign(a[:, 0]), notional=a[:, 1], liq_px=a[:, 2],
                          leverage=a[:, 3], size=np.abs(a[:, 0]), isolated=a[:, 4] > 0)


def margin_split(pos: PositionArrays, mapped: np.ndarray) -> dict[str, dict[str, float]]:
    """Positions and notional by margin mode: an isolated position's liquidation price is
    its own; a cross one's moves with the account's other positions and its margin.
    `mapped` marks the positions on the map (a liquidation price within the range)."""
    out: dict[str, dict[str, float]] = {}
    for mode, sel in (("isolated", pos.isolated), ("cross", ~pos.isolated)):
        is_long = pos.side > 0
        out[mode] = {"positions": int(sel.sum()),
                     "long_usd": float(pos.notional[sel & is_long].sum()),
                     "short_usd": float(pos.notional[sel & ~is_long].sum()),
                     "mapped_usd": float(pos.notional[sel & mapped].sum())}
    return out


def aggregate(pos: PositionArrays, symbol: str, mark: float, bucket_size: float,
              range_pct: float = 0.30, open_interest: float | None = None,
              accounts: int | None = None) -> LiqMap:
    """Bucket positions by liquidation price and side, stacked by leverage band."""
    has_liq = np.isfinite(pos.liq_px)
    no_liq = float(pos.notional[~has_liq].sum())
    k_lo = bucket_index(mark * (1 - range_pct), bucket_size)
    k_hi = bucket_index(mark * (1 + range_pct), bucket_size)
    n = k_hi - k_lo + 1
    k = np.full(len(pos), -1, dtype=np.int64)
    k[has_liq] = bucket_index(pos.liq_px[has_liq], bucket_size) - k_lo
    inside = has_liq & (k >= 0) & (k < n)
    beyond = has_liq & ~inside
    band = np.digitize(pos.leverage, BAND_EDGES, right=True)
    n_t = len(BAND_LABELS)
    long_ = np.zeros((n, n_t))
    short = np.zeros((n, n_t))
    is_long = pos.side > 0
    for side_mask, target in ((is_long, long_), (~is_long, short)):
        sel = inside & side_mask
        flat = np.bincount(k[sel] * n_t + band[sel], weights=pos.notional[sel],
                           minlength=n * n_t)
        target += flat.reshape(n, n_t)
    extra: dict[str, Any] = {
        "positions": len(pos),
        "positions_without_liquidation_price": int((~has_liq).sum()),
        "no_liquidation_price_long_usd": float(pos.notional[~has_liq & is_long].sum()),
        "no_liquidation_price_short_usd": float(pos.notional[~has_liq & ~is_long].sum()),
        "long_size": float(pos.size[is_long].sum()),
        "short_size": float(pos.size[~is_long].sum()),
        "margin": margin_split(pos, inside),
    }
    if accounts is not None:
        extra["accounts"] = accounts
    if open_interest:
        # Hyperliquid's openInterest counts one side (coins); coverage per side
        extra["open_interest"] = open_interest
        extra["coverage_long"] = extra["long_size"] / open_interest
        extra["coverage_short"] = extra["short_size"] / open_interest
    return LiqMap(
        symbol=symbol, venue="hyperliquid", kind="reported", mark_price=mark,
        bucket_size=bucket_size, k0=k_lo, tiers=BAND_LABELS, long_by_tier=long_,
        short_by_tier=short, no_liquidation_price_usd=no_liq,
        beyond_range_long_usd=float(pos.notional[beyond & is_long].sum()),
        beyond_range_short_usd=float(pos.notional[beyond & ~is_long].sum()),
        extra=extra,
    )
