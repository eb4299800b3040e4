"""Bitcoin network hashrate: mempool.space's daily average, in EH/s.

`GET /api/v1/mining/hashrate/:timePeriod` (keyless) answers
`{hashrates: [{timestamp, avgHashrate}], difficulty: [...], currentHashrate,
currentDifficulty}`: one row per UTC day, stamped 00:00, hashrates in H/s (integers beyond
2^64 on mainnet). `:timePeriod` is trailing from now (24h, 3d, 1w, 1m, 3m, 6m, 1y, 2y, 3y;
none: all), so a past date D is answered by the shortest period that reaches back to D − 1
and picking D's row; the row before it gives the change vs the previous day, from the same
answer.

The figure is the row dated D; when the day has no row yet (a run during the day), the
newest row before it is shown with its own date, and staleness (36 h) decides whether it
may stand for D.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, field_validator

from reportgen.errors import ParseError
from reportgen.figures import Indicator
from reportgen.models import RawPayload
from reportgen.settings import SourceSettings, check_url
from reportgen.sources._json import dig, load_json, number
from reportgen.sources.base import FetchContext, ParseContext, Source
from reportgen.sources.checks import Checks, Range
from reportgen.units import Unit, grouped

EXA = 1e18
# The trailing periods the endpoint knows, with the days each reaches back.
PERIODS = (("3d", 3), ("1w", 7), ("1m", 30), ("3m", 90), ("6m", 180), ("1y", 365),
           ("2y", 730), ("3y", 1095))
# Above this (1,000,000 EH/s) an answer is broken, not a fast-growing network (~900 EH/s in
# 2025).
MAX_HS = 1e24


class HashrateSettings(SourceSettings):
    """Config key `sources.hashrate`."""

    base_url: str = "https://mempool.space/api/v1/mining/hashrate"

    _url = field_validator("base_url")(check_url)


class Hashrate(BaseModel):
    """The daily average hashrate shown for the report day (H/s), the day before's, and the
    day the row describes. A value that failed its plausibility rule is None and named in
    `rejected`."""

    hashrate_hs: float | None
    previous_hs: float | None = None
    day: date
    as_of: datetime
    rejected: dict[str, str] = {}


EHS = Unit("hashrate", lambda value, decimals: f"{grouped(value / EXA, decimals)} EH/s")


def _note(m: Hashrate) -> str | None:
    return f"daily average of {m.day.isoformat()}"


def period_for(day: date, today: date) -> str:
    """The shortest trailing period whose rows reach back to `day` − 1 ("" = all data)."""
    reach = (today - day).days + 1
    for period, days in PERIODS:
        if days > reach:
            return period
    return ""


class HashrateSource(Source[HashrateSettings]):
    name = "hashrate"
    title = "mempool.space Bitcoin hashrate"
    credit = "mempool.space, Bitcoin network hashrate"
    link = "https://mempool.space/graphs/mining/hashrate-difficulty"
    history = "daily averages since 2009 (trailing periods up to 3 years, then all data)"
    supports_past = True
    order = 45
    settings_model = HashrateSettings
    model = Hashrate
    # Rows are stamped 00:00 UTC of their day.
    stale_after = timedelta(hours=36)
    indicators = (
        Indicator("Bitcoin hashrate", Hashrate, "hashrate_hs", lambda m: m.hashrate_hs, EHS,
                  previous=lambda m: m.previous_hs, note=_note),
    )

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        period = period_for(ctx.report_date, ctx.today)
        url = self.settings.base_url.rstrip("/") + (f"/{period}" if period else "")
        return [await ctx.http.get(self.name, url)]

    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> Hashrate:
        return parse_hashrate(raws[-1], ctx.report_date)


def parse_hashrate(raw: RawPayload, day: date) -> Hashrate:
    """The row for `day` (or the newest before it) and the one before that (pure)."""
    rows = dig(load_json(raw), "hashrates", source=raw.source)
    if not isinstance(rows, list) or not rows:
        raise ParseError(f"{raw.source}: hashrates is empty")
    by_day: dict[date, float] = {}
    for i, row in enumerate(rows):
        stamp = number(dig(row, "timestamp", source=raw.source), f"hashrates.{i}.timestamp",
                       raw.source)
        value = number(dig(row, "avgHashrate", source=raw.source),
                       f"hashrates.{i}.avgHashrate", raw.source)
        by_day[datetime.fromtimestamp(stamp, UTC).date()] = value
    shown = max((d for d in by_day if d <= day), default=None)
    if shown is None:
        raise ParseError(f"{raw.source}: no hashrate row on or before {day} "
                         f"(answer covers {min(by_day)} … {max(by_day)})")
    checks = Checks()
    rule = Range("Bitcoin hashrate (H/s)", 0, MAX_HS, lo_open=True)
    kept = checks.keep("hashrate_hs", by_day[shown], rule)
    previous = checks.keep("previous_hs", by_day.get(shown - timedelta(days=1)), rule)
    return Hashrate(hashrate_hs=kept, previous_hs=previous, day=shown,
                    as_of=datetime.combine(shown, datetime.min.time(), tzinfo=UTC),
                    rejected=checks.rejected)
