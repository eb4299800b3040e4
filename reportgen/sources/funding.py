"""Perpetual funding rates of BTC and ETH on Binance, Bybit and OKX (linear USDT swaps).

Each venue's funding-rate history, asked for the report day and the day before (so the
interval and a full 24 h are there whenever the brief is made); the same request answers a
past date, and today's data never fills one in:

- Binance `GET /fapi/v1/fundingRate?symbol&startTime&endTime&limit` (both ends inclusive,
  ascending): `[{symbol, fundingTime (ms), fundingRate, markPrice}]`;
- Bybit `GET /v5/market/funding/history?category=linear&symbol&startTime&endTime&limit`
  (newest first): `{retCode, result: {list: [{symbol, fundingRate, fundingRateTimestamp}]}}`;
- OKX `GET /api/v5/public/funding-rate-history?instId&before&after&limit` (`before`: newer
  than, `after`: older than a funding time; newest first): `{code, data: [{instId,
  fundingRate, realizedRate, fundingTime}]}` — `realizedRate` (what was charged) where
  given, else `fundingRate`.

Shown per venue: the last rate settled before the cut-off (or before the fetch, during the
day) and the mean of those settled in the 24 h before it, in % per period and annualised
with the venue's own interval, read from the settlement times (8 h usually; some contracts
settle every 4 h or 1 h): rate × periods in a year. A venue that did not answer is shown
unavailable with its reason; the others stand.

The venues' base URLs default to the liquidation map's (`liquidation.*_url`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from statistics import median
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from pydantic import BaseModel, Field, field_validator

from reportgen import numbers
from reportgen.clock import day_end, day_start
from reportgen.errors import FetchError, ParseError
from reportgen.figures import DERIVATIVES, Indicator
from reportgen.liquidation.config import LiqConfig
from reportgen.models import RawPayload
from reportgen.settings import SourceSettings, check_url
from reportgen.sources._json import load_json, number
from reportgen.sources.base import FetchContext, ParseContext, Source
from reportgen.units import Unit

VENUES = ("binance", "bybit", "okx")
VENUE_TITLES = {"binance": "Binance", "bybit": "Bybit", "okx": "OKX"}
COINS = ("BTC", "ETH")
PATHS = {"binance": "/fapi/v1/fundingRate", "bybit": "/v5/market/funding/history",
         "okx": "/api/v5/public/funding-rate-history"}
WINDOW = timedelta(hours=24)
HOURS_PER_YEAR = 24 * 365
# A rate beyond 10 % per period is a broken answer (the venues cap BTC/ETH far below).
MAX_RATE = 0.1
LIMIT = 100  # two days of hourly settlements fit in one page


def _default(field: str) -> str:
    """The liquidation map's base URL of a venue: one place holds the hosts."""
    value = LiqConfig.model_fields[field].default
    assert isinstance(value, str)
    return value


class FundingSettings(SourceSettings):
    """Config key `sources.funding`."""

    coins: list[str] = Field(default_factory=lambda: list(COINS))
    binance_url: str = _default("binance_url")
    bybit_url: str = _default("bybit_url")
    okx_url: str = _default("okx_url")

    _urls = field_validator("binance_url", "bybit_url", "okx_url")(check_url)

    @field_validator("coins")
    @classmethod
    def _coins(cls, value: list[str]) -> list[str]:
        out = [c.strip().upper() for c in value]
        bad = [c for c in out if not c.isalnum() or not 2 <= len(c) <= 12]
        if bad:
            raise ValueError(f"coins must be base coins like 'BTC' or 'ETH', got {bad}")
        return out

    def base(self, venue: str) -> str:
        url: str = getattr(self, f"{venue}_url")
        return url.rstrip("/")


