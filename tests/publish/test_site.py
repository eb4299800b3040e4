"""`reportgen publish`: the static site over the seven sample days."""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlparse
from xml.etree import ElementTree as ET

import feedparser
import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.config import config_from_mapping
from reportgen.errors import DeliveryError
from reportgen.publish import build_site
from tests.publish.conftest import DAYS, LAST, day_path

URL = "https://briefs.example.org/daily/"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and ((tag in ("a", "link") and name == "href") or (tag == "img" and name == "src")):
                self.urls.append(value)


def _publish(output: Path) -> None:
    result = CliRunner().invoke(app, ["-o", str(output), "publish"], env={"REPORTGEN_SITE_URL": URL})
    assert result.exit_code == 0, result.output


def test_every_link_and_image_resolves_inside_the_site(week: Path) -> None:
    _publish(week)
    site = week / "site"
    assert site.is_symlink()
    pages = sorted(site.rglob("*.html"))
    assert {p.relative_to(site).as_posix() for p in pages} == {
        "index.html", "2025/06/index.html", *map(day_path, DAYS),
        *(f"liquidation/{p}index.html" for p in ("", "btc/", "eth/"))}
    for name in ("favicon.svg", ".nojekyll", "assets/print.css", "feed.xml", "sitemap.xml"):
        assert (site / name).is_file(), name
    checked = 0
    for page in pages:
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for url in parser.urls:
            if urlparse(url).scheme in ("http", "https", "mailto"):
                continue
            target, _ = urldefrag(url)
            if not target:
                continue
            assert not target.startswith("/"), f"{page}: root-relative link {url}"
            resolved = (page.parent / target).resolve()
            assert resolved.is_file(), f"{page.relative_to(site)}: broken link {url}"
            assert site.resolve() in resolved.parents, f"{page}: {url} leaves the site"
            if resolved.suffix == ".html":
                assert target.endswith("index.html"), f"{page}: link without index.html: {url}"
            checked += 1
    assert checked > 50
    brief = (site / day_path(LAST)).read_text(encoding="utf-8")
    assert f'<link rel="canonical" href="{URL}{day_path(LAST)}">' in brief
    assert 'property="og:title"' in brief and 'name="twitter:card"' in brief
    # "the day in brief" is the page's OpenGraph description and the feed's summary
    lede = "US spot ETH ETFs took in US$240.3 M, their largest daily inflow since 2025-02-04"
    assert re.search(r'property="og:description" content="' + re.escape(lede), brief)
    # the headline is the og:title (the page's <title> stays the brief's title and date)
    assert f'property="og:title" content="{lede} (sample data)"' in brief
    feed = (site / "feed.xml").read_text(encoding="utf-8")
    assert f"<summary>{lede}" in feed and "Total market cap" not in feed
    assert 'href="../../../index.html#archive">Report history</a>' in brief
    assert 'rel="prev"' in brief and 'rel="next"' not in brief


def test_feed_and_sitemap(week: Path) -> None:
    _publish(week)
    site = week / "site"
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert len(feed.entries) == 7
    assert [e.link for e in feed.entries] == [f"{URL}{day_path(d)}" for d in reversed(DAYS)]
    ids = [e.id for e in feed.entries]
    assert len(set(ids)) == 7 and all(i.startswith("urn:uuid:") for i in ids)
    # Ids stay the same across rebuilds
    _publish(week)
    assert [e.id for e in feedparser.parse((site / "feed.xml").read_bytes()).entries] == ids

    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = {loc.text for loc in ET.parse(site / "sitemap.xml").getroot().findall("s:url/s:loc", ns)}
    pages = {f"{URL}{p.relative_to(site).as_posix()}" for p in site.rglob("*.html")}
    assert locs == pages


def test_without_site_url_the_absolute_urls_are_left_out(week: Path) -> None:
    result = CliRunner().invoke(app, ["-o", str(week), "publish"])
    assert result.exit_code == 0
    assert "site.url is not set" in result.output
    site = week / "site"
    assert not (site / "feed.xml").exists() and not (site / "sitemap.xml").exists()
    assert "canonical" not in (site / day_path(LAST)).read_text(encoding="utf-8")


