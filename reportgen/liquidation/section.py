"""The brief's liquidation section: both maps for one symbol from archived/sample payloads."""

from __future__ import annotations

from datetime import UTC, datetime

from reportgen import numbers
from reportgen.errors import ParseError
from reportgen.liquidation.buckets import clip_to_range, regrid
from reportgen.liquidation.config import LiqConfig
from reportgen.liquidation.estimate import estimate
from reportgen.liquidation.hyperliquid import aggregate, arrays_from_positions, coin_name
from reportgen.liquidation.model import MarketSeries
from reportgen.liquidation.oi_change import open_interest_day
from reportgen.liquidation.parsers import (
    listed_coin,
    parse_hyperliquid,
    parse_venue,
    request_params,
)
from reportgen.liquidation.result import (
    VENUE_TITLES,
    Heatmap,
    LiquidationResult,
    VenueStatus,
    problems_text,
)
from reportgen.liquidation.summary import MapSummary, fmt_usd, summarise
from reportgen.models import RawPayload

SOURCES = {"binance": "liq_binance", "bybit": "liq_bybit", "okx": "liq_okx",
           "hyperliquid": "liq_hyperliquid"}


def _ms(dt: datetime) -> int:
    return int(dt.astimezone(UTC).timestamp() * 1000)


def _span(first: datetime, last: datetime) -> str:
    """"2025-06-04 23:00 – 2025-06-11 23:00 UTC", or "2025-08-15 18:00 – 19:00 UTC"."""
    return numbers.span(first, last)


def data_line(venues: dict[str, VenueStatus], cex_only: bool = True) -> str:
    """"Data: Binance 168 60-min bars (4 Jun 23:00–11 Jun 23:00 UTC); OKX dropped: …"."""
    parts = []
    for v in venues.values():
        if cex_only and v.venue == "hyperliquid":
            continue
        title = VENUE_TITLES.get(v.venue, v.venue)
        if v.status == "used" and v.first and v.last:
            bars = "bar" if v.bars == 1 else "bars"
            text = f"{title} {v.bars} {v.bar_minutes}-min {bars} ({_span(v.first, v.last)})"
            if v.last_price_bars:
                text += f", {v.last_price_bars} priced by last-price klines"
            if v.problems:
                text += f" [{problems_text(v.problems)}]"
        else:
            text = f"{title} {v.status}: {v.reason}"
        parts.append(text)
    return "Data: " + "; ".join(parts) + "." if parts else ""


def cex_caption(s: MapSummary, venues: dict[str, VenueStatus] | None = None) -> str:
    """The assumptions line printed under the estimated map, with the data it rests on."""
    a = s.assumptions or {}
    # a no-break space keeps "10x 30%" together when the caption wraps under the chart
    tiers = ", ".join(f"{k}\u00a0{numbers.percent(v * 100, 0)}"
                      for k, v in a.get("tier_weights", {}).items())
    share = s.coverage.get("share_of_open_positions")
    cov = (f" Places {numbers.percent(share * 100, 0)} of open positions."
           if share is not None else "")
    bybit = {"halve": " Bybit's open interest counted once: singleOpenInterest, else half of "
                      "openInterest (its v5 docs: \"the sum of both sides\").",
             "single": " Bybit's openInterest taken as published by operator setting (its v5 "
                       "docs: \"the sum of both sides\"; Bybit may count twice)."
             }.get(a.get("bybit_open_interest", ""), "")
    data = f" {data_line(venues)}" if venues else ""
    return (f"Estimated, not reported: US$ notional rebuilt from open-interest changes in "
            f"{a.get('bar_minutes')}-min bars over up to {a.get('window_days')} d; leverage "
            f"tiers {tiers}; long/short split: {a.get('long_short_split')}; first-bracket "
            f"maintenance margin ({a.get('brackets_as_of')}); levels removed once the mark "
            f"trades through them; each side capped at the venue's open interest.{bybit}"
            f"{cov}{data}")


def hl_caption(s: MapSummary, status: VenueStatus | None = None) -> str:
    """The coverage line printed under the Hyperliquid map."""
    c = s.coverage
    cov = ""
    if "coverage_long" in c:
        cov = (f", {numbers.percent(c['coverage_long'] * 100, 0)} of long and "
               f"{numbers.percent(c['coverage_short'] * 100, 0)} of short open interest")
    gaps = ""
    if status is not None and status.problems:
        gaps = " " + "; ".join(status.problems) + "."
    return (f"Reported by the venue: each position's own liquidation price, "
            f"{c.get('accounts', 0)} accounts{cov}. {fmt_usd(s.no_liquidation_price_usd)} "
            f"in positions without a liquidation price is not plotted.{gaps}")


