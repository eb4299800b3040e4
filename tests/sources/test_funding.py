"""Funding rates (Binance, Bybit, OKX): the parsers on the venues' real recorded answers, the
interval read from the settlement times, the request a past date makes (over real sockets,
against the fake upstream), a venue that does not answer, and the figures in the brief."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from reportgen.brief import build_brief
from reportgen.clock import FixedClock
from reportgen.config import config_from_mapping
from reportgen.errors import ParseError
from reportgen.figures import DERIVATIVES
from reportgen.http import Http
from reportgen.liquidation.config import LiqConfig
from reportgen.models import RawPayload, SourceSnapshot
from reportgen.registry import source_classes
from reportgen.render.filters import figure_value
from reportgen.sources.base import FetchContext, ParseContext
from reportgen.sources.funding import (
    FundingDay,
    FundingSource,
    interval_hours,
    parse_funding,
    request_for,
    rows_of,
)
from reportgen.view import Brief
from tests.conftest import live_config
from tests.fakeupstream import Upstream

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "funding"
BINANCE = FIXTURES / "fundingRate_BTCUSDT_2026-08-15.json"
BYBIT = FIXTURES / "funding-history_BTCUSDT_2026-08-15.json"
OKX = FIXTURES / "funding-rate-history_BTC-USDT-SWAP_2026-08-15.json"
# Bybit's answer says when it was made: 2026-08-15 19:03:58 UTC.
FETCHED = datetime(2026, 8, 15, 19, 3, 58, tzinfo=UTC)
CUTOFF = datetime(2026, 8, 16, tzinfo=UTC)
URLS = {"binance": "https://fapi.binance.com/fapi/v1/fundingRate?symbol=BTCUSDT",
        "bybit": "https://api.bybit.com/v5/market/funding/history?category=linear"
                 "&symbol=BTCUSDT",
        "okx": "https://www.okx.com/api/v5/public/funding-rate-history?instId=BTC-USDT-SWAP"}


def _raw(venue: str, body: bytes, *, url: str | None = None, status: int = 200,
         error: str | None = None) -> RawPayload:
    return RawPayload(source="funding", url=url or URLS[venue], status=status, body=body,
                      fetched_at=FETCHED, error=error)


def _recorded() -> list[RawPayload]:
    return [_raw("binance", BINANCE.read_bytes()), _raw("bybit", BYBIT.read_bytes()),
            _raw("okx", OKX.read_bytes())]


def test_each_venues_real_answer_gives_the_latest_rate_and_the_24h_mean() -> None:
    day = parse_funding(_recorded(), CUTOFF, ["BTC"])
    assert day.end == FETCHED  # a run during the day: the 24 h before the fetch
    binance, bybit, okx = (day.coins["BTC"][v] for v in ("binance", "bybit", "okx"))
    # Binance: ascending, the first stamp 2 ms past 08:00.
    assert binance.latest == 0.00005311
    assert binance.latest_at == datetime(2026, 8, 15, 16, tzinfo=UTC)
    assert binance.average == pytest.approx((0.00006523 + 0.00005311) / 2)
    assert binance.settlements == 2 and binance.interval_hours == 8
    # Bybit: newest first: the latest is its first row.
    assert (bybit.latest, bybit.average) == (0.00004403, pytest.approx(0.0000457))
    # OKX's reduced answer has no realizedRate: fundingRate stands in.
    assert okx.latest == 0.0000647375951599
    assert okx.average == pytest.approx((0.0000647375951599 + 0.0000765914290582) / 2)
    # Annualised at 3 periods a day: 0.005311 % × 1,095.
    assert binance.annualised(binance.latest) == pytest.approx(5.815545)
    assert day.as_of == datetime(2026, 8, 15, 16, tzinfo=UTC)


def test_okx_takes_the_realised_rate_where_its_answer_carries_one() -> None:
    doc = json.loads(OKX.read_bytes())
    doc["data"][0]["realizedRate"] = "0.00009"
    rows = rows_of("okx", _raw("okx", json.dumps(doc).encode()))
    assert rows[-1] == (1786809600000, 0.00009)


@pytest.mark.parametrize("hours", [8, 4, 1])
def test_the_interval_comes_from_the_settlement_times(hours: int) -> None:
    start = int(datetime(2026, 8, 14, tzinfo=UTC).timestamp() * 1000)
    step = hours * 3_600_000
    rows = [{"symbol": "BTCUSDT", "fundingTime": start + k * step + k % 3,
             "fundingRate": "0.00010000", "markPrice": "63050.0"} for k in range(48 // hours)]
    day = parse_funding([_raw("binance", json.dumps(rows).encode())], CUTOFF, ["BTC"])
    found = day.coins["BTC"]["binance"]
    assert found.interval_hours == hours
    assert found.settlements == 24 // hours  # the 24 h before the cut-off
    assert found.annualised(found.latest) == pytest.approx(0.01 * 24 * 365 / hours)
    assert interval_hours([start]) is None  # one settlement says nothing of the interval


def test_a_venue_that_failed_or_answered_an_error_is_unavailable_with_why() -> None:
    failed = _raw("bybit", b"", status=503, error="HTTP 503")
    error = _raw("okx", b'{"code":"51001","msg":"Instrument ID does not exist","data":[]}')
    day = parse_funding([_raw("binance", BINANCE.read_bytes()), failed, error], CUTOFF, ["BTC"])
    assert day.coins["BTC"]["binance"].latest == 0.00005311
    assert day.coins["BTC"]["bybit"].reason == "HTTP 503 on /v5/market/funding/history"
    assert "Instrument ID does not exist" in (day.coins["BTC"]["okx"].reason or "")
    with pytest.raises(ParseError, match="no funding rate: Binance BTC: HTTP 500"):
        parse_funding([_raw("binance", b"", status=500, error="HTTP 500")], CUTOFF, ["BTC"])


def test_an_implausible_rate_is_rejected_not_shown() -> None:
    doc = json.loads(BINANCE.read_bytes())
    doc[1]["fundingRate"] = "0.75"
    day = parse_funding([_raw("binance", json.dumps(doc).encode()), *_recorded()[1:]],
                        CUTOFF, ["BTC"])
    assert day.coins["BTC"]["binance"].latest is None
    assert "rejected as implausible" in (day.coins["BTC"]["binance"].reason or "")


def test_rates_after_the_cutoff_are_never_used() -> None:
    # Report day 2026-08-14: both settlements are of the next day.
    with pytest.raises(ParseError, match="settled no BTC funding before"):
        parse_funding([_raw("binance", BINANCE.read_bytes())],
                      datetime(2026, 8, 15, tzinfo=UTC), ["BTC"])


async def test_a_backdated_run_asks_each_venue_for_the_days_window(
        upstream: Upstream, tmp_path: Path) -> None:
    """Over real sockets: what was asked (method, path, whole query) is the report day and
    the day before, also when today is later; the answer parses for all six figures."""
    day = date(2025, 6, 11)
    upstream.load_day(day, ["funding"])
    config = config_from_mapping(live_config(upstream, tmp_path / "out"))
    source = FundingSource(config)
    today = datetime(2025, 6, 20, 9, tzinfo=UTC)
    async with Http(config.http, clock=FixedClock(today)) as http:
        ctx = FetchContext(report_date=day, today=today.date(), config=config, http=http)
        raws = await source.fetch(ctx)
    start, stop = 1749513600000, 1749686400000  # 2025-06-10 00:00, 2025-06-12 00:00 UTC
    for coin in ("BTC", "ETH"):
        binance = [sorted(r["query"]) for r in upstream.asked("fapi.binance.com")
                   if ("symbol", f"{coin}USDT") in r["query"]]
        assert binance == [sorted([("symbol", f"{coin}USDT"), ("startTime", str(start)),
                                   ("endTime", str(stop - 1)), ("limit", "100")])]
        bybit = [sorted(r["query"]) for r in upstream.asked("api.bybit.com")
                 if ("symbol", f"{coin}USDT") in r["query"]]
        assert bybit == [sorted([("category", "linear"), ("symbol", f"{coin}USDT"),
                                 ("startTime", str(start)), ("endTime", str(stop - 1)),
                                 ("limit", "100")])]
        okx = [sorted(r["query"]) for r in upstream.asked("www.okx.com")
               if ("instId", f"{coin}-USDT-SWAP") in r["query"]]
        assert okx == [sorted([("instId", f"{coin}-USDT-SWAP"), ("before", str(start - 1)),
                               ("after", str(stop)), ("limit", "100")])]
    assert {r["method"] for r in upstream.log} == {"GET"}
    assert {r["path"].split("?")[0] for r in upstream.log} == {
        "/fapi.binance.com/fapi/v1/fundingRate", "/api.bybit.com/v5/market/funding/history",
        "/www.okx.com/api/v5/public/funding-rate-history"}
    model = source.parse(raws, ParseContext(report_date=day, is_past=True))
    assert model.end == datetime(2025, 6, 12, tzinfo=UTC)  # the cut-off, not "now"
    assert all(v.latest is not None and v.interval_hours == 8
               for per in model.coins.values() for v in per.values())


async def test_a_venue_down_leaves_the_others_and_says_why(upstream: Upstream,
                                                           tmp_path: Path) -> None:
    day = date(2025, 6, 11)
    upstream.load_day(day, ["funding"])
    upstream.faults["www.okx.com"] = "500"
    config = config_from_mapping(live_config(upstream, tmp_path / "out"))
    source = FundingSource(config)
    now = datetime(2025, 6, 11, 23, 58, tzinfo=UTC)
    async with Http(config.http, clock=FixedClock(now)) as http:
        ctx = FetchContext(report_date=day, today=day, config=config, http=http)
        raws = await source.fetch(ctx)
    model = source.parse(raws, ParseContext(report_date=day))
    brief = _brief(day, model, source, now)
    figures = {f.label: f for f in brief.section(DERIVATIVES.id).figures}
    okx = figures["BTC funding, OKX"]
    assert not okx.available and "HTTP 500" in (okx.reason or "")
    assert okx.reason.startswith("unavailable for 2025-06-11: ")  # type: ignore[union-attr]
    assert figures["BTC funding, Binance"].available and figures["ETH funding, Bybit"].available


def _brief(day: date, model: FundingDay, source: FundingSource, now: datetime) -> Brief:
    snapshot = SourceSnapshot(source="funding", report_date=day, ok=True, method="live",
                              fetched_at=now, as_of=model.as_of, data=model)
    return build_brief(day, {"funding": snapshot}, {}, contributors=[source], title="t",
                       zone="UTC", generated_at=now, sample=False)


def test_registered_and_its_figures_read_in_the_briefs_style() -> None:
    assert FundingSource in source_classes()
    config = config_from_mapping({})
    source = FundingSource(config)
    assert source.supports_past and not source.needs_previous_day
    # The venues' hosts are the liquidation map's.
    assert source.settings.okx_url == config.settings_for("liquidation", LiqConfig).okx_url
    day = date(2026, 8, 15)
    model = parse_funding(_recorded(), CUTOFF, ["BTC"])
    brief = _brief(day, model, source, FETCHED)
    section = brief.section(DERIVATIVES.id)
    assert section.title == "Derivatives"
    figures = {f.label: f for f in section.figures}
    binance = figures["BTC funding, Binance"]
    assert figure_value(binance) == "0.0053%"
    assert binance.note == "5.82% a year · 24 h avg 0.0059% (6.48% a year) · 8-hourly"
    assert not figures["ETH funding, Binance"].available  # not in this answer
    assert any(n.startswith("Funding: the last rate each venue settled") for n in section.notes)


def test_fetch_window_does_not_depend_on_now() -> None:
    """The request for a day is the same whenever it is made (live, or backdated later):
    the sample's recordings answer both."""
    start = datetime(2025, 6, 10, tzinfo=UTC)
    end = start + timedelta(days=2)
    assert request_for("binance", "ETH", start, end) == {
        "symbol": "ETHUSDT", "startTime": 1749513600000, "endTime": 1749686399999, "limit": 100}
    assert request_for("okx", "BTC", start, end) == {
        "instId": "BTC-USDT-SWAP", "before": 1749513599999, "after": 1749686400000,
        "limit": 100}
