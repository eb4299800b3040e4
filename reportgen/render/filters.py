"""The templates' filters: numbers through `reportgen.units` and `reportgen.numbers` (the
brief's one number style; each figure formats in its own unit, declared by its source),
dates, markers and Markdown escaping.

Changes are signed percentages with ▲/▼ markers ("▼ −1.70%").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import PurePosixPath

from reportgen import numbers
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
    """The change part of a figure (24 h), with its marker; "" when there is none."""
    if fig.value is None or fig.unit.is_change:
        return ""
    if fig.change_pct is not None:
        return f"{arrow(fig.direction)} {signed_pct(fig.change_pct)}".strip()
    if fig.change_pts is not None:
        change = signed(fig.change_pts, fig.unit.points_decimals, fig.unit.points)
        return f"{arrow(fig.direction)} {change}".strip()
    return ""


def change_7d(fig: Figure) -> str:
    """The 7 d change of a figure ("+3.69%"), "" when there is none."""
    if fig.value is None or fig.change_7d_pct is None:
        return ""
    return numbers.change(fig.change_7d_pct)


def millions(value: float | None) -> str:
    """A signed table cell in US$ millions (the unit is in the header): "+131.0"."""
    return numbers.millions(value)


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


def long_date(value: date) -> str:
    """The report's date as every format shows it: "2025-06-11" (one date format)."""
    return numbers.day(value)


_MD_ALWAYS = str.maketrans({c: "\\" + c for c in "\\`*[]"})
_MD_LEAD = re.compile(r"^(#{1,6}(?=\s)|>|[+-](?=\s)|\d{1,9}(?=[.)]\s))")
_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_escape(text: object) -> str:
    """Untrusted text (titles, reasons, summaries) made safe for Markdown prose with as few
    backslashes as possible, so the file still reads well as plain text: only characters
    that would start markup are escaped — backslash, backtick, asterisk, brackets, an
    underscore at a word's edge, "<" opening a tag or autolink, "~~", and a list, heading or
    quote marker at the start. Parentheses, "+", "#", "!" and "|" mid-text stay as they are
    ("|" is escaped by `md_cell` inside tables)."""
    out = str(text).replace("\r", " ").replace("\n", " ")
    out = out.translate(_MD_ALWAYS)
    out = _MD_UNDERSCORE.sub(r"\\_", out)
    out = _MD_TAG.sub(r"\\<", out)
    out = out.replace("~~", "\\~\\~")
    match = _MD_LEAD.match(out)
    if match:
        lead = match.group(1)
        out = ("\\" + out) if not lead[0].isdigit() else lead + "\\" + out[len(lead):]
    return out


CHART_LOOKS = ("-dark", "-phone", "-phone-dark")


def chart_look(chart: str) -> str:
    """Which look of a chart `chart` is: "" for the page-width light one, else its
    suffix in CHART_LOOKS ("charts/liqmap_btc-phone.png" -> "-phone")."""
    stem = PurePosixPath(chart).stem
    return max((look for look in CHART_LOOKS if stem.endswith(look)), key=len, default="")


def chart_variant(chart: str, look: str, suffix: str | None = None) -> str:
    """`chart` ("charts/liqmap_btc.svg") in another of the looks render draws
    (`liquidation.chart.Look.suffix`: "-dark", "-phone", "-phone-dark"), e.g.
    "charts/liqmap_btc-phone-dark.svg"; with `suffix` (".png"), in that format."""
    if look not in ("", *CHART_LOOKS):
        raise ValueError(f"no chart look {look!r}")
    path = PurePosixPath(chart)
    return str(path.with_name(f"{path.stem}{look}{suffix or path.suffix}"))


def md_cell(text: object) -> str:
    """`md_escape` for a table cell: "|" would end the cell, so it is escaped too."""
    return md_escape(text).replace("|", "\\|")


FILTERS: dict[str, Callable[..., str]] = {
    "usd": usd, "usd_millions": usd_millions, "price": price, "pct": pct,
    "signed_pct": signed_pct, "signed": signed, "arrow": arrow, "figure_value": figure_value,
    "figure_change": figure_change, "when": when, "long_date": long_date, "md": md_escape,
    "md_cell": md_cell, "millions": millions, "news_time": news_time, "change_7d": change_7d,
    "chart_variant": chart_variant,
}
