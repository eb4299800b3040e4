"""Merge near-duplicate stories across outlets, rank them, split macro from market news.

Duplicates: two headlines are the same story when the Jaccard similarity of their
normalised token sets (lower-cased words, possessives and stop words removed, a crude
plural strip) is at least `DEDUPE_THRESHOLD` = 0.5, or when they share a link. 0.5 was
chosen on real headline pairs: outlets rewording one story ("SEC approves spot Ether ETFs"
/ "SEC approves spot ether ETF applications") score 0.6–0.8, while distinct stories about
the same coin ("Bitcoin tops $70K" / "Bitcoin miners sell") stay under 0.35. Merging is
single-link: an item joins the first story any of whose members it resembles.

Rank score (higher first):
    3.0 × (outlets covering − 1)      corroboration counts most
  + keyword weight (≤ 4.0)            market-moving terms (ETF, SEC, hack, ATH…)
  + recency in [0, 1]                 1.0 at the end of the report day, 0.0 at its start
Ties break by the latest publication time, then the title, so ranking is deterministic.

Split: a story is "Macro & policy" when its title or summary matches a macro/policy term
(regulation, SEC, CFTC, ETF, Fed, rates, CPI, tariffs, stablecoin bill, Treasury, U.S.
markets…); the rest are "Market highlights".
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from reportgen.clock import day_end, day_start
from reportgen.news.items import NewsItem

DEDUPE_THRESHOLD = 0.5
MAX_KEYWORD_WEIGHT = 4.0

_STOP = frozenset([
    "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "from", "by",
    "with", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this",
    "that", "these", "those", "after", "before", "over", "under", "into", "about", "amid",
    "than", "then", "so", "not", "no", "new", "says", "said", "say", "will", "would",
    "could", "may", "might", "has", "have", "had", "up", "down", "out", "why", "how",
    "what", "who", "when", "where",
])

# Macro & policy terms (matched case-insensitively on word boundaries).
_MACRO = re.compile(
    r"\b(sec|cftc|fed|fomc|federal reserve|powell|interest rates?|rate (?:cut|hike)s?|"
    r"cpi|ppi|inflation|pce|jobs report|payrolls|unemployment|gdp|recession|treasur(?:y|ies)|"
    r"yields?|tariffs?|trade war|sanctions?|macro|regulat\w*|legislat\w*|lawmakers?|congress|"
    r"senate|house committee|bill|act|law|court|lawsuit|judge|ban|policy|policies|"
    r"white house|government|central bank|ecb|boj|pboc|mica|fca|tax(?:es|ation)?|"
    r"stablecoin bill|genius act|clarity act|etfs?|institutional investors?|"
    r"retail investors?|stocks?|equities|nasdaq|s&p 500|dow jones)\b",
    re.IGNORECASE,
)
# "US"/"U.S." only in capitals: lower-case "us" is the pronoun.
_MACRO_US = re.compile(r"(?<![\w.])(?:U\.S\.|US|USA)(?![\w])")
# Market-moving terms and their weights (summed, capped at MAX_KEYWORD_WEIGHT).
_KEYWORDS: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE), weight)
    for pattern, weight in (
        (r"etfs?|sec|fed|fomc|cpi|tariffs?", 1.5),
        (r"hack(?:ed|s)?|exploit(?:ed)?|stolen|outage|lawsuit|charged|arrest(?:ed)?", 1.5),
        (r"all-time high|ath|record|surg\w*|plung\w*|crash\w*|soar\w*|tumbl\w*", 1.0),
        (r"bitcoin|btc|ether(?:eum)?|eth", 0.75),
        (r"stablecoins?|regulat\w*|bill|inflows?|outflows?|liquidat\w*", 0.75),
        (r"funding|raises?|acquires?|acquisition|launch(?:es|ed)?|partnership", 0.5),
    )
)


class SourceLink(BaseModel):
    """One outlet's version of a story."""

    source: str
    link: str | None
    title: str


