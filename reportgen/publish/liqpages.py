"""The site's Liquidation Map pages, from the map data render wrote beside each day's charts
(`reportgen.mapdata`, charts/liqmap_<symbol>.json, listed in the day's manifest):

    liquidation/index.html         every symbol's latest map (static image) and the FAQ
    liquidation/<symbol>/index.html  the latest map, interactive, and the heatmap over the days
    liquidation/<symbol>/map.json  what that page draws: the latest DayMap, the heat rows
    assets/vendor/*.min.js         Vega, Vega-Lite, vega-embed (templates/vendor, pinned)
    assets/liqmap.js               the pages' own script

The interactive charts are Vega-Lite, drawn by the site's own copy of its scripts (no page
loads anything from another host: a Content-Security-Policy says so to the browser). Without
JavaScript a page shows the day's static chart, the one the brief embeds. Rewritten on every
build: they change with every new day.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from reportgen import numbers
from reportgen.manifest import MapScoreRecord
from reportgen.mapdata import DayMap, MapHeat
from reportgen.publish.reports import read_bytes
from reportgen.render.environment import environment, templates_dir

if TYPE_CHECKING:
    from reportgen.config import Config

FOLDER = "liquidation"
INDEX = f"{FOLDER}/index.html"
DATA = "map.json"  # beside each symbol's page
HEAT_DAYS = 30          # the heatmap spans at most the last 30 days the site has
HEAT_COLUMNS = 168      # and at most this many times (snapshots thinned evenly past that)
HEAT_RANGE = 0.15       # price rows: the days' mark prices ± 15 %
VENDOR = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")


class DayEntry(Protocol):
    """What these pages need of a day on the site (`reportgen.publish.site.DayEntry`)."""

    day: date
    source: Path              # the report folder
    charts: list[str]         # file names in its charts/ that the site publishes
    scored: bool              # its manifest carries map scores
    sample: bool              # made from sample data

    @property
    def dir(self) -> str: ...     # "2025/06/11/", site-relative

    @property
    def path(self) -> str: ...    # "2025/06/11/index.html"

    @property
    def map_scores(self) -> list[MapScoreRecord]: ...  # from reports/D/manifest.json


class SymbolPage(BaseModel):
    """liquidation/<symbol>/map.json: what the symbol's page draws."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str
    latest: DayMap            # its `heat` left out: the rows are in `heat` below
    page: str                 # the latest brief's page, site-relative
    heat: MapHeat | None      # hourly rows of the days below, on one price grid
    heat_days: list[str]      # the report days the heat rows come from


@dataclass
class SymbolMaps:
    """One symbol's maps, oldest first, with the day each came from."""

    symbol: str
    days: list[tuple[DayEntry, DayMap]]

    @property
    def slug(self) -> str:
        return self.symbol.lower()

    @property
    def path(self) -> str:
        """The symbol's page, site-relative: liquidation/btc/index.html."""
        return f"{FOLDER}/{self.slug}/index.html"

    @property
    def latest(self) -> tuple[DayEntry, DayMap]:
        return self.days[-1]

    def chart(self, fmt: str) -> str | None:
        """The latest day's static chart of this symbol (site-relative), for the no-JS view."""
        entry, _ = self.latest
        name = f"liqmap_{self.slug}.{fmt}"
        return f"{entry.dir}charts/{name}" if name in entry.charts else None

    def heatmap_chart(self) -> str | None:
        entry, _ = self.latest
        name = f"liqheat_{self.slug}.svg"
        return f"{entry.dir}charts/{name}" if name in entry.charts else None


def read_maps(entries: Sequence[DayEntry], warnings: list[str]) -> list[SymbolMaps]:
    """Every symbol with map data on some day, in the order of the latest day's files; each
    with its last HEAT_DAYS days of maps (all the pages use), oldest first. Only those are
    read: with a year of history, parsing every day's map data made each publish ~1 s
    slower per 365 days."""
    by_symbol: dict[str, list[tuple[DayEntry, DayMap]]] = {}
    read: Counter[str] = Counter()  # per data file name (one per symbol)
    for entry in reversed(entries):
        for name in entry.charts:
            if not (name.startswith("liqmap_") and name.endswith(".json")) or \
                    read[name] >= HEAT_DAYS:
                continue
            try:
                data = DayMap.model_validate_json(read_bytes(entry.source / "charts" / name))
            except (ValidationError, ValueError) as exc:
                first = str(exc).splitlines()[0]
                warnings.append(f"liquidation pages: left out {entry.source / 'charts' / name}: {first}")
                continue
            read[name] += 1
            by_symbol.setdefault(data.symbol, []).append((entry, data))
    for days in by_symbol.values():
        days.reverse()  # oldest first
    order = sorted(by_symbol, key=lambda s: (by_symbol[s][-1][0].day, s), reverse=True)
    latest_day = by_symbol[order[0]][-1][0].day if order else None
    # Symbols of the newest day first (as configured), then any older ones.
    ranked = sorted(order, key=lambda s: (by_symbol[s][-1][0].day != latest_day, s))
    return [SymbolMaps(symbol=s, days=by_symbol[s]) for s in ranked]


