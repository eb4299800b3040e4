"""The brief on a phone and in dark mode, as a reader sees it in headless Chromium (issue
21): the email no wider than a 390 or 560 px screen, light and dark; chart text >= 10 px
where it is shown; the chart look that follows the screen's width and colour scheme; and what
an inbox list shows (subject, then the preheader, with nothing of the body after it).
Screenshots go to output/screenshots/ for a human to look at."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from functools import partial
from html.parser import HTMLParser
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reportgen.config import config_from_mapping
from reportgen.liquidation.chart import PHONE_MIN_PT, PHONE_PNG_DPI, PHONE_WIDTH_IN, WIDTH_IN
from reportgen.publish import build_site
from tests.publish.cdp import CHROMIUM, Browser
from tests.publish.conftest import LAST, day_path
from tests.publish.test_browser import SCREENSHOTS, Recorder
from tests.publish.test_email import _eml, _send

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make "
                                                             "chromium: apt-get install chromium)")
# Each chart <img> on the page: its shown width, its file's width and the file it shows.
IMAGES = """Array.from(document.images).filter((i) => i.getBoundingClientRect().width > 0)
  .map((i) => [i.getBoundingClientRect().width, i.naturalWidth, i.currentSrc])"""
INVISIBLE = "\u034f\u200c\u00a0 \n\t"  # what the preheader is padded with, and white space
SNIPPET = 240  # characters: more than any list view shows (Gmail ~140, Apple Mail two lines)


def _unpacked(msg: EmailMessage, folder: Path) -> Path:
    """The message's HTML beside its images, the cid: links pointing at the files."""
    folder.mkdir(parents=True, exist_ok=True)
    html = ""
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            html = part.get_content()
        elif part.get_content_type() == "image/png":
            name = part.get_filename() or ""
            (folder / name).write_bytes(part.get_content())
            html = html.replace(f"cid:{part['Content-ID'].strip('<>')}", name)
    page = folder / "email.html"
    page.write_text(html, encoding="utf-8")
    assert "cid:" not in html
    return page


def _phone_text_px(shown: float, natural: float) -> float:
    """The smallest text of a phone-look PNG as shown: its size in the file (PHONE_MIN_PT at
    PHONE_PNG_DPI) times the shown width over the file's width."""
    return PHONE_MIN_PT / 72 * PHONE_PNG_DPI * shown / natural


@needs_chromium
@pytest.mark.browser
def test_email_fits_a_phone_and_its_charts_read_light_and_dark(output: Path, tmp_path: Path) -> None:
    """Issue 21: at 390 px the email was 417 px wide (the inlined 20 px side padding beat the
    phone's media query; figure notes could not wrap) and chart text was ~7 px."""
    assert _send(output, 9, "--dry-run").exit_code == 0
    page = _unpacked(_eml(output), tmp_path / "email")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with Browser(tmp_path / "profile") as browser:
        for width in (390, 560):
            for dark in (False, True):
                browser.viewport(width, 900, mobile=True, dark=dark)
                browser.goto(page.as_uri())
                scheme = "dark" if dark else "light"
                scroll = browser.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, f"{scroll} px wide at {width} px, {scheme}"
                shown = browser.evaluate(IMAGES)
                assert len(shown) == 4, shown  # each chart once, in the scheme's look
                for px, natural, src in shown:
                    look = "-phone-dark.png" if dark else "-phone.png"
                    assert src.endswith(look), (src, scheme)
                    assert natural == PHONE_WIDTH_IN * PHONE_PNG_DPI
                    assert _phone_text_px(px, natural) >= 10, (src, px, width)
                browser.screenshot(SCREENSHOTS / f"email-{width}-{scheme}.png")


