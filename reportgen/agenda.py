"""The calendar file of scheduled events (`calendar:` in the config): FOMC decisions, CPI
releases and the like, for the brief's "What to watch".

The file is a YAML list of entries:

    - date: 2025-06-18
      time: "14:00 America/New_York"   # optional: HH:MM and an IANA zone
      name: FOMC statement
      kind: central bank               # optional: a short word for the kind of event
      source: Federal Reserve, FOMC meeting calendar   # optional: who publishes the date

It is read when the config is loaded (a bad file stops reportgen with a ConfigError naming
the file and the entry) and again when the brief is built, which gets the events as typed
data (`reportgen.view.CalendarEvent`): the brief itself reads no file.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator

from reportgen.errors import ConfigError
from reportgen.settings import Strict, zone_info
from reportgen.view import CalendarEvent

_TIME = re.compile(r"^(?P<hour>\d{1,2}):(?P<minute>\d{2})\s+(?P<zone>\S+)$")
# The bundled sample's calendar: June 2025's real dates (see reportgen/sample/PROVENANCE.md).
SAMPLE_CALENDAR = Path(__file__).resolve().parent / "sample" / "calendar-2025-06.yaml"


class _DatesAsText(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: the entry's check then parses them, so a bad
    one (2025-13-01) is reported with its entry instead of failing the whole file."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_time(value: str, day: date) -> datetime:
    """"14:00 America/New_York" on `day` as an aware datetime; ValueError saying what is
    wrong otherwise."""
    found = _TIME.match(value.strip())
    if found is None:
        raise ValueError(f"{value!r} is not HH:MM followed by an IANA zone "
                         "(e.g. \"08:30 America/New_York\")")
    hour, minute = int(found["hour"]), int(found["minute"])
    if hour > 23 or minute > 59:
        raise ValueError(f"{value!r}: no such time of day")
    try:
        zone = zone_info(found["zone"])
    except ValueError as exc:
        raise ValueError(f"{value!r}: {exc}") from None
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


class _Entry(Strict):
    """One entry of the file, as written."""

    date: date
    time: str | None = None
    name: str = Field(min_length=1, max_length=120)
    kind: str = Field("", max_length=40)
    source: str | None = Field(None, max_length=200)

    @field_validator("name", "kind", "source")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("must be one line of plain text (no control characters)")
        return value.strip() if value is not None else None

    def event(self) -> CalendarEvent:
        at = parse_time(self.time, self.date) if self.time is not None else None
        return CalendarEvent(day=self.date, name=self.name, kind=self.kind, at=at,
                             source=self.source or None)


def _describe(index: int, raw: Any) -> str:
    """"entry 3 (US CPI)" for error messages."""
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"entry {index}" + (f" ({name})" if isinstance(name, str) and name else "")


def parse_calendar(text: str, origin: str) -> list[CalendarEvent]:
    """The events of a calendar file's `text`, by date and time; ConfigError naming `origin`
    and the entry (1-based) when the text is not a list of valid entries."""
    try:
        loaded = yaml.load(text, Loader=_DatesAsText)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(f"calendar file {origin}: not valid YAML: {exc}") from None
    if loaded is None:
        return []
    if not isinstance(loaded, list):
        raise ConfigError(f"calendar file {origin}: the top level must be a list of events "
                          "(- date: …, name: …)")
    events = []
    for index, raw in enumerate(loaded, start=1):
        where = f"calendar file {origin}: {_describe(index, raw)}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: must be a mapping with date and name")
        try:
            events.append(_Entry.model_validate(raw).event())
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: "
                + ("unknown key" if err["type"] == "extra_forbidden"
                   else err["msg"].removeprefix("Value error, "))
                for err in exc.errors())
            raise ConfigError(f"{where}: {problems}") from None
        except ValueError as exc:
            raise ConfigError(f"{where}: time: {exc}") from None
    return sorted(events, key=lambda e: (e.day, e.at.timestamp() if e.at else 0.0, e.name))


def load_calendar(path: Path) -> list[CalendarEvent]:
    """The events of the calendar file at `path` (see `parse_calendar`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"calendar file {path}: cannot be read: {why}") from None
    return parse_calendar(text, str(path))