def rebin(row: Sequence[float], low: float, size: float, new_low: float, new_size: float,
          n: int) -> list[float]:
    """`row` (buckets of `size` from `low`) on another grid (`n` buckets of `new_size` from
    `new_low`): each bucket's notional is shared among the new buckets it overlaps, in
    proportion to the overlap (a day whose map used another bucket size)."""
    out = [0.0] * n
    shift = (low - new_low) / new_size
    if size == new_size and shift == round(shift):  # the same grid, shifted: no sharing
        for j, value in enumerate(row, start=round(shift)):
            if 0 <= j < n:
                out[j] = value
        return out
    for j, value in enumerate(row):
        if not value:
            continue
        a, b = low + j * size, low + (j + 1) * size
        k = max(0, math.floor((a - new_low) / new_size))
        while k < n:
            lo, hi = new_low + k * new_size, new_low + (k + 1) * new_size
            if lo >= b:
                break
            overlap = min(b, hi) - max(a, lo)
            if overlap > 0:
                out[k] += value * overlap / size
            k += 1
    return out


def rebin_rows(rows: Sequence[Sequence[float]], low: float, size: float, new_low: float,
               new_size: float, n: int) -> np.ndarray:
    """`rebin` of every row at once (a day's heat rows share one grid): a slice copy on the
    same grid shifted, else one product with the matrix of overlaps (`rebin` of each
    bucket alone)."""
    values = np.asarray(rows, dtype=float).reshape(len(rows), -1)
    count = values.shape[1]
    shift = (low - new_low) / new_size
    if size == new_size and shift == round(shift):
        out = np.zeros((len(rows), n))
        start = round(shift)
        first, last = max(0, -start), min(count, n - start)  # the buckets that land in the grid
        if first < last:
            out[:, first + start:last + start] = values[:, first:last]
        return out
    overlaps = np.array([rebin([0.0] * j + [1.0], low, size, new_low, new_size, n)
                         for j in range(count)]).reshape(count, n)
    shared: np.ndarray = values @ overlaps
    return shared


