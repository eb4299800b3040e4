"""alternative.me Fear & Greed Index (0–100 with the API's own label).

One row per UTC day, newest first, numbers as strings. There is no date parameter, but
`limit=N` returns the latest N days, so a past date D is answered by asking for enough rows
to reach D and picking the row stamped D 00:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel

from reportgen.errors import ParseError
from reportgen.models import RawPayload
from reportgen.sources._json import dig, load_json, number
from reportgen.sources.base import FetchContext, ParseContext, Source


class FearGreed(BaseModel):
    value: int
    label: str
    day: date
    previous_value: int | None = None


class FearGreedSource(Source):
    name = "feargreed"
    title = "alternative.me Fear & Greed"
    history = "full daily history since 2018-02-01 (limit=N rows back to the date)"
    supports_past = True
    config_section = "sources.feargreed"

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        # Rows back to the day before D, so the previous-day change is in the same answer.
        rows = max(2, (ctx.today - ctx.report_date).days + 2)
        raw = await ctx.http.get(self.name, ctx.config.sources.feargreed.base_url,
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
    by_day: dict[date, dict] = {}
    for row in rows:
        stamp = number(dig(row, "timestamp", source=raw.source), "timestamp", raw.source)
        by_day[datetime.fromtimestamp(stamp, UTC).date()] = row
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
    value = int(number(row.get("value"), "value", raw.source))
    if not 0 <= value <= 100:
        raise ParseError(f"{raw.source}: value {value} is outside 0–100")
    return FearGreed(
        value=value, label=label, day=day,
        previous_value=int(number(previous["value"], "value", raw.source)) if previous else None,
    )
