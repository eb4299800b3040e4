"""US spot BTC and ETH ETF net flows: Farside Investors by default, SoSoValue as fallback.

Fetch: Farside's two "all data" pages (full history since launch, so a past date is
answered from the same page, using rows up to that date only). Farside refuses plain
clients, so the browser headers are sent; a 403 is reported as a refusal. When Farside
fails and `REPORTGEN_SOSOVALUE_KEY` is set, SoSoValue's history endpoint is asked instead
(totals only, no per-fund split).

Parse, for report date D and each asset:
- a row for D with figures → "reported": per-fund flows, Total, cumulative;
- D's row is the table's latest and all 0.0 → "not_reported" (Farside's placeholder, not a
  zero-flow day); funds filled but Total still 0.0 → "partial" (Total withheld);
- no row for D (weekend) or a holiday row of "-" → "non_trading", showing the last trading
  day's figures labelled with that day; a weekday with no row yet and no later rows →
  "not_reported" likewise, and so is a weekday whose row is the table's newest and all "-"
  (Farside's provisional row: not yet reported, not a holiday nor a zero-flow day).
Cumulative = sum of Farside's daily Total over every day row from the table's first row
(fund launch, 11 Jan 2024 for BTC, 23 Jul 2024 for ETH) through the day shown; "-" counts
as 0. Farside's own summary "Total" row is not used: it may disagree with the day rows and
always covers the whole table, including days after D.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, datetime, timedelta
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from reportgen import numbers, trends
from reportgen.clock import day_start
from reportgen.errors import FetchError, ParseError
from reportgen.figures import CustomSection
from reportgen.models import RawPayload
from reportgen.settings import SourceSettings
from reportgen.sources.base import FetchContext, ParseContext, Source
from reportgen.sources.farside import FarsideRow, FarsideTable, parse_farside_html
from reportgen.sources.sosovalue import API_KEY_HEADER, ASSET_TYPES, parse_sosovalue
from reportgen.view import EtfRow, EtfTable, Section, SourceRef, direction

Asset = Literal["BTC", "ETH"]
ASSETS: tuple[Asset, ...] = ("BTC", "ETH")
# Marker header we add to each raw payload so parse knows which asset it holds (SoSoValue
# answers both assets at the same URL; the request body is not archived).
ASSET_HEADER = "x-reportgen-asset"
SOSOVALUE_KEY_ENV = "REPORTGEN_SOSOVALUE_KEY"
# Farside rounds each cell to 0.1; a Total further than this from the sum of its funds is
# flagged in the note (the figure shown stays Farside's own).
TOTAL_TOLERANCE_MUSD = 0.5
# A table whose last trading day is further back than this is stale or truncated.
STALE_AFTER_DAYS = 7


class EtfConfig(SourceSettings):
    """Config key `etf`."""

    farside_btc_url: str = "https://farside.co.uk/bitcoin-etf-flow-all-data/"
    farside_eth_url: str = "https://farside.co.uk/ethereum-etf-flow-all-data/"
    sosovalue_url: str = "https://api.sosovalue.xyz/openapi/v2/etf/historicalInflowChart"
    # Ask SoSoValue when Farside fails and the key is present in the environment.
    sosovalue_fallback: bool = True
    timeout_s: float = Field(default=30.0, gt=0)


# The funds' names beside Farside's tickers ("BTC" and "ETH" are Grayscale's mini trusts,
# not the coins). A ticker not listed here is shown alone.
FUND_NAMES: dict[str, dict[str, str]] = {
    "BTC": {
        "IBIT": "iShares Bitcoin Trust ETF",
        "FBTC": "Fidelity Wise Origin Bitcoin Fund",
        "BITB": "Bitwise Bitcoin ETF",
        "ARKB": "ARK 21Shares Bitcoin ETF",
        "BTCO": "Invesco Galaxy Bitcoin ETF",
        "EZBC": "Franklin Bitcoin ETF",
        "BRRR": "CoinShares Bitcoin ETF",
        "HODL": "VanEck Bitcoin ETF",
        "BTCW": "WisdomTree Bitcoin Fund",
        "DEFI": "Hashdex Bitcoin ETF",
        "GBTC": "Grayscale Bitcoin Trust ETF",
        "BTC": "Grayscale Bitcoin Mini Trust ETF",
    },
    "ETH": {
        "ETHA": "iShares Ethereum Trust ETF",
        "FETH": "Fidelity Ethereum Fund",
        "ETHW": "Bitwise Ethereum ETF",
        "TETH": "21Shares Core Ethereum ETF",
        "CETH": "21Shares Core Ethereum ETF",
        "ETHV": "VanEck Ethereum ETF",
        "QETH": "Invesco Galaxy Ethereum ETF",
        "EZET": "Franklin Ethereum ETF",
        "ETHE": "Grayscale Ethereum Trust ETF",
        "ETH": "Grayscale Ethereum Mini Trust ETF",
    },
}


class FundFlow(BaseModel):
    """One fund's net flow for the day shown (US$ m; None = no figure, "-" on Farside)."""

    ticker: str
    flow_musd: float | None
    cumulative_musd: float
    name: str = ""  # the fund's name (FUND_NAMES), "" when unknown


