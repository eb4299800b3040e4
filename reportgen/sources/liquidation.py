"""The liquidation map's inputs as one source: open-interest history and klines from
Binance, Bybit and OKX, Hyperliquid mark prices and account positions.

Payloads are archived under their venue's name (liq_binance, liq_bybit, liq_okx,
liq_hyperliquid) so a past day's map can be redrawn exactly; the snapshot holds the parsed
maps per symbol (buckets, clusters, cascade, captions). The heavy modelling lives in
`reportgen.liquidation`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar

from pydantic import BaseModel

from reportgen.clock import day_end
from reportgen.errors import FetchError, ParseError
from reportgen.models import RawPayload
from reportgen.sources.base import FetchContext, ParseContext, Source

VENUE_SOURCES = ("liq_binance", "liq_bybit", "liq_okx", "liq_hyperliquid")


class LiquidationMaps(BaseModel):
    symbols: dict[str, dict[str, Any]]


def group_by_source(raws: list[RawPayload]) -> dict[str, list[RawPayload]]:
    grouped: dict[str, list[RawPayload]] = defaultdict(list)
    for raw in raws:
        grouped[raw.source].append(raw)
    return dict(grouped)


class LiquidationSource(Source):
    name: ClassVar[str] = "liquidation"
    title: ClassVar[str] = "Liquidation map inputs (Binance, Bybit, OKX, Hyperliquid)"
    history: ClassVar[str] = ("CEX open interest within the venues' retention (Binance 30 days); "
                              "Hyperliquid positions only from the archive")
    supports_past: ClassVar[bool] = True
    required: ClassVar[bool] = False
    sample_sources: ClassVar[tuple[str, ...]] = VENUE_SOURCES
    config_section: ClassVar[str | None] = "liquidation"

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        from reportgen.liquidation.fetch import fetch_all

        settings = ctx.config.liquidation
        if ctx.is_past:
            # Hyperliquid publishes current positions only: never use them for a past date.
            settings = settings.model_copy(update={"hyperliquid": False})
        end = day_end(ctx.report_date, ctx.config.timezone)
        found = await fetch_all(ctx.http, settings, end)
        raws = [raw for payloads in found.values() for raw in payloads]
        if not any(key in found for key in VENUE_SOURCES):
            err = FetchError("no venue answered: " + "; ".join(
                f"{key.removesuffix('_error')}: {p[0].error}" for key, p in found.items() if p))
            err.raw = raws[0] if raws else None
            err.raws = raws  # every venue's failed exchange, for the archive
            raise err
        return raws

    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> LiquidationMaps:
        from reportgen.liquidation.section import build_liquidation_section

        as_of = day_end(ctx.report_date, ctx.zone)
        grouped = group_by_source([r for r in raws if r.error is None])
        maps = {}
        problems: list[str] = []
        for symbol in self.config.liquidation.symbols:
            result = build_liquidation_section(grouped, symbol, self.config.liquidation, as_of)
            maps[symbol] = result.model_dump(mode="json")
            if result.cex is None and result.hyperliquid is None:
                problems += [f"{symbol} {venue}: {why}" for venue, why in result.unavailable.items()]
        if len(problems) and all(m["cex"] is None and m["hyperliquid"] is None
                                 for m in maps.values()):
            # Nothing could be mapped: fail the source so its payloads are flagged in the archive.
            raise ParseError("no liquidation map could be built: " + "; ".join(problems)[:600])
        return LiquidationMaps(symbols=maps)
