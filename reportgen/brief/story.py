""""The day in brief": a headline and 2–4 sentences written from the view-model by fixed
rules (pure).

No language model and no randomness: the same Brief always gives the same words. Each rule
reads figures and remarks the body already shows, and formats through `reportgen.numbers`
(or the figure's own unit), so every number in the story appears in the body too.
docs/the-day-in-brief.md has the rules with examples; in short:

1. lead      the day's most unusual move, ranked against its own history (`Rank`: the share
             of the previous 30 observations it beat, a record of its sign first): BTC or ETH
             price (daily closes), or a same-day US spot ETF net flow (trading days since
             launch). Its frame follows the facts: a record, a move few days beat, an
             ordinary move, a quiet day. Without any ranked move: the larger price move,
             else the ETF flows, else the total market cap, else the first figure shown.
2. cause     the first news headline of the brief that names the lead's asset (and "ETF"
             for an ETF lead, when one does), else the day's first headline, quoted with
             its outlet.
3. prices    the coins the lead did not cover, at their close with their 24 h change.
4. market    the total market cap with its 24 h change, and the 24 h volume.
5. etf       the ETF flows the lead did not cover (of the last trading day, said so).
6. sentiment the Fear & Greed Index with its label and its change.
7. liquidation  the nearest BTC cascade, its levels worked from the close the brief shows.

The lead is always said; after it, the first four of rules 2–7 that have their figures.
A rule whose figures are unavailable writes nothing. `title` (≤ 90 characters) is the
headline for the email subject and og:title; `summary` (≤ 200 characters) the leading
sentences that fit, for the preheader, og:description, feed and site index.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from reportgen import numbers
from reportgen.view import Brief, EtfTable, Figure, Rank, Section

NAMES = {"BTC": "Bitcoin", "ETH": "Ether"}
# Words that name an asset in a headline ("Ethereum", "ETH", "Ether").
ASSET_WORDS = {"BTC": ("bitcoin", "btc"), "ETH": ("ether", "ethereum", "eth")}
HEADLINE_MAX = 90
SUMMARY_MAX = 200
FOLLOWING_MAX = 4  # sentences after the lead


@dataclass(frozen=True)
class DayInBrief:
    sentences: list[str]
    title: str
    summary: str = ""


@dataclass(frozen=True)
class _Lead:
    """The lead sentence, its headline, and what it covered (so no later rule repeats it)."""

    sentence: str
    headline: str
    prices: frozenset[str] = frozenset()   # coins whose price it gave
    etfs: frozenset[str] = frozenset()     # assets whose ETF flow it gave
    market: bool = False
    sentiment: bool = False
    liquidation: bool = False
    asset: str | None = None               # the asset a news cause must name
    etf: bool = False                      # … together with "ETF"


def _section(brief: Brief, section_id: str) -> Section | None:
    return next((s for s in brief.sections if s.id == section_id and s.available), None)


def _figure(brief: Brief, label: str) -> Figure | None:
    for section in brief.sections:
        for fig in section.figures:
            if fig.label == label and fig.available:
                return fig
    return None


def _size(change: float) -> str:
    """A move's size without its sign, as the body's signed change shows it: "1.39%"."""
    return numbers.percent(abs(change), 2)


def _verb(change: float) -> str:
    """The verb of a price move, by its size: the frame follows the facts."""
    size = abs(change)
    if round(size, 2) == 0:
        return "held flat"
    if change > 0:
        return "surged" if size >= 5 else "rose" if size >= 2 else "edged up"
    return "slid" if size >= 5 else "fell" if size >= 2 else "eased"


def _moved(name: str, fig: Figure) -> str:
    """"Ether rose 4.60% to $2,809" ("Bitcoin held flat at $105,692")."""
    change = fig.change_pct or 0.0
    verb = _verb(change)
    if verb == "held flat":
        return f"{name} held flat at {numbers.price(fig.value)}"
    return f"{name} {verb} {_size(change)} to {numbers.price(fig.value)}"


def _record_words(rank: Rank, what: str) -> str:
    """"largest daily drop since 2025-04-10" / "… in at least 90 days"."""
    if rank.since is not None:
        return f"largest {what} since {numbers.day(rank.since)}"
    return f"largest {what} in at least {rank.span} days"


def _rare(rank: Rank) -> bool:
    """Few days moved more: at most a quarter of the window."""
    return rank.larger * 4 <= rank.seen


def _quiet(rank: Rank) -> bool:
    """Half the window or more moved more."""
    return rank.larger * 2 >= rank.seen


def _price_rank_clause(rank: Rank | None, word: str) -> str:
    """What the rank says of a price move, as a clause after it ("" when nothing)."""
    if rank is None:
        return ""
    if rank.record:
        return f", its {_record_words(rank, f'daily {word}')}"
    if _rare(rank):
        return (f", a move only {rank.larger} of the previous {rank.seen} days beat"
                if rank.larger else f", larger than any of the previous {rank.seen} days")
    if _quiet(rank):
        return f", not unusual: {rank.larger} of the previous {rank.seen} days moved more"
    return f"; {rank.larger} of the previous {rank.seen} days moved more"


def _unusual(rank: Rank, brief: Brief) -> tuple[bool, int, float]:
    """The lead's sort key: a record first, the one reaching further back before another;
    then the share of the window beaten."""
    if not rank.record:
        return (False, 0, rank.score)
    back = (brief.day - rank.since).days if rank.since else rank.span + 1
    return (True, back, rank.score)


def _prices(brief: Brief) -> list[tuple[str, Figure]]:
    out = []
    for symbol in NAMES:
        fig = _figure(brief, f"{symbol} price")
        if fig is not None and fig.change_pct is not None:
            out.append((symbol, fig))
    return out


def _etf_tables(brief: Brief) -> list[EtfTable]:
    section = _section(brief, "etf")
    if section is None:
        return []
    return [t for t in section.tables if not t.reason and t.total is not None]


def _flow_words(table: EtfTable) -> str:
    """"took in US$240.3 M", "lost US$278.4 M", "saw no net flow"."""
    total = table.total or 0.0
    if not total:
        return "saw no net flow"
    return f"{'took in' if total > 0 else 'lost'} {numbers.usd_millions(abs(total))}"


def _price_lead(brief: Brief, symbol: str, fig: Figure) -> _Lead:
    name = NAMES[symbol]
    change = fig.change_pct or 0.0
    word = "gain" if change > 0 else "drop"
    rank = fig.rank
    covered = {symbol}
    sentence = _moved(name, fig) + _price_rank_clause(rank, word)
    headline = _moved(name, fig)
    if rank is not None and rank.record:
        headline += f", {_record_words(rank, f'daily {word}')}"
        # The other coin at a record of its own the same day shares the lead.
        for other, other_fig in _prices(brief):
            other_rank = other_fig.rank
            if other == symbol or other_rank is None or not other_rank.record:
                continue
            other_word = "gain" if (other_fig.change_pct or 0) > 0 else "drop"
            sentence += (f"; {_moved(NAMES[other], other_fig)}, its "
                         f"{_record_words(other_rank, f'daily {other_word}')}")
            covered.add(other)
    elif rank is not None and _rare(rank) and rank.larger:
        headline += f", a move only {rank.larger} of {rank.seen} days beat"
    elif rank is not None and _quiet(rank):
        sentence = "A quiet day for prices: " + sentence
        headline = "Quiet day: " + headline
    return _Lead(sentence=sentence + ".", headline=headline, prices=frozenset(covered),
                 asset=symbol)


def _etf_lead(brief: Brief, table: EtfTable) -> _Lead:
    rank = table.rank
    words = _flow_words(table)
    base = f"US spot {table.asset} ETFs {words}"
    record = next((r for r in table.remarks if r.startswith("largest")), None)
    others = [r for r in table.remarks if r != record]
    sentence, headline = base, base
    if record:
        sentence += f", their {record}"
        headline += f", their {record}"
    elif rank is not None and _rare(rank):
        sentence += (f", a flow only {rank.larger} of the previous {rank.seen} trading days "
                     "beat in size")
    if others:
        sentence += f" ({'; '.join(others)})"
    return _Lead(sentence=sentence + ".", headline=headline, etfs=frozenset({table.asset}),
                 asset=table.asset, etf=True)


def _market_sentence(brief: Brief) -> str | None:
    """"The total crypto market cap fell 1.70% to US$3,754 B, on US$140.2 B of 24 h
    volume."."""
    cap = _figure(brief, "Total market cap")
    if cap is None:
        return None
    value = cap.unit.format(cap.value or 0.0, cap.decimals)
    change = cap.change_pct
    if change is None:
        text = f"The total crypto market cap stood at {value}"
    elif round(change, 2) == 0:
        text = f"The total crypto market cap held at {value}"
    else:
        verb = "rose" if change > 0 else "fell"
        text = f"The total crypto market cap {verb} {_size(change)} to {value}"
    volume = _figure(brief, "24 h volume")
    if volume is not None:
        text += f", on {volume.unit.format(volume.value or 0.0, volume.decimals)} of 24 h volume"
    return text + "."


