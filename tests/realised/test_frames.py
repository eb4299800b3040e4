"""Realised liquidations: the frame parsers on real recorded frames (side per venue docs),
rejected frames, the window's tally, and the source's window for a backdated day."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from reportgen.archive import Archive
from reportgen.clock import FixedClock
from reportgen.config import config_from_mapping
from reportgen.errors import FetchError, ParseError
from reportgen.http import Http
from reportgen.models import LiquidationFrame, RawPayload
from reportgen.realised.frames import parse_frame
from reportgen.realised.settings import RealisedSettings
from reportgen.realised.tally import Frame, tally
from reportgen.settings import HttpSettings
from reportgen.sources.base import FetchContext
from reportgen.sources.liquidation_realised import RealisedLiquidationsSource, parse_realised

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "realised"
BINANCE = (FIXTURES / "binance_forceOrder_arr_BTCUSDT_2026-10-09.json").read_text()
BYBIT = (FIXTURES / "bybit_allLiquidation_BTCUSDT_2026-10-09.json").read_text()
OKX_PUSH = (FIXTURES / "okx_liquidation-orders_push_BTC-USDT-SWAP_2026-10-09.json").read_text()
OKX_REST = (FIXTURES / "okx_rest_liquidation-orders_BTC-USDT_2026-08-15.json").read_text()


def test_binance_sell_order_is_a_long_liquidated_at_its_average_fill() -> None:
    parsed = parse_frame("binance", BINANCE)
    assert parsed.kind == "events" and len(parsed.events) == 1
    event = parsed.events[0]
    assert (event.venue, event.symbol, event.side) == ("binance", "BTCUSDT", "long")
    assert event.quantity == pytest.approx(0.190)  # z: filled
    assert event.price == pytest.approx(82651.90)  # ap: average fill price
    assert event.notional_usd == pytest.approx(0.190 * 82651.90)
    assert event.time == datetime.fromtimestamp(1791565602.120, UTC)  # T


def test_bybit_buy_is_a_long_position_liquidated() -> None:
    parsed = parse_frame("bybit", BYBIT)
    assert [(e.side, e.quantity, e.price) for e in parsed.events] == [
        ("long", 0.006, 82396.90), ("long", 0.038, 82394.30)]
    assert sum(e.notional_usd for e in parsed.events) == pytest.approx(
        0.006 * 82396.90 + 0.038 * 82394.30)


def test_okx_push_uses_posside_and_contract_value() -> None:
    parsed = parse_frame("okx", OKX_PUSH)
    (event,) = parsed.events
    assert (event.symbol, event.side) == ("BTC-USDT-SWAP", "long")
    assert event.quantity == pytest.approx(8.55 * 0.01)  # contracts × ctVal (BTC)
    assert event.notional_usd == pytest.approx(8.55 * 0.01 * 82655.7)


def test_okx_rest_without_posside_reads_the_order_side() -> None:
    parsed = parse_frame("okx", OKX_REST)
    sides = [(e.side, e.quantity) for e in parsed.events]
    # buy closes a short, sell closes a long (net mode; the REST answer lacks posSide)
    assert sides == [("short", pytest.approx(0.0241)), ("long", pytest.approx(0.0015))]


def test_okx_instrument_without_contract_value_is_counted_and_left_out() -> None:
    parsed = parse_frame("okx", OKX_PUSH, contract_values={})
    assert parsed.kind == "events" and parsed.events == () and parsed.skipped == 1


@pytest.mark.parametrize(("venue", "text", "why"), [
    ("binance", '{"stream":"!forceOrder@arr","data":{"e":"forceOrder","o":{"s":"BTCUSDT"',
     "not JSON"),
    ("binance", BINANCE.replace('"S":"SELL"', '"S":"HOLD"'), "neither SELL nor BUY"),
    ("bybit", BYBIT.replace('"p":"82396.90"', '"p":"-1"'), "not a positive number"),
    ("bybit", '{"success":false,"ret_msg":"error:handler not found","op":"subscribe"}',
     "refused"),
    ("okx", '{"event":"error","code":"60012","msg":"Invalid request"}', "60012"),
    ("okx", OKX_PUSH.replace('"ts":"1791565600771"', '"ts":"soon"'), "timestamp"),
    ("okx", "\x00\xff", "not JSON"),
])
def test_malformed_frames_are_rejected_with_the_reason(venue: str, text: str, why: str) -> None:
    parsed = parse_frame(venue, text)
    assert parsed.kind == "rejected" and parsed.events == ()
    assert parsed.error is not None and why in parsed.error


@pytest.mark.parametrize(("venue", "text"), [
    ("okx", "pong"), ("okx", '{"event":"subscribe","arg":{"channel":"liquidation-orders",'
                             '"instType":"SWAP"},"connId":"a4d3ae55"}'),
    ("bybit", '{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}'),
    ("binance", '{"result":null,"id":1}'),
])
def test_control_frames_are_not_events(venue: str, text: str) -> None:
    assert parse_frame(venue, text).kind == "control"


def test_tally_sums_the_window_once_per_liquidation() -> None:
    start = datetime(2026, 10, 9, tzinfo=UTC)
    frames = [Frame("binance", BINANCE), Frame("bybit", BYBIT), Frame("okx", OKX_PUSH),
              Frame("okx", OKX_PUSH),  # the same push twice (a REST page repeating it)
              Frame("okx", OKX_REST),  # 2026-08-15: outside the window
              Frame("bybit", "{broken")]
    day = tally(frames, start, start + timedelta(days=1))
    binance = 0.190 * 82651.90
    bybit = 0.006 * 82396.90 + 0.038 * 82394.30
    okx = 8.55 * 0.01 * 82655.7
    assert day.orders == 4 and day.duplicates == 1 and day.rejected_frames == 1
    assert day.total_usd == pytest.approx(binance + bybit + okx)
    assert day.long_usd == pytest.approx(binance + bybit + okx) and day.short_usd == 0
    assert [v.venue for v in day.venues] == ["binance", "bybit", "okx"]
    assert day.largest is not None and day.largest.venue == "binance"


def _frame(text: str, venue: str, received: datetime) -> LiquidationFrame:
    parsed = parse_frame(venue, text)
    span = parsed.span_ms()
    assert span is not None
    return LiquidationFrame(venue=venue, url=f"wss://{venue}.test/ws", received_at=received,
                            body=text, first_ms=span[0], last_ms=span[1])


def _fetch(archive: Archive, day: date, now: datetime) -> list[object]:
    config = config_from_mapping({"sources": {"liquidation_realised": {
        "okx_rest_families": []}}})  # the stream frames only: no request is made
    source = RealisedLiquidationsSource(config)

    async def go() -> list[object]:
        async with Http(HttpSettings(), clock=FixedClock(now)) as http:
            ctx = FetchContext(report_date=day, today=now.date(), config=config, http=http,
                               recorded=archive)
            return list(await source.fetch(ctx))

    return asyncio.run(go())


def test_backdated_day_reads_only_its_own_window(tmp_path: Path) -> None:
    received = datetime(2026, 10, 9, 17, 6, 43, tzinfo=UTC)
    with Archive(tmp_path / "archive.sqlite") as archive:
        archive.add_liquidation_frames([_frame(BINANCE, "binance", received),
                                        _frame(BYBIT, "bybit", received)])
        later = json.loads(BINANCE)
        later["data"]["o"]["T"] = 1791565602120 + 2 * 86_400_000  # two days on: "today"
        archive.add_liquidation_frames([_frame(json.dumps(later), "binance", received)])
        now = datetime(2026, 10, 11, 18, 0, tzinfo=UTC)
        raws = _fetch(archive, date(2026, 10, 9), now)
        settings = RealisedSettings()
        day = parse_realised(raws, settings)  # type: ignore[arg-type]
        assert day.start == datetime(2026, 10, 9, tzinfo=UTC)
        assert day.end == datetime(2026, 10, 10, tzinfo=UTC)
        assert day.orders == 3 and [v.venue for v in day.venues] == ["binance", "bybit"]
        assert day.venue("binance").orders == 1  # type: ignore[union-attr]

        with pytest.raises(FetchError, match="nothing recorded for that window"):
            _fetch(archive, date(2026, 10, 5), now)
        # a REST page far outside the window: still nothing for it
        rest = RawPayload(source="liquidation_realised", url="https://www.okx.com/x",
                          status=200, body=OKX_REST.encode(), fetched_at=now,
                          headers={"x-reportgen-venue": "okx", "x-reportgen-window":
                                   "2026-10-05T00:00:00+00:00/2026-10-06T00:00:00+00:00"})
        with pytest.raises(ParseError, match="nothing recorded for that window"):
            parse_realised([rest], settings)


def test_a_report_during_the_day_covers_the_24_h_before_the_fetch(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.sqlite") as archive:
        archive.add_liquidation_frames([_frame(BINANCE, "binance",
                                               datetime(2026, 10, 9, 17, 7, tzinfo=UTC))])
        now = datetime(2026, 10, 10, 7, 0, tzinfo=UTC)  # the 07:00 scheduled run
        day = parse_realised(_fetch(archive, date(2026, 10, 10), now),  # type: ignore[arg-type]
                             RealisedSettings())
        assert (day.start, day.end) == (now - timedelta(hours=24), now)
        assert day.orders == 1
