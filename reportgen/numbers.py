"""The brief's one number style, used by every format, the charts and "the day in brief".

A seam module (imports nothing of the project): the brief's story, the templates' filters
(`reportgen.render.filters`), the liquidation sentences and the charts all format through
these functions, so a figure reads the same wherever it appears.

| what                         | style                          | example                  |
|------------------------------|--------------------------------|--------------------------|
| US$ amount (estimates)       | scaled to B/M/K; 1 decimal     | US$1.5 B, US$191 M,      |
|                              | below 100 of the unit, none    | US$44.5 M, US$9.6 M      |
|                              | from 100 up                    |                          |
| US$ cap or volume            | scaled to B/M/K; 4 significant | US$3,754 B, US$140.2 B,  |
|                              | digits (`usd(v, digits=4)`)    | US$254.4 B, US$45.20 B   |
| US$ millions as published    | 1 decimal below US$1,000 M;    | US$164.6 M, +131.0,      |
|                              | from there the 4-digit B rule  | US$45.20 B               |
| price                        | $ and separators; 0 decimals   | $108,680, $2,809,        |
|                              | from $1,000, 2 from $1, else 4 | $2.29, $0.2019           |
| share (dominance)            | 1 decimal                      | 61.0%, 9.4%              |
| change in percent            | signed, 2 decimals             | +4.60%, −1.39%           |
| funding rate per period      | 4 decimals, minus only         | 0.0065%, −0.0021%        |
| funding rate annualised      | 2 decimals, minus only         | 7.12%                    |
| change of a share            | signed percentage points, 1 dp | −0.2 pp                  |
| change of an index           | signed points                  | +2 pts                   |
| move in percent (scenarios)  | no space before %              | falls 2%                 |
| date                         | ISO 8601                       | 2025-06-11               |
| instant                      | date, 24 h time, zone          | 2025-06-11 23:55 UTC     |

One rule for M/B/T: an amount is scaled to the largest of B, M, K it reaches, never to T
(a desk writes "US$3,754 B"), so a market cap and an ETF's running total read alike.
Negative numbers carry a real minus sign (U+2212), never a hyphen.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

MINUS = "\u2212"
NA = "n/a"
_SCALES = ((1e9, "B"), (1e6, "M"), (1e3, "K"))
# Caps and volumes are printed to this many significant digits (the seed's precision: a
# +0.12% stablecoin day must still show).
FIGURE_DIGITS = 4


def grouped(value: float, decimals: int = 0) -> str:
    """`value` with thousands separators and a real minus: −1,234.5."""
    text = f"{abs(value):,.{decimals}f}"
    negative = value < 0 and float(text.replace(",", "")) != 0
    return (MINUS if negative else "") + text


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def scaled(value: float) -> tuple[float, str]:
    """(value in its unit, unit letter): 3.754e12 → (3754, "B"); below 1,000 → (value, "")."""
    for size, unit in _SCALES:
        if abs(value) >= size:
            return value / size, unit
    return value, ""


def _scaled_decimals(amount: float, unit: str) -> int:
    if not unit:
        return 0
    return 1 if round(abs(amount), 1) < 100 else 0


def _significant_decimals(amount: float, digits: int) -> int:
    """Decimals that show `amount` to `digits` significant digits (none past the point
    when its whole part has as many): 140.18 → 1, 3754.2 → 0, 45.2048 → 2."""
    whole = len(str(int(abs(amount))))
    decimals = max(0, digits - whole)
    # Rounding may carry into one more whole digit (99.96 at 1 decimal is 100.0).
    if decimals and len(str(int(round(abs(amount), decimals)))) > whole:
        decimals -= 1
    return decimals


def usd(value: float | None, digits: int | None = None) -> str:
    """A US$ amount scaled to B/M/K: "US$1.5 B", "US$191 M", "US$9.6 M", "US$512"; with
    `digits`, to that many significant digits: "US$3,754 B", "US$140.2 B"."""
    if not _finite(value):
        return NA
    assert value is not None
    amount, unit = scaled(value)
    if digits is not None and unit:
        decimals = _significant_decimals(amount, digits)
    else:
        decimals = _scaled_decimals(amount, unit)
    text = grouped(amount, decimals)
    return f"US${text} {unit}" if unit else f"US${text}"


def usd_millions(value: float | None, *, signed: bool = False) -> str:
    """An amount already in US$ millions, one decimal as Farside publishes it: "US$164.6 M";
    from US$1,000 M on, the B rule of caps ("US$45.20 B", not "US$45,204.8 M"). With
    `signed`: "+US$164.6 M" / "−US$278.4 M"."""
    if not _finite(value):
        return NA
    assert value is not None
    if abs(value) >= 1000:
        text = usd(abs(value) * 1e6, digits=FIGURE_DIGITS)
    else:
        text = f"US${grouped(abs(value), 1)} M"
    if not signed:
        return (MINUS if value < 0 and round(value, 1) != 0 else "") + text
    return sign_of(value, 1) + text


def millions(value: float | None) -> str:
    """A table cell in US$ millions (the unit is in the column header): "+131.0", "−47.8"."""
    if not _finite(value):
        return NA
    assert value is not None
    return sign_of(value, 1) + grouped(abs(value), 1)


def sign_of(value: float, decimals: int) -> str:
    """"+", the minus sign, or "" when `value` rounds to zero at `decimals`."""
    if round(abs(value), decimals) == 0:
        return ""
    return "+" if value > 0 else MINUS


def price_decimals(value: float) -> int:
    magnitude = abs(value)
    return 0 if magnitude >= 1000 else 2 if magnitude >= 1 else 4


def price(value: float | None, decimals: int | None = None) -> str:
    """A market price: "$108,680" from $1,000, "$2.29" from $1, "$0.2019" below."""
    if not _finite(value):
        return NA
    assert value is not None
    return f"${grouped(value, price_decimals(value) if decimals is None else decimals)}"


def share(value: float | None) -> str:
    """A share in percent, one decimal: "61.0%", "9.4%"."""
    if not _finite(value):
        return NA
    assert value is not None
    return f"{grouped(value, 1)}%"


def change(value: float | None, decimals: int = 2) -> str:
    """A relative change: "+4.60%", "−1.39%", "0.00%"."""
    if not _finite(value):
        return NA
    assert value is not None
    return f"{sign_of(value, decimals)}{abs(value):,.{decimals}f}%"


def rate(value: float | None, decimals: int = 4) -> str:
    """A rate in percent to `decimals` places, unsigned when positive (a funding rate per
    period "0.0065%", "−0.0021%"; annualised with 2: "7.12%")."""
    if not _finite(value):
        return NA
    assert value is not None
    return f"{grouped(value, decimals)}%"


def points(value: float | None, unit: str, decimals: int = 0) -> str:
    """An absolute change: "+2 pts", "−0.2 pp"."""
    if not _finite(value):
        return NA
    assert value is not None
    return f"{sign_of(value, decimals)}{abs(value):,.{decimals}f} {unit}"


def percent(value: float, decimals: int | None = None) -> str:
    """A plain percentage such as a scenario's move: "2%", "7.5%", "25%"."""
    if decimals is None:
        return f"{value:g}%"
    return f"{value:.{decimals}f}%"


def count(value: float | None) -> str:
    """A whole number with separators: "17,411"."""
    if not _finite(value):
        return NA
    assert value is not None
    return grouped(value, 0)


def day(value: date) -> str:
    """A date: "2025-06-11" (one format everywhere: ISO 8601)."""
    return value.isoformat()


def instant(value: datetime | None, zone: str = "UTC") -> str:
    """An instant in `zone`: "2025-06-11 23:55 UTC"."""
    if value is None:
        return "time unknown"
    local = value.astimezone(ZoneInfo(zone))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or zone)


def span(first: datetime, last: datetime, zone: str = "UTC") -> str:
    """A time range: "2025-06-05 00:00 – 2025-06-11 23:00 UTC", or within one day
    "2025-08-15 18:00 – 19:00 UTC"."""
    tz = ZoneInfo(zone)
    a, b = first.astimezone(tz), last.astimezone(tz)
    end = f"{b:%H:%M}" if a.date() == b.date() else f"{b:%Y-%m-%d %H:%M}"
    return f"{a:%Y-%m-%d %H:%M} – {end} {b.tzname() or zone}"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
