"""Realised vs predicted: did forced liquidations after the map's as-of land where it pointed,
more than they would on a naive map? Method and its limits: docs/liquidation-check.md.

Event formats (as documented by each venue): Binance `forceOrder` (`o.S` is the *order* side:
SELL = a long was liquidated; `o.p` the order's price, the bankruptcy price), Bybit
`allLiquidation` (`S` is the *position* side: Buy = a long was liquidated; `p` the
bankruptcy price), OKX `liquidation-orders` from the websocket or the REST answer of
`/api/v5/public/liquidation-orders` (`posSide`, else the order `side`; `bkPx` the bankruptcy
price; `sz` in contracts). A file may hold one frame or answer, a JSON array of them, or one
per line.

Like with like: the map holds liquidation prices (where the mark trips a position), the feeds
report bankruptcy prices (where its margin is gone), one maintenance margin further. An event
is placed at its estimated liquidation price, bankruptcy / (1 − MMR) for a long and
bankruptcy / (1 + MMR) for a short, with the venue's first-bracket MMR (the isolated formulas
of venues.py with the margin at maintenance).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel

from reportgen.errors import ParseError
from reportgen.liquidation.buckets import bucket_index
from reportgen.liquidation.parsers import base_coin
from reportgen.liquidation.summary import MapSummary, fmt_usd


@dataclass(frozen=True)
class LiqEvent:
    """One realised forced liquidation; `side` is the side of the position liquidated and
    `price` the bankruptcy price the venue reported."""

    venue: str
    symbol: str
    side: str
    price: float
    qty: float
    ts_ms: int

    @property
    def usd(self) -> float:
        return self.price * self.qty

    def liquidation_price(self, mmr: float) -> float:
        """Where the mark stood when the position was tripped, from the bankruptcy price."""
        return self.price / (1.0 - mmr if self.side == "long" else 1.0 + mmr)


def _frames(text: str) -> list[Any]:
    text = text.strip()
    if not text:
        return []
    try:
        doc = json.loads(text)
    except ValueError:
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise ParseError(f"events file is neither JSON nor JSON lines: {exc}") from None
    return doc if isinstance(doc, list) else [doc]


def _okx_items(items: Iterable[Mapping[str, Any]],
               okx_ct_val: Mapping[str, float] | None) -> list[LiqEvent]:
    out = []
    for item in items:
        inst = item["instId"]
        if not inst.endswith("-USDT-SWAP"):
            continue  # inverse swaps are counted in coin, not modelled here
        coin = base_coin(inst)
        ct = (okx_ct_val or {}).get(coin)
        if ct is None:
            raise ParseError(f"okx: no contract value for {inst}; set okx_contract_value")
        for d in item["details"]:
            pos = d.get("posSide", "net")
            side = pos if pos in ("long", "short") else \
                ("long" if d["side"] == "sell" else "short")  # order side: sell closes a long
            out.append(LiqEvent("okx", coin, side, float(d["bkPx"]), float(d["sz"]) * ct,
                                int(d["ts"])))
    return out


def events_from_frame(frame: Mapping[str, Any],
                      okx_ct_val: Mapping[str, float] | None = None) -> list[LiqEvent]:
    """Events of one stream frame or REST answer (Binance, Bybit or OKX); others give none."""
    data = frame.get("data", frame)
    if isinstance(data, dict) and data.get("e") == "forceOrder":
        o = data["o"]
        qty = float(o.get("z") or o["q"])
        side = "long" if o["S"] == "SELL" else "short"   # order side: a SELL closes a long
        return [LiqEvent("binance", base_coin(o["s"]), side, float(o["p"]), qty, int(o["T"]))]
    topic = str(frame.get("topic", ""))
    if topic.startswith("allLiquidation"):
        return [LiqEvent("bybit", base_coin(e["s"]), "long" if e["S"] == "Buy" else "short",
                         float(e["p"]), float(e["v"]), int(e["T"]))
                for e in frame["data"]]  # position side: Buy = a long was liquidated
    arg = frame.get("arg", {})
    if isinstance(arg, dict) and arg.get("channel") == "liquidation-orders":
        return _okx_items(frame["data"], okx_ct_val)
    # REST /api/v5/public/liquidation-orders: {"code": "0", "data": [{details, instId, …}]}
    if str(frame.get("code")) == "0" and isinstance(data, list) and all(
            isinstance(i, dict) and "details" in i and "instId" in i for i in data):
        return _okx_items(data, okx_ct_val)
    return []


def parse_events(text: str, okx_ct_val: Mapping[str, float] | None = None) -> list[LiqEvent]:
    """Every liquidation event in a recorded stream file or saved REST answers."""
    out: list[LiqEvent] = []
    for frame in _frames(text):
        if isinstance(frame, dict):
            out.extend(events_from_frame(frame, okx_ct_val))
    return out


class SideCheck(BaseModel):
    """One side's score. `captured` is the share of the map's notional on this side that sat
    within one bucket of where the realised notional was liquidated (weighted by it);
    `baseline` the same for a naive map; `lift` their ratio."""

    events: int
    realised_usd: float
    captured: float | None
    baseline: float | None
    lift: float | None
    hit_rate: float | None           # old measure: share within ±1 bucket of any level
    baseline_hit_rate: float | None  # … which the naive map scores too


class CheckReport(BaseModel):
    """Realised liquidations after the map's as-of, scored against the map and a baseline."""

    symbol: str
    bucket_size: float
    as_of: datetime
    horizon_hours: float
    level_floor: float
    price_basis: str
    baseline_method: str
    events_in_horizon: int
    events_before: int
    events_after: int
    events_other_symbols: int
    long: SideCheck
    short: SideCheck
    notes: list[str]
    text: str


