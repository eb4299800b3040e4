"""Pure parsing of Farside Investors' ETF flow tables (no I/O).

A Farside "all data" page holds one `<table class="etf">`: header row(s) naming the funds
(the row whose first cell is "Date" carries the tickers and "Total"; some layouts add rows
with issuer names and fees), one row per trading day ("11 Jan 2024", US$ m), then summary
rows Total / Average / Maximum / Minimum. Cells: "(95.1)" negative, "1,045.0" with commas,
"-" no figure (fund not trading yet, or market holiday).

Everything here is strict on purpose: a page whose layout changed raises ParseError naming
what was expected, because a silently misread column would print wrong figures. One fund
column that cannot be read (no ticker in its header, a cell that is not a figure) is left out
and named in `FarsideTable.unreadable`: it costs that fund, not the whole table; the Total
column is Farside's own and must read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser

from reportgen.errors import ParseError

SUMMARY_LABELS = ("Total", "Average", "Maximum", "Minimum")
# Tickers are short upper-case symbols (IBIT, FBTC, BTC, ETHA, EZET...).
_TICKER = re.compile(r"^[A-Z][A-Z0-9]{1,6}$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_DASHES = {"-", "–", "—", ""}


@dataclass(frozen=True)
class FarsideRow:
    """One trading-day row: flows per fund (None = "-", no figure) and Farside's Total."""

    day: date
    flows: dict[str, float | None]
    total: float | None

    def all_dashes(self) -> bool:
        """True for a market-holiday row: no fund has a figure."""
        return all(v is None for v in self.flows.values())

    def all_zero(self) -> bool:
        """True when every figure present (funds and Total) is 0.0: Farside's "not yet
        reported" placeholder on the latest day."""
        values = [v for v in self.flows.values() if v is not None]
        return bool(values) and all(v == 0.0 for v in values) and (self.total or 0.0) == 0.0


@dataclass(frozen=True)
class FarsideTable:
    """A parsed Farside table: tickers in page order, day rows oldest first, summary rows."""

    tickers: list[str]
    rows: list[FarsideRow]
    summary: dict[str, dict[str, float | None]] = field(default_factory=dict)
    # Fund columns left out, and why (a header with no ticker, an unreadable cell): one odd
    # column costs that fund's figures, not the table. Keyed by ticker or "column N".
    unreadable: dict[str, str] = field(default_factory=dict)


