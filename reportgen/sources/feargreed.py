"""alternative.me Fear & Greed Index (0–100 with the API's own label).

One row per UTC day, newest first, numbers as strings. There is no date parameter, but
`limit=N` returns the latest N days, so a past date D is answered by asking for enough rows
to reach D and picking the row stamped D 00:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, field_validator

from reportgen.errors import ParseError
from reportgen.figures import Indicator
from reportgen.models import RawPayload
from reportgen.settings import SourceSettings, check_url
from reportgen.sources._json import dig, load_json, number
from reportgen.sources.base import FetchContext, ParseContext, Source
from reportgen.sources.checks import Checks, index
from reportgen.units import INDEX


class FearGreed(BaseModel):
    value: int
    label: str
    day: date
    previous_value: int | None = None
    as_of: datetime | None = None  # the row's own timestamp (00:00 UTC of its day)
    rejected: dict[str, str] = {}


class FearGreedSettings(SourceSettings):
    """Config key `sources.feargreed`."""

    base_url: str = "https://api.alternative.me/fng/"

    _url = field_validator("base_url")(check_url)


class FearGreedSource(Source[FearGreedSettings]):
    name = "feargreed"
    title = "alternative.me Fear & Greed"
    credit = "alternative.me Fear & Greed Index"
    link = "https://alternative.me/crypto/fear-and-greed-index/"
    history = "full daily history since 2018-02-01 (limit=N rows back to the date)"
    supports_past = True
    order = 40
    settings_model = FearGreedSettings
    model = FearGreed
    # One row per day stamped 00:00 UTC: the day's row is a day before the cut-off.
    stale_after = timedelta(hours=36)
    indicators = (
        Indicator("Fear & Greed Index", FearGreed, "value", lambda m: m.value, INDEX,
                  change="pts", previous=lambda m: m.previous_value, note=lambda m: m.label),
    )

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        # Rows back to the day before D, so the previous-day change is in the same answer.
        rows = max(2, (ctx.today - ctx.report_date).days + 2)
        raw = await ctx.http.get(self.name, self.settings.base_url,
                                 params={"limit": rows, "format": "json"})
        return [raw]

    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> FearGreed:
        return parse_fng(raws[-1], ctx.report_date)


def parse_fng(raw: RawPayload, day: date) -> FearGreed:
    """Pick the row for `day` (and the day before) out of a /fng/ answer (pure)."""
    body = load_json(raw)
    error = (body.get("metadata") or {}).get("error") if isinstance(body, dict) else None
    if error:
        raise ParseError(f"{raw.source}: API error: {error}")
    rows = dig(body, "data", source=raw.source)
    if not isinstance(rows, list) or not rows:
        raise ParseError(f"{raw.source}: data is empty")
    by_day: dict[date, dict[str, Any]] = {}
    stamps: dict[date, datetime] = {}
    for row in rows:
        stamp = number(dig(row, "timestamp", source=raw.source), "timestamp", raw.source)
        when = datetime.fromtimestamp(stamp, UTC)
        by_day[when.date()] = row
        stamps[when.date()] = when
    if day not in by_day:
        newest = max(by_day)
        raise ParseError(
            f"{raw.source}: no Fear & Greed value for {day} (answer covers {min(by_day)} … {newest})"
        )
    row = by_day[day]
    previous = by_day.get(date.fromordinal(day.toordinal() - 1))
    label = row.get("value_classification")
    if not isinstance(label, str) or not label:
        raise ParseError(f"{raw.source}: row for {day} has no value_classification")
    value = number(row.get("value"), "value", raw.source)
    problem = index("Fear & Greed Index").violation(value)
    if problem:
        raise ParseError(f"{raw.source}: {problem}")
    checks = Checks()
    before = checks.keep("previous_value",
                         number(previous.get("value"), "value", raw.source) if previous else None,
                         index("Previous day's Fear & Greed Index"))
    return FearGreed(
        value=int(value), label=label, day=day,
        previous_value=None if before is None else int(before),
        as_of=stamps[day], rejected=checks.rejected,
    )
