"""The site as a reader sees it: headless Chromium over http://127.0.0.1, no failed requests.
Screenshots go to output/screenshots/ (in the working tree) for a human to look at."""

from __future__ import annotations

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