EtfStatus = Literal["reported", "partial", "not_reported", "non_trading", "no_data"]


class EtfDay(BaseModel):
    """One asset's ETF flows as of the report date."""

    asset: Asset
    status: EtfStatus
    report_date: date
    flow_date: date | None = None          # the trading day whose figures are shown
    funds: list[FundFlow] = []
    total_musd: float | None = None
    cumulative_musd: float | None = None   # through flow_date (see module docstring)
    cumulative_from: date | None = None    # first day row the cumulative includes
    # Farside's daily Total of every trading day from launch through flow_date (holiday
    # rows of "-" left out), oldest first: for the chart, records and streaks.
    history: list[tuple[date, float]] = []
    note: str = ""
    source: str = "farside"
    url: str | None = None


class EtfFlows(BaseModel):
    """The ETF section's data: one EtfDay per asset, or why that asset is missing."""

    report_date: date
    assets: dict[Asset, EtfDay] = {}
    unavailable: dict[str, str] = {}
    as_of: datetime | None = None  # start of the oldest trading day shown (the row's date)


def _fmt(day: date) -> str:
    return numbers.day(day)


def _cumulative(rows: list[FarsideRow], tickers: list[str]) -> tuple[float, dict[str, float]]:
    total = round(sum(r.total or 0.0 for r in rows), 1)
    per_fund = {t: round(sum(r.flows.get(t) or 0.0 for r in rows), 1) for t in tickers}
    return total, per_fund


def _figures(asset: Asset, report_date: date, table: FarsideTable, shown: list[FarsideRow],
             status: EtfStatus, note: str, url: str | None, *, withhold_total: bool = False,
             ) -> EtfDay:
    row = shown[-1]
    cum_rows = shown
    if withhold_total:
        cum_rows = shown[:-1]  # Farside has not totalled this day yet
    cum_total, cum_funds = _cumulative(cum_rows, table.tickers)
    names = FUND_NAMES.get(asset, {})
    funds = [FundFlow(ticker=t, flow_musd=row.flows.get(t), cumulative_musd=cum_funds[t],
                      name=names.get(t, "")) for t in table.tickers]
    history = [(r.day, r.total) for r in cum_rows if r.total is not None and not r.all_dashes()]
    total = None if withhold_total else row.total
    present = [v for v in row.flows.values() if v is not None]
    if table.unreadable:
        left_out = "; ".join(f"{name}: {why}" for name, why in table.unreadable.items())
        note = (note + " " if note else "") + (
            f"{len(table.unreadable)} fund column(s) of Farside's table could not be read and "
            f"are left out of the funds listed ({left_out}); the total is Farside's own.")
    elif total is not None and present and abs(sum(present) - total) > TOTAL_TOLERANCE_MUSD:
        note = (note + " " if note else "") + (
            f"Farside's Total ({total:,.1f}) differs from the sum of the funds "
            f"({sum(present):,.1f}); Farside's Total is shown."
        )
    return EtfDay(
        asset=asset, status=status, report_date=report_date, flow_date=row.day, funds=funds,
        total_musd=total, cumulative_musd=cum_total,
        cumulative_from=table.rows[0].day if table.rows else None, history=history,
        note=note, url=url,
    )


