"""Snapshots → Brief. Pure: same snapshots in, same Brief out.

What each source contributes (its indicators and sections, `reportgen.figures`) is handed in
by the caller as `Contributor`s (the registry's sources); this module names no source.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from reportgen.brief.story import day_in_brief
from reportgen.brief.watch import watch_section
from reportgen.clock import day_end
from reportgen.figures import INDICATORS, FigureSection, FigureSpec, SectionSpec, rejected
from reportgen.models import METHOD_LABELS, SourceSnapshot
from reportgen.view import (
    Brief,
    CalendarEvent,
    Figure,
    MapScoreRow,
    Section,
    SourceRef,
    direction,
)

INDICATORS_TITLE = "Indicators"


class Contributor(Protocol):
    """What the brief needs to know of a source (a `reportgen.sources.base.Source` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def credit(self) -> str | None: ...
    @property
    def link(self) -> str | None: ...
    @property
    def stale_after(self) -> timedelta | None: ...
    @property
    def indicators(self) -> tuple[FigureSpec, ...]: ...
    @property
    def figure_sections(self) -> tuple[FigureSection, ...]: ...
    @property
    def sections(self) -> tuple[SectionSpec, ...]: ...


class _Refs:
    """Numbers sources in order of first use, for footnotes and the sources list."""

    def __init__(self, contributors: Mapping[str, Contributor]) -> None:
        self.contributors = contributors
        self.refs: dict[str, SourceRef] = {}

    def get(self, snapshot: SourceSnapshot | None) -> SourceRef | None:
        if snapshot is None:
            return None
        if snapshot.source not in self.refs:
            source = self.contributors.get(snapshot.source)
            name = (source.credit or source.title) if source else snapshot.source
            self.refs[snapshot.source] = SourceRef(
                key=len(self.refs) + 1, name=name, url=source.link if source else None,
                as_of=_as_of(snapshot), method=METHOD_LABELS.get(snapshot.method, snapshot.method),
            )
        return self.refs[snapshot.source]


def _as_of(snapshot: SourceSnapshot) -> datetime | None:
    """The moment the data describes (never the fetch time of a past day's data)."""
    if snapshot.as_of is not None:
        return snapshot.as_of
    return snapshot.fetched_at if snapshot.method in ("live", "sample") else None


def _stamp(when: datetime, zone: str) -> str:
    local = when.astimezone(ZoneInfo(zone))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or zone)


def _span(delta: timedelta, *, round_up: bool = False) -> str:
    """'3 h 30 min', '3 h', '2 days 4 h'. An age is rounded up (`round_up`) so that one
    past its limit never reads the same as the limit ('3 h 1 min' against '3 h')."""
    seconds = delta.total_seconds()
    minutes = math.ceil(seconds / 60) if round_up else math.floor(seconds / 60)
    hours, minute = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minute} min" if minute else f"{hours} h"
    if round_up and minute:
        hours += 1
    days, hour = divmod(hours, 24)
    return f"{days} days {hour} h" if hour else f"{days} days"


def stale_reason(snapshot: SourceSnapshot, day: date, zone: str,
                 limit: timedelta | None) -> str | None:
    """Why `snapshot`'s data cannot stand for `day`, or None when it can.

    Stale: its `as_of` is more than `limit` older than the reference, which is the day's
    cut-off, or the fetch time when the data was fetched before the cut-off (a run during
    the day). After the cut-off: it describes a later moment than the day's end."""
    as_of = _as_of(snapshot)
    if as_of is None or not snapshot.ok:
        return None
    cutoff = day_end(day, zone)
    if as_of > cutoff:
        return (f"the data is as of {_stamp(as_of, zone)}, after the end of {day}: "
                "it does not describe that day")
    if limit is None:
        return None
    fetched = snapshot.fetched_at
    reference, what = cutoff, f"the end of {day}"
    if fetched is not None and fetched < cutoff:
        reference, what = fetched, f"it was fetched ({_stamp(fetched, zone)})"
    age = reference - as_of
    if age <= limit:
        return None
    return (f"stale: the data is as of {_stamp(as_of, zone)}, {_span(age, round_up=True)} before {what}; "
            f"the limit for this source is {_span(limit)}")


def _vetted(day: date, zone: str, snapshots: Mapping[str, SourceSnapshot],
            contributors: Mapping[str, Contributor]) -> dict[str, SourceSnapshot]:
    """The snapshots, with those whose data is stale (or describes a later moment) turned
    into unavailable ones that say so: a stale figure is never shown as the day's."""
    out: dict[str, SourceSnapshot] = {}
    for name, snapshot in snapshots.items():
        source = contributors.get(name)
        why = stale_reason(snapshot, day, zone, source.stale_after if source else None)
        out[name] = snapshot if why is None else snapshot.model_copy(
            update={"ok": False, "reason": why})
    return out


def pct_change(now: float | None, before: float | None) -> float | None:
    if now is None or not before:
        return None
    return (now / before - 1.0) * 100.0


def _reason(day: date, snapshot: SourceSnapshot | None, what: str) -> str:
    if snapshot is None:
        return f"{what} unavailable for {day}: not collected"
    reason = snapshot.reason or "no data"
    return reason if reason.startswith(f"unavailable for {day}") else f"unavailable for {day}: {reason}"


def _previous_value(spec: FigureSpec, snapshot: SourceSnapshot | None) -> float | None:
    reading = spec.read(snapshot)
    return None if reading is None else reading.value