class NewsStory(BaseModel):
    """A story, possibly covered by several outlets (plain text only)."""

    title: str
    summary: str
    link: str | None
    published: datetime
    sources: list[str]
    coverage: list[SourceLink]
    macro: bool
    score: float
    time_known: bool = True  # False: the feed gave the day, not the time


def tokens(title: str) -> frozenset[str]:
    """Normalised word set of a headline, for similarity."""
    words = re.findall(r"[a-z0-9$%][a-z0-9$%.\-]*", title.lower().replace("’", "'"))
    out = set()
    for word in words:
        word = word.strip(".-")
        word = word.removesuffix("'s")
        if not word or word in _STOP:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]  # "ETFs" ~ "ETF", "prices" ~ "price"
        out.add(word)
    return frozenset(out)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b|, 0.0 for two empty sets."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def on_day(items: list[NewsItem], day: date, zone: str) -> list[NewsItem]:
    """Items published within `day` in `zone` ([00:00, next 00:00))."""
    start, end = day_start(day, zone), day_end(day, zone)
    return [i for i in items if start <= i.published < end]


def merge(items: list[NewsItem], threshold: float = DEDUPE_THRESHOLD) -> list[list[NewsItem]]:
    """Group items into stories (earliest item first in each group). Deterministic: items
    are considered oldest first, then by source and title."""
    ordered = sorted(items, key=lambda i: (i.published, i.source, i.title))
    groups: list[list[NewsItem]] = []
    group_tokens: list[list[frozenset[str]]] = []
    for item in ordered:
        toks = tokens(item.title)
        for g, members in enumerate(groups):
            same_link = item.link is not None and any(m.link == item.link for m in members)
            if same_link or any(jaccard(toks, t) >= threshold for t in group_tokens[g]):
                members.append(item)
                group_tokens[g].append(toks)
                break
        else:
            groups.append([item])
            group_tokens.append([toks])
    return groups


def keyword_weight(text: str) -> float:
    """Sum of market-moving keyword weights found in `text`, capped."""
    return min(MAX_KEYWORD_WEIGHT, sum(w for rx, w in _KEYWORDS if rx.search(text)))


def is_macro(text: str) -> bool:
    """Whether `text` is about macro/policy (see module docstring)."""
    return _MACRO.search(text) is not None or _MACRO_US.search(text) is not None


def story(group: list[NewsItem], day: date, zone: str) -> NewsStory:
    """One story from a group of items (the earliest item gives title and link)."""
    lead = group[0]
    outlets: list[str] = []
    coverage: list[SourceLink] = []
    for item in group:
        if item.source not in outlets:
            outlets.append(item.source)
            coverage.append(SourceLink(source=item.source, link=item.link, title=item.title))
    latest = max(i.published for i in group)
    start, end = day_start(day, zone), day_end(day, zone)
    span = (end - start).total_seconds()
    recency = min(1.0, max(0.0, (latest - start).total_seconds() / span))
    text = " ".join([lead.title, lead.summary])
    summary = lead.summary or next((i.summary for i in group if i.summary), "")
    link = lead.link or next((i.link for i in group if i.link), None)
    score = 3.0 * (len(outlets) - 1) + keyword_weight(text) + recency
    return NewsStory(
        title=lead.title, summary=summary, link=link,
        published=lead.published.astimezone(ZoneInfo(zone)), sources=outlets,
        coverage=coverage, macro=is_macro(text), score=round(score, 4),
        time_known=lead.time_known,
    )


def rank(items: list[NewsItem], day: date, zone: str,
         threshold: float = DEDUPE_THRESHOLD) -> list[NewsStory]:
    """Stories of `day` (in `zone`), merged and ranked best first."""
    stories = [story(g, day, zone) for g in merge(on_day(items, day, zone), threshold)]
    return sorted(stories, key=lambda s: (-s.score, -s.published.timestamp(), s.title))


def split(stories: list[NewsStory], max_macro: int, max_highlights: int,
          ) -> tuple[list[NewsStory], list[NewsStory]]:
    """(macro & policy, market highlights), each best first and capped."""
    macro = [s for s in stories if s.macro][:max_macro]
    highlights = [s for s in stories if not s.macro][:max_highlights]
    return macro, highlights