PRICE_BASIS = ("liquidation price estimated from the reported bankruptcy price: "
               "÷ (1 − MMR) for longs, ÷ (1 + MMR) for shorts, first-bracket MMR per venue")
BASELINE = ("the same notional spread evenly by distance from the mark, over the map's "
            "range (mark to mark ∓ range) on each side")


def _side_values(summary: MapSummary, side: str) -> dict[int, float]:
    """Bucket index → notional of `side` on its own side of the mark."""
    size = summary.bucket_size
    km = bucket_index(summary.mark_price, size)
    out = {}
    for b in summary.buckets:
        k = bucket_index(b.price_low + size / 2, size)
        v = b.long_usd if side == "long" else b.short_usd
        if v > 0 and ((side == "long" and k <= km) or (side == "short" and k >= km)):
            out[k] = v
    return out


def _baseline(summary: MapSummary, side: str, range_pct: float) -> dict[int, float]:
    """Equal notional in every bucket between the mark and the edge of the range."""
    size = summary.bucket_size
    km = bucket_index(summary.mark_price, size)
    if side == "long":
        ks = range(bucket_index(summary.mark_price * (1 - range_pct), size), km + 1)
    else:
        ks = range(km, bucket_index(summary.mark_price * (1 + range_pct), size) + 1)
    return {k: 1.0 for k in ks}


def _captured(values: dict[int, float], ks: np.ndarray, usd: np.ndarray) -> float | None:
    """Σ usd_e · (share of `values` within ±1 bucket of k_e) / Σ usd_e."""
    total = sum(values.values())
    if total <= 0 or usd.sum() <= 0:
        return None
    near = np.array([sum(values.get(int(k) + d, 0.0) for d in (-1, 0, 1)) for k in ks])
    return float((usd * near).sum() / usd.sum() / total)


def _hit_rate(values: dict[int, float], ks: np.ndarray, usd: np.ndarray,
              level_floor: float) -> float | None:
    top = max(values.values(), default=0.0)
    levels = {k for k, v in values.items() if v > 0 and v >= level_floor * top}
    if usd.sum() <= 0:
        return None
    hit = np.array([any(int(k) + d in levels for d in (-1, 0, 1)) for k in ks], dtype=bool)
    return float(usd[hit].sum() / usd.sum())


