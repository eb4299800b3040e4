"""Realised vs predicted: how much forced-liquidation notional hit a level the map showed.

Event formats (as documented by each venue): Binance `forceOrder` (`o.S` is the *order* side:
SELL = a long was liquidated), Bybit `allLiquidation` (`S` is the *position* side: Buy = a
long was liquidated; `p` the bankruptcy price), OKX `liquidation-orders` (`posSide`; `sz` in
contracts). A file may hold one frame, a JSON array of frames, or one frame per line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel

from reportgen.errors import ParseError
from reportgen.liquidation.buckets import bucket_index
from reportgen.liquidation.parsers import base_coin
from reportgen.liquidation.summary import MapSummary, fmt_usd


@dataclass(frozen=True)
class LiqEvent:
    """One realised forced liquidation; `side` is the side of the position liquidated."""

    venue: str
    symbol: str
    side: str
    price: float
    qty: float
    ts_ms: int

    @property
    def usd(self) -> float:
        return self.price * self.qty


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


def events_from_frame(frame: Mapping[str, Any],
                      okx_ct_val: Mapping[str, float] | None = None) -> list[LiqEvent]:
    """Events of one stream frame (Binance, Bybit or OKX); other frames give none."""
    data = frame.get("data", frame)
    if isinstance(data, dict) and data.get("e") == "forceOrder":
        o = data["o"]
        price = float(o.get("ap") or o["p"])
        qty = float(o.get("z") or o["q"])
        side = "long" if o["S"] == "SELL" else "short"   # order side: a SELL closes a long
        return [LiqEvent("binance", base_coin(o["s"]), side, price, qty, int(o["T"]))]
    topic = str(frame.get("topic", ""))
    if topic.startswith("allLiquidation"):
        return [LiqEvent("bybit", base_coin(e["s"]), "long" if e["S"] == "Buy" else "short",
                         float(e["p"]), float(e["v"]), int(e["T"]))
                for e in frame["data"]]  # position side: Buy = a long was liquidated
    arg = frame.get("arg", {})
    if isinstance(arg, dict) and arg.get("channel") == "liquidation-orders":
        out = []
        for item in frame["data"]:
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
                    ("long" if d["side"] == "sell" else "short")
                out.append(LiqEvent("okx", coin, side, float(d["bkPx"]), float(d["sz"]) * ct,
                                    int(d["ts"])))
        return out
    return []


def parse_events(text: str, okx_ct_val: Mapping[str, float] | None = None) -> list[LiqEvent]:
    """Every liquidation event in a recorded stream file."""
    out: list[LiqEvent] = []
    for frame in _frames(text):
        if isinstance(frame, dict):
            out.extend(events_from_frame(frame, okx_ct_val))
    return out


class SideCheck(BaseModel):
    events: int
    realised_usd: float
    hit_usd: float
    share: float | None


class CheckReport(BaseModel):
    """Share of realised notional within one bucket of a predicted level, per side."""

    symbol: str
    bucket_size: float
    level_floor: float
    long: SideCheck
    short: SideCheck
    text: str


def check_against(summary: MapSummary, events: Iterable[LiqEvent],
                  level_floor: float = 0.05) -> CheckReport:
    """Compare realised events of `summary.symbol` with the map's levels.

    A predicted level is a bucket holding at least `level_floor` × the side's largest
    bucket; an event hits when a level sits in its bucket or either neighbour.
    """
    size = summary.bucket_size
    sides: dict[str, SideCheck] = {}
    evs = [e for e in events if e.symbol == summary.symbol]
    for side in ("long", "short"):
        values = {bucket_index(b.price_low + size / 2, size):
                  (b.long_usd if side == "long" else b.short_usd) for b in summary.buckets}
        top = max(values.values(), default=0.0)
        levels = {k for k, v in values.items() if v > 0 and v >= level_floor * top}
        mine = [e for e in evs if e.side == side]
        ks = bucket_index(np.array([e.price for e in mine]), size) if mine else np.zeros(0)
        usd = np.array([e.usd for e in mine])
        hit = np.array([any(k + d in levels for d in (-1, 0, 1)) for k in np.atleast_1d(ks)],
                       dtype=bool)
        realised = float(usd.sum()) if mine else 0.0
        hit_usd = float(usd[hit].sum()) if mine else 0.0
        sides[side] = SideCheck(events=len(mine), realised_usd=realised, hit_usd=hit_usd,
                                share=hit_usd / realised if realised > 0 else None)
    words = []
    for side, word in (("long", "longs"), ("short", "shorts")):
        c = sides[side]
        if c.share is None:
            words.append(f"no {word} liquidated in the events")
        else:
            words.append(f"{c.share * 100:.0f} % of {fmt_usd(c.realised_usd)} of {word} "
                         "liquidated within one bucket of a predicted level")
    return CheckReport(symbol=summary.symbol, bucket_size=size, level_floor=level_floor,
                       long=sides["long"], short=sides["short"], text="; ".join(words))