def _fallback_lead(brief: Brief) -> _Lead | None:
    """A lead from what the body shows when no price or same-day ETF flow is there: the
    total market cap, the Fear & Greed Index, the last trading day's ETF flows, the nearest
    liquidation cascade, else the first figure the body shows with its value."""
    nothing = _Lead(sentence="", headline="")
    market = _market_sentence(brief)
    if market is not None:
        return _Lead(sentence=market, headline=market.rstrip(".").replace(
            "The total crypto market cap", "Crypto market cap"), market=True)
    for rule in (sentiment, etf, liquidation):
        said = rule(brief, nothing)
        if said:
            return _Lead(sentence=said, headline=said.rstrip("."),
                         etfs=frozenset(t.asset for t in _etf_tables(brief))
                         if rule is etf else frozenset(), sentiment=rule is sentiment,
                         liquidation=rule is liquidation)
    for section in brief.sections:
        for fig in section.figures:
            if fig.available and fig.value is not None:
                text = f"{fig.label}: {fig.unit.format(fig.value, fig.decimals)}"
                if fig.change_pct is not None and not fig.unit.is_change:
                    text += f" ({numbers.change(fig.change_pct)} in 24 h)"
                return _Lead(sentence=text + ".", headline=text)
    return None


def lead(brief: Brief) -> _Lead | None:
    """Rule 1: the day's most unusual move first (see the module's docstring)."""
    candidates: list[tuple[tuple[bool, int, float], Callable[[], _Lead]]] = []
    for symbol, fig in _prices(brief):
        if fig.rank is not None:
            candidates.append((_unusual(fig.rank, brief),
                               partial(_price_lead, brief, symbol, fig)))
    for table in _etf_tables(brief):
        # Only the day's own flows lead: the last trading day's are old news.
        if table.rank is not None and table.flow_date == brief.day:
            candidates.append((_unusual(table.rank, brief), partial(_etf_lead, brief, table)))
    if candidates:
        # max keeps the first of equals: BTC before ETH, prices before flows.
        return max(candidates, key=lambda c: c[0])[1]()
    prices = _prices(brief)
    if prices:
        symbol, fig = max(prices, key=lambda p: abs(p[1].change_pct or 0.0))
        return _price_lead(brief, symbol, fig)
    tables = [t for t in _etf_tables(brief) if t.flow_date == brief.day]
    if tables:
        return _etf_lead(brief, tables[0])
    return _fallback_lead(brief)


