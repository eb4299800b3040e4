"""The templates' filters: numbers through `reportgen.units` (and each figure's own unit,
declared by its source), dates, markers and Markdown escaping.

Changes are signed percentages with ▲/▼ markers ("▼ −1.70%").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from reportgen.units import pct, price, signed, signed_pct, usd, usd_millions
from reportgen.view import Figure

ARROWS = {"up": "▲", "down": "▼", "flat": "■"}


def arrow(direction: str | None) -> str:
    return ARROWS.get(direction or "", "")


def figure_value(fig: Figure) -> str:
    """The main text of a figure, in its unit."""
    if fig.value is None:
        return "unavailable"
    return fig.unit.format(fig.value, fig.decimals)


def figure_change(fig: Figure) -> str:
    """The change part of a figure, with its marker; "" when there is none."""
    if fig.value is None or fig.unit.is_change:
        return ""
    if fig.change_pct is not None:
        return f"{arrow(fig.direction)} {signed_pct(fig.change_pct)}".strip()
    if fig.change_pts is not None:
        change = signed(fig.change_pts, fig.unit.points_decimals, fig.unit.points)
        return f"{arrow(fig.direction)} {change}".strip()
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


def md_escape(text: object) -> str:
    """Escape Markdown control characters in untrusted text (titles, reasons)."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    for ch in "\\`*_{}[]()<>#+!|~":
        text = text.replace(ch, "\\" + ch)
    return text


FILTERS: dict[str, Callable[..., str]] = {
    "usd": usd, "usd_millions": usd_millions, "price": price, "pct": pct,
    "signed_pct": signed_pct, "signed": signed, "arrow": arrow, "figure_value": figure_value,
    "figure_change": figure_change, "when": when, "long_date": long_date, "md": md_escape,
}
