"""The bundled sample: upstream payloads for 2025-06-05 … 2025-06-11, shipped in the package.

Layout: `data/<YYYY-MM-DD>/<source>/index.json` lists the payloads of that source for that
day as `[{"file": "...", "url": "...", "status": 200, "headers": {...}}]`, and the body
files sit beside it. The payloads are constructed (no recording of those days is at hand) in
the exact shape of real recorded ones, and go through the same parsers as live data; the
news headlines and ETF figures in them are real published ones (see PROVENANCE.md).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from importlib import resources

from reportgen.models import RawPayload

SAMPLE_FIRST = date(2025, 6, 5)
SAMPLE_LAST = date(2025, 6, 11)


def sample_days() -> list[date]:
    """Every day the bundled sample covers, oldest first."""
    return [date.fromordinal(d) for d in range(SAMPLE_FIRST.toordinal(), SAMPLE_LAST.toordinal() + 1)]


def has_day(day: date) -> bool:
    return SAMPLE_FIRST <= day <= SAMPLE_LAST


def fetched_at(day: date) -> datetime:
    """The instant the sample pretends its payloads were fetched: the day's 23:55 UTC."""
    return datetime.combine(day, time(23, 55), tzinfo=UTC)


def load_raws(source: str, day: date) -> list[RawPayload]:
    """The sample payloads of `source` for `day`; empty when the sample has none."""
    folder = resources.files(__package__).joinpath("data", day.isoformat(), source)
    index = folder.joinpath("index.json")
    if not index.is_file():
        return []
    entries = json.loads(index.read_text(encoding="utf-8"))
    return [
        RawPayload(
            source=source,
            url=entry["url"],
            status=entry.get("status", 200),
            body=folder.joinpath(entry["file"]).read_bytes(),
            fetched_at=fetched_at(day),
            headers=entry.get("headers", {}),
        )
        for entry in entries
    ]