def test_incremental_build_rewrites_only_what_changed(week: Path) -> None:
    config = config_from_mapping({"output": str(week), "site": {"url": URL}})
    aside = week / "later"
    shutil.move(week / "reports" / LAST.isoformat(), aside)
    first = build_site(config)
    assert LAST not in first.days
    shutil.move(aside, week / "reports" / LAST.isoformat())
    old_page = week / "site" / day_path(DAYS[0])
    inode = old_page.stat().st_ino
    second = build_site(config)
    assert day_path(LAST) in second.written
    assert day_path(DAYS[-2]) in second.written  # its "next" link changed
    assert {"index.html", "feed.xml", "sitemap.xml"} <= set(second.written)
    assert day_path(DAYS[0]) in second.reused
    assert (week / "site" / day_path(DAYS[0])).stat().st_ino == inode  # hard-linked, not rewritten
    assert (week / "site").resolve() == second.build_dir.resolve()


def test_failed_build_leaves_the_previous_site(week: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen.publish import site as site_module

    config = config_from_mapping({"output": str(week), "site": {"url": URL}})
    good = build_site(config)
    (week / "reports" / DAYS[0].isoformat() / "brief.md").write_text("changed", encoding="utf-8")

    def broken(*args: object, **kwargs: object) -> str:
        raise DeliveryError("template exploded")

    monkeypatch.setattr(site_module, "brief_page", broken)
    with pytest.raises(DeliveryError):
        build_site(config)
    assert (week / "site").resolve() == good.build_dir.resolve()
    assert (week / "site" / "index.html").is_file()
    builds = [p for p in week.glob(".site-*") if p.is_dir() and not p.is_symlink()]
    assert builds == [good.build_dir]
    assert not [p for p in week.iterdir() if p.name.startswith(".site-link")]
    assert os.access(week / "site" / "index.html", os.R_OK)


def test_pages_come_from_the_manifest_not_from_the_rendered_html(week: Path) -> None:
    # Publish reads reports/D/manifest.json and the body-only page render wrote: with the
    # standalone brief.html gone and brief.md unreadable as a table, the site is unchanged.
    config = config_from_mapping({"output": str(week), "site": {"url": URL}})
    build_site(config)
    site = week / "site"
    before = (site / "index.html").read_text(encoding="utf-8")
    page_before = (site / day_path(LAST)).read_text(encoding="utf-8")
    folder = week / "reports" / LAST.isoformat()
    (folder / "brief.html").unlink()
    md = folder / "brief.md"
    md.write_text(md.read_text(encoding="utf-8").replace("| Total market cap", "| Market cap"),
                  encoding="utf-8")
    build_site(config)
    assert (site / "index.html").read_text(encoding="utf-8") == before
    assert "US spot ETH ETFs took in US$240.3 M" in before  # the manifest's summary
    page = (site / day_path(LAST)).read_text(encoding="utf-8")
    assert page == page_before
    assert page.count("<html") == 1 and page.count("<body") == 1 and page.count("</main>") == 1
    assert page.index('class="site-nav"') < page.index('<main class="brief">') < page.index(
        'class="site-nav site-foot"')
    assert "<title>Daily Crypto Research Brief — 2025-06-11 (sample data)</title>" in page


def test_a_day_without_a_manifest_is_skipped_with_the_command_to_fix_it(week: Path) -> None:
    (week / "reports" / DAYS[0].isoformat() / "manifest.json").unlink()  # an older render
    config = config_from_mapping({"output": str(week)})
    result = build_site(config)
    assert DAYS[0] not in result.days and DAYS[1] in result.days
    assert any(f"reportgen render --date {DAYS[0]}" in w for w in result.warnings), result.warnings
    (week / "reports" / DAYS[1].isoformat() / "manifest.json").write_text("{}", encoding="utf-8")
    result = build_site(config)
    assert DAYS[1] not in result.days
    assert any("is not a manifest reportgen wrote" in w for w in result.warnings), result.warnings
    first = (week / "site" / day_path(DAYS[2])).read_text(encoding="utf-8")
    assert 'rel="prev"' not in first  # navigation follows the days on the site
