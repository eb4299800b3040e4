"""SoSoValue ETF flow history: request shape and pure parsing (no I/O here).

`POST .../openapi/v2/etf/historicalInflowChart` with body `{"type": "us-btc-spot"}` (or
`us-eth-spot`) and header `x-soso-api-key` answers
`{code: 0, data: {list: [{date, totalNetInflow, totalValueTraded, totalNetAssets,
cumNetInflow}]}}`, about 300 trading days, figures in USD (not millions). It gives totals
only, no per-fund split. No real recorded response was found (tests/fixtures/PROVENANCE.md), so the
parser accepts the documented shape and refuses anything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from reportgen.errors import ParseError

ASSET_TYPES = {"BTC": "us-btc-spot", "ETH": "us-eth-spot"}
API_KEY_HEADER = "x-soso-api-key"


@dataclass(frozen=True)
class SosoDay:
    """One day of SoSoValue's chart, converted to US$ m like Farside's figures."""

    day: date
    total_musd: float
    cumulative_musd: float | None


def _day(value: Any) -> date:
    if isinstance(value, int | float):  # epoch milliseconds
        return datetime.fromtimestamp(value / 1000, tz=UTC).date()
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC).date()
        return date.fromisoformat(text[:10])
    raise ValueError(f"unreadable date {value!r}")


def _musd(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a number: {value!r}")
    return float(value) / 1_000_000


def parse_sosovalue(body: bytes, *, asset: str) -> list[SosoDay]:
    """Days of a historicalInflowChart answer, oldest first. Raises ParseError on any other
    shape, on `code != 0` (SoSoValue's error envelope) or on an unreadable figure."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise ParseError(f"SoSoValue {asset}: body is not JSON ({exc})") from None
    if not isinstance(doc, dict) or "code" not in doc:
        raise ParseError(f"SoSoValue {asset}: expected an object with 'code', got {type(doc).__name__}")
    if doc["code"] != 0:
        raise ParseError(f"SoSoValue {asset}: API error code {doc['code']!r}: {doc.get('msg')!r}")
    data = doc.get("data")
    items = data.get("list") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ParseError(f"SoSoValue {asset}: 'data.list' missing or not a list")
    days: list[SosoDay] = []
    for i, item in enumerate(items):
        try:
            cum = item.get("cumNetInflow")
            days.append(SosoDay(
                day=_day(item["date"]),
                total_musd=_musd(item["totalNetInflow"]),
                cumulative_musd=_musd(cum) if cum is not None else None,
            ))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ParseError(f"SoSoValue {asset}: entry {i} unreadable ({exc})") from None
    days.sort(key=lambda d: d.day)
    return days
