"""The site's Liquidation Map pages (issue 20), as the site build writes them: one page per
symbol and an index, linked from every page, built from the map data render wrote beside
each day's charts, which must be the map result collect stored; no page loads anything from
another host; without JavaScript the static chart is there. The browser side (hover, phone
width, dark mode) is in test_liquidation_browser.py."""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from reportgen.archive import Archive
from reportgen.config import config_from_mapping
from reportgen.liquidation.result import LiquidationResult
from reportgen.manifest import MapScoreRecord
from reportgen.mapdata import DayMap, MapHeat, MapLayer, map_file
from reportgen.pipeline import stored_maps
from reportgen.publish import build_site
from reportgen.publish.liqpages import (
    HEAT_COLUMNS,
    HEAT_DAYS,
    HEAT_RANGE,
    SymbolMaps,
    SymbolPage,
    as_of,
    combined_heat,
    rebin,
    rebin_rows,
)
from reportgen.render.environment import templates_dir
from tests.publish.conftest import DAYS, LAST

URL = "https://briefs.example.org/daily/"
SYMBOLS = ["BTC", "ETH"]  # the sample config's liquidation.symbols


class Refs(HTMLParser):
    """Every URL a page loads (script, stylesheet, image, icon…) and every link it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v for k, v in attrs if v}
        if tag == "a" and "href" in values:
            self.links.append(values["href"])
        elif tag == "link" and "href" in values and values.get("rel") not in ("canonical", "alternate"):
            self.loads.append(values["href"])
        for name in ("src", "srcset", "data-src", "poster"):
            if name in values and tag != "a":
                self.loads.append(values[name])


def _refs(page: Path) -> Refs:
    refs = Refs()
    refs.feed(page.read_text(encoding="utf-8"))
    return refs


def _site(week: Path, **site: object) -> Path:
    build_site(config_from_mapping({"output": str(week), "site": {"url": URL, **site}}))
    return week / "site"


def _maps(output: Path, day: date) -> dict[str, LiquidationResult]:
    config = config_from_mapping({"output": str(output)})
    with Archive(config.archive_path) as archive:
        return {m.symbol: m for m in stored_maps(day, archive)}


def test_pages_are_written_and_linked_from_every_page(week: Path) -> None:
    site = _site(week)
    liq = site / "liquidation"
    assert (liq / "index.html").is_file()
    for symbol in SYMBOLS:
        assert (liq / symbol.lower() / "index.html").is_file()
        assert (liq / symbol.lower() / "map.json").is_file()
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 1 + 1 + len(DAYS) + 1 + len(SYMBOLS)  # index, June 2025, days, maps
    for page in pages:
        targets = {(page.parent / url).resolve() for url in _refs(page).links
                   if not urlparse(url).scheme}
        assert (liq / "index.html").resolve() in targets, f"{page}: no link to the maps"
        for url in _refs(page).links + _refs(page).loads:
            if not urlparse(url).scheme and not url.startswith("#"):
                assert (page.parent / url.split("#")[0]).resolve().is_file(), f"{page}: {url}"


def test_every_symbol_is_listed_and_has_its_page(week: Path) -> None:
    site = _site(week)
    index = (site / "liquidation" / "index.html").read_text(encoding="utf-8")
    for symbol in SYMBOLS:
        assert f'href="../liquidation/{symbol.lower()}/index.html"' in index
        page = (site / "liquidation" / symbol.lower() / "index.html").read_text(encoding="utf-8")
        assert f"<h1>{symbol}: where positions would be liquidated</h1>" in page
        for other in SYMBOLS:  # every symbol page links every symbol
            assert f'href="../../liquidation/{other.lower()}/index.html"' in page
        assert "How to read these maps" in page and "How to read these maps" in index
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    assert f"<loc>{URL}liquidation/btc/index.html</loc>" in sitemap


def test_no_page_loads_anything_from_another_host(week: Path) -> None:
    site = _site(week)
    for page in sorted(site.rglob("*.html")):
        for url in _refs(page).loads:
            assert not urlparse(url).netloc and not url.startswith("//"), f"{page}: loads {url}"
    for page in sorted((site / "liquidation").rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        refs = _refs(page)
        # the maps' pages link nowhere else either, and say so to the browser
        assert all(not urlparse(u).netloc or u.startswith(URL) for u in refs.links), refs.links
        assert "http-equiv=\"Content-Security-Policy\" content=\"default-src 'self';" in text
        scripts = re.findall(r'<script src="([^"]+)"', text)
        if page.parent.name != "liquidation":
            assert [Path(s).name for s in scripts] == ["vega.min.js", "vega-lite.min.js",
                                                       "vega-embed.min.js", "liqmap.js"]
    # our own script builds its specs without any URL (not even Vega-Lite's $schema)
    assert "http" not in (site / "assets" / "liqmap.js").read_text(encoding="utf-8")


def test_without_javascript_the_page_shows_the_static_chart(week: Path) -> None:
    site = _site(week)
    page = site / "liquidation" / "btc" / "index.html"
    html = page.read_text(encoding="utf-8")
    figure = html.split('data-liqmap="map"', 1)[1].split("</figure>", 1)[0]
    image = re.search(r'<img src="([^"]+)"', figure)
    assert image, figure
    assert image.group(1) == f"../../{LAST:%Y/%m/%d}/charts/liqmap_btc.svg"
    assert (page.parent / image.group(1)).resolve().is_file()


def test_the_data_is_the_map_result_collect_stored(week: Path) -> None:
    """The day's JSON (render) and the page's JSON (publish) carry the stored map's buckets,
    tiers and totals exactly; the heat rows keep the stored heatmap's notional."""
    site = _site(week)
    for symbol, result in _maps(week, LAST).items():
        day = DayMap.model_validate_json(
            (week / "reports" / LAST.isoformat() / map_file(symbol)).read_bytes())
        page = SymbolPage.model_validate_json(
            (site / "liquidation" / symbol.lower() / "map.json").read_bytes())
        assert page.latest == day.model_copy(update={"heat": None})
        assert day.symbol == symbol and day.day == LAST and day.sample
        assert day.as_of == result.as_of
        stored = [s for s in (result.cex, result.hyperliquid) if s is not None]
        assert [layer.key for layer in day.layers] == ["cex", "hyperliquid"][:len(stored)]
        for layer, summary in zip(day.layers, stored, strict=True):
            assert layer.tiers == summary.tiers
            assert layer.mark_price == summary.mark_price == day.mark_price
            assert layer.total_long_usd == summary.total_long_usd
            assert layer.total_short_usd == summary.total_short_usd
            assert layer.beyond_range_long_usd == summary.beyond_range_long_usd
            assert layer.no_liquidation_price_usd == summary.no_liquidation_price_usd
            mine = {(b.price_low, b.price_high): (b.long_by_tier, b.short_by_tier)
                    for b in layer.buckets}
            theirs = {(b.price_low, b.price_high): (b.long_by_tier, b.short_by_tier)
                      for b in summary.buckets}
            assert mine == theirs
            assert math.isclose(sum(b.long_usd for b in layer.buckets), summary.total_long_usd)
        assert day.heat is not None and result.heatmap is not None
        heat, h = day.heat, result.heatmap
        since = day.as_of.timestamp() - 24 * 3600
        rows = [i for i, t in enumerate(h.times) if since < t.timestamp() <= day.as_of.timestamp()]
        assert heat.times == [h.times[i] for i in rows] and len(rows) >= 20
        for row, i in zip(heat.usd, rows, strict=True):
            inside = sum(v for j, v in enumerate(h.values[i]) if day.range_low <= h.price_low0
                         + (j + 0.5) * h.bucket_size < day.range_high)
            assert abs(sum(row) - inside) <= len(row)  # whole dollars per bucket
        # the page's heatmap: every day the site has, newest last, on one grid
        assert page.heat is not None
        assert page.heat_days == [d.isoformat() for d in DAYS]
        assert len(page.heat.times) <= HEAT_COLUMNS and page.heat.times[-1] == heat.times[-1]
        assert page.heat.times == sorted(page.heat.times)


