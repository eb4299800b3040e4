"""The Liquidation Map pages in headless Chromium (driven over the DevTools protocol, see
cdp.py), served over http://127.0.0.1: hovering a bucket shows its notional by venue and
leverage tier, read back from the tooltip and checked against the page's data; no sideways
scroll at 390 px, light or dark; without JavaScript the static chart shows; no request
leaves the site. Screenshots go to output/screenshots/ for a human to look at."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reportgen.config import config_from_mapping
from reportgen.mapdata import MapLayer
from reportgen.publish import build_site
from reportgen.publish.liqpages import SymbolPage
from tests.publish.cdp import CHROMIUM, Browser
from tests.publish.conftest import LAST, day_path
from tests.publish.test_browser import SCREENSHOTS, Recorder

PAGE = "liquidation/btc/index.html"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make chromium: "
                                               "apt-get install chromium)"),
]

# Where a bucket of the map is on screen: the canvas, Vega's padding and origin, the panel's
# group and the shared x scale (scale and mark names are Vega-Lite's for a vconcat).
BUCKET_AT = """((price, panel) => {
  const view = window.liqmap.views.map;
  const canvas = document.querySelector('[data-liqmap="map"] canvas').getBoundingClientRect();
  const group = view.scenegraph().root.items[0].items
    .find((m) => m.name === 'concat_' + panel + '_group').items[0];
  const [ox, oy] = view.origin();
  const pad = view.padding();
  return [canvas.left + pad.left + ox + group.x + view.scale('x')(price),
          canvas.top + pad.top + oy + group.y + group.height / 2];
})"""
TOOLTIP = """(() => { const t = document.getElementById('vg-tooltip-element');
  if (!t || !t.classList.contains('visible')) return null;
  return Array.from(t.querySelectorAll('tr')).map((r) =>
    [r.querySelector('.key').textContent, r.querySelector('.value').textContent]); })()"""


def _wheel_zoom(browser: Browser, price: float, panel: int, domain: list[float]) -> list[float]:
    """Turn the wheel over `price` in `panel` (0: the estimate, 1: Hyperliquid) and return the
    shared price axis once it is narrower than `domain`."""
    x, y = browser.evaluate(f"{BUCKET_AT}({price}, {panel})")
    browser.hover(x, y)
    browser.call("Input.dispatchMouseEvent", {"type": "mouseWheel", "x": x, "y": y,
                                              "deltaX": 0, "deltaY": -400})
    narrower: list[float] = browser.wait_for(
        "window.liqmap.views.map.runAsync().then((v) => { const d = v.scale('x').domain();"
        f" return d[1] - d[0] < {domain[1] - domain[0]} ? d : null; }})")
    return narrower


@pytest.fixture
def served(week: Path) -> Iterator[tuple[str, Path, list[tuple[str, int]]]]:
    build_site(config_from_mapping({"output": str(week)}))
    requests: list[tuple[str, int]] = []
    handler = type("H", (Recorder,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(week / "site")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", week / "site", requests
    finally:
        server.shutdown()
        server.server_close()


def _usd(text: str) -> float:
    """'$45.9 M' → 45.9e6 (the page's own format)."""
    found = re.fullmatch(r"\$(-?[\d.]+)(?: ([KMB]))?", text.strip())
    assert found, text
    return float(found.group(1)) * {"K": 1e3, "M": 1e6, "B": 1e9, None: 1.0}[found.group(2)]


def _close(shown: str, value: float) -> bool:
    """`shown` is `value` as the page rounds it (one or two decimals of its unit)."""
    return abs(_usd(shown) - value) <= max(0.051 * (1e9 if value >= 1e9 else 1e6 if value >= 1e6
                                                     else 1e3 if value >= 1e3 else 1), 0.5)


def _hover_bucket(browser: Browser, layer: MapLayer, panel: int) -> tuple[Any, dict[str, str]]:
    """Hover the layer's largest bucket; returns it and the tooltip's rows once the tooltip
    shows that bucket (the one of an earlier hover may still be up)."""
    bucket = max(layer.buckets, key=lambda b: b.long_usd + b.short_usd)
    x, y = browser.evaluate(f"{BUCKET_AT}({(bucket.price_low + bucket.price_high) / 2}, {panel})")
    # Two moves, as a real pointer makes: after one jump from an item of the other panel,
    # Vega's "out" of the old item can follow the "over" of the new one and hide the tooltip.
    browser.hover(x, y - 3)
    browser.hover(x, y)
    price = f"${bucket.price_low:,.0f} – ${bucket.price_high:,.0f}"
    rows = browser.wait_for(f"(() => {{ const r = {TOOLTIP}; "
                            f"return r && r[0][1] === {price!r} ? r : null; }})()", timeout=10)
    return bucket, dict(rows)


def test_hovering_a_bucket_shows_its_notional_by_venue_and_tier(
        served: tuple[str, Path, list[tuple[str, int]]], tmp_path: Path) -> None:
    base, site, requests = served
    data = SymbolPage.model_validate_json((site / "liquidation/btc/map.json").read_bytes())
    cex, hyperliquid = data.latest.layers
    with Browser(tmp_path / "profile") as browser:
        browser.viewport(1100, 1000)
        browser.goto(base + PAGE)
        browser.wait_for("document.querySelectorAll('.liq-live').length === 2")
        for panel, layer, name in ((0, cex, "CEX estimate"), (1, hyperliquid, "Hyperliquid")):
            bucket, tip = _hover_bucket(browser, layer, panel)
            assert tip["Price"] == f"${bucket.price_low:,.0f} – ${bucket.price_high:,.0f}"
            assert _close(tip[f"{name} (all)"], bucket.long_usd + bucket.short_usd), tip
            for tier, long_, short in zip(layer.tiers, bucket.long_by_tier, bucket.short_by_tier,
                                          strict=True):
                shown = tip[f"{name} {tier}"]
                if long_ > 0 and short > 0:
                    assert " long · " in shown
                else:
                    assert _close(shown, long_ + short), (tier, shown)
            # the other venue's figure for the same bucket is there too
            other = hyperliquid if layer is cex else cex
            same = next((b for b in other.buckets if b.price_low == bucket.price_low), None)
            other_name = "Hyperliquid" if layer is cex else "CEX estimate"
            assert _close(tip[f"{other_name} (all)"],
                          same.long_usd + same.short_usd if same else 0.0), tip
            side = "longs" if bucket.price_high <= data.latest.mark_price else "shorts"
            assert tip["Side"].startswith(side)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.screenshot(SCREENSHOTS / "liquidation-btc-hover.png", full_page=False)
        # zoom: the wheel narrows the shared price axis of both panels
        before = browser.evaluate("window.liqmap.views.map.scale('x').domain()")
        # (the tooltip lets the wheel through: it must never sit between pointer and chart)
        after = _wheel_zoom(browser, data.latest.mark_price, 0, before)
        assert before[0] < after[0] < data.latest.mark_price < after[1] < before[1]
        # …from the lower panel too: one zoom for the shared axis
        closer = _wheel_zoom(browser, data.latest.mark_price, 1, after)
        assert after[0] < closer[0] < closer[1] < after[1]
        # the heatmap: a cell at the newest time, at the mark, tells its hour, price, notional
        browser.wait_for("!!window.liqmap.views.heat")
        x, y = browser.evaluate("""(() => { const v = window.liqmap.views.heat;
          const c = document.querySelector('[data-liqmap="heat"] canvas').getBoundingClientRect();
          const [ox, oy] = v.origin(), pad = v.padding();
          const t = Date.parse(window.liqmap.data.heat.times.at(-1)) - 1800e3;
          const p = window.liqmap.data.heat.mark.at(-1) * 1.03;
          return [c.left + pad.left + ox + v.scale('x')(t), c.top + pad.top + oy + v.scale('y')(p)];
        })()""")
        browser.evaluate(f"window.scrollTo(0, {y} - 300)")
        scrolled = browser.evaluate("window.scrollY")
        browser.hover(x, y - scrolled - 2)
        browser.hover(x, y - scrolled)
        cell = dict(browser.wait_for(f"(() => {{ const r = {TOOLTIP}; "
                                     "return r && r[0][0] === 'Time (UTC)' ? r : null; })()"))
        assert set(cell) == {"Time (UTC)", "Bucket from", "Estimated notional"}, cell
        assert cell["Estimated notional"].startswith("$") and cell["Time (UTC)"].startswith(
            f"{LAST:%b} {LAST.day}"), cell
    failed = [(path, code) for path, code in requests if code >= 400]
    assert not failed, failed
    assert any(path.endswith("vega.min.js") for path, _ in requests)
    assert any(path.endswith("map.json") for path, _ in requests)


@pytest.mark.parametrize("page", [PAGE, "liquidation/index.html", day_path(LAST)])
def test_no_sideways_scroll_at_390_px_light_or_dark(
        served: tuple[str, Path, list[tuple[str, int]]], tmp_path: Path, page: str) -> None:
    base, _, requests = served
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = "site-" + page.replace("/index.html", "").replace("/", "-").replace("index.html", "index")
    with Browser(tmp_path / "profile") as browser:
        for dark in (False, True):
            browser.viewport(390, 844, mobile=True, dark=dark)
            browser.goto(base + page)
            if page == PAGE:
                browser.wait_for("document.querySelectorAll('.liq-live').length === 2")
                width = browser.evaluate("document.querySelector('[data-liqmap=map] canvas')"
                                         ".getBoundingClientRect().right")
                assert width <= 390
            sizes = browser.evaluate("[document.documentElement.scrollWidth, "
                                     "document.documentElement.clientWidth]")
            assert sizes[0] <= sizes[1] == 390, sizes
            browser.screenshot(SCREENSHOTS / f"{name}-390-{'dark' if dark else 'light'}.png")
        browser.viewport(1280, 900, dark=True)
        browser.goto(base + page)
        if page == PAGE:
            browser.wait_for("document.querySelectorAll('.liq-live').length === 2")
        browser.screenshot(SCREENSHOTS / f"{name}-1280-dark.png")
    assert not [(p, c) for p, c in requests if c >= 400]


def test_without_javascript_the_static_chart_shows(
        served: tuple[str, Path, list[tuple[str, int]]], tmp_path: Path) -> None:
    base, _, requests = served
    with Browser(tmp_path / "profile") as browser:
        browser.scripts(False)
        browser.viewport(390, 844, mobile=True)
        browser.goto(base + PAGE)
        shown = browser.wait_for("""(() => { const i = document.querySelector(
            '[data-liqmap="map"] .liq-chart img'); return i && i.complete && i.naturalWidth > 0
            && i.getBoundingClientRect().width > 300 ? i.getAttribute('src') : null; })()""")
        assert shown.endswith("charts/liqmap_btc.svg")
        assert browser.evaluate("document.querySelectorAll('canvas, .liq-live').length") == 0
        text = browser.evaluate("document.body.innerText")
        assert "heatmap is drawn in the browser: it needs JavaScript" in text
        assert "Totals on the map" in text
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.screenshot(SCREENSHOTS / "liquidation-btc-nojs-390.png")
    assert not any(path.endswith(".js") for path, _ in requests)
