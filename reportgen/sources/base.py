"""What every source module provides, and the context it gets.

A source does I/O in `fetch` (async, through the run's `reportgen.http.Http`) and turns the raw
payloads into a pydantic model in `parse` (pure: same payloads, same result). Each declares
how it answers for a past date, so `reportgen sources` and backdated runs can explain
themselves.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, ClassVar, Protocol

from pydantic import BaseModel

from reportgen.models import RawPayload

if TYPE_CHECKING:
    from reportgen.config import Config
    from reportgen.http import Http


class PriceCache(Protocol):
    """Daily coin prices kept from earlier fetches (the archive implements it)."""

    def prices(self, coin: str, days: list[date]) -> dict[date, tuple[float, float | None]]:
        """(price, market cap) of `coin` on those of `days` that are known."""
        ...

    def put_prices(self, rows: list[tuple[str, date, float, float | None]]) -> None:
        """Remember (coin, day, price, market cap) rows."""
        ...


@dataclass(frozen=True)
class FetchContext:
    """Everything a fetch may use: the day asked for, whether it is in the past, the
    run's HTTP client policy, the configuration and secrets read from the environment."""

    report_date: date
    today: date
    config: Config
    http: Http
    secrets: dict[str, str] = field(default_factory=dict)
    prices: PriceCache | None = None

    @property
    def is_past(self) -> bool:
        return self.report_date < self.today


@dataclass(frozen=True)
class ParseContext:
    """What a parser may know besides the payloads: the day and its time zone."""

    report_date: date
    zone: str = "UTC"
    is_past: bool = False


class Source(ABC):
    """One upstream. Subclasses set the class attributes and implement fetch/parse."""

    name: ClassVar[str]            # registry key and archive key, e.g. "coingecko"
    title: ClassVar[str]           # human name, e.g. "CoinGecko /global"
    history: ClassVar[str]         # how a past date is answered, in words
    supports_past: ClassVar[bool]  # False: a past date comes only from the archive
    required: ClassVar[bool] = True  # `reportgen sources` fails when a required one is down
    # Folders of the bundled sample holding this source's payloads (default: its name).
    sample_sources: ClassVar[tuple[str, ...]] = ()
    # Dotted path of this source's config section, whose `enabled` flag switches it off.
    config_section: ClassVar[str | None] = None
    # How much older than the report's cut-off (or than its fetch, when fetched during the
    # day) the data's own time may be before its figures are shown as stale; None: no limit.
    stale_after: ClassVar[timedelta | None] = None

    def __init__(self, config: Config) -> None:
        self.config = config

    def enabled(self) -> tuple[bool, str]:
        """Whether this source runs, and why not when it does not."""
        if self.config_section:
            section: object = self.config
            for part in self.config_section.split("."):
                section = getattr(section, part)
            if not getattr(section, "enabled", True):
                return False, f"disabled in config ({self.config_section}.enabled)"
        return True, "enabled"

    def remember(self, previous: list[RawPayload]) -> None:
        """Receive this source's most recent archived payloads (e.g. for conditional GET).
        Most sources ignore them."""
        return None

    def archive_days(self, day: date) -> tuple[date, ...]:
        """Fetch days whose archived payloads can answer for `day` (a source without history,
        like news feeds, still holds a day's items in the next days' fetches)."""
        return ()

    def secret_names(self) -> tuple[str, ...]:
        """Environment variables this source reads (present or not)."""
        return ()

    def results(self, model: BaseModel) -> dict[str, BaseModel]:
        """What `parse` computed besides the snapshot's data that a later phase needs exactly
        as computed, by name (the liquidation maps' arrays, which the charts are drawn
        from). Collect keeps them in the archive beside the snapshot. Most sources: none."""
        return {}

    @abstractmethod
    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        """Fetch the payloads for ctx.report_date. Raise FetchError on failure."""

    @abstractmethod
    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> BaseModel:
        """Turn payloads into this source's model. Raise ParseError on a bad shape."""
