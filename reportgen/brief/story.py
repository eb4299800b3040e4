""""The day in brief": 3–5 sentences written from the view-model by fixed rules (pure).

No language model and no randomness: the same Brief always gives the same words. Each rule
reads figures and remarks the body already shows, and formats through `reportgen.numbers`,
so every number in the story appears in the body too. The rules, in the order their
sentences appear (docs/the-day-in-brief.md has them with examples):

1. prices     BTC and ETH at the end of the day, with their 24 h and 7 d changes.
2. mover      the one of the two that moved more in 24 h, and how unusual that move is
              (its remark: "largest daily drop since …", "N of the previous 30 days moved
              more").
3. etf        US spot ETF net flows of the day for BTC and ETH (or of the last trading day,
              said so), with a record or streak when one holds.
4. liquidation  the cascade nearest to the price: the longs an estimated CEX map (else the
              Hyperliquid one) would see liquidated on the smallest move down, and the shorts
              on the same move up, for BTC.
5. sentiment  the Fear & Greed Index with its label and its change from the day before.

A rule whose figures are unavailable writes nothing: a day with gaps gets fewer sentences,
never invented ones. `title` is a short form of rule 1 for subject lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportgen import numbers
from reportgen.view import Brief, EtfTable, Figure, Section

NAMES = {"BTC": "Bitcoin", "ETH": "Ether"}


@dataclass(frozen=True)
class DayInBrief:
    sentences: list[str]
    title: str


def _section(brief: Brief, section_id: str) -> Section | None:
    return next((s for s in brief.sections if s.id == section_id and s.available), None)


def _figure(brief: Brief, label: str) -> Figure | None:
    for section in brief.sections:
        for fig in section.figures:
            if fig.label == label and fig.available:
                return fig
    return None


def _changes(fig: Figure) -> str:
    parts = []
    if fig.change_pct is not None:
        parts.append(f"{numbers.change(fig.change_pct)} in 24 h")
    if fig.change_7d_pct is not None:
        parts.append(f"{numbers.change(fig.change_7d_pct)} in 7 d")
    return " and ".join(parts)


def prices(brief: Brief) -> str | None:
    """Rule 1: "Bitcoin ended the day at $108,680 (−1.39% in 24 h and +3.69% in 7 d); Ether
    at $2,776 (−1.15% in 24 h and +6.35% in 7 d)."."""
    parts: list[str] = []
    for symbol in ("BTC", "ETH"):
        fig = _figure(brief, f"{symbol} price")
        if fig is None:
            continue
        changes = _changes(fig)
        text = f"{NAMES[symbol]} {'ended the day at ' if not parts else 'at '}"
        text += numbers.price(fig.value) + (f" ({changes})" if changes else "")
        parts.append(text)
    if not parts:
        return None
    return "; ".join(parts) + "."


def mover(brief: Brief) -> str | None:
    """Rule 2: "Bitcoin moved more: −1.39% in 24 h, its largest daily drop since …", or
    "…, not unusual: 9 of the previous 30 days moved more"."""
    figs = [f for f in (_figure(brief, "BTC price"), _figure(brief, "ETH price"))
            if f is not None and f.change_pct is not None]
    if not figs:
        return None
    # The larger absolute move; a tie goes to BTC (listed first).
    top = max(figs, key=lambda f: abs(f.change_pct or 0.0))
    name = NAMES[top.label.split()[0]]
    verb = "moved more" if len(figs) > 1 else "moved"
    text = f"{name} {verb}: {numbers.change(top.change_pct)} in 24 h"
    if top.remark:
        record = top.remark.startswith("largest")
        text += f", its {top.remark}" if record else f", not unusual: {top.remark}"
    return text + "."


def _flow_clause(table: EtfTable) -> str:
    total = table.total
    if total is None:
        return ""
    verb = "took in" if total > 0 else "lost" if total < 0 else "saw no net flow,"
    amount = numbers.usd_millions(abs(total)) if total else ""
    return f"{table.asset} funds {verb} {amount}".rstrip(" ,")