def cause(brief: Brief, told: _Lead) -> str | None:
    """Rule 2: "In the news: “…” (Outlet)." — the first headline naming the lead's asset
    (for an ETF lead, one naming ETFs too, else any naming the asset); without one, the
    day's first headline."""
    items = [item for section in brief.sections if section.kind == "news" and section.available
             for item in section.items]
    if not items:
        return None
    found = None
    if told.asset is not None:
        words = ASSET_WORDS.get(told.asset, (told.asset.lower(),))
        pattern = re.compile(r"\b(" + "|".join(words) + r")\b", re.IGNORECASE)
        naming = [item for item in items if pattern.search(item.title)]
        if told.etf:
            naming = ([i for i in naming if re.search(r"\bETFs?\b", i.title)] or naming)
        found = naming[0] if naming else None
    item = found or items[0]
    outlet = f" ({item.sources[0]})" if item.sources else ""
    return f"In the news: “{item.title.strip().rstrip('.')}”{outlet}."


def prices(brief: Brief, told: _Lead) -> str | None:
    """Rule 3: the coins the lead left out, at their close ("Bitcoin closed at $108,680
    (−1.39% in 24 h) and Ether at $2,776 (−1.15%)"), with a record or a rare move said
    ("Ether at $2,809 (+4.60%, a move only 4 of the previous 30 days beat)")."""
    parts: list[str] = []
    for symbol in NAMES:
        fig = _figure(brief, f"{symbol} price")
        if fig is None or symbol in told.prices:
            continue
        change = f" ({numbers.change(fig.change_pct)}" if fig.change_pct is not None else ""
        if change and not parts:
            change += " in 24 h"
        if change and fig.rank is not None and (fig.rank.record or _rare(fig.rank)):
            # A notable move says so here too (ETH +4.60% on 2025-06-10 behind an ETF lead).
            word = "gain" if (fig.change_pct or 0.0) > 0 else "drop"
            change += _price_rank_clause(fig.rank, word)
        text = (f"{NAMES[symbol]} closed at " if not parts else f"{NAMES[symbol]} at ")
        parts.append(text + numbers.price(fig.value) + (change + ")" if change else ""))
    if not parts:
        return None
    return " and ".join(parts) + "."


