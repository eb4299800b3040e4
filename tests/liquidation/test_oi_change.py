"""Open interest over 24 h for the derivatives line, from the history the map downloads:
Bybit counted once by the map's rule (real answers), the change against the reading 24 h
earlier, and a history too short or a venue without one said, not bridged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reportgen.liquidation.oi_change import open_interest_day
from reportgen.liquidation.parsers import parse_venue
from reportgen.models import RawPayload
from reportgen.sources.liquidation import OpenInterestText, SymbolMaps

BYBIT = Path(__file__).resolve().parents[1] / "fixtures" / "liquidation" / "bybit"
URL = "https://api.bybit.com/v5/market/open-interest?category=linear&symbol=BTCUSDT"
T0 = 1786820400000  # 2026-08-15 19:00 UTC


def _raw(body: bytes, url: str = URL) -> RawPayload:
    return RawPayload(source="liq_bybit", url=url, status=200, body=body,
                      fetched_at=datetime(2026, 9, 15, tzinfo=UTC))


def test_bybit_is_counted_once_as_on_the_map() -> None:
    # Without singleOpenInterest: half of openInterest (the sum of both sides).
    halved = parse_venue("bybit", [_raw((BYBIT / "open-interest_BTCUSDT_1h_2026-08-15.json")
                                        .read_bytes() + b"")], "BTC")
    day = open_interest_day(halved, datetime(2026, 8, 16, tzinfo=UTC))
    assert day.coins == pytest.approx(64992.054 / 2)
    assert day.at == datetime(2026, 8, 15, 19, tzinfo=UTC)
    # Two rows an hour apart do not reach 24 h back: said, no change made up.
    assert day.coins_before is None and day.reason == "the history does not reach 24 h back"
    # With singleOpenInterest: that field.
    single = parse_venue("bybit", [_raw((BYBIT / "open-interest_BTCUSDT_5min_2026-09-15.json")
                                        .read_bytes())], "BTC")
    found = open_interest_day(single, datetime(2026, 9, 16, tzinfo=UTC))
    assert found.coins == 26332.321


def _hourly(values: list[float]) -> bytes:
    rows = [{"openInterest": str(v * 2), "timestamp": str(T0 - k * 3_600_000)}
            for k, v in enumerate(reversed(values))]  # newest first, as Bybit answers
    return json.dumps({"retCode": 0, "retMsg": "OK", "result": {
        "symbol": "BTCUSDT", "category": "linear", "list": rows, "nextPageCursor": ""}}).encode()


def test_the_change_is_against_the_reading_24h_before_the_last() -> None:
    # 26 hourly readings (constructed in the real shape): 1,000 coins 25 h before, then +1 %.
    values = [1000.0, 1010.0] + [1010.0 + k for k in range(23)] + [1050.0]
    data = parse_venue("bybit", [_raw(_hourly(values))], "BTC")
    day = open_interest_day(data, datetime(2026, 8, 15, 19, 30, tzinfo=UTC))
    assert (day.coins, day.coins_before) == (1050.0, 1010.0)
    assert day.before_at == datetime(2026, 8, 14, 19, tzinfo=UTC)
    text = OpenInterestText.model_validate(day.model_dump(mode="json"))
    assert text.change_pct == pytest.approx((1050 / 1010 - 1) * 100)
    # Readings after the cut-off are not used: as of 18:00 the last is the 18:00 one.
    earlier = open_interest_day(data, datetime(2026, 8, 15, 18, tzinfo=UTC))
    assert earlier.at == datetime(2026, 8, 15, 18, tzinfo=UTC) and earlier.coins == 1032.0


def test_a_venue_without_history_says_why_and_the_total_sums_the_others() -> None:
    failed = RawPayload(source="liq_bybit", url=URL, status=None, body=b"",
                        fetched_at=datetime(2026, 8, 15, tzinfo=UTC), error="HTTP 503")
    day = open_interest_day(parse_venue("bybit", [failed], "BTC"),
                            datetime(2026, 8, 16, tzinfo=UTC))
    assert day.coins is None and "HTTP 503 on /v5/market/open-interest" in (day.reason or "")
    maps = SymbolMaps(symbol="BTC", open_interest={
        "binance": OpenInterestText(venue="binance", coins=110.0, coins_before=100.0,
                                    usd=11e6),
        "okx": OpenInterestText(venue="okx", coins=45.0, coins_before=50.0, usd=4.5e6),
        "bybit": OpenInterestText.model_validate(day.model_dump(mode="json"))})
    assert maps.open_interest_change() == (155.0, 150.0, 15.5e6)
