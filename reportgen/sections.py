"""Builders for the sections fed by the ETF, news and liquidation sources.

Kept apart from `brief.build` so each stays small; each builder is pure:
(day, snapshot or None, refs) → Section. `extra_sections` maps a section id to the archive
source it reads and its builder.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from reportgen.brief.build import SECTION_TITLES, _direction, _reason, _Refs
from reportgen.brief.model import Section
from reportgen.config import Config
from reportgen.models import SourceSnapshot

Builder = Callable[[date, SourceSnapshot | None, _Refs], Section]


def _fmt_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def etf_section(day: date, snap: SourceSnapshot | None, refs: _Refs) -> Section:
    """US spot BTC and ETH ETF net flows per fund, total and running total."""
    title = SECTION_TITLES["etf"]
    if snap is None or not snap.ok:
        return Section(id="etf", title=title, reason=_reason(day, snap, "ETF flows"))
    ref = refs.get(snap)
    tables: list[dict[str, Any]] = []
    for asset in ("BTC", "ETH"):
        flows = snap.data.get("assets", {}).get(asset)
        if flows is None:
            why = snap.data.get("unavailable", {}).get(asset, "no data")
            tables.append({"asset": asset, "label": day.isoformat(),
                           "reason": f"unavailable for {day}: {why}"})
            continue
        flow_day = date.fromisoformat(flows["flow_date"]) if flows.get("flow_date") else None
        status = flows["status"]
        if status in ("no_data",) or flow_day is None:
            tables.append({"asset": asset, "label": day.isoformat(),
                           "reason": f"unavailable for {day}: {flows.get('note') or status}"})
            continue
        label = _fmt_day(flow_day) + ("" if flow_day == day else " (last trading day)")
        rows = [{"fund": f["ticker"], "flow": f["flow_musd"], "direction": _direction(f["flow_musd"])}
                for f in flows["funds"]]
        total = flows.get("total_musd")
        tables.append({
            "asset": asset, "label": label, "reason": None, "note": flows.get("note") or None,
            "rows": rows, "total": total, "total_direction": _direction(total),
            "cumulative": flows.get("cumulative_musd"),
        })
    missing = [t for t in tables if t["reason"]]
    if len(missing) == len(tables):
        # Neither table has figures (e.g. a date before the funds launched): the section is
        # unavailable, not "ok" with two empty tables.
        return Section(id="etf", title=title, source=ref,
                       reason=f"unavailable for {day}: " + "; ".join(
                           f"{t['asset']}: {t['reason'].removeprefix(f'unavailable for {day}: ')}"
                           for t in missing))
    text = ["Net flows in US$ millions as published by Farside Investors; negative = outflow. "
            "Running total = sum of Farside's daily totals from each fund's launch to the day shown."]
    return Section(id="etf", title=title, data={"tables": tables}, text=text, source=ref,
                   gaps=[f"{t['asset']} ETF flows" for t in missing])


def _stories(stories: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"title": s["title"], "link": s.get("link"), "sources": s.get("sources", []),
         "summary": s.get("summary") or "",
         "published": datetime.fromisoformat(s["published"]) if s.get("published") else None}
        for s in stories
    ]


def _news_section(kind: str) -> Builder:
    def build(day: date, snap: SourceSnapshot | None, refs: _Refs) -> Section:
        title = SECTION_TITLES[kind]
        if snap is None or not snap.ok:
            return Section(id=kind, title=title, reason=_reason(day, snap, "News"))
        stories = snap.data.get(kind, [])
        ref = refs.get(snap)
        if not stories:
            note = snap.data.get("note") or f"no {title.lower()} headlines published on {day}"
            return Section(id=kind, title=title, reason=f"no headlines for {day}: {note}",
                           source=ref)
        text = []
        failed = snap.data.get("feeds_failed") or {}
        if failed:
            text.append("Feeds that did not answer: " + "; ".join(f"{k} ({v})" for k, v in failed.items()))
        return Section(id=kind, title=title, items=_stories(stories), text=text, source=ref)

    return build


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
_PART_LABELS = {"cex": "CEX estimate", "hyperliquid": "Hyperliquid positions"}


def _venue_list(venue: str) -> str:
    return ", ".join(_VENUE_TITLES.get(v, v) for v in venue.split("+"))


def _chart_source(summaries: dict[str, dict[str, Any]]) -> str:
    """The source line printed under a symbol's chart (and inside its image)."""
    parts = []
    if "cex" in summaries:
        parts.append(f"{_venue_list(summaries['cex'].get('venue', ''))} open interest and "
                     "prices (modelled)")
    if "hyperliquid" in summaries:
        parts.append("Hyperliquid positions (reported)")
    return "Source: " + " · ".join(parts) + " · chart: reportgen"


