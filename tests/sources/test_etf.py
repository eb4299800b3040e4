"""ETF flows: Farside table parsing, day selection, fetch (403, SoSoValue fallback)."""

from __future__ import annotations

import dataclasses
import html
import json
from datetime import date
from pathlib import Path

import httpx
import pytest

from reportgen.config import HttpSettings, config_from_mapping
from reportgen.errors import FetchError, ParseError
from reportgen.http import Http
from reportgen.sample import load_raws, sample_days
from reportgen.sources.base import FetchContext, ParseContext
from reportgen.sources.etf import SOSOVALUE_KEY_ENV, EtfConfig, EtfSource, day_flows
from reportgen.sources.farside import parse_cell, parse_farside_html

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "etf"

DEFAULTS = config_from_mapping({})


def cells_page(records: list[dict[str, str]]) -> str:
    """The real cell texts of the fberger capture, put back into a table.etf (that capture
    kept the cells, not the HTML)."""
    keys = list(records[0])
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(r[k])}</td>" for k in keys) + "</tr>" for r in records
    )
    return f"<html><body><table class='etf'><thead><tr>{head}</tr></thead>" \
           f"<tbody>{rows}</tbody></table></body></html>"


@pytest.fixture(scope="module")
def fberger_table():
    records = json.loads((FIXTURES / "btc_flow_all_data_cells_2024-10-31.json").read_text())
    return parse_farside_html(cells_page(records), label="BTC")


def test_real_capture_parses(fberger_table) -> None:
    t = fberger_table
    assert t.tickers == ["IBIT", "FBTC", "BITB", "ARKB", "BTCO", "EZBC", "BRRR", "HODL",
                         "BTCW", "GBTC", "BTC"]
    assert t.rows[0].day == date(2024, 1, 11)
    assert t.rows[0].flows["GBTC"] == -95.1 and t.rows[0].flows["BTC"] is None
    assert t.rows[0].total == 655.3
    assert t.summary["Total"]["GBTC"] == -20061.9
    assert t.summary["Total"]["Total"] == 22005.9
    assert set(t.summary) == {"Total", "Average", "Maximum", "Minimum"}


def test_real_capture_holiday_row_is_non_trading(fberger_table) -> None:
    # 15 Jan 2024 (MLK day) is a row of "-" on Farside.
    day = day_flows(fberger_table, "BTC", date(2024, 1, 15))
    assert day.status == "non_trading"
    assert day.flow_date == date(2024, 1, 12)
    assert day.total_musd == 203.0
    assert day.cumulative_musd == 858.3  # 655.3 + 203.0
    assert "holiday" in day.note and "2024-01-12" in day.note


def test_real_capture_weekend(fberger_table) -> None:
    day = day_flows(fberger_table, "BTC", date(2024, 1, 13))
    assert day.status == "non_trading" and "weekend" in day.note
    assert day.flow_date == date(2024, 1, 12)


def test_real_capture_latest_all_zero_is_not_reported(fberger_table) -> None:
    # The capture's last day (31 Oct 2024) is all 0.0: not yet reported, not zero flows.
    day = day_flows(fberger_table, "BTC", date(2024, 10, 31))
    assert day.status == "not_reported"
    assert "not yet reported" in day.note
    assert day.flow_date == date(2024, 10, 30)
    assert day.total_musd == 893.3


def test_real_capture_odd_total_row_is_flagged(fberger_table) -> None:
    # 29 Oct 2024: funds filled but Farside's Total still 0.0 in that capture (not the
    # latest row, so it is shown as published, with a note).
    day = day_flows(fberger_table, "BTC", date(2024, 10, 29))
    assert day.status == "reported"
    assert day.total_musd == 0.0
    assert "differs from the sum" in day.note


@pytest.fixture(scope="module")
def juanbarmo_table():
    # Real Farside table markup (tests/fixtures/PROVENANCE.md): blank first header cell,
    # issuer-logo and fee header rows, U+00A0-padded tickers, redFont negatives.
    page = (FIXTURES / "farside_btc_table_juanbarmo10_2026-07-23.html").read_text(encoding="utf-8")
    return parse_farside_html(page, label="BTC")


def test_real_html_page_without_date_header_parses(juanbarmo_table) -> None:
    t = juanbarmo_table
    assert t.tickers == ["IBIT", "FBTC", "BITB", "ARKB", "BTCO", "EZBC", "BRRR", "HODL",
                         "BTCW", "MSBT", "GBTC", "BTC"]
    assert [r.day for r in t.rows][:2] == [date(2026, 7, 6), date(2026, 7, 7)]
    assert t.rows[0].flows["GBTC"] == -44.5 and t.rows[0].total == 265.7
    assert t.summary["Total"]["IBIT"] == 60809.0 and t.summary["Total"]["GBTC"] == -27416.0
    assert t.summary["Maximum"]["Total"] == 1373.8 and t.summary["Minimum"]["Total"] == -1113.7