def day_flows(table: FarsideTable, asset: Asset, report_date: date,
              url: str | None = None) -> EtfDay:
    """The flows of `asset` for `report_date` from a parsed Farside table (rows after the
    report date are never used). See the module docstring for the statuses."""
    upto = [r for r in table.rows if r.day <= report_date]
    later = any(r.day > report_date for r in table.rows)
    if not upto:
        return EtfDay(asset=asset, status="no_data", report_date=report_date, url=url,
                      note=f"Farside's {asset} table has no row on or before "
                           f"{_fmt(report_date)} (funds not trading yet).")
    last = upto[-1]
    if last.day == report_date and not last.all_dashes():
        if not later and last.all_zero():
            traded = [r for r in upto[:-1] if not r.all_dashes()]
            note = (f"{asset} ETF flows for {_fmt(report_date)} not yet reported by Farside "
                    "(its row is still all 0.0).")
            if not traded:
                return EtfDay(asset=asset, status="not_reported", report_date=report_date,
                              url=url, note=note)
            prev = upto[: upto.index(traded[-1]) + 1]
            return _figures(asset, report_date, table, prev, "not_reported",
                            note + f" Figures shown are for {_fmt(traded[-1].day)}.", url)
        if not later and last.total == 0.0 and any(v for v in last.flows.values()):
            return _figures(asset, report_date, table, upto, "partial",
                            f"Farside has filled some funds for {_fmt(report_date)} but not "
                            "its Total yet; figures may change.", url, withhold_total=True)
        return _figures(asset, report_date, table, upto, "reported", "", url)

    traded = [r for r in upto if not r.all_dashes()]
    if not traded:
        return EtfDay(asset=asset, status="no_data", report_date=report_date, url=url,
                      note=f"No {asset} ETF trading day on or before {_fmt(report_date)}.")
    shown = upto[: upto.index(traded[-1]) + 1]
    if (report_date - traded[-1].day).days > STALE_AFTER_DAYS and not later:
        # No US market closes for a week: a table ending that early is stale or cut short.
        return EtfDay(asset=asset, status="no_data", report_date=report_date, url=url,
                      note=f"Farside's {asset} table ends at {_fmt(traded[-1].day)}, more than "
                           f"{STALE_AFTER_DAYS} days before {_fmt(report_date)}: stale or "
                           "truncated page, figures not shown.")
    if last.day == report_date and not later and report_date.weekday() < 5:
        # The table's newest row all "-" (Total 0.0) is Farside's provisional row for a day
        # no fund has reported yet; on that day it cannot be told from a holiday row.
        why = (f"Farside's {asset} row for {_fmt(report_date)} has no figures yet (every "
               "fund '-'): not yet reported, or a US market holiday")
        status: EtfStatus = "not_reported"
    elif last.day == report_date:  # a holiday row of "-"
        why = f"{_fmt(report_date)} was a US market holiday (no ETF trading)"
        status = "non_trading"
    elif not later and report_date.weekday() < 5:
        why = f"Farside has not published {asset} ETF flows for {_fmt(report_date)} yet"
        status = "not_reported"
    else:
        kind = "a weekend" if report_date.weekday() >= 5 else "a US market holiday"
        why = f"{_fmt(report_date)} was {kind} (no ETF trading)"
        status = "non_trading"
    note = f"{why}; figures shown are for the last trading day, {_fmt(traded[-1].day)}."
    return _figures(asset, report_date, table, shown, status, note, url)


def sosovalue_day_flows(body: bytes, asset: Asset, report_date: date,
                        url: str | None = None) -> EtfDay:
    """The flows of `asset` for `report_date` from a SoSoValue answer (totals only;
    cumulative is SoSoValue's own cumNetInflow)."""
    days = [d for d in parse_sosovalue(body, asset=asset) if d.day <= report_date]
    if not days:
        return EtfDay(asset=asset, status="no_data", report_date=report_date,
                      source="sosovalue", url=url,
                      note=f"SoSoValue has no {asset} day on or before {_fmt(report_date)}.")
    last = days[-1]
    note = "SoSoValue gives totals only (no per-fund split)."
    status: EtfStatus = "reported"
    if last.day != report_date:
        status = "non_trading" if report_date.weekday() >= 5 else "not_reported"
        note = (f"No SoSoValue figure for {_fmt(report_date)}; figures shown are for "
                f"{_fmt(last.day)}. " + note)
    return EtfDay(
        asset=asset, status=status, report_date=report_date, flow_date=last.day,
        total_musd=round(last.total_musd, 1),
        cumulative_musd=round(last.cumulative_musd, 1) if last.cumulative_musd is not None
        else None,
        cumulative_from=None, note=note, source="sosovalue", url=url,
    )


def _tag(raw: RawPayload, asset: Asset) -> RawPayload:
    return dataclasses.replace(raw, headers={**raw.headers, ASSET_HEADER: asset})


def _asset_of(raw: RawPayload, cfg: EtfConfig) -> Asset | None:
    import httpx

    tagged = raw.headers.get(ASSET_HEADER)
    for asset in ASSETS:
        if tagged == asset:
            return asset
    url = str(httpx.URL(raw.url))
    if url == str(httpx.URL(cfg.farside_btc_url)) or "bitcoin" in url:
        return "BTC"
    if url == str(httpx.URL(cfg.farside_eth_url)) or "ethereum" in url:
        return "ETH"
    return None