class VenueFunding(BaseModel):
    """One venue's funding of one coin: rates are fractions per funding period."""

    venue: str
    coin: str
    latest: float | None = None
    latest_at: datetime | None = None
    average: float | None = None  # mean of the settlements in the 24 h before the cut-off
    settlements: int = 0
    interval_hours: float | None = None
    reason: str | None = None  # why there is no rate

    def annualised(self, rate: float | None) -> float | None:
        """`rate` per period as % a year at this venue's interval (None when unknown)."""
        if rate is None or not self.interval_hours:
            return None
        return rate * HOURS_PER_YEAR / self.interval_hours * 100


class FundingDay(BaseModel):
    """Funding per coin and venue over the 24 h ending at `end` (the cut-off, or the fetch
    during the day)."""

    coins: dict[str, dict[str, VenueFunding]]
    start: datetime
    end: datetime
    as_of: datetime | None = None
    rejected: dict[str, str] = {}

    def venue(self, coin: str, venue: str) -> VenueFunding | None:
        return self.coins.get(coin, {}).get(venue)


FUNDING = Unit("funding", lambda value, _decimals: numbers.rate(value, 4))


def _interval(hours: float | None) -> str:
    if hours is None:
        return "interval unknown"
    return f"{hours:g}-hourly"


def _indicator(coin: str, venue: str) -> Indicator[FundingDay]:
    def value(m: FundingDay) -> float | None:
        found = m.venue(coin, venue)
        return None if found is None or found.latest is None else found.latest * 100

    def note(m: FundingDay) -> str | None:
        found = m.venue(coin, venue)
        if found is None or found.latest is None:
            return None
        parts = []
        year = found.annualised(found.latest)
        if year is not None:
            parts.append(f"{numbers.rate(year, 2)} a year")
        if found.average is not None:
            avg_year = found.annualised(found.average)
            parts.append(f"24 h avg {numbers.rate(found.average * 100, 4)}"
                         + (f" ({numbers.rate(avg_year, 2)} a year)" if avg_year is not None
                            else ""))
        parts.append(_interval(found.interval_hours))
        return " · ".join(parts)

    def why(m: FundingDay) -> str | None:
        found = m.venue(coin, venue)
        if found is None:
            return f"{VENUE_TITLES[venue]} {coin} funding not collected"
        return found.reason

    return Indicator(f"{coin} funding, {VENUE_TITLES[venue]}", FundingDay, "coins", value,
                     FUNDING, section=DERIVATIVES.id, change="none", note=note, why=why,
                     detail=_method if (coin, venue) == (COINS[0], VENUES[0]) else None)


def _method(m: FundingDay) -> str:
    return (f"Funding: the last rate each venue settled before "
            f"{numbers.instant(m.end)} and, beside it, the mean of those settled from "
            f"{numbers.instant(m.start)}, in % per funding period; annualised = rate × the "
            "periods in a year at the venue's own interval (from its settlement times). "
            "Positive: longs pay shorts.")


class FundingSource(Source[FundingSettings]):
    name: ClassVar[str] = "funding"
    title: ClassVar[str] = "Funding rates (Binance, Bybit, OKX)"
    credit: ClassVar[str | None] = "Binance, Bybit and OKX funding-rate history"
    history: ClassVar[str] = "each venue's funding-rate history (years back) for the day"
    supports_past: ClassVar[bool] = True
    required: ClassVar[bool] = False
    order: ClassVar[int] = 59  # the derivatives line, before the liquidation map (60)
    settings_model = FundingSettings
    model = FundingDay
    # The newest settlement is at most one interval (8 h) before the cut-off.
    stale_after: ClassVar[timedelta | None] = timedelta(hours=12)
    figure_sections = (DERIVATIVES,)
    indicators = tuple(_indicator(coin, venue) for coin in COINS for venue in VENUES)

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        end = day_end(ctx.report_date, ctx.config.timezone)
        start = day_start(ctx.report_date, ctx.config.timezone) - WINDOW
        raws = [await self._one(ctx, venue, coin, start, end)
                for coin in self.settings.coins for venue in VENUES]
        if all(r.error is not None for r in raws):
            err = FetchError("no venue answered: " + "; ".join(
                f"{VENUE_TITLES[_venue_of(r)]}: {r.error}" for r in raws[:len(VENUES)]))
            err.raw = raws[0]
            err.raws = list(raws)
            raise err
        return raws

    async def _one(self, ctx: FetchContext, venue: str, coin: str, start: datetime,
                   end: datetime) -> RawPayload:
        """One venue's history of one coin; a failure comes back as its payload (`.error`)."""
        url = self.settings.base(venue) + PATHS[venue]
        params = request_for(venue, coin, start, end)
        try:
            raw = await ctx.http.get(self.name, url, params=params, down_scope="path")
        except FetchError as exc:
            if isinstance(exc.raw, RawPayload):
                return replace(exc.raw, error=exc.raw.error or str(exc))
            return RawPayload(source=self.name, url=f"{url}?{urlencode(params)}", status=None,
                              body=b"", fetched_at=ctx.http.clock.now(), error=str(exc))
        return raw

    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> FundingDay:
        return parse_funding(raws, day_end(ctx.report_date, ctx.zone), self.settings.coins)


