"""The clock seam: everything that needs "now" asks a Clock, so tests can fix time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock stopped at one instant (tests, sample runs)."""

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.instant = instant

    def now(self) -> datetime:
        return self.instant


class Ticker(Protocol):
    """Elapsed time and waiting, for rates and backoff (not for dates: that is a Clock)."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` (tests inject one that only records them)."""
        ...


class SystemTicker:
    """The real monotonic clock and time.sleep."""

    def monotonic(self) -> float:
        import time

        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        import time

        if seconds > 0:
            time.sleep(seconds)


def today_in(zone: str, clock: Clock) -> date:
    """The calendar day it is now in `zone`."""
    return clock.now().astimezone(ZoneInfo(zone)).date()


def day_start(day: date, zone: str) -> datetime:
    """00:00 of `day` in `zone`, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))


def day_end(day: date, zone: str) -> datetime:
    """The cut-off of `day` in `zone` (00:00 of the next day): what "as of D" means."""
    return day_start(day + timedelta(days=1), zone)


def default_clock() -> Clock:
    """The system clock, or a fixed one when REPORTGEN_NOW holds an ISO instant.

    REPORTGEN_NOW lets a replay or an end-to-end test run the *live* code path as if it were
    another moment (e.g. REPORTGEN_NOW=2025-06-11T23:58:00+00:00)."""
    import os

    value = os.environ.get("REPORTGEN_NOW")
    if not value:
        return SystemClock()
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        from reportgen.errors import ConfigError

        raise ConfigError(f"REPORTGEN_NOW={value!r} is not an ISO date-time") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return FixedClock(instant)
