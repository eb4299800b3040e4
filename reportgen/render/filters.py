"""The templates' filters: every one formats through `reportgen.numbers`, the brief's one
number style (see its table), so HTML, PDF, Markdown, email and charts agree.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

from reportgen import numbers
from reportgen.brief.model import Figure
from reportgen.numbers import MINUS

__all__ = ["MINUS"]
ARROWS = {"up": "▲", "down": "▼", "flat": "■"}


def _grouped(value: float, decimals: int) -> str:
    return numbers.grouped(value, decimals)


def usd(value: float | None, decimals: int | None = None) -> str:
    """US$ amount scaled to T/B/M/K: 3.754e12 → "US$3.75 T" (`decimals` is ignored: the
    number style decides)."""
    return numbers.usd(value)


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
    return numbers.usd_millions(value)


def millions(value: float | None) -> str:
    """A signed table cell in US$ millions: "+131.0"."""
    return numbers.millions(value)


def price(value: float | None) -> str:
    """A market price: "$108,612" above $1,000, more decimals below."""
    return numbers.price(value)


def pct(value: float | None, decimals: int = 1) -> str:
    """A share in percent, one decimal ("61.0%", "9.4%")."""
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


def arrow(direction: str | None) -> str:
    return ARROWS.get(direction or "", "")


def figure_value(fig: Figure) -> str:
    """The main text of a figure, by unit."""
    if fig.value is None:
        return "unavailable"
    if fig.unit == "usd":
        return numbers.usd(fig.value)
    if fig.unit == "price":
        return numbers.price(fig.value)
    if fig.unit == "pct":
        return numbers.share(fig.value)
    if fig.unit == "change":
        return signed_pct(fig.value, fig.decimals)
    if fig.unit == "gwei":
        return f"{gwei(fig.value, fig.decimals)} gwei"
    if fig.unit == "count":
        return numbers.count(fig.value)
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
    return numbers.instant(value, zone)


def news_time(value: datetime | None, zone: str = "UTC", time_known: bool = True) -> str:
    """A headline's publication: "2025-06-11 10:05 UTC", or only "2025-06-11" when the feed
    gave the day but not the time (never a placeholder time)."""
    if value is None:
        return ""
    if not time_known:
        return numbers.day(value.date())
    return numbers.instant(value, zone)


def change_7d(fig: Figure) -> str:
    """The 7 d change of a figure ("+3.69%"), "" when there is none."""
    if fig.value is None or fig.change_7d_pct is None:
        return ""
    return numbers.change(fig.change_7d_pct)


def long_date(value: date) -> str:
    """The report's date as every format shows it: "2025-06-11" (one date format)."""
    return numbers.day(value)


_MD_ALWAYS = str.maketrans({c: "\\" + c for c in "\\`*[]"})
_MD_LEAD = re.compile(r"^(#{1,6}(?=\s)|>|[+-](?=\s)|\d{1,9}(?=[.)]\s))")
_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_escape(text: Any) -> str:
    """Untrusted text (titles, reasons, summaries) made safe for Markdown prose with as few
    backslashes as possible, so the file still reads well as plain text: only characters
    that would start markup are escaped — backslash, backtick, asterisk, brackets, an
    underscore at a word's edge, "<" opening a tag or autolink, "~~", and a list, heading or
    quote marker at the start. Parentheses, "+", "#", "!" and "|" mid-text stay as they are
    ("|" is escaped by `md_cell` inside tables)."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    text = text.translate(_MD_ALWAYS)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    text = _MD_TAG.sub(r"\\<", text)
    text = text.replace("~~", "\\~\\~")
    match = _MD_LEAD.match(text)
    if match:
        lead = match.group(1)
        text = ("\\" + text) if not lead[0].isdigit() else (
            lead + "\\" + text[len(lead):])
    return text


def md_cell(text: Any) -> str:
    """`md_escape` for a table cell: "|" would end the cell, so it is escaped too."""
    return md_escape(text).replace("|", "\\|")


FILTERS = {
    "usd": usd, "usd_millions": usd_millions, "price": price, "pct": pct,
    "signed_pct": signed_pct, "signed": signed, "arrow": arrow, "figure_value": figure_value,
    "figure_change": figure_change, "when": when, "long_date": long_date, "md": md_escape,
    "md_cell": md_cell, "millions": millions, "news_time": news_time, "change_7d": change_7d,
}
