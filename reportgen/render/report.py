"""The manifest of a rendered day, made from the view-model (never from the files): its page
title, one-line summary, headline figure, sample flag and a digest of the view-model."""

from __future__ import annotations

import hashlib

from reportgen.brief.model import Brief
from reportgen.manifest import Headline, MapScoreRecord, ReportManifest
from reportgen.render.filters import figure_change, figure_value, long_date

HEADLINE_LABEL = "total market cap"


def headline(brief: Brief) -> Headline | None:
    """Total market cap with its change, when the brief has it."""
    for section in brief.sections:
        for fig in section.figures:
            if fig.label.lower() == HEADLINE_LABEL and fig.available:
                return Headline(label=fig.label, value=figure_value(fig),
                                change=figure_change(fig) or None)
    return None


def page_title(brief: Brief) -> str:
    """"Crypto brief — 2025-06-11 (sample data)", as the HTML page's <title>."""
    return (f"{brief.title} — {brief.day.isoformat()}"
            + (" (sample data)" if brief.sample else ""))


def summary(brief: Brief) -> str:
    """"The day in brief" as one paragraph (the HTML page's description, the feed's summary,
    the email's preheader); "Crypto brief for 2025-06-11" on a day with nothing to say."""
    return brief.summary or f"{brief.title} for {long_date(brief.day)}"


def digest(markdown: str) -> str:
    """The view-model's fingerprint: sha256 of its Markdown rendering, which shows every
    value the brief holds (the same Brief always renders the same bytes)."""
    return hashlib.sha256(markdown.encode("utf-8")).hexdigest()


def build_manifest(brief: Brief, markdown: str, files: list[str], *,
                   page: str | None) -> ReportManifest:
    return ReportManifest(
        day=brief.day, title=page_title(brief), summary=summary(brief),
        headline=headline(brief), lead=brief.story_title or None, sample=brief.sample,
        author=brief.author,
        generated_at=brief.generated_at,
        digest=digest(markdown), page=page, files=files,
        map_scores=[MapScoreRecord(symbol=s.symbol, map_day=s.map_day, lift=s.lift,
                                   lift_long=s.lift_long, lift_short=s.lift_short,
                                   p_value=s.p_value, events=s.events) for s in brief.map_scores],
    )