def test_real_provisional_row_is_not_a_holiday_nor_zero_flows(juanbarmo_table) -> None:
    # 23 Jul 2026 (a Thursday) is the table's newest row: every fund "-", Total 0.0.
    day = day_flows(juanbarmo_table, "BTC", date(2026, 7, 23))
    assert day.status == "not_reported"
    assert "holiday" not in day.note.split(":")[0] and "no figures yet" in day.note
    assert day.flow_date == date(2026, 7, 22) and day.total_musd == 69.1
    assert day.cumulative_musd == 772.0  # 6-22 Jul 2026 only: the excerpt starts on 6 Jul
    assert day_flows(juanbarmo_table, "BTC", date(2026, 7, 22)).status == "reported"


def test_cumulative_uses_rows_up_to_date_only(fberger_table) -> None:
    day = day_flows(fberger_table, "BTC", date(2024, 1, 17))
    assert day.cumulative_musd == round(655.3 + 203.0 - 52.7 + 453.8, 1)
    ibit = next(f for f in day.funds if f.ticker == "IBIT")
    assert ibit.flow_musd == 371.4
    assert ibit.cumulative_musd == round(111.7 + 386.0 + 212.7 + 371.4, 1)
    assert day.cumulative_from == date(2024, 1, 11)


def test_partial_latest_row_withholds_total() -> None:
    page = ("<table class='etf'><tr><th>Date</th><th>IBIT</th><th>FBTC</th><th>Total</th></tr>"
            "<tr><td>10 Jun 2025</td><td>10.0</td><td>5.0</td><td>15.0</td></tr>"
            "<tr><td>11 Jun 2025</td><td>20.0</td><td>0.0</td><td>0.0</td></tr>"
            "<tr><td>Total</td><td>30.0</td><td>5.0</td><td>15.0</td></tr></table>")
    day = day_flows(parse_farside_html(page), "BTC", date(2025, 6, 11))
    assert day.status == "partial" and day.total_musd is None
    assert day.cumulative_musd == 15.0
    assert [f.flow_musd for f in day.funds] == [20.0, 0.0]


def test_weekday_without_row_and_no_later_rows_is_not_reported() -> None:
    page = ("<table class='etf'><tr><th>Date</th><th>IBIT</th><th>Total</th></tr>"
            "<tr><td>10 Jun 2025</td><td>10.0</td><td>10.0</td></tr>"
            "<tr><td>Total</td><td>10.0</td><td>10.0</td></tr></table>")
    day = day_flows(parse_farside_html(page), "BTC", date(2025, 6, 11))
    assert day.status == "not_reported" and day.flow_date == date(2025, 6, 10)


def test_truncated_page_fails_loudly() -> None:
    # A body cut after its day rows must not pass for a table whose last day is the latest.
    page = ("<table class='etf'><tr><th>Date</th><th>IBIT</th><th>Total</th></tr>"
            "<tr><td>09 Jun 2025</td><td>10.0</td><td>10.0</td></tr>"
            "<tr><td>10 Jun 2025</td><td>20.0</td><td>20.0</td></tr>")
    with pytest.raises(ParseError, match="truncated"):
        parse_farside_html(page)


def test_stale_table_shows_no_figures() -> None:
    page = ("<table class='etf'><tr><th>Date</th><th>IBIT</th><th>Total</th></tr>"
            "<tr><td>27 Sep 2024</td><td>10.0</td><td>10.0</td></tr>"
            "<tr><td>Total</td><td>10.0</td><td>10.0</td></tr></table>")
    day = day_flows(parse_farside_html(page), "BTC", date(2025, 6, 11))
    assert day.status == "no_data" and not day.funds and "stale or truncated" in day.note


def test_multi_row_header_layout() -> None:
    # Issuer / ticker / fee header rows, "Total" only in the issuer row (ETH page style).
    page = ("<table class='etf'><thead>"
            "<tr><th></th><th>Blackrock</th><th>Fidelity</th><th>Total</th></tr>"
            "<tr><th>Date</th><th>ETHA</th><th>FETH</th><th></th></tr>"
            "<tr><th>Fee</th><th>0.25%</th><th>0.25%</th><th></th></tr></thead>"
            "<tbody><tr><td>23 Jul 2024</td><td>266.5</td><td>71.3</td><td>337.8</td></tr>"
            "<tr><td>Total</td><td>266.5</td><td>71.3</td><td>337.8</td></tr>"
            "</tbody></table>")
    t = parse_farside_html(page, label="ETH")
    assert t.tickers == ["ETHA", "FETH"] and t.rows[0].total == 337.8


