"""Write the bundled sample's ETF and news payloads (2025-06-05 … 2025-06-11).

Deterministic: same inputs, same bytes. Run from the repository root:

    .venv/bin/python scripts/sample/etf_news.py

ETF (`reportgen/sample/data/<day>/etf_farside/`): Farside-shaped "all data" pages built
from the real published daily figures kept by ciyberpunk/farside-etf (CSV copies in
tests/fixtures/etf/, provenance in reportgen/sample/PROVENANCE.md). Each day's page holds
every trading-day row from fund launch up to that day (never later rows), so the parser's
cumulative total is the honest since-launch figure. Reconstruction rules, because the CSVs
are lossy: weekend rows (the CSV zero-fills calendar days) are dropped; NYSE holidays
become rows of "-" with Total 0.0, as on Farside's page; a fund's cells before its first
non-zero figure become "-" (not trading yet); summary rows are computed from the day rows.

News (`reportgen/sample/data/<day>/news/`): BlockBeats-shaped JSON. 2025-06-11 holds the
seven headlines of the public brief for that day; the other days hold none and say so.
"""

from __future__ import annotations

import csv
import html
import json
import shutil
from datetime import UTC, date, datetime, time
from pathlib import Path

from reportgen.sample import sample_days
from reportgen.sources.etf import ASSET_HEADER
from reportgen.sources.farside import format_cell
from reportgen.sources.news import DATE_ONLY_HEADER, DEFAULT_FEEDS, NOTE_HEADER

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "etf"
DATA = ROOT / "reportgen" / "sample" / "data"
BTC_CSV = FIXTURES / "farside_btc_wide_daily_ciyberpunk_99159b1.csv"
ETH_CSV = FIXTURES / "farside_eth_wide_daily_ciyberpunk_b47a2c2.csv"
ETH_TOTAL_COLUMN = "Total Unnamed: 10_level_1 Unnamed: 10_level_2"  # Farside's own Total
FARSIDE_URLS = {
    "BTC": "https://farside.co.uk/bitcoin-etf-flow-all-data/",
    "ETH": "https://farside.co.uk/ethereum-etf-flow-all-data/",
}
PAGE_TITLES = {"BTC": "Bitcoin ETF Flow – All Data", "ETH": "Ethereum ETF Flow – All Data"}
# NYSE full-day closures 2024-01-11 … 2025-06-11 (incl. the 2025-01-09 national day of
# mourning); Farside lists these days as rows of "-".
NYSE_HOLIDAYS = frozenset(date.fromisoformat(d) for d in (
    "2024-01-15", "2024-02-19", "2024-03-29", "2024-05-27", "2024-06-19", "2024-07-04",
    "2024-09-02", "2024-11-28", "2024-12-25", "2025-01-01", "2025-01-09", "2025-01-20",
    "2025-02-17", "2025-04-18", "2025-05-26",
))
BLOCKBEATS = next(f for f in DEFAULT_FEEDS if f.kind == "blockbeats")
NO_HEADLINES = "no headlines recorded for this sample day"
# The public brief of 2025-06-11 lists these (BlockBeats). Only the last one's link is
# known; the others carry none rather than a guessed one. The brief gives the day, not the
# minute: every item is stamped 12:00 UTC that day as a placeholder.
NEWS_2025_06_11 = [
    ("Ethereum ecosystem tokens see broad gains, with UNI surging 23.4% in 24 hours", ""),
    ("Silhouette, a privacy execution layer based on Hyperliquid, completes $3M Pre-Seed "
     "funding round led by RockawayX", ""),
    ("Ethereum Foundation releases the 1TS 'Security Challenges Overview' report", ""),
    ("SlowMist's Cosmos: Stolen assets from Alby wallet have been recovered", ""),
    ("HYPE surpasses $42, hitting a new all-time high", ""),
    ("Divergence Between U.S. Institutional and Retail Investors Resurfaces", ""),
    ("The tokenization of US stocks is heating up again. Which on-chain platforms support "
     "trading US stocks?", "https://en.theblockbeats.news/news/58527"),
]

Row = tuple[date, list[float | None], float | None]