class _BodyText(HTMLParser):
    """The text of the message's body in document order, hidden parts included: what a mail
    client takes its list view's snippet from."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_body |= tag == "body"
        self._skip += tag in ("style", "script", "head")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script", "head")

    def handle_data(self, data: str) -> None:
        if self._in_body and not self._skip:
            self.parts.append(data)


def test_inbox_list_shows_the_headline_then_the_summary_and_nothing_else(output: Path) -> None:
    """The subject carries the day's headline (<= 90 characters); the body opens with the
    hidden preheader, the summary (<= 200), padded with invisible characters so that a list
    view's snippet does not run on into the kicker or the risk warning."""
    assert _send(output, 9, "--dry-run").exit_code == 0
    msg = _eml(output)
    manifest = json.loads((output / "reports" / LAST.isoformat() / "manifest.json").read_text())
    headline = manifest["lead"]
    assert 0 < len(headline) <= 90
    assert msg["Subject"] == f"[SAMPLE] Crypto brief {LAST.isoformat()}: {headline}"
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()
    body = html.split("<body", 1)[1]
    assert re.match(r'[^>]*>\s*<div class="preheader" style="display:none;', body), body[:300]
    parser = _BodyText()
    parser.feed(html)
    text = "".join(parser.parts).lstrip(INVISIBLE)
    summary = re.search(r'<div class="preheader"[^>]*>([^<&\u034f\u200c]*)', html)
    assert summary
    preheader = summary.group(1)
    assert 60 <= len(preheader) <= 200 and preheader.rstrip() == preheader
    assert text.startswith(preheader)
    # The longest snippet a list view shows: the summary, then only invisible fillers.
    snippet = text[:SNIPPET]
    assert snippet[len(preheader):].strip(INVISIBLE) == "", snippet
    assert "Daily crypto research brief" in text[len(preheader):]  # the body does come after


@pytest.fixture
def served_week(week: Path) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """The week's output folder over http://127.0.0.1 (the site under site/, each report's
    own files under reports/), with every request recorded."""
    build_site(config_from_mapping({"output": str(week)}))
    requests: list[tuple[str, int]] = []
    handler = type("H", (Recorder,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(week)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", requests
    finally:
        server.shutdown()
        server.server_close()


@needs_chromium
@pytest.mark.browser
def test_brief_and_site_page_pick_the_chart_look_for_the_screen(
        served_week: tuple[str, list[tuple[str, int]]], tmp_path: Path) -> None:
    """On a 390 px screen in dark mode, the HTML brief and the site's day page show each chart
    in its phone dark look, its text >= 10 px, and do not scroll sideways; a wide dark screen
    gets the page-width dark look, a light phone the phone's light one."""
    base, requests = served_week
    pages = {"brief": f"reports/{LAST.isoformat()}/brief.html", "site-day": f"site/{day_path(LAST)}"}
    looks: dict[tuple[int, bool], str] = {(390, True): "-phone-dark.png", (390, False): "-phone.png",
                                          (1100, True): "-dark.svg"}
    with Browser(tmp_path / "profile") as browser:
        for name, path in pages.items():
            for (width, dark), look in looks.items():
                browser.viewport(width, 900, mobile=width < 600, dark=dark)
                browser.goto(base + path)
                scroll = browser.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, f"{name}: {scroll} px wide at {width} px"
                shown: list[list[Any]] = browser.evaluate(IMAGES)
                charts = [row for row in shown if "/charts/" in row[2]]
                assert len(charts) == 4, shown
                for px, _natural, src in charts:
                    assert src.endswith(look) and ("-phone" in src) == ("-phone" in look), (src, look)
                    figure_in = PHONE_WIDTH_IN if "-phone" in src else WIDTH_IN
                    smallest = PHONE_MIN_PT if "-phone" in src else 8
                    if width == 390:  # a point is 1/72 in of the figure, shown px wide
                        assert smallest * px / figure_in / 72 >= 10, (name, src, px)
                if width == 390 and dark:
                    browser.screenshot(SCREENSHOTS / f"{name}-390-dark.png")
    # every look the <picture>s name exists (the standalone brief has no favicon: the
    # browser's own guess at one is not the page's request)
    failed = [(path, code) for path, code in requests if code >= 400 and path != "/favicon.ico"]
    assert not failed, failed
