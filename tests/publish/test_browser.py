"""The site as a reader sees it: headless Chromium over http://127.0.0.1, no failed requests.
Screenshots go to output/screenshots/ (in the working tree) for a human to look at."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reportgen.config import config_from_mapping
from reportgen.publish import build_site
from tests.publish.conftest import LAST, day_path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "output" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make setup installs it: "
                                               "apt-get install chromium)"),
]


class Recorder(SimpleHTTPRequestHandler):
    requests: list[tuple[str, int]]

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        self.requests.append((self.path, int(code)))

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served_site(week: Path) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    build_site(config_from_mapping({"output": str(week), "site": {"url": "https://b.example.org/"}}))
    requests: list[tuple[str, int]] = []
    handler = type("H", (Recorder,), {"requests": requests})
    # Served under a sub-path, as on a project page: page-relative links must still work.
    root = week / "www"
    (root / "briefs").parent.mkdir()
    (root / "briefs").symlink_to(week / "site")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/briefs/", requests
    finally:
        server.shutdown()
        server.server_close()


def _chromium(tmp_path: Path, *args: str) -> str:
    cmd = [CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("page", ["index.html", day_path(LAST)])
def test_pages_load_without_failed_requests(served_site: tuple[str, list[tuple[str, int]]],
                                            tmp_path: Path, page: str) -> None:
    base, requests = served_site
    dom = _chromium(tmp_path, "--dump-dom", base + page)
    assert "Daily Crypto Research Brief" in dom
    if page == "index.html":
        assert "Report history" in dom and "June 2025" in dom
    else:
        assert "All briefs" in dom and "Indicators" in dom
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"site-{'index' if page == 'index.html' else 'brief'}.png"
    _chromium(tmp_path, "--window-size=1100,2400", f"--screenshot={shot}", base + page)
    assert shot.stat().st_size > 10_000
    failed = [(path, code) for path, code in requests if code >= 400]
    assert not failed, failed
    assert any(path.endswith(".svg") or path.endswith(".css") for path, _ in requests)


# -- accessibility: axe-core in the page, light and dark ------------------------------------

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = next((p for p in (Path(os.environ.get("AXE_JS", "/nonexistent")),
                           ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js")
               if p.is_file()), None)
# Runs axe once the page has loaded and writes its violations into the DOM, which Chromium's
# --dump-dom then prints. WCAG 2 A and AA rules: colour contrast (4.5:1 for text) among them.
AXE_RUNNER = """<script src="/__axe.min.js"></script><script>
window.addEventListener("load", () => axe.run(document, {runOnly: {type: "tag",
    values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}).then((r) => {
  const out = document.createElement("pre"); out.id = "axe-result";
  out.textContent = JSON.stringify(r.violations.map((v) => ({id: v.id, impact: v.impact,
    nodes: v.nodes.length, where: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    why: v.nodes.length ? v.nodes[0].failureSummary : ""})));
  document.body.appendChild(out);
}));
</script>"""


class AxeInjector(Recorder):
    """Serves the site, with axe and its runner added to every HTML page (less the page's
    Content-Security-Policy, which would block the inline runner)."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/__axe.min.js":
            return self._send(AXE_JS.read_bytes() if AXE_JS else b"", "text/javascript")
        local = Path(self.translate_path(path))
        if local.is_dir():
            local = local / "index.html"
        if local.suffix == ".html" and local.is_file():
            page = local.read_text(encoding="utf-8").replace("</body>", AXE_RUNNER + "</body>")
            page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
            return self._send(page.encode("utf-8"), "text/html; charset=utf-8")
        return super().do_GET()

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.skipif(AXE_JS is None, reason="axe-core not installed (make axe: npm install "
                                           "axe-core into .venv/axe)")
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page", ["index.html", day_path(LAST), "liquidation/index.html",
                                  "liquidation/btc/index.html"])
def test_pages_pass_axe_in_light_and_dark_mode(week: Path, tmp_path: Path, page: str,
                                                scheme: str) -> None:
    """Issue 12: the index was near-white on white in dark mode (1.21:1, 39 elements flagged
    by axe) and the brief's links 2.13:1. Every WCAG 2 A/AA rule axe checks must pass, colour
    contrast included, in both colour schemes."""
    build_site(config_from_mapping({"output": str(week), "site": {"url": "https://b.example.org/"}}))
    handler = type("H", (AxeInjector,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(week / "site")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{page}"
        dark = ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if scheme == "dark" else []
        dom = _chromium(tmp_path, *dark, "--virtual-time-budget=20000", "--dump-dom", url)
        if dark and not page.startswith("liquidation/"):  # light ones: the test above;
            # the liquidation pages: test_liquidation_browser.py
            shot = SCREENSHOTS / f"site-{'index' if page == 'index.html' else 'brief'}-dark.png"
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            _chromium(tmp_path, *dark, "--window-size=1100,1600", f"--screenshot={shot}", url)
    finally:
        server.shutdown()
        server.server_close()
    found = re.search(r'<pre id="axe-result">(.*?)</pre>', dom, re.S)
    assert found, "axe did not report (script blocked or too slow)"
    violations = json.loads(html.unescape(found.group(1)))
    assert violations == [], json.dumps(violations, indent=1)
