"""Build the bundled sample's realised liquidations for 2025-06-05 … 2025-06-11.

Constructed, not recorded, in the exact shapes of the real frames in tests/fixtures/realised/
(provenance in tests/fixtures/PROVENANCE.md): Binance `!forceOrder@arr` combined-stream
frames, Bybit `allLiquidation.{symbol}` snapshots (one to three entries), OKX
`liquidation-orders` pushes, and OKX's REST `liquidation-orders` answer for BTC-USDT and
ETH-USDT (the request the live fetch makes; a third of its orders are also in the pushes, as
a REST page repeats what the stream carried). Each venue's frames are one payload of JSON
lines, as the source bundles what the recorder archived, with the report day's window
(00:00 → 24:00 UTC) in its headers.

Prices follow the sample's own hourly BTC and ETH klines (liq_binance/klines_*.json); sides
lean with each hour's move (a falling hour liquidates more longs). Deterministic: run
`python scripts/sample/realised.py` to rebuild; the files come back byte-identical.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, write_source

DAYS = [date(2025, 6, 5) + timedelta(days=i) for i in range(7)]
SOURCE = "liquidation_realised"
BINANCE_WS = "wss://fstream.binance.com/stream?streams=!forceOrder@arr"
BYBIT_WS = "wss://stream.bybit.com/v5/public/linear"
OKX_WS = "wss://ws.okx.com:8443/ws/v5/public"
OKX_REST = ("https://www.okx.com/api/v5/public/liquidation-orders?instType=SWAP"
            "&instFamily={family}&state=filled&limit=100")
# coin → (Binance/Bybit symbol, OKX instId, OKX contract value, quantity decimals)
COINS = {"BTC": ("BTCUSDT", "BTC-USDT-SWAP", 0.01, 3), "ETH": ("ETHUSDT", "ETH-USDT-SWAP", 0.1, 2)}


def hourly_closes(day: date, coin: str) -> dict[int, float]:
    """Hour-start ms → close, from the sample's own klines for `day`."""
    rows = json.loads((DATA / day.isoformat() / "liq_binance" / f"klines_{coin}USDT.json")
                      .read_text())
    return {int(r[0]): float(r[4]) for r in rows}