def build_liquidation_section(raws_by_source: dict[str, list[RawPayload]], symbol: str,
                              config: LiqConfig, as_of: datetime) -> LiquidationResult:
    """Both maps of `symbol` as of `as_of` from the `liq_*` sources' payloads (failed ones
    included: they name what is missing).

    Each (venue, symbol) stands alone: a venue whose payloads are missing, failed or
    malformed is named in `unavailable` and `venues`; the other venues still make the map.
    """
    coin = symbol.strip()          # Hyperliquid spells some coins in mixed case (kPEPE)
    symbol = coin.upper()
    result = LiquidationResult(symbol=symbol, as_of=as_of)
    series: dict[str, MarketSeries] = {}
    oi_only: dict[str, float] = {}
    for venue in config.venues:
        if listed_coin(venue, symbol) is None:
            why = f"lists no {symbol} market at that price scale"
            result.venues[venue] = VenueStatus(venue=venue, status="dropped", reason=why)
            result.unavailable[venue] = why
            continue
        raws = raws_by_source.get(SOURCES[venue], [])
        data = parse_venue(venue, raws, symbol, bybit_open_interest=config.bybit_open_interest,
                           okx_ct_val=config.okx_contract_value.get(symbol))
        result.open_interest[venue] = open_interest_day(data, as_of)
        if data.series is not None:
            series[venue] = data.series
            result.venues[venue] = VenueStatus(venue=venue, status="used",
                                               problems=data.problems)
            continue
        why = problems_text(data.problems) if data.problems else (
            "no payloads" if not raws else f"no {symbol} open interest and price bars")
        if data.oi_now is not None:
            oi_only[venue] = data.oi_now[1]
            result.venues[venue] = VenueStatus(
                venue=venue, status="open interest only", problems=data.problems,
                reason=f"no open-interest history ({why}); current open interest counted "
                       "in the coverage")
        else:
            result.venues[venue] = VenueStatus(venue=venue, status="dropped", reason=why,
                                               problems=data.problems)
        result.unavailable[venue] = why
    if series:
        try:
            est = estimate(series, symbol, config, _ms(as_of), oi_only)
        except ValueError as exc:
            result.unavailable["cex"] = str(exc)
            for name in series:
                result.venues[name] = result.venues[name].model_copy(
                    update={"status": "dropped", "reason": str(exc)})
        else:
            for name, why in est.skipped.items():
                result.venues[name] = result.venues[name].model_copy(
                    update={"status": "dropped", "reason": why})
                result.unavailable[name] = why
            for name, sp in est.spans.items():
                result.venues[name] = result.venues[name].model_copy(update={
                    "bars": sp["bars"], "bar_minutes": sp["bar_minutes"],
                    "first": datetime.fromtimestamp(sp["first_ms"] / 1000, UTC),
                    "last": datetime.fromtimestamp(sp["last_ms"] / 1000, UTC),
                    "last_price_bars": sp.get("last_price_bars", 0)})
            factor, width = config.grid_for(symbol, est.map.mark_price)
            clipped = clip_to_range(regrid(est.map, factor), config.range_pct)
            result.cex = summarise(clipped, as_of=as_of, cluster_buckets=width,
                                   cascade_pcts=config.cascade_pcts,
                                   assumptions=est.assumptions, coverage=est.coverage)
            result.captions["cex"] = cex_caption(result.cex, result.venues)
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
    problems = _hl_problems(raws)

    def drop(why: str) -> None:
        result.unavailable["hyperliquid"] = why
        result.venues["hyperliquid"] = VenueStatus(venue="hyperliquid", status="dropped",
                                                   reason=why, problems=problems)

    if not raws:
        return drop("no payloads")
    try:
        data = parse_hyperliquid(raws)
    except ParseError as exc:
        return drop(f"unreadable payload: {exc}")
    name = coin_name(data.assets, symbol)
    if name is None:
        return drop(problems_text(problems) if not data.assets and problems
                    else f"no {symbol} mark price in metaAndAssetCtxs")
    ctx = data.assets[name]
    size = config.bucket_for(symbol, ctx.mark_px)
    factor, width = config.grid_for(symbol, ctx.mark_px)
    m = aggregate(arrays_from_positions(data.positions, name), name, ctx.mark_px,
                  size * factor, config.range_pct, open_interest=ctx.open_interest,
                  accounts=data.accounts)
    status = VenueStatus(venue="hyperliquid", status="used", accounts=data.accounts,
                         problems=problems)
    result.venues["hyperliquid"] = status
    result.hyperliquid = summarise(m, as_of=as_of, cluster_buckets=width,
                                   cascade_pcts=config.cascade_pcts, coverage=m.extra)
    result.captions["hyperliquid"] = hl_caption(result.hyperliquid, status)


def _hl_problems(raws: list[RawPayload]) -> list[str]:
    """What failed among Hyperliquid's requests, in words."""
    def why(r: RawPayload) -> str:
        return r.error or f"answered HTTP {r.status}"

    failed = [r for r in raws if r.error is not None or r.status not in (None, 200)]
    kinds = {id(r): request_params(r).get("type", "leaderboard") for r in raws}
    out = [f"metaAndAssetCtxs: {why(r)}" for r in failed if kinds[id(r)] == "metaAndAssetCtxs"]
    out += [f"leaderboard: {why(r)} (configured accounts only)"
            for r in failed if kinds[id(r)] == "leaderboard"]
    accounts = [r for r in raws if kinds[id(r)] == "clearinghouseState"]
    lost = [r for r in failed if kinds[id(r)] == "clearinghouseState"]
    if lost:
        out.append(f"{len(lost)} of {len(accounts)} accounts did not answer ({why(lost[0])})")
    return out


__all__ = ["SOURCES", "VENUE_TITLES", "Heatmap", "LiquidationResult", "VenueStatus",
           "build_liquidation_section"]