def market(brief: Brief, told: _Lead) -> str | None:
    """Rule 4: the total market cap and the 24 h volume."""
    return None if told.market else _market_sentence(brief)


def etf(brief: Brief, told: _Lead) -> str | None:
    """Rule 5: "US spot ETFs: BTC funds took in US$164.6 M (3rd straight day of inflows) and
    ETH funds US$240.3 M on 2025-06-11."."""
    tables = [t for t in _etf_tables(brief) if t.asset not in told.etfs]
    if not tables:
        return None
    clauses = []
    for table in tables:
        clause = f"{table.asset} funds {_flow_words(table)}"
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


def sentiment(brief: Brief, told: _Lead) -> str | None:
    """Rule 6: "The Fear & Greed Index stands at 68 (Greed), down 3 points from the day
    before."."""
    fig = _figure(brief, "Fear & Greed Index")
    if fig is None or fig.value is None or told.sentiment:
        return None
    text = f"The Fear & Greed Index stands at {fig.value:.0f}"
    if fig.note:
        text += f" ({fig.note})"
    if fig.change_pts:
        way = "up" if fig.change_pts > 0 else "down"
        size = abs(fig.change_pts)
        text += f", {way} {size:.0f} point{'s' if size != 1 else ''} from the day before"
    elif fig.change_pts == 0:
        text += ", unchanged from the day before"
    return text + "."


def liquidation(brief: Brief, told: _Lead) -> str | None:
    """Rule 7: "Nearest to the price, a 2% drop in BTC from the $108,600 perp mark (to
    $106,428) would liquidate an estimated US$200 M of longs on Binance+Bybit+OKX, and a 2%
    rise (to $110,772) US$44.5 M of shorts.": the map's levels are worked from the venues'
    mark, so the mark is named (the brief's prices are closes)."""
    section = _section(brief, "liquidation")
    if section is None or told.liquidation:
        return None
    parts = [(m, p) for m in section.maps if m.symbol == "BTC" for p in m.parts if p.cascade]
    for kind in ("cex", "hyperliquid"):
        for _map, part in parts:
            if part.kind != kind or part.mark is None:
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
            return (f"Nearest to the price, a {move} drop in BTC from the "
                    f"{numbers.price(part.mark)} perp mark (to {numbers.price(down.price)})"
                    f" would liquidate {how}{numbers.usd(down.usd)} of longs on {part.venue}, "
                    f"and a {move} rise (to {numbers.price(up.price)}) {numbers.usd(up.usd)} of "
                    "shorts.")
    return None


FOLLOWING: tuple[Callable[[Brief, _Lead], str | None], ...] = (
    cause, prices, market, etf, sentiment, liquidation)


def _fit(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, "…" marking the cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def summary(sentences: list[str], headline: str) -> str:
    """The leading sentences that fit in `SUMMARY_MAX` characters; the headline when the
    first sentence alone does not."""
    out = ""
    for sentence in sentences:
        joined = f"{out} {sentence}".strip()
        if len(joined) > SUMMARY_MAX:
            break
        out = joined
    return out or _fit(headline, SUMMARY_MAX)


def day_in_brief(brief: Brief) -> DayInBrief:
    """The lead, then the first `FOLLOWING_MAX` of the other rules that have their figures;
    the headline and the summary."""
    told = lead(brief)
    if told is None:
        return DayInBrief(sentences=[], title="", summary="")
    sentences = [told.sentence]
    for rule in FOLLOWING:
        if len(sentences) > FOLLOWING_MAX:
            break
        said = rule(brief, told)
        if said:
            sentences.append(said)
    headline = _fit(told.headline, HEADLINE_MAX)
    return DayInBrief(sentences=sentences, title=headline,
                      summary=summary(sentences, headline))
