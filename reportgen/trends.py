"""How unusual a day's figure is against the days before it: records and streaks (pure).

Used by the brief's builders to write the remarks shown beside a figure, which "the day in
brief" then repeats (docs/the-day-in-brief.md). Every rule works on a history of
(day, value) pairs, oldest first, that ends on the day before the one judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reportgen import numbers
from reportgen.view import Rank

# A figure is "the largest since D" only when D lies at least this many observations back:
# beating last Tuesday is not news.
RECORD_MIN_GAP = 10
# A streak is worth a word from this length on ("3rd straight day of inflows").
STREAK_MIN = 3
# "How unusual" counts larger moves over this many previous observations.
WINDOW = 30
# A move is ranked only against at least this many earlier observations.
RANK_MIN_SEEN = 10


@dataclass(frozen=True)
class Record:
    """`value` is the largest of its sign since `since` (None: in the whole history)."""

    since: date | None
    span: int  # observations in the history searched


def record(value: float, history: Sequence[tuple[date, float]],
           min_gap: int = RECORD_MIN_GAP) -> Record | None:
    """Whether `value` is the largest of its sign for a while: the most recent earlier value
    of the same sign at least as large lies more than `min_gap` observations back (or there
    is none in a history of at least `min_gap`). None when it is not, or when `value` is
    zero."""
    if value == 0 or not history:
        return None
    positive = value > 0
    for back, (day, earlier) in enumerate(reversed(history), start=1):
        if (earlier > 0) == positive and earlier != 0 and abs(earlier) >= abs(value):
            return Record(since=day, span=len(history)) if back > min_gap else None
    if len(history) < min_gap:
        return None  # too short a history to call anything a record
    return Record(since=None, span=len(history))


def streak(values: Sequence[float]) -> int:
    """How many values at the end of `values` (today's last) share today's sign; 0 when
    today's is zero."""
    if not values or values[-1] == 0:
        return 0
    positive = values[-1] > 0
    count = 0
    for value in reversed(values):
        if value == 0 or (value > 0) != positive:
            break
        count += 1
    return count


def larger_moves(value: float, history: Sequence[tuple[date, float]],
                 window: int = WINDOW) -> tuple[int, int]:
    """(how many of the last `window` observations moved more than `value` either way,
    how many observations were looked at)."""
    recent = [v for _d, v in history[-window:]]
    return sum(abs(v) > abs(value) for v in recent), len(recent)


def rank(value: float, history: Sequence[tuple[date, float]],
         window: int = WINDOW) -> Rank | None:
    """`value` (a day's move, or an ETF day's flow) against the last `window` observations
    of `history` (how many moved more either way) and the whole of it (a record of its
    sign, as `record`); None with fewer than `RANK_MIN_SEEN` observations to judge by."""
    larger, seen = larger_moves(value, history, window)
    if seen < RANK_MIN_SEEN:
        return None
    found = record(value, history)
    if found is None:
        return Rank(larger=larger, seen=seen)
    return Rank(larger=larger, seen=seen, record=True, since=found.since, span=found.span)


def daily_changes(closes: dict[date, float]) -> list[tuple[date, float]]:
    """Percent change of each day's close from the day before's, where both are known."""
    out = []
    for day in sorted(closes):
        before = closes.get(date.fromordinal(day.toordinal() - 1))
        if before:
            out.append((day, (closes[day] / before - 1.0) * 100.0))
    return out


def move_remark(change: float, history: Sequence[tuple[date, float]]) -> str | None:
    """A price's daily move against its own history: "largest daily gain since 2025-05-09",
    "largest daily drop in at least 90 days", or "3 of the previous 30 days moved more"."""
    if not history:
        return None
    word = "gain" if change > 0 else "drop"
    found = record(change, history)
    if found is not None:
        if found.since is None:
            return f"largest daily {word} in at least {found.span} days"
        return f"largest daily {word} since {numbers.day(found.since)}"
    more, seen = larger_moves(change, history)
    return f"{more} of the previous {seen} days moved more"


def flow_remarks(flow: float, history: Sequence[tuple[date, float]], *,
                 launched: date | None) -> list[str]:
    """An ETF day's net flow against the trading days before it: a record ("largest daily
    inflow since 2025-02-06", "… since launch") and a streak ("5th straight day of
    inflows")."""
    out = []
    word = "inflow" if flow > 0 else "outflow"
    found = record(flow, history)
    if found is not None:
        if found.since is not None:
            out.append(f"largest daily {word} since {numbers.day(found.since)}")
        elif launched is not None:
            out.append(f"largest daily {word} since launch ({numbers.day(launched)})")
        else:
            out.append(f"largest daily {word} in at least {found.span} trading days")
    run = streak([v for _d, v in history] + [flow])
    if run >= STREAK_MIN:
        out.append(f"{numbers.ordinal(run)} straight day of {word}s")
    return out