def request_for(venue: str, coin: str, start: datetime, end: datetime) -> dict[str, Any]:
    """The query of one venue's history over [start, end) (ms), for the same linear USDT
    swap the liquidation map reads."""
    from reportgen.liquidation.parsers import venue_symbol

    first, stop = _ms(start), _ms(end)
    symbol = venue_symbol(venue, coin)
    if venue == "binance":
        return {"symbol": symbol, "startTime": first, "endTime": stop - 1, "limit": LIMIT}
    if venue == "bybit":
        return {"category": "linear", "symbol": symbol, "startTime": first,
                "endTime": stop - 1, "limit": LIMIT}
    return {"instId": symbol, "before": first - 1, "after": stop, "limit": LIMIT}


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _venue_of(raw: RawPayload) -> str:
    path = urlsplit(raw.url).path
    for venue, tail in PATHS.items():
        if path.endswith(tail):
            return venue
    return ""


def _coin_of(raw: RawPayload, venue: str, coins: Iterable[str]) -> str:
    """Which of `coins` the payload's request asked for ("" when none)."""
    from reportgen.liquidation.parsers import request_params, venue_symbol

    query = request_params(raw)
    asked = (query.get("instId") or query.get("symbol") or "").upper()
    return next((c for c in coins if venue_symbol(venue, c) == asked), "")


def _stamp(value: Any, field: str, source: str) -> int:
    """A settlement time in ms (a 10-digit value is read as seconds, as the map's parser
    reads the venues' stamps)."""
    from reportgen.liquidation.parsers import ms_timestamp

    return ms_timestamp(number(value, field, source))


def rows_of(venue: str, raw: RawPayload) -> list[tuple[int, float]]:
    """(settlement time ms, rate) of one answer, oldest first; ParseError on a bad shape or
    an error answer."""
    body = load_json(raw)
    src = raw.source
    if venue == "binance":
        if isinstance(body, Mapping):
            raise ParseError(f"{src}: Binance error {body.get('code')}: {body.get('msg')}")
        items: Any = body
        if not isinstance(items, list):
            raise ParseError(f"{src}: Binance answer is not a list of rows")
        pairs = [(_stamp(_get(r, "fundingTime", src), "fundingTime", src),
                  number(_get(r, "fundingRate", src), "fundingRate", src)) for r in items]
    elif venue == "bybit":
        if not isinstance(body, Mapping) or body.get("retCode") != 0:
            msg = body.get("retMsg") if isinstance(body, Mapping) else "not an object"
            raise ParseError(f"{src}: Bybit answered {msg!r}")
        result = body.get("result")
        items = result.get("list") if isinstance(result, Mapping) else None
        if not isinstance(items, list):
            raise ParseError(f"{src}: Bybit answer has no result.list")
        pairs = [(_stamp(_get(r, "fundingRateTimestamp", src), "fundingRateTimestamp", src),
                  number(_get(r, "fundingRate", src), "fundingRate", src)) for r in items]
    else:
        if not isinstance(body, Mapping) or str(body.get("code")) != "0":
            msg = body.get("msg") if isinstance(body, Mapping) else "not an object"
            raise ParseError(f"{src}: OKX answered {msg!r}")
        items = body.get("data")
        if not isinstance(items, list):
            raise ParseError(f"{src}: OKX answer has no data list")
        pairs = [(_stamp(_get(r, "fundingTime", src), "fundingTime", src),
                  number(r.get("realizedRate") or _get(r, "fundingRate", src), "fundingRate",
                         src)) for r in items]
    return sorted(dict(pairs).items())