def _figure(spec: FigureSpec, day: date, source: Contributor, snap: SourceSnapshot | None,
            prev: SourceSnapshot | None, refs: _Refs) -> tuple[Figure, str | None]:
    """One figure and the sentence on how it was made (None when it has none)."""
    reading = spec.read(snap)
    if reading is None or reading.value is None:
        rule = rejected(snap).get(spec.key)
        if rule:
            reason = f"unavailable for {day}: value rejected as implausible: {rule}"
        elif reading is not None and (reading.why or spec.missing):
            reason = f"unavailable for {day}: {reading.why or spec.missing}"
        else:
            reason = _reason(day, snap, source.title)
        return Figure(label=spec.label, unit=spec.unit, value=None, decimals=spec.decimals,
                      reason=reason), None
    value = float(reading.value)
    change_pct: float | None = None
    change_pts: float | None = None
    if spec.change != "none":
        change_pct = reading.reported_change
        before = reading.previous if reading.previous is not None else _previous_value(spec, prev)
        if change_pct is None and before is not None:
            if spec.change == "pts":
                change_pts = value - before
            else:
                change_pct = pct_change(value, before)
    # A figure that is itself a change points its own way; others the way they moved.
    moved = value if spec.unit.is_change else change_pts if spec.change == "pts" else change_pct
    figure = Figure(label=spec.label, unit=spec.unit, value=value, decimals=spec.decimals,
                    change_pct=change_pct, change_pts=change_pts, direction=direction(moved),
                    change_7d_pct=pct_change(value, reading.week_ago), note=reading.note,
                    remark=reading.remark, rank=reading.rank, source=refs.get(snap))
    return figure, reading.detail


@dataclass
class _FigureGroup:
    id: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sources: list[SourceSnapshot | None] = field(default_factory=list)
    essential_missing: str | None = None


def build_brief(
    day: date,
    snapshots: Mapping[str, SourceSnapshot],
    previous: Mapping[str, SourceSnapshot],
    *,
    contributors: Sequence[Contributor],
    title: str,
    zone: str,
    generated_at: datetime,
    sample: bool,
    original_url: str | None = None,
    archive_url: str | None = None,
    author: str | None = None,
    notes: Mapping[str, Sequence[str]] | None = None,
    map_scores: Sequence[MapScoreRow] = (),
    calendar: Sequence[CalendarEvent] | None = None,
) -> Brief:
    """Build the brief's view-model for `day` from its snapshots and the previous day's.

    `contributors` are the enabled sources, in brief order: their indicators become figure
    cards (in the "Indicators" section or a figure section of their own), their sections are
    built from their snapshots (unavailable, saying why, when a snapshot is missing or
    failed). A source not among them (switched off in config) is left out: its figures and
    sections are omitted, not reported missing. A stale snapshot (see `stale_reason`) makes
    its figures unavailable and says why. `archive_url` is where the report history is (the
    site's index), None without a site. `notes`: sentences the caller adds under an available
    section, by section id (the build phase's "yesterday's map, scored"), and `map_scores` those
scores as data (for the report manifest and the site). `calendar`: the scheduled events of
    the configured calendar file (None: none configured) for "What to watch", placed before
    the news sections (`reportgen.brief.watch`). The Brief ends with
    "the day in brief" written from it (`reportgen.brief.story`).
    """
    by_name = {c.name: c for c in contributors}
    refs = _Refs(by_name)
    snapshots = _vetted(day, zone, snapshots, by_name)
    groups: dict[str, _FigureGroup] = {}
    order: list[str | tuple[SectionSpec, Contributor]] = []

    def group(section_id: str, section_title: str) -> _FigureGroup:
        if section_id not in groups:
            groups[section_id] = _FigureGroup(section_id, section_title)
            order.append(section_id)
        return groups[section_id]

    for source in contributors:
        snap, prev = snapshots.get(source.name), previous.get(source.name)
        titles = {s.id: s.title for s in source.figure_sections}
        for spec in source.indicators:
            into = group(spec.section, titles.get(spec.section, INDICATORS_TITLE
                                                  if spec.section == INDICATORS else spec.section))
            figure, detail = _figure(spec, day, source, snap, prev, refs)
            into.figures.append(figure)
            if detail:
                into.notes.append(detail)
            if snap not in into.sources:
                into.sources.append(snap)
            if spec.essential and not figure.available and into.essential_missing is None:
                into.essential_missing = figure.reason
        order.extend((spec, source) for spec in source.sections)

    sections: list[Section] = []
    for item in order:
        if isinstance(item, str):
            found = groups[item]
            if found.essential_missing:
                sections.append(Section(id=found.id, title=found.title,
                                        reason=found.essential_missing))
                continue
            one = found.sources[0] if len(found.sources) == 1 else None
            sections.append(Section(id=found.id, title=found.title, figures=found.figures,
                                    notes=found.notes,
                                    source=refs.get(one) if one and one.ok else None))
            continue
        custom, owner = item
        snap = snapshots.get(owner.name)
        usable = snap is not None and snap.ok
        built = custom.build_from(day, snap, refs.get(snap) if usable else None)
        sections.append(built if built is not None else Section(
            id=custom.id, title=custom.title, kind=custom.kind,
            reason=_reason(day, snap, custom.what)))
    for section in sections:
        if section.available and notes and section.id in notes:
            section.notes.extend(notes[section.id])
    watch = watch_section(day, zone, sections, calendar)
    if watch is not None:
        at = next((i for i, s in enumerate(sections) if s.kind == "news"), len(sections))
        sections.insert(at, watch)
    brief = Brief(
        title=title, day=day, zone=zone, sample=sample, generated_at=generated_at,
        sections=sections, sources=sorted(refs.refs.values(), key=lambda r: r.key),
        original_url=original_url, archive_url=archive_url, author=author,
        map_scores=list(map_scores),
    )
    told = day_in_brief(brief)
    brief.story, brief.story_title = told.sentences, told.title
    brief.story_summary = told.summary
    return brief
