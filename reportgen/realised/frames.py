"""The venues' liquidation frames → typed events. Pure: the one parser of these frames.

Side of the liquidated *position*, per venue documentation:

- Binance USDⓈ-M `forceOrder` (`!forceOrder@arr`): `o.S` is the side of the liquidation
  *order*; a SELL order closes a long, so SELL = a long was liquidated. Quantity `o.z` (filled,
  base coin), price `o.ap` (average fill price). Binance pushes at most the latest
  liquidation per symbol per second, so its figures undercount.
- Bybit v5 `allLiquidation.{symbol}`: `S` is the *position* side; "Buy" = a long position
  was liquidated. `v` is the size (base coin), `p` the bankruptcy price, `T` the time.
- OKX v5 `liquidation-orders` (push and REST `/api/v5/public/liquidation-orders`): `posSide`
  long/short where given (long/short mode); otherwise (net mode, or the REST answer's reduced
  fields) the order `side`: a sell closes a long. `sz` is in contracts: × the instrument's
  contract value (coin per contract for linear swaps, US$ per contract for inverse ones,
  `-USD-SWAP`); `bkPx` the bankruptcy price; `ts` the time.

Notional is quantity × price in US$ (USDT/USDC taken at par).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Venue = Literal["binance", "bybit", "okx"]
VENUES: tuple[Venue, ...] = ("binance", "bybit", "okx")
VENUE_NAMES: dict[str, str] = {"binance": "Binance", "bybit": "Bybit", "okx": "OKX"}
Side = Literal["long", "short"]
# "events": a data frame (possibly with no event in it); "control": a subscribe answer, a
# pong; "rejected": unreadable, or the venue's error message.
FrameKind = Literal["events", "control", "rejected"]

# Contract values of OKX swaps (instId → coin per contract for linear swaps, US$ per
# contract for inverse ones), from OKX's /api/v5/public/instruments?instType=SWAP answer.
# Operators extend it in config (sources.liquidation_realised.okx_contract_values).
OKX_CONTRACT_VALUES: dict[str, float] = {
    "BTC-USDT-SWAP": 0.01, "ETH-USDT-SWAP": 0.1, "SOL-USDT-SWAP": 1.0,
    "XRP-USDT-SWAP": 100.0, "DOGE-USDT-SWAP": 1000.0,
    "BTC-USD-SWAP": 100.0, "ETH-USD-SWAP": 10.0,
}


def base_coin(symbol: str) -> str:
    """The coin of a venue's instrument name: BTCUSDT, BTC-USDT-SWAP → BTC."""
    if "-" in symbol:
        return symbol.split("-")[0]
    for quote in ("USDT", "USDC", "USD"):
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)]
    return symbol


class RealisedLiquidation(BaseModel):
    """One forced liquidation a venue reported: the side of the position liquidated, its size
    in the base coin and in US$, at the price the venue gave, and when."""

    model_config = ConfigDict(frozen=True)

    venue: Venue
    symbol: str  # the venue's instrument name (BTCUSDT, BTC-USDT-SWAP)
    side: Side
    price: float
    quantity: float
    notional_usd: float
    time: datetime
    # The position's bankruptcy price where the venue gives it apart from `price` (Binance:
    # the order's price `p`, beside its average fill `ap`); Bybit's and OKX's `price` is it.
    bankruptcy_price: float | None = None

    @property
    def bankruptcy(self) -> float:
        """The bankruptcy price (what the map's liquidation prices are compared with)."""
        return self.bankruptcy_price if self.bankruptcy_price is not None else self.price

    def key(self) -> tuple[str, str, str, float, float, datetime]:
        """What makes two reports the same liquidation (a stream frame and a REST answer)."""
        return (self.venue, self.symbol, self.side, self.price, self.quantity, self.time)


@dataclass(frozen=True)
class ParsedFrame:
    """What one frame held: its events, its kind, why it was rejected (`error`), and how many
    of its events were left out (`skipped`: an OKX instrument without a contract value)."""

    kind: FrameKind
    events: tuple[RealisedLiquidation, ...] = ()
    error: str | None = None
    skipped: int = 0

    def span_ms(self) -> tuple[int, int] | None:
        """The earliest and latest event time in the frame (ms since the epoch), if any."""
        if not self.events:
            return None
        stamps = [int(e.time.timestamp() * 1000) for e in self.events]
        return min(stamps), max(stamps)


class _Reject(Exception):
    """A frame that does not read as its venue's documented shape."""


def _ms(value: Any) -> datetime:
    try:
        stamp = int(value)
    except (TypeError, ValueError):
        raise _Reject(f"time {value!r} is not a millisecond timestamp") from None
    if not 0 < stamp < 10**14:
        raise _Reject(f"time {stamp} is out of range")
    return datetime.fromtimestamp(stamp / 1000, UTC)


