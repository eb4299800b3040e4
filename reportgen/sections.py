"""Builders for the sections fed by the ETF, news and liquidation sources.

Kept apart from `brief.build` so each stays small; each builder is pure:
(day, snapshot or None, refs) → Section. `extra_sections` maps a section id to the archive
source it reads and its builder.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from reportgen import numbers
from reportgen.brief import trends
from reportgen.brief.build import SECTION_TITLES, _direction, _reason, _Refs
from reportgen.brief.model import Section
from reportgen.config import Config
from reportgen.models import SourceSnapshot

Builder = Callable[[date, SourceSnapshot | None, _Refs], Section]
# Trading days the ETF chart covers.
CHART_DAYS = 30


def _fmt_day(day: date) -> str:
    return numbers.day(day)


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
        label = _fmt_day(flow_day) + ("" if flow_day == day else f" ({flow_day:%A}, last trading day)")
        rows = [{"fund": f["ticker"], "name": f.get("name") or "", "flow": f["flow_musd"],
                 "direction": _direction(f["flow_musd"])} for f in flows["funds"]]
        total = flows.get("total_musd")
        history = [(date.fromisoformat(d), float(v)) for d, v in flows.get("history") or []]
        before = [(d, v) for d, v in history if d < flow_day]
        launched = date.fromisoformat(flows["cumulative_from"]) \
            if flows.get("cumulative_from") else None
        remarks = (trends.flow_remarks(total, before, launched=launched)
                   if total is not None and status != "partial" else [])
        recent = [(d, v) for d, v in history if d <= flow_day][-CHART_DAYS:]
        tables.append({
            "asset": asset, "label": label, "reason": None, "note": flows.get("note") or None,
            "rows": rows, "total": total, "total_direction": _direction(total),
            "cumulative": flows.get("cumulative_musd"), "flow_date": flow_day.isoformat(),
            "remarks": remarks, "recent": recent,
            "chart": f"charts/etf_{asset.lower()}.svg" if len(recent) >= 2 else None,
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
         "published": datetime.fromisoformat(s["published"]) if s.get("published") else None,
         "time_known": s.get("time_known", True)}
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


def liquidation_section(day: date, snap: SourceSnapshot | None, refs: _Refs) -> Section:
    """Both maps per symbol (CEX estimate, Hyperliquid positions), the heatmap, and words."""
    title = SECTION_TITLES["liquidation"]
    if snap is None or not snap.ok:
        return Section(id="liquidation", title=title, reason=_reason(day, snap, "Liquidation map"))
    ref = refs.get(snap)
    maps: list[dict[str, Any]] = []
    for symbol, result in snap.data.get("symbols", {}).items():
        sym = symbol.lower()
        captions = result.get("captions", {})
        for kind, label in (("cex", "estimated from open interest"),
                            ("hyperliquid", "reported positions")):
            summary = result.get(kind)
            if summary is None:
                why = result.get("unavailable", {}).get(kind) or "; ".join(
                    f"{k}: {v}" for k, v in result.get("unavailable", {}).items()) or "no data"
                maps.append({"title": f"{symbol} · {'CEX' if kind == 'cex' else 'Hyperliquid'} · {label}",
                             "chart": None, "alt": "", "caption": None, "lines": [],
                             "reason": f"unavailable for {day}: {why}"})
                continue
            venue = summary.get("venue", kind)
            maps.append({
                "symbol": symbol, "kind": kind, "venue": venue,
                "cascade": [{k: row.get(k) for k in ("side", "move_pct", "price", "usd")}
                            for row in summary.get("cascade", [])],
                "title": f"{symbol} liquidation map · {venue} · {label}",
                "chart": f"charts/liqmap_{sym}_{kind}.svg",
                "png": f"charts/liqmap_{sym}_{kind}.png",
                "alt": (f"{symbol} liquidation map ({venue}): US$ notional of longs below and "
                        f"shorts above the mark price {numbers.price(summary.get('mark_price'))}"),
                "caption": captions.get(kind), "lines": summary.get("sentences", []),
                "reason": None,
            })
            if kind == "cex":
                maps.append({
                    "title": f"{symbol} estimated liquidation levels over time · {venue}",
                    "chart": f"charts/liqheat_{sym}.svg", "png": f"charts/liqheat_{sym}.png",
                    "alt": f"Heatmap of estimated {symbol} liquidation levels by time and price",
                    "caption": None, "lines": [], "reason": None,
                })
    if not maps:
        return Section(id="liquidation", title=title,
                       reason=f"unavailable for {day}: no symbol configured", source=ref)
    text = ["The CEX map is a model estimate in US$ notional (not a unitless intensity); the "
            "Hyperliquid map sums the venue's own liquidation prices for the accounts covered."]
    gaps = [gap for symbol, result in snap.data.get("symbols", {}).items()
            for gap in _venue_gaps(symbol, result.get("venues", {}))]
    return Section(id="liquidation", title=title, data={"maps": maps}, text=text, source=ref,
                   gaps=gaps)


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
        "liquidation": ("liquidation", liquidation_section),
        "etf": ("etf_farside", etf_section),
        "macro": ("news", _news_section("macro")),
        "highlights": ("news", _news_section("highlights")),
    }