def etf(brief: Brief) -> str | None:
    """Rule 3: "US spot ETFs: BTC funds took in US$164.6 M (…) and ETH funds US$240.3 M
    (5th straight day of inflows) on 2025-06-11."."""
    section = _section(brief, "etf")
    if section is None:
        return None
    tables = [t for t in section.tables if not t.reason and t.total is not None]
    if not tables:
        return None
    clauses = []
    for table in tables:
        clause = _flow_clause(table)
        if table.remarks:
            clause += f" ({'; '.join(table.remarks)})"
        clauses.append(clause)
    days = {t.flow_date for t in tables}
    when = ""
    if len(days) == 1:
        (flow_day,) = days
        if flow_day == brief.day:
            when = f" on {numbers.day(flow_day)}"
        elif flow_day is not None:
            when = f" on {numbers.day(flow_day)}, the last trading day"
    return "US spot ETFs: " + " and ".join(clauses) + when + "."


def liquidation(brief: Brief) -> str | None:
    """Rule 4: "Nearest to the price, a 2% drop in BTC (to $106,428) would liquidate an
    estimated US$200 M of longs on Binance+Bybit+OKX, and a 2% rise (to $110,772) US$44.5 M of
    shorts."."""
    section = _section(brief, "liquidation")
    if section is None:
        return None
    parts = [(m, p) for m in section.maps if m.symbol == "BTC" for p in m.parts if p.cascade]
    for kind in ("cex", "hyperliquid"):
        for _map, part in parts:
            if part.kind != kind:
                continue
            smallest = min(step.move_pct for step in part.cascade)
            down = next((r for r in part.cascade if r.side == "long" and r.move_pct == smallest),
                        None)
            up = next((r for r in part.cascade if r.side == "short" and r.move_pct == smallest),
                      None)
            if down is None or up is None:
                continue
            move = numbers.percent(smallest)
            how = "an estimated " if kind == "cex" else ""
            return (f"Nearest to the price, a {move} drop in BTC (to {numbers.price(down.price)})"
                    f" would liquidate {how}{numbers.usd(down.usd)} of longs on {part.venue}, "
                    f"and a {move} rise (to {numbers.price(up.price)}) {numbers.usd(up.usd)} of "
                    "shorts.")
    return None


def sentiment(brief: Brief) -> str | None:
    """Rule 5: "Sentiment: the Fear & Greed Index stands at 68 (Greed), down 3 points from the
    day before."."""
    fig = _figure(brief, "Fear & Greed Index")
    if fig is None or fig.value is None:
        return None
    text = f"Sentiment: the Fear & Greed Index stands at {fig.value:.0f}"
    if fig.note:
        text += f" ({fig.note})"
    if fig.change_pts:
        way = "up" if fig.change_pts > 0 else "down"
        size = abs(fig.change_pts)
        text += f", {way} {size:.0f} point{'s' if size != 1 else ''} from the day before"
    elif fig.change_pts == 0:
        text += ", unchanged from the day before"
    return text + "."


RULES = (prices, mover, etf, liquidation, sentiment)


def title(brief: Brief) -> str:
    """"BTC $108,680 −1.39% · ETH $2,776 −1.15%" (24 h changes), for subject lines."""
    parts = []
    for symbol in ("BTC", "ETH"):
        fig = _figure(brief, f"{symbol} price")
        if fig is not None:
            change = f" {numbers.change(fig.change_pct)}" if fig.change_pct is not None else ""
            parts.append(f"{symbol} {numbers.price(fig.value)}{change}")
    return " · ".join(parts)


def day_in_brief(brief: Brief) -> DayInBrief:
    """The sentences of every rule that has its figures, in rule order, and the title."""
    sentences = [s for s in (rule(brief) for rule in RULES) if s]
    return DayInBrief(sentences=sentences, title=title(brief))
