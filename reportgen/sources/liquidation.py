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
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, PrivateAttr

from reportgen import numbers
from reportgen.clock import day_end
from reportgen.errors import FetchError, ParseError
from reportgen.figures import DERIVATIVES, CustomSection, Indicator
from reportgen.liquidation.config import LiqConfig
from reportgen.models import RawPayload
from reportgen.sources.base import FetchContext, ParseContext, Source
from reportgen.units import CHANGE
from reportgen.view import (
    CascadeStep,
    ClusterLevel,
    LiqMap,
    LiqPart,
    Section,
    SourceRef,
)

if TYPE_CHECKING:
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


class ClusterText(BaseModel):
    """A cluster a map's sentences cite (`reportgen.liquidation.summary.Cluster`)."""

    text: str
    side: str = ""
    usd: float = 0.0
    price_low: float | None = None
    price_high: float | None = None

    def level(self) -> ClusterLevel | None:
        """The cluster as the brief's data (None if a stored one lacks its range)."""
        if self.side not in ("long", "short") or self.price_low is None \
                or self.price_high is None:
            return None
        return ClusterLevel(side=self.side, usd=self.usd, price_low=self.price_low,
                            price_high=self.price_high)


class CascadeText(BaseModel):
    """One ±x % row of a map (`reportgen.liquidation.summary.CascadeRow`)."""

    side: str
    move_pct: float
    price: float
    usd: float


class MapText(BaseModel):
    """What the brief shows of one map (`reportgen.liquidation.summary.MapSummary`)."""

    venue: str
    mark_price: float
    sentences: list[str] = []
    clusters: list[ClusterText] = []
    cascade: list[CascadeText] = []


class VenueText(BaseModel):
    """What the brief shows of one venue's part (`reportgen.liquidation.section.VenueStatus`)."""

    status: str
    reason: str | None = None
    problems: list[str] = []


class OpenInterestText(BaseModel):
    """One venue's open interest over 24 h (`reportgen.liquidation.result.OpenInterestDay`)."""

    venue: str
    coins: float | None = None
    at: datetime | None = None
    coins_before: float | None = None
    before_at: datetime | None = None
    usd: float | None = None
    reason: str | None = None

    @property
    def change_pct(self) -> float | None:
        if self.coins is None or not self.coins_before:
            return None
        return (self.coins / self.coins_before - 1) * 100


class SymbolMaps(BaseModel):
    """What the brief shows of one symbol's result (`LiquidationResult`, stored as its JSON
    dump; read back here without the modelling code, which needs numpy)."""

    symbol: str
    cex: MapText | None = None
    hyperliquid: MapText | None = None
    unavailable: dict[str, str] = {}
    captions: dict[str, str] = {}
    venues: dict[str, VenueText] = {}
    open_interest: dict[str, OpenInterestText] = {}

    def open_interest_change(self) -> tuple[float, float, float | None] | None:
        """(coins now, coins 24 h before, US$ now) summed over the venues that have both
        readings (US$ only when each of them has it); None when none has."""
        both = [v for v in self.open_interest.values()
                if v.coins is not None and v.coins_before]
        if not both:
            return None
        usd = [v.usd for v in both]
        return (sum(v.coins or 0.0 for v in both), sum(v.coins_before or 0.0 for v in both),
                None if any(u is None for u in usd) else sum(u or 0.0 for u in usd))


class LiquidationMaps(BaseModel):
    symbols: dict[str, SymbolMaps]
    # The moment the maps describe: when the venues were asked, or the cut-off of a past day.
    as_of: datetime | None = None
    # Whether render draws each symbol's heatmap (`liquidation.heatmaps`).
    heatmaps: bool = False
    # Each symbol's full result, heatmap included: not in the snapshot, kept apart in the
    # archive (LiquidationSource.results) for the charts.
    _maps: dict[str, StoredMap] = PrivateAttr(default_factory=dict)


TITLE = "Liquidation map"
_VENUE_TITLES = {"binance": "Binance", "bybit": "Bybit", "okx": "OKX",
                 "hyperliquid": "Hyperliquid"}
