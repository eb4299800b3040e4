"""The registry of upstream sources, in the order the brief uses them.

Each entry is a `Source` subclass declaring its name, whether it can answer for a past date
(and how), and whether it is enabled (and why not). `reportgen sources` reads this list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reportgen.sources.altseason import AltSeasonSource
from reportgen.sources.base import FetchContext, ParseContext, Source
from reportgen.sources.coingecko import CoinGeckoGlobal
from reportgen.sources.etf import EtfSource
from reportgen.sources.feargreed import FearGreedSource
from reportgen.sources.gas import GasSource
from reportgen.sources.liquidation import LiquidationSource
from reportgen.sources.news import NewsSource
from reportgen.sources.stablecoins import StablecoinSource

if TYPE_CHECKING:
    from reportgen.config import Config

SOURCE_CLASSES: list[type[Source]] = [
    CoinGeckoGlobal,
    GasSource,
    AltSeasonSource,
    FearGreedSource,
    StablecoinSource,
    LiquidationSource,
    EtfSource,
    NewsSource,
]


def all_sources(config: Config) -> list[Source]:
    """One instance of every registered source, enabled or not."""
    return [cls(config) for cls in SOURCE_CLASSES]


__all__ = ["SOURCE_CLASSES", "FetchContext", "ParseContext", "Source", "all_sources"]