class _TableCollector(HTMLParser):
    """Collects the rows (cell texts, colspan expanded) of every `table.etf` on a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._depth = 0          # nesting depth inside a table.etf (0 = outside)
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._colspan = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "table":
            if self._depth:
                self._depth += 1  # nested table: count it so its end does not close ours
            elif "etf" in (attr.get("class") or "").split():
                self._depth = 1
                self.tables.append([])
            return
        if self._depth != 1:
            return
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            try:
                self._colspan = max(1, int(attr.get("colspan") or 1))
            except ValueError:
                self._colspan = 1
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._depth:
            self._depth -= 1
            return
        if self._depth != 1:
            return
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            text = " ".join("".join(self._cell).replace("\xa0", " ").split())
            self._row.extend([text] * self._colspan)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._cell is not None:  # unclosed cell
                self.handle_endtag("td")
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._depth == 1 and self._cell is not None:
            self._cell.append(data)


def parse_cell(text: str, *, where: str) -> float | None:
    """One Farside figure in US$ m: "(95.1)" → -95.1, "1,045.0" → 1045.0, "-" → None.

    Raises ParseError naming `where` (row and column) for anything else.
    """
    s = text.strip().replace(",", "").replace("\u2212", "-").replace("$", "")
    if s in _DASHES:
        return None
    negative = s.startswith("(") and s.endswith(")")
    if negative:
        s = s[1:-1].strip()
    if not _NUMBER.match(s):
        raise ParseError(f"Farside table: cannot read cell {text!r} at {where}")
    value = float(s)
    return -value if negative else value


def parse_day(text: str) -> date | None:
    """"11 Jan 2024" → date; None when the text is not a Farside day label."""
    try:
        return datetime.strptime(text.strip(), "%d %b %Y").date()
    except ValueError:
        return None


def _header_roles(header: list[list[str]], ncols: int, label: str,
                  unreadable: dict[str, str]) -> list[str | None]:
    """Name every column: "Date", the fund tickers, "Total" (left to right); None for a fund
    column whose header names no ticker (recorded in `unreadable`)."""
    date_rows = [r for r in header if r and r[0].strip().lower() == "date"]
    if not date_rows:
        # The live page (2026) leaves the first header cell blank: the ticker row is then
        # the one with a blank first cell and fund tickers after it.
        date_rows = [r for r in header if r and not r[0].strip()
                     and any(_TICKER.match(c.strip()) for c in r[1:])]
    if not date_rows:
        raise ParseError(
            f"Farside {label} table: no header row starting with 'Date' (or blank before "
            f"the tickers) (header rows seen: {header!r}); the page layout changed"
        )
    main = date_rows[0]
    if len(main) != ncols:
        raise ParseError(
            f"Farside {label} table: header has {len(main)} columns but day rows have {ncols}"
        )

    def column_texts(j: int) -> list[str]:
        # The ticker row first, then the other header rows (issuer names, fees).
        return [main[j]] + [r[j] for r in header if r is not main and j < len(r)]

    if "Total" not in [t.strip() for t in column_texts(ncols - 1)]:
        raise ParseError(
            f"Farside {label} table: last column is not 'Total' "
            f"(header says {column_texts(ncols - 1)!r}); the page layout changed"
        )
    roles: list[str | None] = ["Date"]
    for j in range(1, ncols - 1):
        tickers = [t for t in column_texts(j) if _TICKER.match(t.strip())]
        if not tickers:
            unreadable[f"column {j + 1}"] = (f"its header names no fund ticker "
                                             f"({[t.strip() for t in column_texts(j)]!r})")
            roles.append(None)
            continue
        roles.append(tickers[0].strip())
    roles.append("Total")
    funds = [r for r in roles[1:-1] if r is not None]
    if len(set(funds)) != len(funds):
        raise ParseError(f"Farside {label} table: duplicate tickers in header {funds!r}")
    if not funds:
        raise ParseError(f"Farside {label} table: header names no fund between Date and Total")
    return roles


def parse_farside_html(html: str, *, label: str = "ETF") -> FarsideTable:
    """Parse a Farside flow page into a FarsideTable.

    `label` ("BTC"/"ETH") only makes error messages precise. Raises ParseError when there is
    no `table.etf`, the header lacks Date/Total or a ticker, a row has the wrong width, a
    row label is neither a day nor a summary label, or a cell is unreadable.
    """
    collector = _TableCollector()
    collector.feed(html)
    collector.close()
    if not collector.tables:
        raise ParseError(
            f"Farside {label} page has no <table class=\"etf\">; the page layout changed "
            "(or this is a block/challenge page, not the flow table)"
        )
    rows = [r for r in collector.tables[0] if any(c.strip() for c in r)]
    first_day = next((i for i, r in enumerate(rows) if parse_day(r[0]) is not None), None)
    if first_day is None:
        raise ParseError(f"Farside {label} table has no day rows (no 'DD Mon YYYY' label)")
    header = rows[:first_day]
    ncols = len(rows[first_day])
    unreadable: dict[str, str] = {}
    roles = _header_roles(header, ncols, label, unreadable)
    read = _read_cells(rows[first_day:], roles, ncols, label, unreadable)
    tickers = [t for t in roles[1:-1] if t is not None and t not in unreadable]
    if not tickers:
        raise ParseError(f"Farside {label} table: no fund column could be read ("
                         + "; ".join(f"{k}: {v}" for k, v in unreadable.items()) + ")")

    day_rows: list[FarsideRow] = []
    summary: dict[str, dict[str, float | None]] = {}
    for row_label, cells in read:
        values = {k: v for k, v in cells.items() if k not in unreadable}
        day = parse_day(row_label)
        if day is not None:
            if day_rows and day <= day_rows[-1].day:
                raise ParseError(
                    f"Farside {label} table: day {row_label!r} is out of order or repeated"
                )
            total = values.pop("Total")
            day_rows.append(FarsideRow(day=day, flows=values, total=total))
        elif row_label in SUMMARY_LABELS:
            summary[row_label] = values
        else:
            raise ParseError(
                f"Farside {label} table: unexpected row label {row_label!r} "
                "(neither a 'DD Mon YYYY' day nor Total/Average/Maximum/Minimum)"
            )
    if "Total" not in summary:
        # Farside always closes the table with Total/Average/Maximum/Minimum; without them
        # the page was cut short (a truncated body) and its last day rows cannot be trusted.
        raise ParseError(
            f"Farside {label} table ends without its Total/Average/Maximum/Minimum rows "
            f"(last day row {day_rows[-1].day}): the page is truncated or its layout changed"
        )
    return FarsideTable(tickers=tickers, rows=day_rows, summary=summary, unreadable=unreadable)


def _read_cells(rows: list[list[str]], roles: list[str | None], ncols: int, label: str,
                unreadable: dict[str, str]) -> list[tuple[str, dict[str, float | None]]]:
    """Each row's label and its figures by column role. An unreadable cell in a fund column
    puts that fund in `unreadable` (its other cells are then ignored by the caller); one in
    Total, or a row of the wrong width, is a ParseError: the day's total cannot be trusted."""
    read = []
    for r in rows:
        row_label = r[0].strip()
        if len(r) != ncols:
            raise ParseError(
                f"Farside {label} table: row {row_label!r} has {len(r)} cells, expected {ncols}"
            )
        values: dict[str, float | None] = {}
        for j in range(1, ncols):
            role = roles[j]
            if role is None or role in unreadable:
                continue
            try:
                values[role] = parse_cell(r[j], where=f"row {row_label!r}, column {role}")
            except ParseError as exc:
                if role == "Total":
                    raise
                unreadable[role] = str(exc).removeprefix("Farside table: ")
        read.append((row_label, values))
    return read


def format_cell(value: float | None) -> str:
    """Farside's own cell notation for a figure (used to build sample pages)."""
    if value is None:
        return "-"
    text = f"{abs(value):,.1f}"
    return f"({text})" if value < 0 else text
