"""The report manifest: what render made of one date, for the phases after it.

Render writes `reports/D/manifest.json` after every file it lists. Publish (the site, the
email) reads the manifest and the files it names, never the HTML or Markdown back: the
title, one-line summary, headline figure and sample flag are here as data.

    reports/2025-06-11/
        manifest.json      this, written last
        brief.html  brief.md  brief.pdf     the formats asked for
        body.html          the brief without its page (for the site's own layout)
        charts/…           the liquidation charts (SVG, and PNG for email)

A seam module: render and publish both import it, and it imports neither.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

MANIFEST_NAME = "manifest.json"


def report_dir(day: date) -> str:
    """The report's folder, relative to the output root."""
    return f"reports/{day.isoformat()}"


class Headline(BaseModel):
    """The one figure a day is summed up by (site listing, feed, email subject):
    total market cap, its value and its change with the up/down marker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str            # "Total market cap"
    value: str            # "US$3,754 B"
    change: str | None = None  # "▼ −1.70%"

    @property
    def text(self) -> str:
        """"Total market cap US$3,754 B ▼ −1.70%"."""
        return f"{self.label} {self.value}" + (f" {self.change}" if self.change else "")


class MapScoreRecord(BaseModel):
    """The previous day's liquidation map of one symbol, scored against the liquidations
    recorded the day after (see reportgen.liquidation.check): the site's table of recent
    scores reads these from each day's manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str
    map_day: date
    lift: float | None
    lift_long: float | None
    lift_short: float | None
    p_value: float | None
    events: int


def _inside(name: str) -> str:
    """A path relative to the report folder that stays inside it."""
    path = PurePosixPath(name)
    if not name or "\\" in name or path.is_absolute() or ".." in path.parts:
        raise ValueError(f"not a path inside the report folder: {name!r}")
    return name


class ReportManifest(BaseModel):
    """One rendered day, as publish needs it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    day: date
    title: str             # the page title: "Crypto brief — 2025-06-11 (sample data)"
    summary: str           # "the day in brief" in ≤ 200 characters (reportgen.brief.story)
    headline: Headline | None = None
    # The headline of "the day in brief" (≤ 90 characters), for the email subject and
    # og:title (None on a day without any figure).
    lead: str | None = None
    sample: bool
    author: str | None = None  # report.author, for the pages' author meta tag
    generated_at: datetime
    # sha256 of the view-model as rendered to Markdown: a phase that rebuilds the view-model
    # from the archive (`reportgen send`) checks it still matches what was rendered.
    digest: str
    page: str | None = None  # the body-only HTML (None when HTML was not rendered)
    files: list[str]       # every file render wrote, relative to the report folder
    # Yesterday's maps, scored (empty: nothing recorded to score them with, or an older run).
    map_scores: list[MapScoreRecord] = []

    @field_validator("files")
    @classmethod
    def _files_inside(cls, files: list[str]) -> list[str]:
        return [_inside(name) for name in files]

    @field_validator("page")
    @classmethod
    def _page_inside(cls, page: str | None) -> str | None:
        return None if page is None else _inside(page)

    def has(self, name: str) -> bool:
        return name in self.files

    @property
    def charts(self) -> list[str]:
        """The chart files (charts/…), in the order render wrote them."""
        return [name for name in self.files if name.startswith("charts/")]
