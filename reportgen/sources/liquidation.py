"""The liquidation map's inputs as one source: open-interest history and klines from
Binance, Bybit and OKX, Hyperliquid mark prices and account positions.

Payloads are archived under their venue's name (liq_binance, liq_bybit, liq_okx,
liq_hyperliquid) for diagnosis and re-collection; the snapshot holds the parsed maps per
symbol (buckets, clusters, cascade, captions), and each symbol's full result, heatmap
included, is kept beside it (`results`): the charts are drawn from that, so the model runs
once per collection. The heavy modelling lives in `reportgen.liquidation`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, PrivateAttr

from reportgen.clock import day_end
from reportgen.errors import FetchError, ParseError
from reportgen.models import RawPayload
from reportgen.sources.base import FetchContext, ParseContext, Source

if TYPE_CHECKING:
    from reportgen.liquidation.config import LiqConfig
    from reportgen.liquidation.result import StoredMap

VENUE_SOURCES = ("liq_binance", "liq_bybit", "liq_okx", "liq_hyperliquid")


def not_asked(settings: LiqConfig, limits: dict[str, str], now: datetime) -> list[RawPayload]:
    """A payload per venue (and symbol) left out because its history does not reach the
    window, so the archive and the map's caption say why it is missing."""
    from reportgen.liquidation.parsers import venue_symbol

    first = {"binance": (settings.binance_url, "/futures/data/openInterestHist", "symbol"),
             "bybit": (settings.bybit_url, "/v5/market/open-interest", "symbol"),
             "okx": (settings.okx_url, "/api/v5/rubik/stat/contracts/open-interest-history",
                     "instId")}
    out = []
    for venue, why in limits.items():
        if venue == "hyperliquid":
            urls = [f"{settings.hyperliquid_url}/info#type=metaAndAssetCtxs"]
        else:
            base, path, key = first[venue]
            urls = [f"{base}{path}?{key}={venue_symbol(venue, coin)}" for coin in settings.symbols]
        out += [RawPayload(source=f"liq_{venue}", url=url, status=None, body=b"",
                           fetched_at=now, error=f"not asked: {why}") for url in urls]
    return out


class LiquidationMaps(BaseModel):
    symbols: dict[str, dict[str, Any]]
    # The moment the maps describe: when the venues were asked, or the cut-off of a past day.
    as_of: datetime | None = None
    # Each symbol's full result, heatmap included: not in the snapshot, kept apart in the
    # archive (LiquidationSource.results) for the charts.
    _maps: dict[str, StoredMap] = PrivateAttr(default_factory=dict)


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
        from reportgen.liquidation.history import window_limits, without

        settings = ctx.config.liquidation
        end = day_end(ctx.report_date, ctx.config.timezone)
        now = ctx.http.clock.now()
        limits = window_limits(settings, end, now)
        if ctx.is_past and settings.hyperliquid:
            # Hyperliquid publishes current positions only: never use them for a past date.
            limits["hyperliquid"] = ("Hyperliquid publishes current positions only: a past "
                                     "day's positions come only from a run archived that day")
        found = await fetch_all(ctx.http, without(settings, limits), end)
        raws = [raw for payloads in found.values() for raw in payloads]
        raws += not_asked(settings, limits, now)
        if not any(raw.error is None for raw in raws):
            reasons = {}
            for raw in raws:  # the first failure of each venue says why
                reasons.setdefault(raw.source, raw.error)
            err = FetchError("no venue answered: " + "; ".join(
                f"{source.removeprefix('liq_')}: {why}" for source, why in reasons.items()))
            err.raw = raws[0] if raws else None
            err.raws = raws  # every venue's failed exchange, for the archive
            raise err
        return raws

    def results(self, model: BaseModel) -> dict[str, BaseModel]:
        """The map result of each symbol (bucket arrays, heatmap), which render draws."""
        return dict(model._maps) if isinstance(model, LiquidationMaps) else {}

    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> LiquidationMaps:
        from reportgen.liquidation.result import StoredMap
        from reportgen.liquidation.section import build_liquidation_section

        as_of = day_end(ctx.report_date, ctx.zone)
        grouped = group_by_source(raws)  # failed ones too: they say what is missing
        maps = {}
        stored = {}
        problems: list[str] = []
        for symbol in self.config.liquidation.symbols:
            result = build_liquidation_section(grouped, symbol, self.config.liquidation, as_of)
            maps[symbol] = result.model_dump(mode="json")
            stored[symbol] = StoredMap.of(result)
            if result.cex is None and result.hyperliquid is None:
                problems += [f"{symbol} {venue}: {why}" for venue, why in result.unavailable.items()]
        if len(problems) and all(m["cex"] is None and m["hyperliquid"] is None
                                 for m in maps.values()):
            # Nothing could be mapped: fail the source so its payloads are flagged in the archive.
            raise ParseError("no liquidation map could be built: " + "; ".join(problems)[:600])
        fetched = [r.fetched_at for r in raws if r.error is None]
        out = LiquidationMaps(symbols=maps, as_of=min(max(fetched), as_of) if fetched else as_of)
        out._maps = stored
        return out