def _is_sosovalue(raw: RawPayload, cfg: EtfConfig) -> bool:
    import httpx

    return str(httpx.URL(raw.url)) == str(httpx.URL(cfg.sosovalue_url)) or "sosovalue" in raw.url


def farside_refusal(err: FetchError, url: str) -> FetchError:
    """Turn a Farside 403 into a message that says what happened; other errors pass."""
    if err.status != 403:
        return err
    new = FetchError(
        f"Farside refused the request (HTTP 403) for {url}: it blocks non-browser "
        "clients/datacentre IPs", status=403,
    )
    new.raw = err.raw
    return new


TITLE = "Spot ETF flows"


# Trading days the section's chart covers.
CHART_DAYS = 30


def _fmt_day(day: date) -> str:
    return numbers.day(day)


def _table(day: date, asset: Asset, flows: EtfFlows) -> EtfTable:
    found = flows.assets.get(asset)
    if found is None:
        why = flows.unavailable.get(asset, "no data")
        return EtfTable(asset=asset, label=day.isoformat(), reason=f"unavailable for {day}: {why}")
    if found.status == "no_data" or found.flow_date is None:
        return EtfTable(asset=asset, label=day.isoformat(),
                        reason=f"unavailable for {day}: {found.note or found.status}")
    flow_day = found.flow_date
    label = _fmt_day(flow_day) + ("" if flow_day == day
                                  else f" ({flow_day:%A}, last trading day)")
    rows = [EtfRow(fund=f.ticker, flow=f.flow_musd, direction=direction(f.flow_musd),
                   name=f.name) for f in found.funds]
    total = found.total_musd
    before = [(d, v) for d, v in found.history if d < flow_day]
    remarks = (trends.flow_remarks(total, before, launched=found.cumulative_from)
               if total is not None and found.status != "partial" else [])
    ranked = (trends.rank(total, before)
              if total is not None and found.status != "partial" else None)
    recent = [(d, v) for d, v in found.history if d <= flow_day][-CHART_DAYS:]
    return EtfTable(asset=asset, label=label, note=found.note or None, rows=rows,
                    total=total, total_direction=direction(total),
                    cumulative=found.cumulative_musd, flow_date=flow_day, remarks=remarks,
                    rank=ranked, recent=recent,
                    chart=f"charts/etf_{asset.lower()}.svg" if len(recent) >= 2 else None)


def etf_section(day: date, flows: EtfFlows, ref: SourceRef | None) -> Section:
    """US spot BTC and ETH ETF net flows per fund, total and running total."""
    title = TITLE
    tables = [_table(day, asset, flows) for asset in ASSETS]
    missing = [t for t in tables if t.reason]
    if len(missing) == len(tables):
        # Neither table has figures (e.g. a date before the funds launched): the section is
        # unavailable, not "ok" with two empty tables.
        return Section(id="etf", title=title, kind="etf", source=ref,
                       reason=f"unavailable for {day}: " + "; ".join(
                           f"{t.asset}: {(t.reason or '').removeprefix(f'unavailable for {day}: ')}"
                           for t in missing))
    text = ["Net flows in US$ millions as published by Farside Investors; negative = outflow. "
            "Running total = sum of Farside's daily totals from each fund's launch to the day shown."]
    return Section(id="etf", title=title, kind="etf", tables=tables, text=text, source=ref,
                   gaps=[f"{t.asset} ETF flows" for t in missing])