def check_against(summary: MapSummary, events: Iterable[LiqEvent], *,
                  as_of: datetime | None = None, horizon_hours: float = 24.0,
                  mmr: Callable[[str, str], float] = lambda _venue, _symbol: 0.004,
                  range_pct: float = 0.30, level_floor: float = 0.05) -> CheckReport:
    """Score `summary` against the realised events of the `horizon_hours` after its as-of.

    Each event is placed at its estimated liquidation price (see the module docstring). Per
    side the map's captured share — how much of its notional sat within one bucket of where
    the realised notional went — is compared with the same measure on the naive baseline.
    """
    as_of = as_of or summary.as_of
    if as_of is None:
        raise ValueError("check_against needs the map's as-of time")
    start_ms = int(as_of.timestamp() * 1000)
    stop_ms = int((as_of + timedelta(hours=horizon_hours)).timestamp() * 1000)
    size = summary.bucket_size
    all_events = list(events)
    mine = [e for e in all_events if e.symbol.upper() == summary.symbol.upper()]
    before = sum(e.ts_ms <= start_ms for e in mine)
    after = sum(e.ts_ms > stop_ms for e in mine)
    inside = [e for e in mine if start_ms < e.ts_ms <= stop_ms]
    sides: dict[str, SideCheck] = {}
    for side in ("long", "short"):
        evs = [e for e in inside if e.side == side]
        usd = np.array([e.usd for e in evs], dtype=float)
        ks = np.array([bucket_index(e.liquidation_price(mmr(e.venue, e.symbol)), size)
                       for e in evs], dtype=np.int64)
        model = _side_values(summary, side)
        naive = _baseline(summary, side, range_pct)
        captured = _captured(model, ks, usd)
        base = _captured(naive, ks, usd)
        sides[side] = SideCheck(
            events=len(evs), realised_usd=float(usd.sum()), captured=captured, baseline=base,
            lift=captured / base if captured is not None and base else None,
            hit_rate=_hit_rate(model, ks, usd, level_floor),
            baseline_hit_rate=_hit_rate(naive, ks, usd, level_floor),
        )
    notes = []
    if any(e.venue == "binance" for e in inside):
        notes.append("Binance pushes at most one liquidation per symbol per second: its "
                     "events undercount.")
    report = CheckReport(
        symbol=summary.symbol, bucket_size=size, as_of=as_of, horizon_hours=horizon_hours,
        level_floor=level_floor, price_basis=PRICE_BASIS, baseline_method=BASELINE,
        events_in_horizon=len(inside), events_before=before, events_after=after,
        events_other_symbols=len(all_events) - len(mine), long=sides["long"],
        short=sides["short"], notes=notes, text="")
    report.text = _words(report)
    return report


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _words(r: CheckReport) -> str:
    hours = f"{r.horizon_hours:g} h"
    if not r.events_in_horizon:
        return (f"No {r.symbol} liquidation in the {hours} after the map's as-of "
                f"({r.events_before} before it, {r.events_after} later): nothing to score.")
    parts = []
    for side, word in (("long", "longs"), ("short", "shorts")):
        c: SideCheck = getattr(r, side)
        if not c.events:
            parts.append(f"no {word} liquidated in the {hours}")
            continue
        lift = f"lift {c.lift:.2f}×" if c.lift is not None else "no lift to compute"
        parts.append(
            f"{word}: {c.events} events, {fmt_usd(c.realised_usd)} in the {hours}; the map had "
            f"{_pct(c.captured)} of its {word} within one bucket of where they went, a map "
            f"spread evenly by distance {_pct(c.baseline)} ({lift}); within one bucket of a "
            f"level: {_pct(c.hit_rate)} (the even map: {_pct(c.baseline_hit_rate)})")
    skipped = f" {r.events_before} earlier and {r.events_after} later events not counted." \
        if r.events_before or r.events_after else ""
    return "; ".join(parts) + "." + skipped + "".join(f" {n}" for n in r.notes)
