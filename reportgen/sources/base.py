"""What every source module provides, and the context it gets.

A source is one module (see docs/adding-a-source.md). Its `Source` subclass declares:
name, title and link; its settings model (with `enabled`) and where it sits in the config;
the secrets it reads; whether and how far it answers for past dates; the URL
`reportgen sources` probes; `fetch` (async I/O through the run's `reportgen.http.Http`);
`parse` (pure: same payloads, same model); and what it contributes to the brief — typed
indicators (`reportgen.figures.Indicator`) and sections. `reportgen.registry` finds every
such class in `reportgen/sources/`; config, the brief, `reportgen sources`, the sample and
the tests iterate it.

Source modules import no network library at module level (httpx, pycoingecko, requests,
feedparser are imported inside `fetch`/`parse`): the registry, and so loading the config,
stays light.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel

from reportgen.figures import FigureSection, FigureSpec, SectionSpec
from reportgen.models import LiquidationFrame, RawPayload

if TYPE_CHECKING:
    from reportgen.http import Http

S = TypeVar("S", bound=BaseModel)
T = TypeVar("T", bound=BaseModel)


class SourceConfig(Protocol):
    """What a source sees of the configuration (`reportgen.config.Config` provides it)."""

    @property
    def timezone(self) -> str: ...

    def settings_for(self, key: str, model: type[T]) -> T:
        """The settings model at dotted `key` (its defaults when the config has none)."""
        ...


class PriceCache(Protocol):
    """Daily coin prices kept from earlier fetches (the archive implements it)."""

    def prices(self, coin: str, days: list[date]) -> dict[date, tuple[float, float | None]]:
        """(price, market cap) of `coin` on those of `days` that are known."""
        ...

    def put_prices(self, rows: list[tuple[str, date, float, float | None]]) -> None:
        """Remember (coin, day, price, market cap) rows."""
        ...


class RecordedLiquidations(Protocol):
    """Frames of the venues' liquidation streams kept by the recorder (the archive)."""

    def liquidation_frames(self, start: datetime, end: datetime) -> list[LiquidationFrame]:
        """The frames whose events (or receive time) fall in [start, end)."""
        ...


@dataclass(frozen=True)
class FetchContext:
    """Everything a fetch may use: the day asked for, whether it is in the past, the
    run's HTTP client policy, the configuration and secrets read from the environment."""

    report_date: date
    today: date
    config: SourceConfig
    http: Http
    secrets: dict[str, str] = field(default_factory=dict)
    prices: PriceCache | None = None
    recorded: RecordedLiquidations | None = None

    @property
    def is_past(self) -> bool:
        return self.report_date < self.today


@dataclass(frozen=True)
class ParseContext:
    """What a parser may know besides the payloads: the day and its time zone."""

    report_date: date
    zone: str = "UTC"
    is_past: bool = False


class Source(ABC, Generic[S]):
    """One upstream. Subclasses set the class attributes and implement fetch/parse."""

    name: ClassVar[str]            # registry key and archive key, e.g. "coingecko"
    title: ClassVar[str]           # human name, e.g. "CoinGecko /global"
    # Name and public page in the brief's sources list (default: the title, no link).
    credit: ClassVar[str | None] = None
    link: ClassVar[str | None] = None
    history: ClassVar[str]         # how a past date is answered, in words
    supports_past: ClassVar[bool]  # False: a past date comes only from the archive
    required: ClassVar[bool] = True  # `reportgen sources` fails when a required one is down
    # Place in the registry, so in the brief (indicators and sections follow it).
    order: ClassVar[int] = 100
    # The settings model (it must have `enabled: bool`), and its key in the config: None is
    # `sources.<name>`; a section of its own names a top-level key ("etf").
    settings_model: type[S]
    settings_key: ClassVar[str | None] = None
    # Secrets it reads: (our name, the key of FetchContext.secrets; environment variable).
    secrets: ClassVar[tuple[tuple[str, str], ...]] = ()
    # Folders of the bundled sample holding this source's payloads (default: its name).
    sample_sources: ClassVar[tuple[str, ...]] = ()
    # How much older than the report's cut-off (or than its fetch, when fetched during the
    # day) the data's own time may be before its figures are shown as stale; None: no limit.
    stale_after: ClassVar[timedelta | None] = None
    # The parsed model's class: the archive reads a snapshot back as it.
    model: ClassVar[type[BaseModel]]
    # What it contributes to the brief.
    indicators: ClassVar[tuple[FigureSpec, ...]] = ()
    figure_sections: ClassVar[tuple[FigureSection, ...]] = ()
    sections: ClassVar[tuple[SectionSpec, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for spec in cls.indicators:
            spec.check()

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.settings: S = config.settings_for(self.config_key(), self.settings_model)

    @classmethod
    def config_key(cls) -> str:
        """Dotted key of this source's settings in the config."""
        return cls.settings_key or f"sources.{cls.name}"

    @classmethod
    def secret_names(cls) -> tuple[str, ...]:
        """Environment variables this source reads (present or not)."""
        return tuple(variable for _, variable in cls.secrets)

    @classmethod
    def sample_folders(cls) -> tuple[str, ...]:
        return cls.sample_sources or (cls.name,)

    def enabled(self) -> tuple[bool, str]:
        """Whether this source runs, and why not when it does not."""
        if not getattr(self.settings, "enabled", True):
            return False, f"disabled in config ({self.config_key()}.enabled)"
        return True, "enabled"

    @property
    def needs_previous_day(self) -> bool:
        """Whether a figure's change needs the previous day's snapshot collected (a source
        that carries the day before in its own answer, or has no history, does not)."""
        return self.supports_past and any(spec.uses_previous_day for spec in self.indicators)

    def probe_url(self) -> str | None:
        """The URL `reportgen sources` checks: the first `*url` setting by default."""
        for key, value in self.settings:
            if key.endswith("url") and isinstance(value, str):
                return value
        return None

    def remember(self, previous: list[RawPayload]) -> None:
        """Receive this source's most recent archived payloads (e.g. for conditional GET).
        Most sources ignore them."""
        return None

    def archive_days(self, day: date) -> tuple[date, ...]:
        """Fetch days whose archived payloads can answer for `day` (a source without history,
        like news feeds, still holds a day's items in the next days' fetches)."""
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
