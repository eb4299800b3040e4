""""What to watch": the nearest big liquidation clusters as levels, and the calendar's
scheduled events from the report day to `WINDOW_DAYS` after it. Pure: built from the brief's
own liquidation section and the calendar events the caller read (`reportgen.agenda`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from reportgen import numbers
from reportgen.view import CalendarEvent, LiqPart, Section, WatchEvent, WatchLevel

WATCH_ID = "watch"
TITLE = "What to watch"
WINDOW_DAYS = 7
_PANEL = {"cex": "CEX estimate", "hyperliquid": "Hyperliquid positions"}


def _nearest(symbol: str, parts: Sequence[LiqPart], side: str) -> WatchLevel | None:
    """Of the largest clusters each panel lists on `side`, the one nearest its mark."""
    best: tuple[float, WatchLevel] | None = None
    for part in parts:
        if part.mark is None or part.mark <= 0:
            continue
        for c in part.clusters:
            if c.side != side:
                continue
            gap = abs(c.middle / part.mark - 1)
            where = "below" if side == "long" else "above"
            text = (f"{symbol} {'longs' if side == 'long' else 'shorts'}: "
                    f"{numbers.usd(c.usd)} between {numbers.price(c.price_low)} and "
                    f"{numbers.price(c.price_high)}, {numbers.percent(gap * 100, 1)} {where} "
                    f"the {numbers.price(part.mark)} mark ({_PANEL.get(part.kind, part.kind)})")
            level = WatchLevel(symbol=symbol, side=side, usd=c.usd, price_low=c.price_low,
                               price_high=c.price_high, mark=part.mark,
                               panel=_PANEL.get(part.kind, part.kind), text=text)
            if best is None or gap < best[0]:
                best = (gap, level)
    return best[1] if best else None


def levels(sections: Sequence[Section]) -> list[WatchLevel]:
    """Per symbol of the liquidation section: the nearest big long cluster below the mark
    and short cluster above it."""
    out = []
    for section in sections:
        if section.kind != "liquidation" or not section.available:
            continue
        for chart in section.maps:
            if not chart.parts:
                continue
            out += [lv for side in ("long", "short")
                    if (lv := _nearest(chart.symbol, chart.parts, side)) is not None]
    return out


def _local_day(event: CalendarEvent, zone: str) -> date:
    """The event's day in the report's zone (its own day when it has no time)."""
    return event.at.astimezone(ZoneInfo(zone)).date() if event.at else event.day


def in_window(events: Sequence[CalendarEvent], day: date, zone: str) -> list[CalendarEvent]:
    """The events from `day` to `WINDOW_DAYS` days after it (both included), in the report's
    zone: relative to the brief's own day, never to today."""
    last = day + timedelta(days=WINDOW_DAYS)
    return [e for e in events if day <= _local_day(e, zone) <= last]


def event_line(event: CalendarEvent, day: date, zone: str) -> str:
    """"Wed 18 Jun, 14:00 EDT (18:00 UTC): FOMC statement · central bank"; "Today" for the
    report day; the time in the event's own zone, then in the report's."""
    local_day = _local_day(event, zone)
    when = "Today" if local_day == day else local_day.strftime("%a %-d %b")
    if event.at is not None:
        own = event.at.strftime("%H:%M ") + (event.at.tzname() or "")
        here = event.at.astimezone(ZoneInfo(zone))
        report = here.strftime("%H:%M ") + (here.tzname() or zone)
        when += f", {own}" + (f" ({report})" if report != own else "")
    kind = f" · {event.kind}" if event.kind else ""
    return f"{when}: {event.name}{kind}"


def watch_section(day: date, zone: str, sections: Sequence[Section],
                  calendar: Sequence[CalendarEvent] | None) -> Section | None:
    """The section, or None when there is nothing to say (no liquidation levels and no
    calendar configured). `calendar` None: no calendar file is configured."""
    found = levels(sections)
    if not found and calendar is None:
        return None
    notes = []
    if not found:
        notes.append(f"No liquidation levels for {day}: the liquidation map lists no cluster.")
    events: list[WatchEvent] = []
    if calendar is None:
        notes.append("No event calendar is configured (the calendar key of the config).")
    else:
        chosen = in_window(calendar, day, zone)
        events = [WatchEvent(event=e, text=event_line(e, day, zone)) for e in chosen]
        last = day + timedelta(days=WINDOW_DAYS)
        if not events:
            notes.append(f"No scheduled event in the calendar from {day} to {last}.")
        publishers = sorted({e.source for e in chosen if e.source})
        if publishers:
            notes.append("Event dates as published by: " + "; ".join(publishers) + ".")
    if found:
        notes.append("Levels: of the largest clusters the liquidation map lists, the nearest "
                     "below and above the mark; distances to the middle of each range.")
    return Section(id=WATCH_ID, title=TITLE, kind="watch", levels=found, events=events,
                   notes=notes)