def test_one_odd_column_costs_that_fund_not_the_table(fberger_table) -> None:
    records = json.loads((FIXTURES / "btc_flow_all_data_cells_2024-10-31.json").read_text())
    # Farside renames one header to something that is no ticker, and one cell of another
    # fund is not a figure: those two funds are left out, named; the rest is read.
    odd = [{("Bitwise" if k == "BITB" else k): v for k, v in r.items()} for r in records]
    odd[3]["HODL"] = "n/a"
    table = parse_farside_html(cells_page(odd), label="BTC")
    assert table.tickers == [t for t in fberger_table.tickers if t not in ("BITB", "HODL")]
    assert set(table.unreadable) == {"column 4", "HODL"}
    assert "names no fund ticker (['Bitwise'])" in table.unreadable["column 4"]
    assert "cannot read cell 'n/a'" in table.unreadable["HODL"]
    assert [r.total for r in table.rows] == [r.total for r in fberger_table.rows]  # Farside's own
    day = day_flows(table, "BTC", date(2024, 10, 30))
    assert day.status == "reported" and day.total_musd == day_flows(
        fberger_table, "BTC", date(2024, 10, 30)).total_musd
    assert [f.ticker for f in day.funds] == table.tickers
    assert "2 fund column(s) of Farside's table could not be read" in day.note
    assert "the total is Farside's own" in day.note


@pytest.mark.parametrize(("text", "value"), [
    ("(95.1)", -95.1), ("1,045.0", 1045.0), ("(20,061.9)", -20061.9), ("-", None),
    ("0.0", 0.0), ("-12.5", -12.5), ("", None),
])
def test_parse_cell(text: str, value: float | None) -> None:
    assert parse_cell(text, where="test") == value


@pytest.mark.parametrize(("page", "message"), [
    ("<html><body><table><tr><td>x</td></tr></table></body></html>", "no <table"),
    ("<table class='etf'><tr><th>Day</th><th>IBIT</th><th>Total</th></tr>"
     "<tr><td>11 Jan 2024</td><td>1.0</td><td>1.0</td></tr></table>", "'Date'"),
    ("<table class='etf'><tr><th>Date</th><th>IBIT</th><th>Sum</th></tr>"
     "<tr><td>11 Jan 2024</td><td>1.0</td><td>1.0</td></tr></table>", "not 'Total'"),
    ("<table class='etf'><tr><th>Date</th><th>IBIT</th><th>Total</th></tr>"
     "<tr><td>11 Jan 2024</td><td>n/a</td><td>1.0</td></tr></table>", "cannot read cell 'n/a'"),
    ("<table class='etf'><tr><th>Date</th><th>IBIT</th><th>Total</th></tr>"
     "<tr><td>11 Jan 2024</td><td>1.0</td><td>1.0</td></tr>"
     "<tr><td>12 Jan 2024</td><td>1.0</td></tr></table>", "has 2 cells, expected 3"),
    ("<table class='etf'><tr><th>Date</th><th>IBIT</th><th>Total</th></tr>"
     "<tr><td>11 Jan 2024</td><td>1.0</td><td>1.0</td></tr>"
     "<tr><td>Median</td><td>1.0</td><td>1.0</td></tr></table>", "unexpected row label"),
    ("<table class='etf'><tr><th>Date</th><th>Total</th></tr>"
     "<tr><td>11 Jan 2024</td><td>1.0</td></tr></table>", "names no fund"),
    ("<table class='etf'><tr><th>Date</th><th>IBIT</th><th>Total</th></tr></table>",
     "no day rows"),
])
def test_layout_changes_raise(page: str, message: str) -> None:
    with pytest.raises(ParseError, match=message.replace("(", r"\(")):
        parse_farside_html(page, label="BTC")


def test_sample_days_are_real_published_figures() -> None:
    # Farside's published daily figures (ciyberpunk/farside-etf CSV, see PROVENANCE.md).
    expected_btc = {date(2025, 6, 5): -278.4, date(2025, 6, 6): -47.8,
                    date(2025, 6, 9): 386.2, date(2025, 6, 10): 431.2,
                    date(2025, 6, 11): 164.6}
    expected_eth = {date(2025, 6, 5): 11.3, date(2025, 6, 6): 25.3, date(2025, 6, 9): 52.7,
                    date(2025, 6, 10): 125.0, date(2025, 6, 11): 240.3}
    source = EtfSource(DEFAULTS)
    for day in sample_days():
        flows = source.parse(load_raws("etf_farside", day), ParseContext(report_date=day))
        btc, eth = flows.assets["BTC"], flows.assets["ETH"]
        if day.weekday() >= 5:
            assert btc.status == eth.status == "non_trading"
            assert btc.flow_date == date(2025, 6, 6)
        else:
            assert btc.status == "reported" and btc.total_musd == expected_btc[day]
            assert eth.status == "reported" and eth.total_musd == expected_eth[day]
    last = source.parse(load_raws("etf_farside", date(2025, 6, 11)),
                        ParseContext(report_date=date(2025, 6, 11)))
    assert last.assets["BTC"].cumulative_musd == 45204.8
    assert last.assets["ETH"].cumulative_musd == 3763.0
    fbtc = next(f for f in last.assets["BTC"].funds if f.ticker == "FBTC")
    assert fbtc.flow_musd == 11.9