_PART_LABELS = {"cex": "CEX estimate", "hyperliquid": "Hyperliquid positions"}
HOW_TO_READ = (
    "Price runs left to right and the dashed line is the mark. Each bar is the US$ notional "
    "that would be liquidated if price reached that bucket: longs below the mark, shorts "
    "above. Colours are leverage, light for low and dark for high. The line adds up what is "
    "liquidated as price moves out from the mark (right axis). Tall clusters act like "
    "magnets: a move into one forces selling or buying that can carry price further. The "
    "top panel is a model estimate from open interest, the bottom one Hyperliquid's own "
    "reported positions. It is a map of where liquidations may sit, not a forecast of where "
    "price will go."
)


def _venue_list(venue: str) -> str:
    return ", ".join(_VENUE_TITLES.get(v, v) for v in venue.split("+"))


def _chart_source(summaries: dict[str, MapText]) -> str:
    """The source line printed under a symbol's chart (and inside its image)."""
    parts = []
    if "cex" in summaries:
        parts.append(f"{_venue_list(summaries['cex'].venue)} open interest and prices (modelled)")
    if "hyperliquid" in summaries:
        parts.append("Hyperliquid positions (reported)")
    return "Source: " + " · ".join(parts) + " · chart: reportgen"


def _alt(symbol: str, summaries: dict[str, MapText]) -> str:
    """What the chart shows, in words: both panels and the clusters the text cites."""
    out = [f"{symbol} liquidation map by price"]
    for kind, s in summaries.items():
        what = ("Estimated CEX liquidation levels" if kind == "cex"
                else "Hyperliquid's reported liquidation prices")
        clusters = "; ".join(c.text for c in s.clusters)
        out.append(f"{what} around the mark ${s.mark_price:,.0f}"
                   + (f" (largest: {clusters})" if clusters else ""))
    return ". ".join(out) + "."


def _distance(level: ClusterLevel, mark: float) -> str:
    """How far the middle of a cluster's range is from the mark, in % of the mark: "9.5 %"."""
    return numbers.percent(abs(level.middle / mark - 1) * 100, 1)


def takeaway(parts: list[LiqPart]) -> str | None:
    """The line under a symbol's chart: how far from the mark the largest long and short
    clusters sit, from the clusters each panel's text lists ("Largest clusters against the
    $108,600 mark: longs 9.5% below, shorts 3.8% above (CEX estimate); longs 7.7% below,
    shorts 6.1% above (Hyperliquid)"). None when no panel has a cluster."""
    said = []
    marks = []
    for part in parts:
        if part.mark is None or part.mark <= 0:
            continue
        phrases = [f"{'longs' if c.side == 'long' else 'shorts'} {_distance(c, part.mark)} "
                 f"{'below' if c.side == 'long' else 'above'}" for c in part.clusters]
        if not phrases:
            continue
        marks.append(part.mark)
        said.append((", ".join(phrases), part))
    if not said:
        return None
    one_mark = len(set(marks)) == 1
    lead = (f"Largest clusters against the {numbers.price(marks[0])} mark: " if one_mark
            else "Largest clusters against the mark: ")
    tails = []
    for text, part in said:
        who = "CEX estimate" if part.kind == "cex" else "Hyperliquid"
        mark = "" if one_mark else f", mark {numbers.price(part.mark)}"
        tails.append(f"{text} ({who}{mark})")
    return lead + "; ".join(tails) + "."


