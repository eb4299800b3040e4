"""Build the bundled sample's funding-rate payloads for 2025-06-05 … 2025-06-11.

Constructed, not recorded (no recording of those days was at hand), in the exact shapes of
the real answers in tests/fixtures/funding/ (provenance in tests/fixtures/PROVENANCE.md):
Binance `GET /fapi/v1/fundingRate` (ascending, `fundingTime` a few ms past the hour, with
`markPrice`), Bybit `GET /v5/market/funding/history` (newest first, strings) and OKX
`GET /api/v5/public/funding-rate-history` (newest first, with `realizedRate`, the fields of
OKX's current answer). Each day's answer is what a run for that day asks: the settlements
of the day and the day before (every 8 h, as these contracts settle). The rates are
plausible for June 2025 (BTC about 0.005 % a period, ETH a little higher), not history.
Deterministic: run `python scripts/sample/funding.py` to rebuild.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_source

DAYS = [date(2025, 6, 5) + timedelta(days=i) for i in range(7)]
BASE = {"binance": "https://fapi.binance.com/fapi/v1/fundingRate",
        "bybit": "https://api.bybit.com/v5/market/funding/history",
        "okx": "https://www.okx.com/api/v5/public/funding-rate-history"}
# Funding per 8 h, in units of 0.0001 % (so 52 is 0.0052 %), for each settlement from
# 2025-06-04 00:00 UTC on: 24 settlements, three a day.
PATTERN = {
    "BTC": [52, 61, 48, 39, 44, 57, 73, 81, 66, 58, 49, 35, 21, 12, 27, 44,
            63, 71, 68, 55, 47, 59, 64, 70],
    "ETH": [71, 88, 64, 52, 60, 79, 97, 104, 92, 83, 70, 48, 30, 9, 36, 62,
            85, 96, 91, 77, 66, 80, 87, 95],
}
# Venue tilt on the pattern (the venues' rates follow each other closely, not exactly).
TILT = {"binance": (1.0, 0), "bybit": (0.92, 3), "okx": (1.08, -4)}
MARK = {"BTC": 104_850.0, "ETH": 2_611.0}
FIRST = datetime(2025, 6, 4, tzinfo=UTC)


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def settlements(day: date, coin: str, venue: str) -> list[tuple[int, float]]:
    """(time ms, rate) of the settlements of `day` − 1 and `day`, oldest first."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    scale, shift = TILT[venue]
    out = []
    for k in range(6):
        when = start + timedelta(hours=8 * k)
        n = int((when - FIRST) / timedelta(hours=8))
        out.append((ms(when), round((PATTERN[coin][n] * scale + shift) / 1e6, 8)))
    return out


def query(day: date, coin: str, venue: str) -> dict[str, Any]:
    """The live fetch's query for `day` (reportgen.sources.funding.request_for)."""
    start = ms(datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1))
    stop = ms(datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1))
    if venue == "binance":
        return {"symbol": f"{coin}USDT", "startTime": start, "endTime": stop - 1, "limit": 100}
    if venue == "bybit":
        return {"category": "linear", "symbol": f"{coin}USDT", "startTime": start,
                "endTime": stop - 1, "limit": 100}
    return {"instId": f"{coin}-USDT-SWAP", "before": start - 1, "after": stop, "limit": 100}


def body(day: date, coin: str, venue: str) -> Any:
    rows = settlements(day, coin, venue)
    if venue == "binance":
        return [{"symbol": f"{coin}USDT", "fundingTime": t + (k % 3), "fundingRate": f"{r:.8f}",
                 "markPrice": f"{MARK[coin] * (1 + 0.002 * ((k * 7) % 5 - 2)):.8f}"}
                for k, (t, r) in enumerate(rows)]
    if venue == "bybit":
        items = [{"symbol": f"{coin}USDT", "fundingRate": f"{r:.8f}",
                  "fundingRateTimestamp": str(t)} for t, r in reversed(rows)]
        return {"retCode": 0, "retMsg": "OK", "result": {"category": "linear", "list": items},
                "retExtInfo": {}, "time": rows[-1][0] + 8 * 3_600_000 - 300_000}
    items = [{"formulaType": "withRate", "fundingRate": f"{r:.16f}".rstrip("0"),
              "fundingTime": str(t), "instId": f"{coin}-USDT-SWAP", "instType": "SWAP",
              "method": "current_period", "realizedRate": f"{r:.16f}".rstrip("0")}
             for t, r in reversed(rows)]
    return {"code": "0", "data": items, "msg": ""}


def main() -> None:
    for day in DAYS:
        payloads = []
        for coin in ("BTC", "ETH"):
            for venue, url in BASE.items():
                payloads.append({"file": f"{venue}_{coin}.json",
                                 "url": f"{url}?{urlencode(query(day, coin, venue))}",
                                 "body": body(day, coin, venue)})
        write_source(day, "funding", payloads)


if __name__ == "__main__":
    main()