def load_rows(path: Path, asset: str) -> tuple[list[str], list[Row]]:
    """Tickers and trading-day rows (see module docstring for the reconstruction rules)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        records = list(reader)
    if asset == "BTC":
        columns = [f for f in fields if f not in ("date", "Total")]
        tickers, total_col = columns, "Total"
    else:
        columns = [f for f in fields if f not in ("date", "Total", ETH_TOTAL_COLUMN)]
        tickers = [c.split()[-2] for c in columns]  # "Blackrock ETHA 0.25%" → "ETHA"
        total_col = ETH_TOTAL_COLUMN
    started = [False] * len(columns)
    rows: list[Row] = []
    for rec in records:
        day = date.fromisoformat(rec["date"])
        if day.weekday() >= 5:
            continue
        values = [float(rec[c]) for c in columns]
        total = round(float(rec[total_col]), 1)
        if day in NYSE_HOLIDAYS:
            if any(values) or total:
                raise SystemExit(f"{asset} {day}: holiday row has figures")
            rows.append((day, [None] * len(columns), 0.0))
            continue
        cells: list[float | None] = []
        for j, v in enumerate(values):
            started[j] = started[j] or v != 0.0
            cells.append(round(v, 1) if started[j] else None)
        rows.append((day, cells, total))
    return tickers, rows


def page(asset: str, tickers: list[str], rows: list[Row]) -> str:
    """A Farside-shaped page: one table.etf, header Date + tickers + Total, day rows,
    summary rows computed from the day rows."""
    head = "".join(f"<th>{html.escape(t)}</th>" for t in ["Date", *tickers, "Total"])
    body = []
    for day, cells, total in rows:
        tds = [f"{day.day:02d} {day:%b %Y}", *(format_cell(c) for c in cells), format_cell(total)]
        body.append("<tr>" + "".join(f"<td>{t}</td>" for t in tds) + "</tr>")
    columns = list(zip(*[[*cells, total] for _, cells, total in rows], strict=True))
    traded = [[v for v in col if v is not None] for col in columns]
    summary = {
        "Total": [sum(c) if c else None for c in traded],
        "Average": [sum(c) / len(c) if c else None for c in traded],
        "Maximum": [max(c) if c else None for c in traded],
        "Minimum": [min(c) if c else None for c in traded],
    }
    for label, values in summary.items():
        tds = [label, *(format_cell(None if v is None else round(v, 1)) for v in values)]
        body.append("<tr>" + "".join(f"<td>{t}</td>" for t in tds) + "</tr>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
        f"<title>{PAGE_TITLES[asset]} – Farside Investors</title></head><body>\n"
        "<!-- reportgen bundled sample: page constructed in Farside's table.etf layout from "
        "Farside's published daily figures (see reportgen/sample/PROVENANCE.md) -->\n"
        "<p>All data in US$m</p>\n"
        f"<table class=\"etf\"><thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(body) + "\n</tbody></table>\n</body></html>\n"
    )


def write_json(path: Path, doc: object) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_etf(day: date, tables: dict[str, tuple[list[str], list[Row]]]) -> None:
    folder = DATA / day.isoformat() / "etf_farside"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    index = []
    for asset, (tickers, rows) in tables.items():
        name = f"{asset.lower()}_all_data.html"
        upto = [r for r in rows if r[0] <= day]
        (folder / name).write_text(page(asset, tickers, upto), encoding="utf-8")
        index.append({"file": name, "url": FARSIDE_URLS[asset], "status": 200,
                      "headers": {"content-type": "text/html; charset=UTF-8",
                                  ASSET_HEADER: asset}})
    write_json(folder / "index.json", index)


def write_news(day: date) -> None:
    folder = DATA / day.isoformat() / "news"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    headers = {"content-type": "application/json"}
    items = []
    if day == date(2025, 6, 11):
        # The brief gives the day, not the minute: create_time holds the day (a placeholder
        # 12:00 UTC), and the header says so; the parser then never shows a time.
        stamp = str(int(datetime.combine(day, time(12, 0), tzinfo=UTC).timestamp()))
        headers[DATE_ONLY_HEADER] = "1"
        items = [{"id": None, "title": title, "content": "", "pic": "", "link": link,
                  "url": "", "create_time": stamp} for title, link in NEWS_2025_06_11]
    else:
        headers[NOTE_HEADER] = NO_HEADLINES
    write_json(folder / "blockbeats_open_flash.json",
               {"status": 0, "message": "", "data": {"page": 1, "data": items}})
    write_json(folder / "index.json", [{"file": "blockbeats_open_flash.json",
                                        "url": BLOCKBEATS.url, "status": 200,
                                        "headers": headers}])


def main() -> None:
    """Write every sample day's etf_farside/ and news/ folders."""
    tables = {"BTC": load_rows(BTC_CSV, "BTC"), "ETH": load_rows(ETH_CSV, "ETH")}
    for day in sample_days():
        write_etf(day, tables)
        write_news(day)
        print(f"wrote {day}")


if __name__ == "__main__":
    main()