def _alt(symbol: str, summaries: dict[str, dict[str, Any]]) -> str:
    """What the chart shows, in words: both panels and the clusters the text cites."""
    out = [f"{symbol} liquidation map by price"]
    for kind, s in summaries.items():
        what = ("Estimated CEX liquidation levels" if kind == "cex"
                else "Hyperliquid's reported liquidation prices")
        clusters = "; ".join(c["text"] for c in s.get("clusters", []))
        out.append(f"{what} around the mark ${s.get('mark_price', 0):,.0f}"
                   + (f" (largest: {clusters})" if clusters else ""))
    return ". ".join(out) + "."


def liquidation_section_for(heatmaps: bool = False) -> Builder:
    """The liquidation builder; with `heatmaps`, each symbol's heatmap follows its map."""
    def build(day: date, snap: SourceSnapshot | None, refs: _Refs) -> Section:
        return liquidation_section(day, snap, refs, heatmaps=heatmaps)

    return build


def liquidation_section(day: date, snap: SourceSnapshot | None, refs: _Refs, *,
                        heatmaps: bool = False) -> Section:
    """One figure per symbol (CEX estimate above Hyperliquid positions, one price axis), the
    words for each map, and optionally the heatmap."""
    title = SECTION_TITLES["liquidation"]
    if snap is None or not snap.ok:
        return Section(id="liquidation", title=title, reason=_reason(day, snap, "Liquidation map"))
    ref = refs.get(snap)
    maps: list[dict[str, Any]] = []
    for symbol, result in snap.data.get("symbols", {}).items():
        sym = symbol.lower()
        captions = result.get("captions", {})
        unavailable = result.get("unavailable", {})
        summaries = {k: result[k] for k in ("cex", "hyperliquid") if result.get(k) is not None}
        parts = []
        for kind in ("cex", "hyperliquid"):
            summary = summaries.get(kind)
            if summary is None:
                why = unavailable.get(kind) or "; ".join(
                    f"{k}: {v}" for k, v in unavailable.items()) or "no data"
                parts.append({"kind": kind, "label": _PART_LABELS[kind], "caption": None,
                              "lines": [], "reason": f"unavailable for {day}: {why}"})
                continue
            venue = summary.get("venue", kind)
            label = (f"{_PART_LABELS[kind]} ({_venue_list(venue)})" if kind == "cex"
                     else _PART_LABELS[kind])
            parts.append({"kind": kind, "label": label, "caption": captions.get(kind),
                          "lines": summary.get("sentences", []), "reason": None})
        maps.append({
            "symbol": symbol, "title": f"{symbol} liquidation map",
            "chart": f"charts/liqmap_{sym}.svg" if summaries else None,
            "png": f"charts/liqmap_{sym}.png" if summaries else None,
            "alt": _alt(symbol, summaries) if summaries else "",
            "source": _chart_source(summaries) if summaries else None,
            "parts": parts, "caption": None, "lines": [], "reason": None,
        })
        if heatmaps and "cex" in summaries:
            venues = _venue_list(summaries["cex"].get("venue", ""))
            maps.append({
                "symbol": symbol, "title": f"{symbol} estimated liquidation levels over time",
                "chart": f"charts/liqheat_{sym}.svg", "png": f"charts/liqheat_{sym}.png",
                "alt": f"Heatmap of estimated {symbol} liquidation levels by time and price",
                "source": f"Source: {venues} open interest and prices (modelled) · chart: "
                          "reportgen",
                "caption": "Brighter means more estimated notional at that price and hour; the "
                           "line is the mark. Levels the price trades through are removed.",
                "parts": [], "lines": [], "reason": None,
            })
    if not maps:
        return Section(id="liquidation", title=title,
                       reason=f"unavailable for {day}: no symbol configured", source=ref)
    gaps = [gap for symbol, result in snap.data.get("symbols", {}).items()
            for gap in _venue_gaps(symbol, result.get("venues", {}))]
    return Section(id="liquidation", title=title, data={"maps": maps, "how_to": HOW_TO_READ},
                   text=[], source=ref, gaps=gaps)


_VENUE_TITLES = {"binance": "Binance", "bybit": "Bybit", "okx": "OKX",
                 "hyperliquid": "Hyperliquid"}


def _venue_gaps(symbol: str, venues: dict[str, Any]) -> list[str]:
    """"BTC: OKX dropped: answered HTTP 503 … on /api/v5/…" for each venue that was left
    out, or used with a stand-in, in one symbol's map (see LiquidationResult.gaps)."""
    out = []
    for name, v in venues.items():
        title = _VENUE_TITLES.get(name, name)
        if v.get("status") != "used":
            out.append(f"{symbol}: {title} {v.get('status')}: {v.get('reason')}")
        elif v.get("problems"):
            more = len(v["problems"]) - 1
            out.append(f"{symbol}: {title} partial: {v['problems'][0]}"
                       + (f" (+{more} more)" if more else ""))
    return out


def extra_sections(config: Config) -> dict[str, tuple[str, Builder]]:
    """Section id → (archive source name, builder)."""
    return {
        "liquidation": ("liquidation", liquidation_section_for(config.liquidation.heatmaps)),
        "etf": ("etf_farside", etf_section),
        "macro": ("news", _news_section("macro")),
        "highlights": ("news", _news_section("highlights")),
    }
