"""Every formatting rule of the brief, in one place, used by all templates.

Numbers follow the public brief's style: "US$3,754 B", "US$140.18 B", "61%", "9.4%",
"1.62 gwei", changes as signed percentages with ▲/▼ markers ("▼ −1.70%").
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from reportgen.brief.model import Figure

MINUS = "\u2212"  # a real minus sign, not a hyphen
ARROWS = {"up": "▲", "down": "▼", "flat": "■"}


def _grouped(value: float, decimals: int) -> str:
    text = f"{abs(value):,.{decimals}f}"
    return (MINUS if value < 0 and float(text.replace(",", "")) != 0 else "") + text


def usd(value: float | None, decimals: int = 0) -> str:
    """US$ amount scaled to B/M/K: 3.754e12 → "US$3,754 B" (billions are the brief's unit)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"US${_grouped(value / 1e9, decimals)} B"
    if magnitude >= 1e6:
        return f"US${_grouped(value / 1e6, decimals)} M"
    if magnitude >= 1e3:
        return f"US${_grouped(value / 1e3, decimals)} K"
    return f"US${_grouped(value, decimals)}"


def gwei(value: float, decimals: int = 2) -> str:
    """A gas price: `decimals` places from 1 gwei up ("1.62"), two significant digits below
    ("0.38", "0.00038"): since 2025 mainnet fees under 1 gwei are normal, and a fixed two
    decimals would print a priority fee of 0.00038 gwei as "0.00". At most 9 places (1 wei)."""
    magnitude = abs(value)
    if magnitude >= 1 or magnitude == 0 or not math.isfinite(value):
        return _grouped(value, decimals)
    places = min(9, max(decimals, 1 - math.floor(math.log10(magnitude))))
    return _grouped(value, places)


def usd_millions(value: float | None, decimals: int = 1) -> str:
    """A figure already in US$ millions (ETF tables): 95.1 → "US$95.1 M"."""
    if value is None:
        return "n/a"
    return f"US${_grouped(value, decimals)} M"


def price(value: float | None) -> str:
    """A market price: "$108,612" above $1,000, more decimals below."""
    if value is None:
        return "n/a"
    decimals = 0 if abs(value) >= 1000 else 2 if abs(value) >= 1 else 4
    return f"${_grouped(value, decimals)}"


def pct(value: float | None, decimals: int = 1) -> str:
    """A share in percent; a trailing ".0" is dropped ("61%", "9.4%")."""
    if value is None:
        return "n/a"
    text = _grouped(value, decimals)
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


def arrow(direction: str | None) -> str:
    return ARROWS.get(direction or "", "")


def figure_value(fig: Figure) -> str:
    """The main text of a figure, by unit."""
    if fig.value is None:
        return "unavailable"
    if fig.unit == "usd":
        return usd(fig.value, fig.decimals)
    if fig.unit == "pct":
        return pct(fig.value, fig.decimals)
    if fig.unit == "change":
        return signed_pct(fig.value, fig.decimals)
    if fig.unit == "gwei":
        return f"{gwei(fig.value, fig.decimals)} gwei"
    if fig.unit == "count":
        return _grouped(fig.value, 0)
    return f"{fig.value:.{fig.decimals}f}"


def figure_change(fig: Figure) -> str:
    """The change part of a figure, with its marker; "" when there is none."""
    if fig.value is None or fig.unit == "change":
        return ""
    if fig.change_pct is not None:
        return f"{arrow(fig.direction)} {signed_pct(fig.change_pct)}".strip()
    if fig.change_pts is not None:
        unit = "pp" if fig.unit == "pct" else "pts"
        decimals = 1 if fig.unit == "pct" else 0
        return f"{arrow(fig.direction)} {signed(fig.change_pts, decimals, unit)}".strip()
    return ""


def when(value: datetime | None, zone: str = "UTC") -> str:
    """An instant in the report's zone: "2025-06-11 23:55 UTC"."""
    if value is None:
        return "time unknown"
    local = value.astimezone(ZoneInfo(zone))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or zone)


def long_date(value: date) -> str:
    """"Wednesday, 11 June 2025"."""
    return f"{value:%A}, {value.day} {value:%B %Y}"


def md_escape(text: Any) -> str:
    """Escape Markdown control characters in untrusted text (titles, reasons)."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    for ch in "\\`*_{}[]()<>#+!|~":
        text = text.replace(ch, "\\" + ch)
    return text


FILTERS = {
    "usd": usd, "usd_millions": usd_millions, "price": price, "pct": pct,
    "signed_pct": signed_pct, "signed": signed, "arrow": arrow, "figure_value": figure_value,
    "figure_change": figure_change, "when": when, "long_date": long_date, "md": md_escape,
}
