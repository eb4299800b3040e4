"""Plausibility rules for parsed figures, in one place (pure, no I/O).

A parser runs each figure it makes through a rule; a value that breaks its rule is not
kept: the figure becomes unavailable and the rule it broke is recorded in the model's
`rejected` mapping (field → sentence, e.g. "BTC dominance 250 outside 0–100"), which the
brief shows as the reason. The rules are deliberately wide: they catch a broken or hostile
answer (a negative count, an infinite total, a share above 100 %), not an unusual market.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

MINUS = "\u2212"


def plain(value: float) -> str:
    """A number for a rejection message: "250", "−5", "1e+308", "inf"."""
    return f"{value:.6g}".replace("-", MINUS)


def usd(value: float) -> str:
    """US$ amounts in rejection messages: "US$254.4 B", "US$−54.7 B"."""
    if not math.isfinite(value):
        return plain(value)
    return f"US${value / 1e9:,.1f} B".replace("-", MINUS)


def _bound(value: float) -> str:
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:.6g}"
    return text.replace("-", MINUS)


@dataclass(frozen=True)
class Range:
    """`label`'s value must be finite and within [lo, hi] (`lo_open`: strictly above lo)."""

    label: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    fmt: Callable[[float], str] = plain

    def violation(self, value: float) -> str | None:
        shown = f"{self.label} {self.fmt(value)}"
        if not math.isfinite(value):
            return f"{shown} is not a finite number"
        low = self.lo is not None and (value < self.lo or (self.lo_open and value == self.lo))
        high = self.hi is not None and value > self.hi
        if not (low or high):
            return None
        if self.lo is not None and self.hi is not None and not self.lo_open:
            return f"{shown} outside {_bound(self.lo)}–{_bound(self.hi)}"
        if low:
            return f"{shown} is {'not above' if self.lo_open else 'below'} {_bound(self.lo or 0)}"
        return f"{shown} is above {_bound(self.hi or 0)}"


def share(label: str) -> Range:
    """A percentage share (dominance): 0–100."""
    return Range(label, 0, 100)


def count(label: str, hi: float = 1_000_000) -> Range:
    """A count of things: a whole number ≥ 0 and below a generous ceiling."""
    return Range(label, 0, hi)


def index(label: str) -> Range:
    """A 0–100 index (Fear & Greed, Altcoin Season)."""
    return Range(label, 0, 100)


@dataclass(frozen=True)
class Ratio:
    """`label`'s value must stay within ×lo–×hi of an earlier value of the same series
    (e.g. the stablecoin cap against the previous day's)."""

    label: str
    before: float
    before_label: str = "the previous day's"
    lo: float = 0.5
    hi: float = 2.0
    fmt: Callable[[float], str] = plain

    def violation(self, value: float) -> str | None:
        if not (math.isfinite(value) and math.isfinite(self.before)) or self.before <= 0:
            return f"{self.label} {self.fmt(value)} cannot be compared with {self.before_label} " \
                   f"{self.fmt(self.before)}"
        ratio = value / self.before
        if self.lo <= ratio <= self.hi:
            return None
        return (f"{self.label} {self.fmt(value)} is ×{_bound(round(ratio, 2))} "
                f"{self.before_label} {self.fmt(self.before)}, outside ×{self.lo:g}–×{self.hi:g}")


class Checks:
    """The rejections of one parse: `keep` returns the value, or None when it breaks its rule
    (and remembers field → rule sentence in `rejected`)."""

    def __init__(self) -> None:
        self.rejected: dict[str, str] = {}

    def keep(self, key: str, value: float | None, *rules: Range | Ratio) -> float | None:
        if value is None:
            return None
        for rule in rules:
            why = rule.violation(value)
            if why:
                self.rejected[key] = why
                return None
        return value

    def reject(self, key: str, why: str) -> None:
        self.rejected[key] = why
