"""The CEX estimate: run the model per venue and sum the venues onto one map + heatmap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reportgen.liquidation.buckets import LiqMap, combine
from reportgen.liquidation.config import INTERVAL_MS, LiqConfig
from reportgen.liquidation.model import MarketSeries, ModelParams, VenueMap, run_model
from reportgen.liquidation.result import VENUE_TITLES
from reportgen.liquidation.venues import liq_factors, tier_weights_for

# How each venue's open-interest figure is read (one side: a contract counted once).
OI_CONVENTIONS = {
    "binance": "sumOpenInterest, in coin, one side",
    "okx": "oiCcy (coin), one side",
    # see LiqConfig.bybit_open_interest
    "bybit": ("singleOpenInterest where given, else half of openInterest (Bybit v5 docs: "
              "openInterest is 'the sum of both sides')"),
}

SPLIT_WORDS = {
    "aggressor": "taker-buy share of each bar (Binance klines; 0.5 where a venue gives none)",
    "candle": "whole change to the candle's direction",
    "even": "half long, half short",
}


@dataclass
class HeatmapData:
    """Live estimated notional per bucket (all venues) at hourly bar closes."""

    times_ms: np.ndarray      # (n_snap,)
    k0: int
    bucket_size: float
    values: np.ndarray        # (n_snap, n_buckets)
    price: np.ndarray         # mark close at each snapshot (first venue with data)


@dataclass
class Estimate:
    """The summed CEX map, its heatmap and per-venue detail."""

    map: LiqMap
    heatmap: HeatmapData
    venues: dict[str, VenueMap]
    assumptions: dict[str, Any]
    coverage: dict[str, Any]
    spans: dict[str, dict[str, Any]]   # per venue: bars, first/last time (see `span`)
    skipped: dict[str, str]            # venues with series but nothing in the window, and why


def window(series: MarketSeries, end_ms: int, days: int, interval_ms: int) -> MarketSeries:
    """Bars that closed within the `days` before `end_ms` (later bars are not yet known)."""
    close = series.ts_ms + interval_ms
    keep = (close <= end_ms) & (series.ts_ms >= end_ms - days * 86_400_000)
    idx = np.flatnonzero(keep)
    before = series.oi_before
    if idx.size and idx[0] > 0:
        before = float(series.oi[idx[0] - 1])  # the reading at the first kept bar's open
    is_mark = series.is_mark[keep] if series.is_mark is not None else None
    return MarketSeries(series.venue, series.symbol, series.ts_ms[keep], series.oi[keep],
                        series.open[keep], series.high[keep], series.low[keep],
                        series.close[keep], series.taker_buy_share[keep], oi_before=before,
                        interval_ms=interval_ms, is_mark=is_mark)


def infer_interval(series: MarketSeries, default: int) -> int:
    """Bar length: as asked (kept by the parser), else from the data."""
    if series.interval_ms:
        return int(series.interval_ms)
    if len(series) > 1:
        return int(np.median(np.diff(series.ts_ms)))
    return default


def span(w: MarketSeries, interval_ms: int) -> dict[str, Any]:
    """What a venue's window holds: bars with an open-interest reading (the flow the model
    maps), their first open and last close, and how many priced by last-price stand-ins."""
    has_oi = np.isfinite(w.oi)
    ts = w.ts_ms[has_oi]
    out: dict[str, Any] = {"bars": int(has_oi.sum()), "bar_minutes": interval_ms // 60_000,
                           "first_ms": int(ts[0]) if ts.size else None,
                           "last_ms": int(ts[-1]) + interval_ms if ts.size else None,
                           "price_bars": len(w)}
    if w.is_mark is not None:
        out["last_price_bars"] = int((~w.is_mark).sum())
    return out


def params_for(venue: str, symbol: str, config: LiqConfig, bucket_size: float,
               interval_ms: int) -> ModelParams:
    """Model parameters of one venue: tier weights within its max leverage, its formula."""
    levs = tuple(config.tier_weights)
    weights = tier_weights_for(levs, list(config.tier_weights.values()),
                               config.venue_max_leverage(venue, symbol))
    lf, sf = liq_factors(venue, np.array(levs), config.mmr(venue, symbol), config.okx_fee_rate)
    half_life = None
    if config.decay_half_life_days:
        half_life = config.decay_half_life_days * 86_400_000 / interval_ms
    step = max(config.heatmap_step_minutes * 60_000, interval_ms)
    return ModelParams(levs, weights, lf, sf, bucket_size, config.side_rule, half_life,
                       interval_ms=interval_ms, snapshot_ms=step)


def tier_labels(leverages: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(f"{lev}x" for lev in leverages)


def venue_map_to_liqmap(vm: VenueMap) -> LiqMap:
    return LiqMap(vm.symbol, vm.venue, "estimated", vm.mark_price, vm.bucket_size, vm.k0,
                  tier_labels(vm.leverages), vm.long_usd, vm.short_usd)


def estimate(series_by_venue: dict[str, MarketSeries], symbol: str, config: LiqConfig,
             end_ms: int, oi_only: dict[str, float] | None = None) -> Estimate:
    """Model each venue over the configured window ending at `end_ms` and sum them.

    `oi_only` holds the current open interest (coins) of venues that gave no history: not
    mapped, but counted in the coverage's denominator at the reference mark."""
    windows: dict[str, tuple[MarketSeries, int]] = {}
    skipped: dict[str, str] = {}
    for venue, series in series_by_venue.items():
        interval = infer_interval(series, INTERVAL_MS[config.interval])
        w = window(series, end_ms, config.lookback_days, interval)
        if len(w) and (np.isfinite(w.oi).any()):
            windows[venue] = (w, interval)
        else:
            skipped[venue] = (f"no bar with open interest in the {config.lookback_days}-day "
                              "window")
    if not windows:
        raise ValueError(f"{symbol}: no venue has bars with open interest in the "
                         f"{config.lookback_days}-day window")
    # the reference mark: Binance when present (deepest book), else the first venue
    first = windows.get("binance", next(iter(windows.values())))[0]
    mark = float(first.close[-1])
    size = config.bucket_for(symbol, mark)
    venue_maps: dict[str, VenueMap] = {}
    for venue, (w, interval) in windows.items():
        venue_maps[venue] = run_model(w, params_for(venue, symbol, config, size, interval))
    label = "+".join(VENUE_TITLES.get(v, v) for v in venue_maps)
    total = combine([venue_map_to_liqmap(v) for v in venue_maps.values()], label, mark)
    heat = _heatmap(venue_maps, size, first)
    oi_usd = {v: m.oi_usd for v, m in venue_maps.items()}
    oi_usd.update({v: coins * mark for v, coins in (oi_only or {}).items()
                   if v not in venue_maps})
    live = {v: m.live_usd for v, m in venue_maps.items()}
    oi_sum = float(np.nansum(list(oi_usd.values())))
    coverage = {
        "live_usd": float(sum(live.values())),
        "open_interest_usd": oi_sum,
        # OI counts each contract once; a contract is one long and one short position
        "share_of_open_positions": float(sum(live.values()) / (2 * oi_sum)) if oi_sum else None,
        "per_venue": {v: {"live_usd": live.get(v, 0.0), "open_interest_usd": oi_usd[v],
                          "capped_long_usd": venue_maps[v].capped_long_usd if v in live else 0.0,
                          "capped_short_usd": venue_maps[v].capped_short_usd if v in live
                          else 0.0} for v in oi_usd},
        # notional the open-interest cap took off (see ModelParams / run_model)
        "capped_usd": float(sum(m.capped_long_usd + m.capped_short_usd
                                for m in venue_maps.values())),
    }
    first_interval = next(iter(windows.values()))[1]
    assumptions: dict[str, Any] = {
        "model": "open-interest flow reconstruction with mark-price sweeps (estimated)",
        "venues": list(venue_maps),
        "window_days": config.lookback_days,
        "bar_minutes": first_interval // 60_000,
        "tier_weights": {f"{k}x": v for k, v in config.tier_weights.items()},
        "side_rule": config.side_rule,
        "long_short_split": SPLIT_WORDS[config.side_rule],
        "maintenance_margin": {v: config.mmr(v, symbol) for v in venue_maps},
        "brackets_as_of": config.brackets_as_of,
        "decay_half_life_days": config.decay_half_life_days,
        "notional": "US$ at entry price (bar typical price)",
        "removal": "swept when the mark trades into the bucket; OI falls closed pro rata",
        "cap": "each side capped at the venue's open interest × bar price",
        "open_interest": {v: OI_CONVENTIONS[v] for v in venue_maps},
    }
    if "bybit" in venue_maps:
        assumptions["bybit_open_interest"] = config.bybit_open_interest
        if config.bybit_open_interest == "single":
            assumptions["open_interest"]["bybit"] = (
                "singleOpenInterest where given, else openInterest as published (operator "
                "setting: Bybit's docs call it the sum of both sides)")
    spans = {v: span(w, interval) for v, (w, interval) in windows.items()}
    lengths = [(sp["last_ms"] - sp["first_ms"]) / 3_600_000 for sp in spans.values()
               if sp["first_ms"] is not None]
    assumptions["data_hours"] = max(lengths) if lengths else 0.0
    return Estimate(total, heat, venue_maps, assumptions, coverage, spans, skipped)


def _heatmap(venue_maps: dict[str, VenueMap], size: float, first: MarketSeries) -> HeatmapData:
    times = sorted(set().union(*(m.snapshot_ms.tolist() for m in venue_maps.values())))
    k0 = min(m.k0 for m in venue_maps.values())
    k1 = max(m.k0 + m.long_usd.shape[0] for m in venue_maps.values())
    values = np.zeros((len(times), k1 - k0))
    row_of = {t: i for i, t in enumerate(times)}
    for m in venue_maps.values():
        rows = [row_of[t] for t in m.snapshot_ms.tolist()]
        values[rows, m.k0 - k0: m.k0 - k0 + m.snapshots.shape[1]] += m.snapshots
    # price at each snapshot: the close of the bar ending then
    interval = first.interval_ms or (int(np.median(np.diff(first.ts_ms))) if len(first) > 1
                                     else 300_000)
    t_arr = np.array(times, dtype=np.int64)
    j = np.clip(np.searchsorted(first.ts_ms + interval, t_arr, side="right") - 1, 0, None)
    return HeatmapData(t_arr, k0, size, values, first.close[j])
