"""The source contract as the end-to-end tests check it, over every registered source.

After a run, every enabled source of the registry (`reportgen.registry`) must have an ok
snapshot for the day, and each figure and section it declares must be in the brief,
available; `shortfalls` lists, by source name, what is not. The live and backdated
end-to-end tests assert on it, so a new source is covered without editing them, and a
source that raises on every answer or parses garbage fails them by name
(tests/core/test_contract.py proves it with a throwaway source).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reportgen.config import Config
from reportgen.registry import sources


@dataclass(frozen=True)
class Shortfall:
    """What one source failed to deliver, in words."""

    source: str
    what: str

    def __str__(self) -> str:
        return f"{self.source}: {self.what}"


def enabled_sources(config: Config) -> list[str]:
    """Names of the registered sources `config` runs."""
    return [s.name for s in sources(config) if s.enabled()[0]]


def shortfalls(config: Config, day: date, *, expected_unavailable: Collection[str] = (),
               ) -> list[Shortfall]:
    """Every way an enabled registered source (but those in `expected_unavailable`) fell
    short of the contract in the run `config` made for `day`: no ok snapshot (with the
    archive's reason), or a declared figure or section missing or unavailable in the brief
    (with the status the run recorded)."""
    archive = Path(config.output) / "archive.sqlite"
    with sqlite3.connect(archive) as db:
        snapshots = {name: (ok, reason) for name, ok, reason in db.execute(
            "SELECT source, ok, reason FROM snapshots WHERE report_date=?", (day.isoformat(),))}
        run = db.execute("SELECT sections FROM runs WHERE report_date=? ORDER BY id DESC LIMIT 1",
                         (day.isoformat(),)).fetchone()
    statuses: dict[str, str] = json.loads(run[0]) if run else {}
    found: list[Shortfall] = []
    for source in sources(config):
        if not source.enabled()[0] or source.name in expected_unavailable:
            continue
        name = source.name
        if name not in snapshots:
            found.append(Shortfall(name, f"no snapshot for {day} (not collected)"))
        elif not snapshots[name][0]:
            found.append(Shortfall(name, f"snapshot not ok: {snapshots[name][1]}"))
        for spec in source.indicators:
            shown = statuses.get(spec.section)
            if shown is None:
                found.append(Shortfall(name, f"figure {spec.label!r}: section {spec.section!r} "
                                             "is not in the brief"))
            elif shown.startswith("unavailable") or (
                    shown.startswith("partial: ")
                    and spec.label in shown.removeprefix("partial: ").split(", ")):
                found.append(Shortfall(name, f"figure {spec.label!r}: {shown}"))
        for section_id in [s.id for s in source.sections] + [s.id for s in source.figure_sections]:
            shown = statuses.get(section_id)
            if shown != "ok":
                found.append(Shortfall(name, f"section {section_id!r}: {shown or 'not in the brief'}"))
    return found


def _plain(text: str) -> str:
    # the PDF sets labels in capitals (CSS) and may break a line inside one
    return " ".join(text.split()).casefold()


def labels_missing(config: Config, texts: dict[str, str]) -> list[Shortfall]:
    """Every enabled source's figure label absent from a format's text ({format: text})."""
    plain = {fmt: _plain(text) for fmt, text in texts.items()}
    return [Shortfall(source.name, f"figure {spec.label!r} missing from {fmt}")
            for source in sources(config) if source.enabled()[0]
            for spec in source.indicators
            for fmt, text in plain.items() if _plain(spec.label) not in text]