def _get(row: Any, key: str, source: str) -> Any:
    if not isinstance(row, Mapping) or key not in row:
        raise ParseError(f"{source}: a row lacks {key}")
    return row[key]


def interval_hours(times_ms: list[int]) -> float | None:
    """The funding interval in hours: the median gap between settlements, to the nearest
    quarter hour (settlement stamps carry a few ms of jitter). None with fewer than two."""
    gaps = [b - a for a, b in pairwise(times_ms) if b > a]
    if not gaps:
        return None
    return round(median(gaps) / 3_600_000 * 4) / 4 or None


def venue_funding(venue: str, coin: str, rows: list[tuple[int, float]],
                  end: datetime) -> VenueFunding:
    """The latest settlement before `end` and the mean of those in the 24 h before it."""
    stop = _ms(end)
    kept = [(t, r) for t, r in rows if t < stop]
    if not kept:
        return VenueFunding(venue=venue, coin=coin,
                            reason=f"{VENUE_TITLES[venue]} settled no {coin} funding before "
                                   f"{numbers.instant(end)}")
    bad = [r for _, r in kept if not math.isfinite(r) or abs(r) >= MAX_RATE]
    if bad:
        return VenueFunding(venue=venue, coin=coin,
                            reason=f"rate {bad[0]!r} rejected as implausible "
                                   f"(beyond ±{MAX_RATE * 100:g}% a period)")
    window = [r for t, r in kept if t >= stop - WINDOW // timedelta(milliseconds=1)]
    last_t, last_r = kept[-1]
    return VenueFunding(
        venue=venue, coin=coin, latest=last_r,
        latest_at=datetime.fromtimestamp(last_t / 1000, UTC),
        average=sum(window) / len(window) if window else None, settlements=len(window),
        interval_hours=interval_hours([t for t, _ in kept]))


def parse_funding(raws: list[RawPayload], cutoff: datetime,
                  coins: list[str] | tuple[str, ...] = COINS) -> FundingDay:
    """Every coin's funding per venue from the history answers (pure). The window ends at
    the cut-off, or at the fetch when that was earlier (a run during the day)."""
    from reportgen.liquidation.parsers import problem

    fetched = [r.fetched_at for r in raws if r.error is None]
    end = min([cutoff, *fetched]) if fetched else cutoff
    out: dict[str, dict[str, VenueFunding]] = {coin: {} for coin in coins}
    for raw in raws:
        venue = _venue_of(raw)
        coin = _coin_of(raw, venue, coins) if venue else ""
        if not coin:
            continue
        if raw.error is not None or raw.status not in (None, 200):
            out[coin][venue] = VenueFunding(venue=venue, coin=coin, reason=problem(raw))
            continue
        try:
            rows = rows_of(venue, raw)
        except ParseError as exc:
            out[coin][venue] = VenueFunding(venue=venue, coin=coin,
                                            reason=f"unreadable answer: {str(exc)[:200]}")
            continue
        out[coin][venue] = venue_funding(venue, coin, rows, end)
    found = [v for per in out.values() for v in per.values()]
    if not any(v.latest is not None for v in found):
        reasons = "; ".join(f"{VENUE_TITLES[v.venue]} {v.coin}: {v.reason}" for v in found)
        raise ParseError("no funding rate: " + (reasons or "no venue answered")[:600])
    latest = [v.latest_at for v in found if v.latest_at is not None]
    return FundingDay(coins=out, start=end - WINDOW, end=end,
                      as_of=max(latest) if latest else None)