def _symbol_maps(day: date, symbol: str, result: SymbolMaps, *, heatmaps: bool) -> list[LiqMap]:
    """One figure per symbol (CEX estimate above Hyperliquid positions, one price axis), the
    words for each panel, and optionally the heatmap."""
    sym = symbol.lower()
    summaries = {k: m for k, m in (("cex", result.cex), ("hyperliquid", result.hyperliquid))
                 if m is not None}
    parts = []
    for kind in ("cex", "hyperliquid"):
        summary = summaries.get(kind)
        if summary is None:
            why = result.unavailable.get(kind) or "; ".join(
                f"{k}: {v}" for k, v in result.unavailable.items()) or "no data"
            parts.append(LiqPart(kind=kind, label=_PART_LABELS[kind],
                                 reason=f"unavailable for {day}: {why}"))
            continue
        label = (f"{_PART_LABELS[kind]} ({_venue_list(summary.venue)})" if kind == "cex"
                 else _PART_LABELS[kind])
        parts.append(LiqPart(kind=kind, label=label, caption=result.captions.get(kind),
                             lines=list(summary.sentences), venue=summary.venue,
                             mark=summary.mark_price,
                             cascade=[CascadeStep(side=r.side, move_pct=r.move_pct,
                                                  price=r.price, usd=r.usd)
                                      for r in summary.cascade],
                             clusters=[lv for c in summary.clusters
                                       if (lv := c.level()) is not None]))
    maps = [LiqMap(
        title=f"{symbol} liquidation map", symbol=symbol,
        chart=f"charts/liqmap_{sym}.svg" if summaries else None,
        png=f"charts/liqmap_{sym}.png" if summaries else None,
        alt=_alt(symbol, summaries) if summaries else "",
        source=_chart_source(summaries) if summaries else None, parts=parts,
        takeaway=takeaway(parts))]
    if heatmaps and "cex" in summaries:
        venues = _venue_list(summaries["cex"].venue)
        maps.append(LiqMap(
            title=f"{symbol} estimated liquidation levels over time", symbol=symbol,
            chart=f"charts/liqheat_{sym}.svg", png=f"charts/liqheat_{sym}.png",
            alt=f"Heatmap of estimated {symbol} liquidation levels by time and price",
            source=f"Source: {venues} open interest and prices (modelled) · chart: reportgen",
            caption="Brighter means more estimated notional at that price and hour; the line "
                    "is the mark. Levels the price trades through are removed."))
    return maps


def _venue_gaps(symbol: str, venues: dict[str, VenueText]) -> list[str]:
    """"BTC: OKX dropped: answered HTTP 503 … on /api/v5/…" for each venue that was left
    out, or used with a stand-in, in one symbol's map (see LiquidationResult.gaps)."""
    out = []
    for name, v in venues.items():
        title = _VENUE_TITLES.get(name, name)
        if v.status != "used":
            out.append(f"{symbol}: {title} {v.status}: {v.reason}")
        elif v.problems:
            more = len(v.problems) - 1
            out.append(f"{symbol}: {title} partial: {v.problems[0]}"
                       + (f" (+{more} more)" if more else ""))
    return out


def liquidation_section(day: date, data: LiquidationMaps, ref: SourceRef | None) -> Section:
    """One figure per symbol (CEX estimate above Hyperliquid positions), a reader's guide, the
    words for each map, and optionally the heatmaps."""
    maps = [m for symbol, result in data.symbols.items()
            for m in _symbol_maps(day, symbol, result, heatmaps=data.heatmaps)]
    if not maps:
        return Section(id="liquidation", title=TITLE, kind="liquidation", source=ref,
                       reason=f"unavailable for {day}: no symbol configured")
    gaps = [gap for symbol, result in data.symbols.items()
            for gap in _venue_gaps(symbol, result.venues)]
    return Section(id="liquidation", title=TITLE, kind="liquidation", maps=maps,
                   guide=HOW_TO_READ, source=ref, gaps=gaps)


OI_COINS = ("BTC", "ETH")
OI_METHOD = ("Open interest: each venue's last reading before the cut-off against its "
             "reading 24 h earlier, in coins counted once (Bybit: singleOpenInterest, else half "
             "of openInterest), from the history the liquidation map downloads; the total sums "
             "the venues with both readings, valued at each venue's last price.")