def _price_at(closes: dict[int, float], ms: int) -> tuple[float, bool]:
    """The close of the hour holding `ms`, and whether that hour fell."""
    hour = ms - ms % 3_600_000
    now = closes.get(hour) or closes[max(k for k in closes if k <= hour)]
    before = closes.get(hour - 3_600_000, now)
    return now, now < before


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def build(day: date) -> list[dict[str, object]]:
    rng = random.Random(f"realised-{day.isoformat()}")
    start = int(datetime.combine(day, time(0), tzinfo=UTC).timestamp() * 1000)
    closes = {coin: hourly_closes(day, coin) for coin in COINS}
    binance: list[str] = []
    bybit: list[str] = []
    okx: list[str] = []
    rest: dict[str, list[dict[str, str]]] = {coin: [] for coin in COINS}
    for _ in range(rng.randint(400, 600)):
        coin = "BTC" if rng.random() < 0.62 else "ETH"
        symbol, inst, ct_val, qd = COINS[coin]
        ms = start + rng.randint(5 * 60_000, 23 * 3_600_000 + 50 * 60_000)
        mark, fell = _price_at(closes[coin], ms)
        long = rng.random() < (0.68 if fell else 0.35)
        # A long is closed by a sell below the mark (bankruptcy price), a short above it.
        price = mark * (1 - rng.uniform(0.001, 0.004) if long else 1 + rng.uniform(0.001, 0.004))
        usd = rng.lognormvariate(10.2, 1.6)  # median ≈ US$27,000, a fat tail of large orders
        venue = rng.choices(("binance", "bybit", "okx"), (0.45, 0.30, 0.25))[0]
        if venue == "binance":
            qty = max(round(usd / price, qd), 10 ** -qd)
            binance.append(json.dumps({"stream": "!forceOrder@arr", "data": {
                "e": "forceOrder", "E": ms + rng.randint(200, 900), "o": {
                    "s": symbol, "S": "SELL" if long else "BUY", "o": "LIMIT", "f": "IOC",
                    "q": _fmt(qty, qd),
                    "p": _fmt(price * (0.996 if long else 1.004), 2),
                    "ap": _fmt(price, 2), "X": "FILLED", "l": _fmt(qty, qd),
                    "z": _fmt(qty, qd), "T": ms, "ps": symbol, "st": 1}}},
                separators=(",", ":")))
        elif venue == "bybit":
            rows = []
            for k in range(rng.choice((1, 1, 2, 3))):
                part = max(round(usd / price / (k + 1), qd), 10 ** -qd)
                rows.append({"T": ms + 37 * k, "s": symbol, "S": "Buy" if long else "Sell",
                             "v": _fmt(part, qd), "p": _fmt(price * (1 - 0.00003 * k), 2)})
            bybit.append(json.dumps({"topic": f"allLiquidation.{symbol}", "type": "snapshot",
                                     "ts": ms + rng.randint(300, 500), "data": rows},
                                    separators=(",", ":")))
        else:
            contracts = max(round(usd / price / ct_val, 2), 0.01)
            detail = {"bkLoss": "0", "bkPx": _fmt(price, 1), "ccy": "",
                      "posSide": "long" if long else "short", "side": "sell" if long else "buy",
                      "sz": _fmt(contracts, 2), "ts": str(ms)}
            okx.append(json.dumps({"arg": {"channel": "liquidation-orders", "instType": "SWAP"},
                                   "data": [{"details": [detail], "instFamily": f"{coin}-USDT",
                                             "instId": inst, "instType": "SWAP",
                                             "uly": f"{coin}-USDT"}]},
                                  separators=(",", ":")))
            if rng.random() < 0.35:
                rest[coin].append(detail)  # the REST page repeats what the stream carried
    # A few orders the stream missed (the recorder was reconnecting): on the REST page only.
    for coin, details in rest.items():
        symbol, inst, ct_val, _qd = COINS[coin]
        for _ in range(rng.randint(2, 4)):
            ms = start + rng.randint(3_600_000, 22 * 3_600_000)
            mark, fell = _price_at(closes[coin], ms)
            long = rng.random() < (0.68 if fell else 0.35)
            price = mark * (0.997 if long else 1.003)
            contracts = round(rng.lognormvariate(8.6, 1.2) / price / ct_val, 2) or 0.01
            details.append({"bkLoss": "0", "bkPx": _fmt(price, 1), "ccy": "",
                            "posSide": "long" if long else "short",
                            "side": "sell" if long else "buy", "sz": _fmt(contracts, 2),
                            "ts": str(ms)})
        details.sort(key=lambda d: -int(d["ts"]))  # newest first, as OKX answers
    # The 24 h before the sample's fetch (23:55 UTC), as a run at that moment asks for.
    fetched = datetime.combine(day, time(23, 55), tzinfo=UTC)
    window = f"{(fetched - timedelta(hours=24)).isoformat()}/{fetched.isoformat()}"

    def stream(venue: str, url: str, frames: list[str]) -> dict[str, object]:
        frames.sort(key=_frame_time)
        return {"file": f"{venue}_frames.jsonl", "url": url, "body": "\n".join(frames) + "\n",
                "headers": {"content-type": "application/x-ndjson", "x-reportgen-venue": venue,
                            "x-reportgen-window": window,
                            "x-reportgen-frames": str(len(frames))}}

    payloads = [stream("binance", BINANCE_WS, binance), stream("bybit", BYBIT_WS, bybit),
                stream("okx", OKX_WS, okx)]
    for coin, details in rest.items():
        symbol, inst, _ct, _qd = COINS[coin]
        payloads.append({
            "file": f"okx_rest_{coin}-USDT.json", "url": OKX_REST.format(family=f"{coin}-USDT"),
            "body": {"code": "0", "data": [{"details": details, "instFamily": f"{coin}-USDT",
                                            "instId": inst, "instType": "SWAP",
                                            "uly": f"{coin}-USDT"}], "msg": ""},
            "headers": {"content-type": "application/json", "x-reportgen-venue": "okx",
                        "x-reportgen-window": window}})
    return payloads


def _frame_time(frame: str) -> int:
    doc = json.loads(frame)
    if "stream" in doc:
        return int(doc["data"]["o"]["T"])
    if "topic" in doc:
        return int(doc["data"][0]["T"])
    return int(doc["data"][0]["details"][0]["ts"])


def main() -> None:
    for day in DAYS:
        write_source(day, SOURCE, build(day))


if __name__ == "__main__":
    main()
