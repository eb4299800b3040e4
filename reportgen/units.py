"""How numbers read in the brief: the formatting rules, and the `Unit` a figure declares.

A source declares each figure's unit (see `reportgen.figures`); the common ones are here,
a unit only one source uses lives in that source's module (gwei in `sources/gas.py`).
Templates format through `reportgen.render.filters`, which calls these.

Numbers follow the public brief's style: "US$3,754 B", "US$140.18 B", "61%", "9.4%",
changes as signed percentages ("−1.70%") and absolute changes in points ("+3 pts").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

MINUS = "\u2212"  # a real minus sign, not a hyphen


def grouped(value: float, decimals: int) -> str:
    """`value` with thousands separators and a real minus sign: "−1,234.5"."""
    text = f"{abs(value):,.{decimals}f}"
    return (MINUS if value < 0 and float(text.replace(",", "")) != 0 else "") + text


def usd(value: float | None, decimals: int = 0) -> str:
    """US$ amount scaled to B/M/K: 3.754e12 → "US$3,754 B" (billions are the brief's unit)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"US${grouped(value / 1e9, decimals)} B"
    if magnitude >= 1e6:
        return f"US${grouped(value / 1e6, decimals)} M"
    if magnitude >= 1e3:
        return f"US${grouped(value / 1e3, decimals)} K"
    return f"US${grouped(value, decimals)}"


def usd_millions(value: float | None, decimals: int = 1) -> str:
    """A figure already in US$ millions (ETF tables): 95.1 → "US$95.1 M"."""
    if value is None:
        return "n/a"
    return f"US${grouped(value, decimals)} M"


def price(value: float | None) -> str:
    """A market price: "$108,612" above $1,000, more decimals below."""
    if value is None:
        return "n/a"
    decimals = 0 if abs(value) >= 1000 else 2 if abs(value) >= 1 else 4
    return f"${grouped(value, decimals)}"


def pct(value: float | None, decimals: int = 1) -> str:
    """A share in percent; a trailing ".0" is dropped ("61%", "9.4%")."""
    if value is None:
        return "n/a"
    text = grouped(value, decimals)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def signed_pct(value: float | None, decimals: int = 2) -> str:
    """A change: "+1.25%", "−1.70%", "0.00%"."""
    if value is None:
        return "n/a"
    text = f"{abs(value):.{decimals}f}"
    if float(text) == 0:
        return f"{text}%"
    return f"{'+' if value > 0 else MINUS}{text}%"


def signed(value: float | None, decimals: int = 0, unit: str = "") -> str:
    """An absolute change: "+3 pts", "−0.4 pp"."""
    if value is None:
        return "n/a"
    text = f"{abs(value):.{decimals}f}"
    sign = "" if float(text) == 0 else ("+" if value > 0 else MINUS)
    return f"{sign}{text}{(' ' + unit) if unit else ''}"


def plain(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


@dataclass(frozen=True)
class Unit:
    """How one kind of figure reads: its value, and its change vs the previous day.

    `text(value, decimals)` prints the value; an absolute change is printed with
    `points` ("pts", "pp") and `points_decimals`. `is_change`: the figure's value is itself
    a change (signed, with an up/down marker, and no change of its own)."""

    name: str
    text: Callable[[float, int], str]
    points: str = "pts"
    points_decimals: int = 0
    is_change: bool = False

    def format(self, value: float, decimals: int) -> str:
        return self.text(value, decimals)


USD = Unit("usd", usd)
PERCENT = Unit("pct", pct, points="pp", points_decimals=1)
CHANGE = Unit("change", signed_pct, is_change=True)
COUNT = Unit("count", lambda value, _decimals: grouped(value, 0))
INDEX = Unit("index", plain)