def test_the_vendored_scripts_are_the_pinned_npm_builds() -> None:
    vendor = templates_dir() / "vendor"
    record = json.loads((vendor / "VENDOR.json").read_text(encoding="utf-8"))
    assert set(record) == {"vega", "vega-lite", "vega-embed"}
    for name, item in record.items():
        data = (vendor / item["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == item["sha256"], name
        assert item["version"].encode() in data, name  # the build names its own version
        assert (vendor / f"{name}.LICENSE.txt").read_text(encoding="utf-8").startswith("Copyright")


def test_a_broken_map_file_is_left_out_with_a_warning(week: Path) -> None:
    broken = week / "reports" / LAST.isoformat() / map_file("ETH")
    broken.write_text('{"version": 1, "symbol": "ETH"', encoding="utf-8")
    result = build_site(config_from_mapping({"output": str(week)}))
    assert any("liquidation pages: left out" in w and "liqmap_eth.json" in w for w in result.warnings)
    page = week / "site" / "liquidation" / "eth" / "index.html"
    assert page.is_file()  # from the days before, whose files are whole
    data = SymbolPage.model_validate_json((page.parent / "map.json").read_bytes())
    assert data.latest.day < LAST


def test_a_site_without_map_data_has_no_map_pages_and_no_link(week: Path) -> None:
    for folder in (week / "reports").iterdir():
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        manifest["files"] = [f for f in manifest["files"] if not f.endswith(".json")]
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    site = _site(week)
    assert not (site / "liquidation").exists()
    assert "Liquidation maps" not in (site / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_the_pages_are_rebuilt_with_each_new_day(week: Path, symbol: str) -> None:
    last = week / "reports" / LAST.isoformat()
    aside = week / "later"
    last.rename(aside)
    site = _site(week)
    before = SymbolPage.model_validate_json(
        (site / "liquidation" / symbol.lower() / "map.json").read_bytes())
    aside.rename(last)
    site = _site(week)
    after = SymbolPage.model_validate_json(
        (site / "liquidation" / symbol.lower() / "map.json").read_bytes())
    assert before.latest.day == DAYS[-2] and after.latest.day == LAST
    assert len(after.heat_days) == len(before.heat_days) + 1


def test_rebin_shares_a_bucket_by_overlap_and_keeps_the_total() -> None:
    # ETH's sample days switch from $10 to $25 buckets: the heatmap puts them on one grid
    row = [10.0, 20.0, 30.0, 0.0, 40.0, 8.0]          # $10 buckets from $2,000
    out = rebin(row, 2000.0, 10.0, 2000.0, 25.0, 3)    # $25 buckets from $2,000
    assert out == pytest.approx([10 + 20 + 30 / 2, 30 / 2 + 0 + 40, 8])
    assert sum(out) == pytest.approx(sum(row))
    # outside the new grid: left out, not piled on an edge
    assert rebin([5.0, 5.0], 1980.0, 10.0, 2000.0, 25.0, 2) == [0.0, 0.0]


def test_rebin_on_the_same_grid_shifts_every_bucket_whole() -> None:
    # most days use the latest day's bucket size: each bucket lands whole in one new bucket
    row = [1.0, 2.0, 0.0, 4.0]                          # $10 buckets from $1,990
    assert rebin(row, 1990.0, 10.0, 2000.0, 10.0, 4) == [2.0, 0.0, 4.0, 0.0]
    assert rebin(row, 2010.0, 10.0, 2000.0, 10.0, 4) == [0.0, 1.0, 2.0, 0.0]
    # the same as sharing by overlap, which a grid off by part of a bucket still needs
    assert rebin(row, 1990.0, 10.0, 1995.0, 10.0, 4) == pytest.approx([1.5, 1.0, 2.0, 2.0])


@pytest.mark.parametrize(("low", "size", "new_low", "new_size", "n"), [
    (2000.0, 10.0, 2000.0, 10.0, 30),   # the same grid
    (1950.0, 10.0, 2000.0, 10.0, 30),   # shifted down: the first buckets fall off
    (2100.0, 10.0, 2000.0, 10.0, 30),   # shifted up: the last ones fall off
    (5000.0, 10.0, 2000.0, 10.0, 30),   # nothing lands in the grid
    (2000.0, 10.0, 1995.0, 25.0, 14),   # another bucket size: shared by overlap
    (1993.0, 10.0, 2000.0, 10.0, 30),   # off by part of a bucket
])
def test_rows_rebinned_at_once_are_each_row_rebinned(low: float, size: float, new_low: float,
                                                     new_size: float, n: int) -> None:
    rng = random.Random(7)
    rows = [[float(rng.choice([0, rng.randrange(1, 10**9)])) for _ in range(25)] for _ in range(6)]
    together = rebin_rows(rows, low, size, new_low, new_size, n)
    assert together.shape == (6, n)
    for row, out in zip(rows, together.tolist(), strict=True):
        assert out == pytest.approx(rebin(row, low, size, new_low, new_size, n), rel=1e-12)


@dataclass
class _Day:
    """A day as the pages see it (reportgen.publish.liqpages.DayEntry)."""

    day: date
    source: Path = Path("/nonexistent")
    charts: list[str] = field(default_factory=list)
    scored: bool = False
    sample: bool = True
    map_scores: list[MapScoreRecord] = field(default_factory=list)

    @property
    def dir(self) -> str:
        return f"{self.day:%Y/%m/%d}/"

    @property
    def path(self) -> str:
        return f"{self.dir}index.html"


def _day_map(day: date, mark: float) -> DayMap:
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
    times = [end - timedelta(hours=h) for h in range(23, -1, -1)]
    layer = MapLayer(key="cex", kind="estimated", title="CEX estimate", venues=["Binance"],
                     mark_price=mark, tiers=["5x"], total_long_usd=0, total_short_usd=0, buckets=[])
    return DayMap(symbol="BTC", day=day, as_of=end, sample=True, bucket_size=100.0, mark_price=mark,
                  range_low=mark * 0.7, range_high=mark * 1.3, layers=[layer],
                  heat=MapHeat(times=times, price_low=9000.0, bucket_size=100.0,
                               usd=[[1000] * 20 for _ in times], mark=[mark] * 24))


def test_a_long_history_is_thinned_to_the_newest_columns_on_one_grid() -> None:
    first = date(2025, 5, 1)
    days = [first + timedelta(days=i) for i in range(40)]
    maps = SymbolMaps("BTC", [(_Day(d), _day_map(d, 10_000.0 + 10 * i)) for i, d in enumerate(days)])
    heat, used = combined_heat(maps)
    assert used == [d.isoformat() for d in days[-HEAT_DAYS:]]  # at most the last 30 days
    assert heat is not None and len(heat.times) <= HEAT_COLUMNS
    newest = maps.days[-1][1].heat
    assert newest is not None and heat.times[-1] == newest.times[-1]  # the newest always kept
    assert heat.times == sorted(heat.times)
    assert heat.times[0].date() >= days[-HEAT_DAYS]
    # one grid from below the lowest mark to above the highest (± HEAT_RANGE), every row whole
    assert heat.price_low <= 10_100 * (1 - HEAT_RANGE) and len({len(r) for r in heat.usd}) == 1
    assert all(sum(row) == 20 * 1000 for row in heat.usd)  # every bucket inside the grid


def test_a_midnight_cut_off_reads_as_the_close_of_the_day_before() -> None:
    assert as_of(datetime(2025, 6, 12, tzinfo=UTC)) == "2025-06-11 close (UTC)"
    assert as_of(datetime(2025, 6, 11, 14, 5, tzinfo=UTC)) == "2025-06-11 14:05 UTC"


def test_the_maps_page_tables_the_recent_scores(week: Path) -> None:
    """Every brief's manifest carries yesterday's map scores; the maps page lists them, the
    newest first, each linked to the brief that scored it."""
    site = _site(week)
    html = (site / "liquidation" / "index.html").read_text(encoding="utf-8")
    table = html.split('class="liq-score-table"')[1].split("</table>")[0]
    rows = re.findall(r'<tr><td><a href="\.\./(\d{4}/\d{2}/\d{2})/index\.html">(\d{4}-\d{2}-\d{2})</a>'
                      r'.*?</td><td>(\w+)</td><td>([\d.]+×|—)</td>.*?<td>([\d.]+|—)</td><td>([\d,]+)</td></tr>',
                      table)
    manifests = [json.loads((week / "reports" / d.isoformat() / "manifest.json").read_text())
                 for d in DAYS]
    expected = [(m["day"], s) for m in reversed(manifests) for s in m["map_scores"]]
    assert expected and len(rows) == len(expected)  # the sample week: six days scored
    for (page, map_day, symbol, lift, p, events), (day, score) in zip(rows, expected, strict=True):
        assert page == day.replace("-", "/") and map_day == score["map_day"]
        assert symbol == score["symbol"] and int(events.replace(",", "")) == score["events"]
        assert lift == f"{score['lift']:.2f}×" and p == f"{score['p_value']:.3f}"