class EtfSource(Source[EtfConfig]):
    """US spot BTC/ETH ETF flows (Farside, SoSoValue fallback)."""

    name: ClassVar[str] = "etf_farside"
    title: ClassVar[str] = "US spot ETF flows (Farside Investors)"
    credit: ClassVar[str | None] = "Farside Investors, US spot ETF flows"
    link: ClassVar[str | None] = "https://farside.co.uk/"
    history: ClassVar[str] = (
        "Farside's all-data pages hold every trading day since launch; rows up to the "
        "report date are used"
    )
    supports_past: ClassVar[bool] = True
    required: ClassVar[bool] = False
    order: ClassVar[int] = 70
    settings_model = EtfConfig
    settings_key: ClassVar[str | None] = "etf"
    model = EtfFlows
    secrets = (("sosovalue_key", SOSOVALUE_KEY_ENV),)
    # The trading day shown: weekends and holidays make it days old; `day_flows` already
    # refuses a table more than STALE_AFTER_DAYS behind, this is the backstop.
    stale_after: ClassVar[timedelta | None] = timedelta(days=STALE_AFTER_DAYS + 1)
    sections = (CustomSection("etf", TITLE, "etf", EtfFlows, etf_section, "ETF flows"),)

    def _sosovalue_key(self, ctx: FetchContext) -> str | None:
        return ctx.secrets.get("sosovalue_key") or None

    async def _farside(self, ctx: FetchContext, cfg: EtfConfig) -> list[RawPayload]:
        """Both Farside pages, concurrently; the first failure (in BTC, ETH order) wins."""
        from reportgen.http import BROWSER_HEADERS

        urls: dict[Asset, str] = {"BTC": cfg.farside_btc_url, "ETH": cfg.farside_eth_url}

        async def page(asset: Asset, url: str) -> RawPayload:
            try:
                async with asyncio.timeout(cfg.timeout_s):
                    raw = await ctx.http.get(self.name, url, headers=BROWSER_HEADERS)
            except FetchError as err:
                raise farside_refusal(err, url) from None
            except TimeoutError:
                raise FetchError(f"{self.name}: Farside {asset} page timed out after "
                                 f"{cfg.timeout_s:g} s") from None
            return _tag(raw, asset)

        results = await asyncio.gather(*(page(a, u) for a, u in urls.items()),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [r for r in results if isinstance(r, RawPayload)]

    async def _sosovalue(self, ctx: FetchContext, cfg: EtfConfig, key: str) -> list[RawPayload]:
        async def one(asset: Asset) -> RawPayload:
            raw = await ctx.http.post(self.name, cfg.sosovalue_url,
                                      json={"type": ASSET_TYPES[asset]},
                                      headers={API_KEY_HEADER: key},
                                      idempotent=True)  # a historical chart query: a read
            return _tag(raw, asset)

        return list(await asyncio.gather(*(one(a) for a in ASSETS)))

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        """Farside's BTC and ETH pages; SoSoValue instead when Farside fails and a key is set.

        Raises FetchError (the Farside one, with its message) when nothing usable came back.
        """
        cfg = self.settings
        try:
            return await self._farside(ctx, cfg)
        except FetchError as farside_err:
            key = self._sosovalue_key(ctx) if cfg.sosovalue_fallback else None
            if not key:
                raise
            try:
                raws = await self._sosovalue(ctx, cfg, key)
            except FetchError as soso_err:
                err = FetchError(f"{farside_err}; SoSoValue fallback failed too: {soso_err}",
                                 status=farside_err.status)
                err.raw = farside_err.raw
                raise err from None
            failed = farside_err.raw
            return ([failed] if isinstance(failed, RawPayload) else []) + raws

    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> EtfFlows:
        """EtfFlows for ctx.report_date from Farside pages (preferred) or SoSoValue answers."""
        cfg = self.settings
        out = EtfFlows(report_date=ctx.report_date)
        ok = [r for r in raws if r.status == 200 and r.error is None]
        for asset in ASSETS:
            farside = [r for r in ok if not _is_sosovalue(r, cfg) and _asset_of(r, cfg) == asset]
            soso = [r for r in ok if _is_sosovalue(r, cfg) and _asset_of(r, cfg) == asset]
            if farside or soso:
                # One asset's page changing layout must not hide the other asset's figures;
                # the error text becomes that asset's "unavailable" reason.
                try:
                    if farside:
                        raw = farside[-1]
                        table = parse_farside_html(raw.text(), label=asset)
                        out.assets[asset] = day_flows(table, asset, ctx.report_date, raw.url)
                    else:
                        raw = soso[-1]
                        out.assets[asset] = sosovalue_day_flows(
                            raw.body, asset, ctx.report_date, raw.url)
                except ParseError as exc:
                    out.unavailable[asset] = f"{asset} ETF flows unavailable: {exc}"
            else:
                failed = [r for r in raws if _asset_of(r, cfg) == asset or _is_sosovalue(r, cfg)]
                reason = failed[-1].error if failed and failed[-1].error else "no payload"
                out.unavailable[asset] = f"{asset} ETF flows unavailable: {reason}"
        if not out.assets:
            raise ParseError(
                "ETF flows: no usable payload for BTC or ETH "
                f"({'; '.join(out.unavailable.values()) or 'no payloads'})"
            )
        shown = [d.flow_date for d in out.assets.values() if d.flow_date is not None]
        if shown:
            out.as_of = day_start(min(shown), ctx.zone)
        return out