def _oi_indicator(coin: str) -> Indicator[LiquidationMaps]:
    def maps(m: LiquidationMaps) -> SymbolMaps | None:
        return m.symbols.get(coin)

    def value(m: LiquidationMaps) -> float | None:
        found = maps(m)
        total = found.open_interest_change() if found is not None else None
        return None if total is None else (total[0] / total[1] - 1) * 100

    def note(m: LiquidationMaps) -> str | None:
        found = maps(m)
        total = found.open_interest_change() if found is not None else None
        if found is None or total is None:
            return None
        venues = []
        for name, v in found.open_interest.items():
            title = _VENUE_TITLES.get(name, name)
            change = v.change_pct
            venues.append(f"{title} {numbers.change(change)}" if change is not None
                          else f"{title} unavailable: {v.reason or 'no reading'}")
        size = f"{numbers.grouped(total[0], 0)} {coin}"
        if total[2] is not None:
            size += f" ({numbers.usd(total[2], digits=numbers.FIGURE_DIGITS)})"
        return "; ".join(venues) + " · open interest " + size

    def why(m: LiquidationMaps) -> str | None:
        found = maps(m)
        if found is None:
            return f"{coin} is not among the liquidation map's symbols"
        reasons = [f"{_VENUE_TITLES.get(n, n)}: {v.reason}"
                   for n, v in found.open_interest.items() if v.reason]
        return "; ".join(reasons) or "no venue's open-interest history"

    return Indicator(f"{coin} open interest, 24 h", LiquidationMaps, "symbols", value, CHANGE,
                     decimals=2, section=DERIVATIVES.id, change="none", note=note, why=why,
                     detail=(lambda m: OI_METHOD) if coin == OI_COINS[0] else None)


def group_by_source(raws: list[RawPayload]) -> dict[str, list[RawPayload]]:
    grouped: dict[str, list[RawPayload]] = defaultdict(list)
    for raw in raws:
        grouped[raw.source].append(raw)
    return dict(grouped)


class LiquidationSource(Source[LiqConfig]):
    name: ClassVar[str] = "liquidation"
    title: ClassVar[str] = "Liquidation map inputs (Binance, Bybit, OKX, Hyperliquid)"
    credit: ClassVar[str | None] = "Binance, Bybit, OKX and Hyperliquid public APIs"
    history: ClassVar[str] = ("CEX open interest within the venues' retention (Binance 30 days); "
                              "Hyperliquid positions only from the archive")
    supports_past: ClassVar[bool] = True
    required: ClassVar[bool] = False
    order: ClassVar[int] = 60
    sample_sources: ClassVar[tuple[str, ...]] = VENUE_SOURCES
    settings_model = LiqConfig
    settings_key: ClassVar[str | None] = "liquidation"
    model = LiquidationMaps
    sections = (CustomSection("liquidation", TITLE, "liquidation", LiquidationMaps,
                              liquidation_section, "Liquidation map"),)
    # The derivatives line's open-interest change, from the same venue data (no request).
    figure_sections = (DERIVATIVES,)
    indicators = tuple(_oi_indicator(coin) for coin in OI_COINS)

    def probe_url(self) -> str | None:
        return self.settings.binance_url

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        from reportgen.liquidation.fetch import fetch_all
        from reportgen.liquidation.history import window_limits, without

        settings = self.settings
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
            reasons: dict[str, str | None] = {}
            for raw in raws:  # the first failure of each venue says why
                reasons.setdefault(raw.source, raw.error)
            err = FetchError("no venue answered: " + "; ".join(
                f"{source.removeprefix('liq_')}: {why}" for source, why in reasons.items()))
            err.raw = raws[0] if raws else None
            err.raws = list(raws)  # every venue's failed exchange, for the archive
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
        maps: dict[str, SymbolMaps] = {}
        stored: dict[str, StoredMap] = {}
        problems: list[str] = []
        for symbol in self.settings.symbols:
            result = build_liquidation_section(grouped, symbol, self.settings, as_of)
            maps[symbol] = SymbolMaps.model_validate(result.model_dump(mode="json"))
            stored[symbol] = StoredMap.of(result)
            if result.cex is None and result.hyperliquid is None:
                problems += [f"{symbol} {venue}: {why}" for venue, why in result.unavailable.items()]
        if len(problems) and all(m.cex is None and m.hyperliquid is None
                                 for m in maps.values()):
            # Nothing could be mapped: fail the source so its payloads are flagged in the archive.
            raise ParseError("no liquidation map could be built: " + "; ".join(problems)[:600])
        fetched = [r.fetched_at for r in raws if r.error is None]
        out = LiquidationMaps(symbols=maps, as_of=min(max(fetched), as_of) if fetched else as_of,
                              heatmaps=self.settings.heatmaps)
        out._maps = stored
        return out
