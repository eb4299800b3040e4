"""The Liquidation Map pages as a reader gets them: bytes and time to first paint.

Renders the seven sample days, builds the site, serves it on 127.0.0.1 and opens
liquidation/btc/index.html in headless Chromium (DevTools over a pipe, tests/publish/cdp.py).
Prints (nothing is asserted; the figures vary with the machine):

1. the bytes a first visit loads: the page's HTML, its JSON, the scripts (Vega, Vega-Lite,
   vega-embed, the page's own) and CSS, raw and gzipped (what a server sending
   Content-Encoding: gzip puts on the wire);
2. first paint and first contentful paint (Chromium's performance API), when the JSON had
   arrived and when each interactive chart was drawn (the page's `liqmap-data` and
   `liqmap-drawn-*` marks), at 390 px and at desktop width, unthrottled and with a mid-range
   phone's CPU (4x slower) on a "fast 3G" link (150 ms, 1.6 Mbit/s down; the loopback
   server does not gzip, so these bytes are raw).
   Medians of --repeat loads, each with an empty cache.

Run: .venv/bin/python bench/bench_liqpages.py [--repeat N]   (needs Debian's chromium)
"""

from __future__ import annotations

import argparse
import gzip
import platform
import statistics
import sys
import tempfile
import threading
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reportgen import sample  # noqa: E402
from reportgen.config import config_from_mapping  # noqa: E402
from reportgen.pipeline import run  # noqa: E402
from reportgen.publish import build_site  # noqa: E402
from tests.publish.cdp import CHROMIUM, Browser  # noqa: E402

PAGE = "liquidation/btc/index.html"
TIMES = """(() => { const t = {};
  performance.getEntriesByType('paint').forEach((e) => { t[e.name] = e.startTime; });
  performance.getEntriesByType('mark').forEach((e) => { t[e.name] = e.startTime; });
  return t; })()"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def page_bytes(site: Path) -> list[tuple[str, int, int]]:
    """(file, bytes, gzipped bytes) of what the page loads on a first visit."""
    html = (site / PAGE).read_text(encoding="utf-8")
    names = [PAGE, "liquidation/btc/map.json", "assets/site.css",
             *(f"assets/vendor/{n}" for n in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")),
             "assets/liqmap.js"]
    out = []
    for name in names:
        if name.endswith(".js") or name.endswith(".css"):
            assert Path(name).name in html, name
        data = (site / name).read_bytes()
        out.append((name, len(data), len(gzip.compress(data, 9))))
    return out


def load(browser: Browser, url: str, *, width: int, slow: bool) -> dict[str, float]:
    browser.call("Network.enable")
    browser.call("Network.setCacheDisabled", {"cacheDisabled": True})
    browser.call("Emulation.setCPUThrottlingRate", {"rate": 4 if slow else 1})
    browser.call("Network.emulateNetworkConditions", {
        "offline": False, "latency": 150 if slow else 0,
        "downloadThroughput": 1.6e6 / 8 if slow else -1,
        "uploadThroughput": 0.75e6 / 8 if slow else -1})
    browser.viewport(width, 844 if width < 500 else 900, mobile=width < 500)
    browser.goto(url)
    browser.wait_for("document.querySelectorAll('.liq-live').length === 2", timeout=120)
    times: dict[str, float] = browser.evaluate(TIMES)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if CHROMIUM is None:
        sys.exit("chromium is not installed (make chromium)")
    with tempfile.TemporaryDirectory(prefix="bench-liqpages-") as tmp:
        output = Path(tmp) / "output"
        config = config_from_mapping({"output": str(output)})
        first, last = sample.SAMPLE_FIRST, sample.SAMPLE_LAST
        for i in range((last - first).days + 1):
            run(config, first + timedelta(days=i), sample=True, formats=["html"], send=False,
                publish=False)
        build_site(config)
        site = (output / "site").resolve()
        print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
              f"Python {platform.python_version()}; {(last - first).days + 1} sample days")
        print(f"\n{'file':36} {'bytes':>10} {'gzipped':>10}")
        rows = page_bytes(site)
        for name, raw, packed in rows:
            print(f"{name:36} {raw:>10,} {packed:>10,}")
        groups = {"HTML": [r for r in rows if r[0].endswith(".html")],
                  "JSON": [r for r in rows if r[0].endswith(".json")],
                  "JS": [r for r in rows if r[0].endswith(".js")],
                  "CSS": [r for r in rows if r[0].endswith(".css")]}
        for label, group in groups.items():
            print(f"{'  ' + label:36} {sum(r[1] for r in group):>10,} {sum(r[2] for r in group):>10,}")
        print(f"{'total':36} {sum(r[1] for r in rows):>10,} {sum(r[2] for r in rows):>10,}")

        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(site)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/{PAGE}"
        keys = ("first-paint", "first-contentful-paint", "liqmap-data", "liqmap-drawn-map",
                "liqmap-drawn-heat")
        print(f"\n{'ms, median of ' + str(args.repeat):28}" + "".join(f"{k:>24}" for k in keys))
        try:
            for slow in (False, True):
                for width in (390, 1280):
                    samples: dict[str, list[float]] = {k: [] for k in keys}
                    for n in range(args.repeat):
                        with Browser(Path(tmp) / f"profile-{slow}-{width}-{n}") as browser:
                            times = load(browser, url, width=width, slow=slow)
                        for k in keys:
                            if k in times:
                                samples[k].append(times[k])
                    label = f"{width} px, " + ("4x CPU, fast 3G" if slow else "unthrottled")
                    print(f"{label:28}" + "".join(
                        f"{statistics.median(v):>23.0f}" if v else f"{'-':>23}"
                        for v in samples.values()))
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
