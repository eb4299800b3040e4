"""Realised forced liquidations read from the venues' public feeds (pure).

Formats, as each venue documents them:

- Binance `forceOrder` stream frames (`!forceOrder@arr`, `<symbol>@forceOrder`, bare or in a
  combined-stream envelope): `o.S` is the *order* side (SELL = a long was liquidated), `o.p`
  the order's price (the bankruptcy price; `o.ap` is its average fill), `o.z` (else `o.q`)
  the quantity in coin.
- Bybit `allLiquidation.<symbol>` frames: `S` is the *position* side (Buy = a long was
  liquidated), `p` the bankruptcy price, `v` the quantity in coin.
- OKX `liquidation-orders` frames and REST answers of `/api/v5/public/liquidation-orders`:
  `posSide`, else the order `side` (sell = a long); `bkPx` the bankruptcy price; `sz` in
  contracts (× `okx_contract_value`).

A file holds one frame or answer, a JSON array of them, or one per line. Nothing in it
refuses the whole file: a line that is not JSON, a frame that is no liquidation, an entry
without a usable price and an inverse (coin-margined) instrument are each counted under
their reason and left out; entries of other symbols are counted and left out.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from reportgen.liquidation.parsers import base_coin

MALFORMED = "malformed line (not JSON)"
NOT_LIQUIDATION = "not a liquidation frame"
NO_PRICE = "entry without a usable price"
UNREADABLE = "entry missing a field"
INVERSE = "inverse (coin-margined) instrument, not modelled"


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
        """Where the mark stood when the position was tripped, from the bankruptcy price:
        one maintenance margin nearer the entry (÷ (1 − MMR) for a long, ÷ (1 + MMR) for a
        short; the isolated formulas of venues.py with the margin at maintenance)."""
        return self.price / (1.0 - mmr if self.side == "long" else 1.0 + mmr)


@dataclass
class EventFile:
    """What a file of recorded frames gave: the events of the symbol asked (all symbols when
    none was), how many entries were of other symbols, and what was left out, by reason."""

    events: list[LiqEvent] = field(default_factory=list)
    other_symbols: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


class _Reject(Exception):
    """One entry left out, for `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _price(value: Any) -> float:
    try:
        price = float(value)
    except (TypeError, ValueError):
        raise _Reject(NO_PRICE) from None
    if not math.isfinite(price) or price <= 0:
        raise _Reject(NO_PRICE)
    return price


def _number(entry: Mapping[str, Any], *keys: str) -> float:
    """The first of `keys` present in `entry`, as a finite positive number."""
    for key in keys:
        value = entry.get(key)
        if value not in (None, ""):
            try:
                number = float(value)
            except (TypeError, ValueError):
                break
            if math.isfinite(number) and number > 0:
                return number
            break
    raise _Reject(UNREADABLE)


def _field(entry: Mapping[str, Any], key: str) -> Any:
    if key not in entry:
        raise _Reject(UNREADABLE)
    return entry[key]


class _Reader:
    """Accumulates one file's events, other-symbol count and rejects."""

    def __init__(self, symbol: str | None, okx_ct_val: Mapping[str, float] | None) -> None:
        self.symbol = symbol.upper() if symbol else None
        self.okx_ct_val = {k.upper(): v for k, v in (okx_ct_val or {}).items()}
        self.out = EventFile()

    def wanted(self, coin: str) -> bool:
        if self.symbol is None or coin.upper() == self.symbol:
            return True
        self.out.other_symbols += 1
        return False

    def entry(self, make: Any, *args: Any) -> None:
        """Add the event `make(*args)` builds, or count why it cannot be built."""
        try:
            event = make(*args)
        except _Reject as exc:
            self.out.rejected[exc.reason] += 1
            return
        except (KeyError, TypeError, ValueError, AttributeError):
            self.out.rejected[UNREADABLE] += 1
            return
        if event is not None:
            self.out.events.append(event)

    def binance(self, o: Mapping[str, Any]) -> LiqEvent | None:
        coin = base_coin(str(_field(o, "s")))
        if not self.wanted(coin):
            return None
        price = _price(o.get("p"))
        if "_" in str(o["s"]):  # BTCUSD_PERP: coin-margined
            raise _Reject(INVERSE)
        side = "long" if _field(o, "S") == "SELL" else "short"  # SELL closes a long
        return LiqEvent("binance", coin, side, price, _number(o, "z", "q"), int(_field(o, "T")))

    def bybit(self, e: Mapping[str, Any]) -> LiqEvent | None:
        coin = base_coin(str(_field(e, "s")))
        if not self.wanted(coin):
            return None
        price = _price(e.get("p"))
        side = "long" if _field(e, "S") == "Buy" else "short"  # position side
        return LiqEvent("bybit", coin, side, price, _number(e, "v"), int(_field(e, "T")))

    def okx(self, inst: str, d: Mapping[str, Any]) -> LiqEvent | None:
        coin = base_coin(inst)
        if not self.wanted(coin):
            return None
        price = _price(d.get("bkPx"))
        if not inst.upper().endswith("-USDT-SWAP"):
            raise _Reject(INVERSE)
        ct = self.okx_ct_val.get(coin.upper())
        if ct is None:
            raise _Reject(f"okx: no contract value for {inst} (set okx_contract_value)")
        pos = d.get("posSide", "net")
        side = pos if pos in ("long", "short") else \
            ("long" if _field(d, "side") == "sell" else "short")  # order side: sell closes a long
        return LiqEvent("okx", coin, side, price, _number(d, "sz") * ct, int(_field(d, "ts")))

    def okx_items(self, items: list[Any]) -> None:
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("details"), list):
                self.out.rejected[UNREADABLE] += 1
                continue
            for d in item["details"]:
                self.entry(self.okx, str(item.get("instId", "")), d)

    def frame(self, frame: Any) -> None:
        """One frame or REST answer: its entries, or one NOT_LIQUIDATION reject."""
        if not isinstance(frame, dict):
            self.out.rejected[NOT_LIQUIDATION] += 1
            return
        data = frame.get("data", frame)
        if isinstance(data, dict) and data.get("e") == "forceOrder":
            o = data.get("o")
            if isinstance(o, dict):
                self.entry(self.binance, o)
            else:
                self.out.rejected[UNREADABLE] += 1
            return
        if str(frame.get("topic", "")).startswith("allLiquidation") and isinstance(data, list):
            for e in data:
                self.entry(self.bybit, e)
            return
        arg = frame.get("arg")
        if isinstance(arg, dict) and arg.get("channel") == "liquidation-orders" \
                and isinstance(data, list):
            self.okx_items(data)
            return
        # REST /api/v5/public/liquidation-orders: {"code": "0", "data": [{details, instId, …}]}
        if str(frame.get("code")) == "0" and isinstance(data, list) and all(
                isinstance(i, dict) and "details" in i and "instId" in i for i in data):
            self.okx_items(data)
            return
        self.out.rejected[NOT_LIQUIDATION] += 1


def _documents(text: str, rejected: Counter[str]) -> Iterator[Any]:
    """The file's frames: one JSON document (an array is its items), else one per line (a
    line that does not parse is counted, and the others still count)."""
    text = text.strip()
    if not text:
        return
    try:
        doc = json.loads(text)
    except ValueError:
        pass
    else:
        yield from (doc if isinstance(doc, list) else [doc])
        return
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            rejected[MALFORMED] += 1
            continue
        yield from (doc if isinstance(doc, list) else [doc])


def read_events(text: str, okx_ct_val: Mapping[str, float] | None = None,
                symbol: str | None = None) -> EventFile:
    """Every liquidation event of `symbol` (all symbols when None) in a recorded stream file
    or saved REST answers, with what was left out and why (see the module docstring)."""
    reader = _Reader(symbol, okx_ct_val)
    for frame in _documents(text, reader.out.rejected):
        reader.frame(frame)
    return reader.out


def events_from_frame(frame: Mapping[str, Any],
                      okx_ct_val: Mapping[str, float] | None = None) -> list[LiqEvent]:
    """Events of one stream frame or REST answer (Binance, Bybit or OKX); others give none,
    nor do entries that cannot be read."""
    reader = _Reader(None, okx_ct_val)
    reader.frame(frame)
    return reader.out.events


def parse_events(text: str, okx_ct_val: Mapping[str, float] | None = None) -> list[LiqEvent]:
    """The events of every symbol in a recorded file (`read_events` without the counts)."""
    return read_events(text, okx_ct_val).events
