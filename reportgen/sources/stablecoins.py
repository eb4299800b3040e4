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

from pydantic import BaseModel, field_validator

from reportgen.errors import ParseError
from reportgen.figures import FigureSection, Indicator
from reportgen.models import RawPayload
from reportgen.settings import SourceSettings, check_url
from reportgen.sources._json import dig, load_json, number
from reportgen.sources.base import FetchContext, ParseContext, Source
from reportgen.sources.checks import Checks, Range, Ratio, usd
from reportgen.units import USD


class Stablecoins(BaseModel):
    """The USD-pegged total (None when it failed its plausibility rule, named in `rejected`),
    the previous day's and week's, and the moment the total describes."""

    total_usd: float | None
    prev_day_usd: float | None
    prev_week_usd: float | None
    assets_counted: int | None = None
    endpoint: str
    as_of: datetime | None = None
    rejected: dict[str, str] = {}


class StablecoinSettings(SourceSettings):
    """Config key `sources.stablecoins`."""

    base_url: str = "https://stablecoins.llama.fi"

    _url = field_validator("base_url")(check_url)


def change_pct(now: float | None, before: float | None) -> float | None:
    if now is None or not before:
        return None
    return (now / before - 1.0) * 100.0


SECTION = "stablecoins"
METHOD = ("Sum of USD-pegged stablecoins (DefiLlama pegType peggedUSD); gold- and "
          "euro-pegged tokens are not counted.")
NOT_IN_ANSWER = "not in the upstream answer"


class StablecoinSource(Source[StablecoinSettings]):
    name = "stablecoins"
    title = "DefiLlama stablecoins (USD-pegged)"
    credit = "DefiLlama stablecoins"
    link = "https://defillama.com/stablecoins"
    history = "full daily history (/stablecoincharts/all, row dated D)"
    supports_past = True
    order = 50
    settings_model = StablecoinSettings
    model = Stablecoins
    # Chart rows are dated 00:00 UTC; the live endpoint is as of its fetch.
    stale_after = timedelta(hours=36)
    figure_sections = (FigureSection(SECTION, "Stablecoins"),)
    # The day before and the week before come in the same answer.
    # One card with its 24 h and 7 d change (two more cards would repeat the figure).
    indicators = (
        Indicator("USD-stablecoin market cap", Stablecoins, "total_usd", lambda m: m.total_usd,
                  USD, decimals=1, section=SECTION, previous=lambda m: m.prev_day_usd,
                  week_ago=lambda m: m.prev_week_usd, essential=True, detail=lambda m: METHOD),
    )

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        base = self.settings.base_url.rstrip("/")
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
    # The live endpoint carries no time of its own: its figures are as of when we asked.
    return checked(total, prev_day or None, prev_week or None, endpoint="/stablecoins",
                   as_of=raw.fetched_at, assets_counted=len(usd_assets))


def parse_chart(raw: RawPayload, rows: list[Any], day: date) -> Stablecoins:
    """Pick the rows dated D, D−1 and D−7 from `/stablecoincharts/all` (pure)."""
    by_day: dict[date, float] = {}
    stamps: dict[date, datetime] = {}
    for row in rows:
        stamp = number(dig(row, "date", source=raw.source), "date", raw.source)
        circulating = dig(row, "totalCirculatingUSD", source=raw.source)
        when = datetime.fromtimestamp(stamp, UTC)
        by_day[when.date()] = _usd(circulating)
        stamps[when.date()] = when
    if day not in by_day:
        span = f"{min(by_day)} … {max(by_day)}" if by_day else "no rows"
        raise ParseError(f"{raw.source}: no stablecoin chart row for {day} ({span})")
    return checked(by_day[day], by_day.get(day - timedelta(days=1)),
                   by_day.get(day - timedelta(days=7)), endpoint="/stablecoincharts/all",
                   as_of=stamps[day])


# The total must be positive, below this ceiling (US$10 T) and within ×0.5–×2 of the day
# and the week before: a total that halves or doubles overnight is a broken answer.
MAX_TOTAL_USD = 1e13
LABEL = "USD-stablecoin market cap"


def checked(total: float, prev_day: float | None, prev_week: float | None, *, endpoint: str,
            as_of: datetime | None, assets_counted: int | None = None) -> Stablecoins:
    """The model with each figure run through its plausibility rule (see `sources.checks`)."""
    checks = Checks()
    bounds = Range(LABEL, 0, MAX_TOTAL_USD, lo_open=True, fmt=usd)
    day_before = checks.keep("prev_day_usd", prev_day,
                             Range(f"Previous day's {LABEL}", 0, MAX_TOTAL_USD, lo_open=True,
                                   fmt=usd))
    week_before = checks.keep("prev_week_usd", prev_week,
                              Range(f"Previous week's {LABEL}", 0, MAX_TOTAL_USD, lo_open=True,
                                    fmt=usd))
    rules: list[Range | Ratio] = [bounds]
    if day_before is not None:
        rules.append(Ratio(LABEL, day_before, "the previous day's", fmt=usd))
    kept = checks.keep("total_usd", total, *rules)
    if kept is not None and week_before is not None:
        week_before = checks.keep("prev_week_usd", week_before,
                                  Ratio(f"Previous week's {LABEL}", kept, "today's", fmt=usd))
    return Stablecoins(total_usd=kept, prev_day_usd=day_before, prev_week_usd=week_before,
                       assets_counted=assets_counted, endpoint=endpoint, as_of=as_of,
                       rejected=checks.rejected)
