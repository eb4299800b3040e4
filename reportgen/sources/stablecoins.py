"""DefiLlama: total market cap of USD-pegged stablecoins, with 24 h and 7 d change.

Why DefiLlama and not CoinGecko's `stablecoins` category: that category mixes in gold
(PAXG, XAUT), euro (EURT) and depegged tokens. DefiLlama tags each asset with its peg, and
we sum only `peggedUSD`.

Today: `/stablecoins?includePrices=true` (current, previous day, previous week per asset).
A past date D: `/stablecoincharts/all`, the row dated D 00:00 UTC (and D−1, D−7).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from reportgen.errors import ParseError
from reportgen.models import RawPayload
from reportgen.sources._json import dig, load_json, number
from reportgen.sources.base import FetchContext, ParseContext, Source


class Stablecoins(BaseModel):
    total_usd: float
    prev_day_usd: float | None
    prev_week_usd: float | None
    assets_counted: int | None = None
    endpoint: str


class StablecoinSource(Source):
    name = "stablecoins"
    title = "DefiLlama stablecoins (USD-pegged)"
    history = "full daily history (/stablecoincharts/all, row dated D)"
    supports_past = True
    config_section = "sources.stablecoins"

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        base = ctx.config.sources.stablecoins.base_url.rstrip("/")
        if ctx.is_past:
            url, params = f"{base}/stablecoincharts/all", None
        else:
            url, params = f"{base}/stablecoins", {"includePrices": "true"}
        raw = await ctx.http.get(self.name, url, params=params)
        return [raw]

    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> Stablecoins:
        raw = raws[-1]
        body = load_json(raw)
        if isinstance(body, dict) and "peggedAssets" in body:
            return parse_current(raw, body)
        if isinstance(body, list):
            return parse_chart(raw, body, ctx.report_date)
        raise ParseError(f"{raw.source}: neither a /stablecoins nor a /stablecoincharts answer")


def _usd(obj: Any) -> float:
    """The peggedUSD amount of a circulating object; assets without one contribute 0."""
    if not isinstance(obj, dict):
        return 0.0
    value = obj.get("peggedUSD")
    return 0.0 if value is None else number(value, "peggedUSD", "stablecoins")


def parse_current(raw: RawPayload, body: dict[str, Any]) -> Stablecoins:
    """Sum `circulating.peggedUSD` over assets whose pegType is peggedUSD (pure)."""
    assets = body["peggedAssets"]
    if not isinstance(assets, list) or not assets:
        raise ParseError(f"{raw.source}: peggedAssets is empty")
    usd_assets = [a for a in assets if isinstance(a, dict) and a.get("pegType") == "peggedUSD"]
    if not usd_assets:
        raise ParseError(f"{raw.source}: no asset with pegType peggedUSD")
    total = sum(_usd(a.get("circulating")) for a in usd_assets)
    prev_day = sum(_usd(a.get("circulatingPrevDay")) for a in usd_assets)
    prev_week = sum(_usd(a.get("circulatingPrevWeek")) for a in usd_assets)
    return Stablecoins(
        total_usd=total, prev_day_usd=prev_day or None, prev_week_usd=prev_week or None,
        assets_counted=len(usd_assets), endpoint="/stablecoins",
    )


def parse_chart(raw: RawPayload, rows: list[Any], day: date) -> Stablecoins:
    """Pick the rows dated D, D−1 and D−7 from `/stablecoincharts/all` (pure)."""
    by_day: dict[date, float] = {}
    for row in rows:
        stamp = number(dig(row, "date", source=raw.source), "date", raw.source)
        circulating = dig(row, "totalCirculatingUSD", source=raw.source)
        by_day[datetime.fromtimestamp(stamp, UTC).date()] = _usd(circulating)
    if day not in by_day:
        span = f"{min(by_day)} … {max(by_day)}" if by_day else "no rows"
        raise ParseError(f"{raw.source}: no stablecoin chart row for {day} ({span})")
    return Stablecoins(
        total_usd=by_day[day],
        prev_day_usd=by_day.get(day - timedelta(days=1)),
        prev_week_usd=by_day.get(day - timedelta(days=7)),
        endpoint="/stablecoincharts/all",
    )
