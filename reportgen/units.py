"""How numbers read in the brief: the `Unit` a figure declares, over one number style.

A source declares each figure's unit (see `reportgen.figures`); the common ones are here,
a unit only one source uses lives in that source's module (gwei in `sources/gas.py`).
The formatting itself is `reportgen.numbers`, the brief's one number style (its table):
"US$3,754 B", "US$140.2 B", "61.0%", "−1.70%", "−0.2 pp", "+3 pts", "$108,680". The names
below are kept for the templates' filters and the sources that format with them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reportgen import numbers
from reportgen.numbers import MINUS, grouped

__all__ = ["CHANGE", "COUNT", "INDEX", "MINUS", "PERCENT", "PRICE", "USD", "Unit", "grouped",
           "pct", "price", "signed", "signed_pct", "usd", "usd_millions"]


def usd(value: float | None, decimals: int = 0) -> str:
    """A cap or volume: 3.754e12 → "US$3,754 B", four significant digits (the style sets
    the decimals, not the figure)."""
    return numbers.usd(value, digits=numbers.FIGURE_DIGITS)


def usd_millions(value: float | None, decimals: int = 1) -> str:
    """A figure already in US$ millions (ETF tables): 95.1 → "US$95.1 M"."""
    return numbers.usd_millions(value)


def price(value: float | None) -> str:
    """A market price: "$108,612" above $1,000, more decimals below."""
    return numbers.price(value)


def pct(value: float | None, decimals: int = 1) -> str:
    """A share in percent, one decimal: "61.0%", "9.4%"."""
    return numbers.share(value)


def signed_pct(value: float | None, decimals: int = 2) -> str:
    """A change: "+1.25%", "−1.70%", "0.00%"."""
    return numbers.change(value, decimals)


def signed(value: float | None, decimals: int = 0, unit: str = "") -> str:
    """An absolute change: "+3 pts", "−0.4 pp", or a bare signed number."""
    if value is None:
        return "n/a"
    if unit:
        return numbers.points(value, unit, decimals)
    return numbers.sign_of(value, decimals) + f"{abs(value):,.{decimals}f}"


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
PRICE = Unit("price", lambda value, _decimals: numbers.price(value))
PERCENT = Unit("pct", pct, points="pp", points_decimals=1)
CHANGE = Unit("change", signed_pct, is_change=True)
COUNT = Unit("count", lambda value, _decimals: grouped(value, 0))
INDEX = Unit("index", plain)