def combined_heat(maps: SymbolMaps) -> tuple[MapHeat | None, list[str]]:
    """The heat rows of the last HEAT_DAYS days on the latest day's grid (re-binned where a
    day used another bucket size), over the price range their marks span (± HEAT_RANGE),
    thinned to at most HEAT_COLUMNS times."""
    _, latest = maps.latest
    size = latest.bucket_size
    days = [(e, d) for e, d in maps.days[-HEAT_DAYS:] if d.heat is not None and d.heat.times]
    if not days:
        return None, []
    marks = [m for _, d in days for m in (d.heat.mark if d.heat else []) if m == m] or [latest.mark_price]
    low = (min(marks) * (1 - HEAT_RANGE) // size) * size
    high = (max(marks) * (1 + HEAT_RANGE) // size + 1) * size
    n_cols = round((high - low) / size)
    times: list[datetime] = []
    usd: list[list[int]] = []
    mark: list[float] = []
    for _, d in days:
        heat = d.heat
        assert heat is not None
        # np.rint rounds half to even, as round() does
        rows = np.rint(rebin_rows(heat.usd, heat.price_low, heat.bucket_size, low, size, n_cols))
        times.extend(heat.times)
        usd.extend(rows.astype(np.int64).tolist())
        mark.extend(heat.mark)
    step = max(1, -(-len(times) // HEAT_COLUMNS))
    keep = list(range(len(times) - 1, -1, -step))[::-1]  # always the newest snapshot
    heat = MapHeat(times=[times[i] for i in keep], price_low=low, bucket_size=size,
                   usd=[usd[i] for i in keep], mark=[mark[i] for i in keep])
    return heat, [e.day.isoformat() for e, _ in days]


def symbol_data(maps: SymbolMaps) -> SymbolPage:
    entry, latest = maps.latest
    heat, heat_days = combined_heat(maps)
    # The latest day's own heat rows are in `heat` already.
    return SymbolPage(symbol=maps.symbol, latest=latest.model_copy(update={"heat": None}),
                      page=entry.path, heat=heat, heat_days=heat_days)


def as_of(moment: datetime) -> str:
    """'2025-06-11 14:05 UTC'; a midnight cut-off reads as the close of the day before
    ('2025-06-11 close (UTC)'), as the charts and the brief say it."""
    utc = moment.astimezone(UTC)
    if (utc.hour, utc.minute, utc.second) == (0, 0, 0):
        return f"{utc - timedelta(days=1):%Y-%m-%d} close (UTC)"
    return f"{utc:%Y-%m-%d %H:%M} UTC"


def _meta(config: Config, *, title: str, description: str, path: str,
          image: str | None) -> dict[str, Any]:
    base = config.site.url
    return {
        "site_title": config.site.title, "title": title, "description": description,
        "og_type": "website", "url": f"{base}{path}" if base else None,
        "feed_url": f"{base}feed.xml" if base else None,
        "image": f"{base}{image}" if base and image else None,
        "image_alt": "Liquidation map",
    }


SCORED_DAYS = 30  # the maps-scored table: the last 30 days that have a score


@dataclass(frozen=True)
class ScoredRow:
    """One map scored, as the table shows it: the brief that scored it, and its score."""

    entry: DayEntry
    score: MapScoreRecord


def recent_scores(entries: Sequence[DayEntry], days: int = SCORED_DAYS) -> list[ScoredRow]:
    """The scores of yesterday's maps carried by the last `days` briefs that have any,
    newest first (each brief's manifest records them: reportgen.realised.score)."""
    scored = [e for e in entries if e.scored][-days:]
    return [ScoredRow(e, s) for e in reversed(scored) for s in e.map_scores]


def pages(entries: Sequence[DayEntry], config: Config, warnings: list[str]) -> dict[str, bytes]:
    """Every file of the Liquidation Map pages (site-relative path → bytes); nothing when no
    day has map data (rendered before the data was written, or the map is switched off)."""
    symbols = read_maps(entries, warnings)
    if not symbols:
        return {}
    env = environment()
    files: dict[str, bytes] = {}
    for maps in symbols:
        data = symbol_data(maps)
        files[f"{FOLDER}/{maps.slug}/{DATA}"] = data.model_dump_json().encode()
        entry, latest = maps.latest
        meta = _meta(config, title=f"{maps.symbol} liquidation map — {config.site.title}",
                     description=f"Where {maps.symbol} positions would be liquidated: the CEX "
                                 f"estimate and Hyperliquid's positions, {entry.day.isoformat()}",
                     path=maps.path, image=maps.chart("png"))
        files[maps.path] = env.get_template("site/liquidation.html.j2").render(
            root="../../", meta=meta, maps=maps, symbols=symbols, entry=entry, latest=latest,
            data_file=DATA, as_of=as_of, vendor=vendor_versions(),
            data=data, bucket=numbers.price(latest.bucket_size, 0 if latest.bucket_size >= 1 else None),
        ).encode()
    meta = _meta(config, title=f"Liquidation maps — {config.site.title}",
                 description="Liquidation maps: the CEX estimate and Hyperliquid's positions "
                             "on one price axis, per symbol, updated every day",
                 path=INDEX, image=symbols[0].chart("png"))
    files[INDEX] = env.get_template("site/liquidation_index.html.j2").render(
        root="../", meta=meta, symbols=symbols, as_of=as_of, scores=recent_scores(entries),
        scored_days=SCORED_DAYS,
    ).encode()
    vendor = templates_dir() / "vendor"
    for name in VENDOR:
        files[f"assets/vendor/{name}"] = (vendor / name).read_bytes()
        licence = name.removesuffix(".min.js") + ".LICENSE.txt"
        files[f"assets/vendor/{licence}"] = (vendor / licence).read_bytes()
    files["assets/liqmap.js"] = (templates_dir() / "site" / "liqmap.js").read_bytes()
    return files


def vendor_versions() -> dict[str, str]:
    """{package: version} of the vendored chart scripts (templates/vendor/VENDOR.json)."""
    record = json.loads((templates_dir() / "vendor" / "VENDOR.json").read_text(encoding="utf-8"))
    return {name: str(item["version"]) for name, item in record.items()}