def test_sample_page_never_uses_rows_after_report_date() -> None:
    raws = load_raws("etf_farside", date(2025, 6, 11))
    ctx = ParseContext(report_date=date(2025, 6, 6))
    early = EtfSource(DEFAULTS).parse(raws, ctx)
    own = EtfSource(DEFAULTS).parse(load_raws("etf_farside", date(2025, 6, 6)), ctx)
    assert early.assets == own.assets


def _ctx(client: httpx.AsyncClient, secrets: dict[str, str] | None = None) -> FetchContext:
    from reportgen.config import Config

    return FetchContext(report_date=date(2025, 6, 11), today=date(2025, 6, 12), config=Config(),
                        http=client, secrets=secrets or {})


async def test_fetch_403_is_reported_as_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SOSOVALUE_KEY_ENV, raising=False)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(403, text="<html>Just a moment...</html>")

    async with Http(HttpSettings(), transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(FetchError, match=r"Farside refused the request \(HTTP 403\)") as err:
            await EtfSource(DEFAULTS).fetch(_ctx(client))
    assert err.value.status == 403 and err.value.raw is not None
    assert "Mozilla" in seen[0].headers["user-agent"]  # browser headers were sent


async def test_fetch_tags_assets_and_parses() -> None:
    pages = {d: r for d, r in ((r.url, r) for r in load_raws("etf_farside", date(2025, 6, 11)))}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=pages[str(request.url)].body)

    async with Http(HttpSettings(), transport=httpx.MockTransport(handler)) as client:
        raws = await EtfSource(DEFAULTS).fetch(_ctx(client))
    assert [r.headers["x-reportgen-asset"] for r in raws] == ["BTC", "ETH"]
    flows = EtfSource(DEFAULTS).parse(raws, ParseContext(report_date=date(2025, 6, 11)))
    assert flows.assets["ETH"].total_musd == 240.3


async def test_sosovalue_fallback_when_key_set() -> None:
    # Shape from the documentation (no real recording exists); figures in USD.
    answer = {"code": 0, "data": {"list": [
        {"date": "2025-06-10", "totalNetInflow": 431200000, "cumNetInflow": 45040200000},
        {"date": "2025-06-11", "totalNetInflow": 164600000, "cumNetInflow": 45204800000},
    ]}}
    bodies: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if "farside" in request.url.host:
            return httpx.Response(403)
        assert request.headers["x-soso-api-key"] == "k"
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=answer)

    async with Http(HttpSettings(), transport=httpx.MockTransport(handler)) as client:
        raws = await EtfSource(DEFAULTS).fetch(_ctx(client, {"sosovalue_key": "k"}))
    assert bodies == [{"type": "us-btc-spot"}, {"type": "us-eth-spot"}]
    assert raws[0].status == 403  # the refusal is kept for the archive
    flows = EtfSource(DEFAULTS).parse(raws, ParseContext(report_date=date(2025, 6, 11)))
    btc = flows.assets["BTC"]
    assert btc.source == "sosovalue" and btc.total_musd == 164.6
    assert btc.cumulative_musd == 45204.8 and btc.funds == []


def test_config_forbids_unknown_keys() -> None:
    with pytest.raises(ValueError):
        EtfConfig.model_validate({"farside_url": "x"})


def test_one_asset_layout_change_keeps_the_other() -> None:
    raws = load_raws("etf_farside", date(2025, 6, 11))
    broken = [r if r.headers["x-reportgen-asset"] == "BTC" else
              dataclasses.replace(r, body=b"<html><p>Just a moment...</p></html>") for r in raws]
    flows = EtfSource(DEFAULTS).parse(broken, ParseContext(report_date=date(2025, 6, 11)))
    assert flows.assets["BTC"].total_musd == 164.6
    assert "no <table" in flows.unavailable["ETH"]
    with pytest.raises(ParseError, match="no usable payload"):
        EtfSource(DEFAULTS).parse(
            [dataclasses.replace(r, body=b"<html></html>") for r in raws],
            ParseContext(report_date=date(2025, 6, 11)),
        )