def _positive(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Reject(f"{what} {value!r} is not a number") from None
    if not number > 0 or number == float("inf"):
        raise _Reject(f"{what} {value!r} is not a positive number")
    return number


def _event(venue: Venue, symbol: Any, side: Side, price: float, quantity: float,
           time: datetime) -> RealisedLiquidation:
    if not isinstance(symbol, str) or not symbol:
        raise _Reject(f"symbol {symbol!r} is not a name")
    return RealisedLiquidation(venue=venue, symbol=symbol, side=side, price=price,
                               quantity=quantity, notional_usd=price * quantity, time=time)


def _binance(doc: Any) -> ParsedFrame:
    if isinstance(doc, dict) and "result" in doc and "id" in doc:
        return ParsedFrame("control")  # the answer to a SUBSCRIBE request
    data = doc.get("data", doc) if isinstance(doc, dict) else None
    if not isinstance(data, dict) or data.get("e") != "forceOrder" or not isinstance(
            data.get("o"), dict):
        raise _Reject("not a forceOrder event")
    order = data["o"]
    if order.get("S") not in ("SELL", "BUY"):
        raise _Reject(f"order side {order.get('S')!r} is neither SELL nor BUY")
    side: Side = "long" if order["S"] == "SELL" else "short"  # a SELL order closes a long
    quantity = _positive(order.get("z") or order.get("q"), "quantity")
    average = order.get("ap")
    price = _positive(average if average not in (None, "", "0", "0.00") else order.get("p"),
                      "price")
    event = _event("binance", order.get("s"), side, price, quantity,
                   _ms(order.get("T") or data.get("E")))
    with contextlib.suppress(_Reject):  # without `p`, the fill price stands for it
        event = event.model_copy(update={"bankruptcy_price": _positive(order.get("p"), "price")})
    return ParsedFrame("events", (event,))


def _bybit(doc: Any) -> ParsedFrame:
    if isinstance(doc, dict) and "op" in doc and "topic" not in doc:
        if doc.get("success") is False:
            raise _Reject(f"Bybit refused {doc.get('op')!r}: {doc.get('ret_msg')}")
        return ParsedFrame("control")  # subscribe answer, pong
    if not isinstance(doc, dict) or not str(doc.get("topic", "")).startswith("allLiquidation."):
        raise _Reject("not an allLiquidation frame")
    rows = doc.get("data")
    if not isinstance(rows, list):
        raise _Reject("data is not a list")
    events = []
    for row in rows:
        if not isinstance(row, dict) or row.get("S") not in ("Buy", "Sell"):
            raise _Reject(f"position side {row.get('S') if isinstance(row, dict) else row!r} "
                          "is neither Buy nor Sell")
        side: Side = "long" if row["S"] == "Buy" else "short"  # position side: Buy = a long
        events.append(_event("bybit", row.get("s"), side, _positive(row.get("p"), "price"),
                             _positive(row.get("v"), "size"), _ms(row.get("T"))))
    return ParsedFrame("events", tuple(events))


def _okx_items(items: Any, contract_values: Mapping[str, float]) -> ParsedFrame:
    if not isinstance(items, list):
        raise _Reject("data is not a list")
    events, skipped = [], 0
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("details"), list):
            raise _Reject("an item has no details list")
        inst = item.get("instId")
        value = contract_values.get(inst) if isinstance(inst, str) else None
        for detail in item["details"]:
            if not isinstance(detail, dict):
                raise _Reject("a detail is not an object")
            price = _positive(detail.get("bkPx"), "bkPx")
            contracts = _positive(detail.get("sz"), "sz")
            pos, order = detail.get("posSide"), detail.get("side")
            if pos in ("long", "short"):
                side: Side = pos
            elif order in ("sell", "buy"):
                side = "long" if order == "sell" else "short"  # a sell closes a long
            else:
                raise _Reject(f"neither posSide {pos!r} nor side {order!r} names a side")
            time = _ms(detail.get("ts"))
            if value is None:
                skipped += 1
                continue
            inverse = str(inst).endswith("-USD-SWAP")
            quantity = contracts * value / price if inverse else contracts * value
            events.append(_event("okx", inst, side, price, quantity, time))
    return ParsedFrame("events", tuple(events), skipped=skipped)


def _okx(doc: Any, contract_values: Mapping[str, float]) -> ParsedFrame:
    if not isinstance(doc, dict):
        raise _Reject("not an object")
    if "event" in doc:
        if doc["event"] == "error":
            raise _Reject(f"OKX error {doc.get('code')}: {doc.get('msg')}")
        return ParsedFrame("control")  # subscribe answer
    if "code" in doc:  # the REST answer
        if str(doc["code"]) != "0":
            raise _Reject(f"OKX answered code {doc['code']}: {doc.get('msg')}")
        return _okx_items(doc.get("data"), contract_values)
    arg = doc.get("arg")
    if not isinstance(arg, dict) or arg.get("channel") != "liquidation-orders":
        raise _Reject("not a liquidation-orders push")
    return _okx_items(doc.get("data"), contract_values)


def parse_frame(venue: str, text: str | bytes,
                contract_values: Mapping[str, float] | None = None) -> ParsedFrame:
    """One frame of `venue`'s stream (or one OKX REST answer) as events. Never raises: a frame
    that is not its venue's documented shape is a "rejected" ParsedFrame saying why."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if venue == "okx" and text.strip() == "pong":
        return ParsedFrame("control")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        return ParsedFrame("rejected", error=f"not JSON: {exc}")
    try:
        if venue == "binance":
            return _binance(doc)
        if venue == "bybit":
            return _bybit(doc)
        if venue == "okx":
            return _okx(doc, OKX_CONTRACT_VALUES if contract_values is None else contract_values)
    except _Reject as exc:
        return ParsedFrame("rejected", error=f"{VENUE_NAMES[venue]}: {exc}")
    return ParsedFrame("rejected", error=f"unknown venue {venue!r}")
