"""The brief's liquidation section: both maps for one symbol from archived/sample payloads."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from reportgen.errors import ParseError
from reportgen.liquidation.buckets import clip_to_range
from reportgen.liquidation.config import LiqConfig
from reportgen.liquidation.estimate import VENUE_TITLES, estimate
from reportgen.liquidation.hyperliquid import aggregate, arrays_from_positions, coin_name
from reportgen.liquidation.parsers import parse_hyperliquid, parse_market_series
from reportgen.liquidation.summary import MapSummary, fmt_usd, summarise
from reportgen.models import RawPayload

SOURCES = {"binance": "liq_binance", "bybit": "liq_bybit", "okx": "liq_okx",
           "hyperliquid": "liq_hyperliquid"}


class Heatmap(BaseModel):
    """Time × price grid of estimated live liquidation notional (US$)."""

    times: list[datetime]
    price_low0: float
    bucket_size: float
    values: list[list[float]]   # [time][bucket]
    price: list[float]


class LiquidationResult(BaseModel):
    """Everything the brief shows about one symbol's liquidation levels."""

    symbol: str
    as_of: datetime
    cex: MapSummary | None = None
    hyperliquid: MapSummary | None = None
    # large; kept for the charts, left out of the JSON dump
    heatmap: Heatmap | None = Field(default=None, exclude=True)
    unavailable: dict[str, str] = {}
    captions: dict[str, str] = {}


def _ms(dt: datetime) -> int:
    return int(dt.astimezone(UTC).timestamp() * 1000)


def cex_caption(s: MapSummary) -> str:
    """The assumptions line printed under the estimated map."""
    a = s.assumptions or {}
    # no-break spaces keep "10x 30 %" together when the caption wraps under the chart
    tiers = ", ".join(f"{k}\u00a0{v * 100:.0f}\u00a0%"
                      for k, v in a.get("tier_weights", {}).items())
    share = s.coverage.get("share_of_open_positions")
    cov = f" Places {share * 100:.0f}\u00a0% of open positions." if share is not None else ""
    bybit = {"halve": " Bybit's open interest counts both sides, so it is halved (aggregators "
                      "show it unhalved).",
             "raw": " Bybit's open interest is taken unhalved, as aggregators show it (its "
                    "docs count both sides)."}.get(a.get("bybit_open_interest", ""), "")
    return (f"Estimated, not reported: US$ notional rebuilt from open-interest changes over "
            f"{a.get('window_days')} d of {a.get('bar_minutes')}-min bars; leverage tiers "
            f"{tiers}; long/short split: {a.get('long_short_split')}; first-bracket "
            f"maintenance margin ({a.get('brackets_as_of')}); levels removed once the mark "
            f"trades through them; each side capped at the venue's open interest.{bybit}{cov}")


def hl_caption(s: MapSummary) -> str:
    """The coverage line printed under the Hyperliquid map."""
    c = s.coverage
    cov = ""
    if "coverage_long" in c:
        cov = (f", {c['coverage_long'] * 100:.0f} % of long and {c['coverage_short'] * 100:.0f} %"
               " of short open interest")
    return (f"Reported by the venue: each position's own liquidation price, "
            f"{c.get('accounts', 0)} accounts{cov}. {fmt_usd(s.no_liquidation_price_usd)} "
            "in positions without a liquidation price is not plotted.")


def build_liquidation_section(raws_by_source: dict[str, list[RawPayload]], symbol: str,
                              config: LiqConfig, as_of: datetime) -> LiquidationResult:
    """Both maps of `symbol` as of `as_of` from the `liq_*` sources' payloads.

    A venue whose payloads are missing or malformed is named in `unavailable`; the other
    venues still make the map.
    """
    coin = symbol.strip()          # Hyperliquid spells some coins in mixed case (kPEPE)
    symbol = coin.upper()
    result = LiquidationResult(symbol=symbol, as_of=as_of)
    series = {}
    for venue in config.venues:
        raws = raws_by_source.get(SOURCES[venue], [])
        if not raws:
            result.unavailable[venue] = "no payloads"
            continue
        try:
            found = parse_market_series(venue, raws, config.bybit_open_interest)
        except (ParseError, KeyError, TypeError, ValueError, IndexError) as exc:
            result.unavailable[venue] = f"unreadable payload: {exc}"
            continue
        if symbol in found:
            series[venue] = found[symbol]
        else:
            result.unavailable[venue] = f"no {symbol} open interest and bars"
    if series:
        try:
            est = estimate(series, symbol, config, _ms(as_of))
        except ValueError as exc:
            result.unavailable["cex"] = str(exc)
        else:
            clipped = clip_to_range(est.map, config.range_pct)
            result.cex = summarise(clipped, as_of=as_of, cluster_buckets=config.cluster_buckets,
                                   cascade_pcts=config.cascade_pcts,
                                   assumptions=est.assumptions, coverage=est.coverage)
            result.captions["cex"] = cex_caption(result.cex)
            h = est.heatmap
            result.heatmap = Heatmap(
                times=[datetime.fromtimestamp(t / 1000, UTC) for t in h.times_ms.tolist()],
                price_low0=h.k0 * h.bucket_size, bucket_size=h.bucket_size,
                values=h.values.round(2).tolist(), price=h.price.tolist(),
            )
    if config.hyperliquid:
        _hyperliquid(result, raws_by_source.get(SOURCES["hyperliquid"], []), coin, config,
                     as_of)
    return result


def _hyperliquid(result: LiquidationResult, raws: list[RawPayload], symbol: str,
                 config: LiqConfig, as_of: datetime) -> None:
    if not raws:
        result.unavailable["hyperliquid"] = "no payloads"
        return
    try:
        data = parse_hyperliquid(raws)
    except ParseError as exc:
        result.unavailable["hyperliquid"] = f"unreadable payload: {exc}"
        return
    name = coin_name(data.assets, symbol)
    if name is None:
        result.unavailable["hyperliquid"] = f"no {symbol} mark price in metaAndAssetCtxs"
        return
    ctx = data.assets[name]
    size = config.bucket_for(symbol, ctx.mark_px)
    m = aggregate(arrays_from_positions(data.positions, name), name, ctx.mark_px, size,
                  config.range_pct, open_interest=ctx.open_interest, accounts=data.accounts)
    result.hyperliquid = summarise(m, as_of=as_of, cluster_buckets=config.cluster_buckets,
                                   cascade_pcts=config.cascade_pcts, coverage=m.extra)
    result.captions["hyperliquid"] = hl_caption(result.hyperliquid)


__all__ = ["SOURCES", "VENUE_TITLES", "Heatmap", "LiquidationResult",
           "build_liquidation_section"]
