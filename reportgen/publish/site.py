"""The static site: every rendered brief under output/site, built atomically and
incrementally.

    output/site -> .site-<random>/     a symlink, swapped with os.replace
        index.html                     latest brief + report history by month
        YYYY/MM/DD/index.html          one permalink page per date (the brief + site nav)
        YYYY/MM/DD/brief.pdf|.md       beside it, with charts/ when the report has them
        feed.xml  sitemap.xml          only with site.url (absolute URLs need it)
        favicon.svg  assets/  .nojekyll  .manifest.json

Atomic: the build happens in a sibling temporary folder; only a complete build is swapped
in, so readers never see half a site and a failed build leaves the previous one in place.
Incremental: a day's files are keyed by a hash of its report files, its neighbours and the
site templates; an unchanged day is hard-linked from the previous build instead of redone.
Links between pages are page-relative and name index.html (works from file:// and any
sub-path); feed, sitemap, canonical and OpenGraph URLs are absolute, from site.url.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from itertools import groupby
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from reportgen.config import Config
from reportgen.errors import DeliveryError
from reportgen.render.environment import environment, templates_dir
from reportgen.writer import OutputWriter

log = logging.getLogger(__name__)

SITE_VERSION = "1"  # bump to force every page to be rebuilt after a format change
MANIFEST = ".manifest.json"
ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
DAY_ROOT = "../../../"  # from YYYY/MM/DD/index.html back to the site root
_HISTORY_TEXT = re.compile(r"Report history: all past briefs are kept in the archive[^<]*\.")


@dataclass
class SiteResult:
    """What a build did: the live folder, the days in it, files redone vs reused."""

    path: Path
    build_dir: Path
    days: list[date]
    written: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_record(self) -> dict[str, Any]:
        """JSON-able outcome, for the run record (archive `runs.channels`)."""
        return {"ok": True, "summary": self.summary(), "warnings": self.warnings,
                "days": len(self.days), "written": len(self.written), "reused": len(self.reused)}

    def summary(self) -> str:
        return (f"site {self.path}: {len(self.days)} briefs, {len(self.written)} files written, "
                f"{len(self.reused)} reused, {self.seconds:.2f}s")


@dataclass
class DayEntry:
    """One brief as the site sees it (read from reports/D/)."""

    day: date
    source: Path
    title: str
    description: str
    headline: str | None
    sample: bool
    pdf: bool
    md: bool
    charts: list[str]

    @property
    def dir(self) -> str:
        return f"{self.day:%Y/%m/%d}/"

    @property
    def path(self) -> str:
        return f"{self.dir}index.html"

    @property
    def image(self) -> str | None:
        """The first chart PNG (site-relative), used for previews and og:image."""
        # The estimated liquidation map says the most at a glance: prefer it.
        pngs = sorted((c for c in self.charts if c.endswith(".png")),
                      key=lambda c: (not c.startswith("liqmap"), "hyperliquid" in c, c))
        return f"{self.dir}charts/{pngs[0]}" if pngs else None

    @property
    def image_alt(self) -> str:
        return f"Chart from the brief of {self.day.isoformat()}"


# -- reading the reports ---------------------------------------------------------------------

_HEADLINE_ROW = re.compile(r"^\|\s*Total market cap[^|]*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|", re.M)


def headline_from_markdown(markdown: str) -> str | None:
    """"Total market cap US$3,754 B ▼ −1.70%" from the brief's Markdown table, if there."""
    match = _HEADLINE_ROW.search(markdown)
    if not match or match.group(1) == "unavailable":
        return None
    change = match.group(2).replace("\\", "")
    return f"Total market cap {match.group(1)}" + ("" if change in ("—", "") else f" {change}")


def _meta(page: str, pattern: str) -> str | None:
    match = re.search(pattern, page, re.S | re.I)
    return html.unescape(match.group(1)).strip() if match else None


def read_days(reports: Path) -> list[DayEntry]:
    """Every reports/YYYY-MM-DD/ folder holding a brief.html, oldest first."""
    entries = []
    for folder in sorted(reports.glob("????-??-??")):
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        page_path = folder / "brief.html"
        if not page_path.is_file():
            continue
        page = page_path.read_text(encoding="utf-8")
        md_path = folder / "brief.md"
        md = md_path.read_text(encoding="utf-8") if md_path.is_file() else ""
        title = _meta(page, r"<title>(.*?)</title>") or f"Crypto brief {day}"
        charts_dir = folder / "charts"
        entries.append(DayEntry(
            day=day, source=folder, title=title,
            description=_meta(page, r'<meta name="description" content="([^"]*)"') or title,
            headline=headline_from_markdown(md), sample="(sample data)" in title,
            pdf=(folder / "brief.pdf").is_file(), md=bool(md),
            charts=sorted(p.name for p in charts_dir.iterdir() if p.is_file())
            if charts_dir.is_dir() else [],
        ))
    return entries


def _day_key(entry: DayEntry, prev: DayEntry | None, nxt: DayEntry | None, config: Config,
             templates_hash: str) -> str:
    """Changes whenever anything that shapes the day's pages changes."""
    digest = hashlib.sha256()
    for part in (SITE_VERSION, templates_hash, config.site.url or "", config.site.title,
                 prev.day.isoformat() if prev else "", nxt.day.isoformat() if nxt else ""):
        digest.update(part.encode() + b"\0")
    for path in sorted(p for p in entry.source.rglob("*") if p.is_file() and not p.name.startswith(".")):
        if path.suffix == ".eml":
            continue  # dry-run emails are not part of the site
        digest.update(str(path.relative_to(entry.source)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _templates_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((templates_dir() / "site").iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


# -- page building ---------------------------------------------------------------------------


def _page_meta(config: Config, *, title: str, description: str, path: str,
               image: str | None, image_alt: str, og_type: str) -> dict[str, Any]:
    base = config.site.url
    return {
        "site_title": config.site.title, "title": title, "description": description,
        "og_type": og_type, "url": f"{base}{path}" if base else None,
        "feed_url": f"{base}feed.xml" if base else None,
        "image": f"{base}{image}" if base and image else None, "image_alt": image_alt,
    }


def brief_page(entry: DayEntry, prev: DayEntry | None, nxt: DayEntry | None, config: Config) -> str:
    """reports/D/brief.html adjusted for the site: head tags, a nav bar, and the "Report
    history" line linked to the index."""
    page = (entry.source / "brief.html").read_text(encoding="utf-8")
    env = environment()
    meta = _page_meta(config, title=entry.title, description=entry.headline or entry.description,
                      path=entry.path, image=entry.image, image_alt=f"Liquidation map, {entry.day}",
                      og_type="article")
    head = env.get_template("site/_head.html.j2").render(root=DAY_ROOT, meta=meta)
    nav = env.get_template("site/_nav.html.j2").render(
        root=DAY_ROOT, prev=prev, next=nxt, has_pdf=entry.pdf, has_md=entry.md)
    if "</head>" not in page or not re.search(r"<body[^>]*>", page):
        raise DeliveryError(f"{entry.source / 'brief.html'}: no <head>/<body> to attach the site nav to")
    page = page.replace("</head>", head + "</head>", 1)
    page = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + "\n" + nav, page, count=1)
    page = _HISTORY_TEXT.sub(f'<a href="{DAY_ROOT}index.html#archive">Report history</a>', page, count=1)
    return page


def index_page(entries: list[DayEntry], config: Config) -> str:
    newest_first = list(reversed(entries))
    months = [(f"{month:%B %Y}", list(items)) for month, items in
              groupby(newest_first, key=lambda e: e.day.replace(day=1))]
    latest = newest_first[0] if newest_first else None
    meta = _page_meta(
        config, title=config.site.title,
        description=f"{config.site.title}: daily market indicators, stablecoins, liquidation map, "
                    "ETF flows and news. Latest: " + (latest.day.isoformat() if latest else "none"),
        path="index.html", image=latest.image if latest else None,
        image_alt="Latest liquidation map", og_type="website",
    )
    return environment().get_template("site/index.html.j2").render(
        root="", meta=meta, site_title=config.site.title, latest=latest, months=months,
        feed_entries=config.site.feed_entries,
    )


def _entry_id(day: date) -> str:
    """Stable across rebuilds and site moves: derived from the date alone."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"reportgen:brief:{day.isoformat()}").urn


def _as_of(day: date) -> str:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC).isoformat()


def atom_feed(entries: list[DayEntry], config: Config) -> bytes:
    """Atom 1.0 feed of the last `site.feed_entries` briefs, newest first."""
    base = config.site.url
    assert base is not None
    recent = list(reversed(entries))[: config.site.feed_entries]
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    sub(feed, "id", base)
    sub(feed, "title", config.site.title)
    sub(feed, "updated", _as_of(recent[0].day) if recent else _as_of(date(1970, 1, 1)))
    sub(feed, "link", rel="self", type="application/atom+xml", href=f"{base}feed.xml")
    sub(feed, "link", rel="alternate", type="text/html", href=f"{base}index.html")
    sub(sub(feed, "author"), "name", config.site.title)
    for e in recent:
        entry = sub(feed, "entry")
        sub(entry, "id", _entry_id(e.day))
        sub(entry, "title", e.title)
        sub(entry, "updated", _as_of(e.day))
        sub(entry, "published", _as_of(e.day))
        sub(entry, "link", rel="alternate", type="text/html", href=f"{base}{e.path}")
        if e.pdf:
            sub(entry, "link", rel="enclosure", type="application/pdf", href=f"{base}{e.dir}brief.pdf",
                length=str((e.source / "brief.pdf").stat().st_size))
        sub(entry, "summary", e.headline or e.description)
    ET.indent(feed)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8") + b"\n"


def sitemap(entries: list[DayEntry], config: Config) -> bytes:
    base = config.site.url
    assert base is not None
    ET.register_namespace("", SITEMAP)
    urlset = ET.Element(f"{{{SITEMAP}}}urlset")
    rows = [("index.html", entries[-1].day if entries else None)]
    rows += [(e.path, e.day) for e in reversed(entries)]
    for path, day in rows:
        url = ET.SubElement(urlset, f"{{{SITEMAP}}}url")
        ET.SubElement(url, f"{{{SITEMAP}}}loc").text = f"{base}{path}"
        if day:
            ET.SubElement(url, f"{{{SITEMAP}}}lastmod").text = day.isoformat()
    ET.indent(urlset)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(urlset, encoding="utf-8") + b"\n"


# -- the build -------------------------------------------------------------------------------


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)  # builds share unchanged files; none is ever modified in place
    except OSError:
        shutil.copy2(source, target)


def _readable(root: Path) -> None:
    """mkdtemp/mkstemp make private files; a site is for a web server to read."""
    root.chmod(0o755)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            (Path(folder) / name).chmod(0o755)
        for name in files:
            (Path(folder) / name).chmod(0o644)


def _previous_build(link: Path) -> tuple[Path | None, dict[str, Any]]:
    if not link.is_symlink():
        return None, {}
    target = link.resolve()
    try:
        return target, json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return target, {}


def _swap(link: Path, build: Path) -> None:
    """Point `link` at `build` in one step (rename of a symlink over the old one)."""
    if link.exists() and not link.is_symlink():
        # A plain folder from an older layout: move it aside once (not atomic, one time only).
        link.rename(link.with_name(f".site-legacy-{int(time.time())}"))
    tmp_link = link.with_name(f".site-link-{os.getpid()}")
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(build.name, target_is_directory=True)
    os.replace(tmp_link, link)


def _remove_old_builds(output: Path, keep: set[Path]) -> None:
    # The previous build is kept: a reader may be in the middle of it.
    for folder in output.glob(".site-*"):
        if folder.is_dir() and not folder.is_symlink() and folder.resolve() not in keep:
            shutil.rmtree(folder, ignore_errors=True)


def build_site(config: Config) -> SiteResult:
    """Build output/site from every rendered report in output/reports; see the module doc."""
    started = time.perf_counter()
    output = config.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    entries = read_days(output / "reports")
    if not entries:
        raise DeliveryError(f"no rendered briefs in {output / 'reports'}: run `reportgen run` first")
    link = output / "site"
    previous, manifest = _previous_build(link)
    build = Path(tempfile.mkdtemp(prefix=".site-", dir=output))
    result = SiteResult(path=link, build_dir=build, days=[e.day for e in entries])
    if not config.site.url:
        result.warnings.append(
            "site.url is not set (config site.url or REPORTGEN_SITE_URL): feed.xml, sitemap.xml, "
            "canonical and OpenGraph URLs are left out"
        )
    try:
        _build_into(build, entries, config, previous, manifest, result)
        _readable(build)
        _swap(link, build)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    _remove_old_builds(output, keep={build.resolve(), *([previous] if previous else [])})
    result.seconds = time.perf_counter() - started
    for warning in result.warnings:
        log.warning(warning)
    log.info(result.summary())
    return result


def _build_into(build: Path, entries: list[DayEntry], config: Config, previous: Path | None,
                manifest: dict[str, Any], result: SiteResult) -> None:
    writer = OutputWriter(build)
    old_days = manifest.get("days", {}) if manifest.get("version") == SITE_VERSION else {}
    templates_hash = _templates_hash()
    days: dict[str, Any] = {}
    for i, entry in enumerate(entries):
        prev = entries[i - 1] if i > 0 else None
        nxt = entries[i + 1] if i + 1 < len(entries) else None
        key = _day_key(entry, prev, nxt, config, templates_hash)
        old = old_days.get(entry.day.isoformat())
        if previous and old and old["key"] == key and all((previous / f).is_file() for f in old["files"]):
            for name in old["files"]:
                _link_or_copy(previous / name, writer.path(name))
            result.reused.extend(old["files"])
            days[entry.day.isoformat()] = old
            continue
        files = [entry.path]
        writer.write_text(entry.path, brief_page(entry, prev, nxt, config))
        for name in ("brief.pdf", "brief.md"):
            if (entry.source / name).is_file():
                writer.write_bytes(entry.dir + name, (entry.source / name).read_bytes())
                files.append(entry.dir + name)
        for chart in entry.charts:
            writer.write_bytes(f"{entry.dir}charts/{chart}", (entry.source / "charts" / chart).read_bytes())
            files.append(f"{entry.dir}charts/{chart}")
        result.written.extend(files)
        days[entry.day.isoformat()] = {"key": key, "files": files}

    # The pages that list briefs change with every new day: always written.
    site_assets = templates_dir() / "site"
    fixed = {
        "index.html": index_page(entries, config).encode(),
        "favicon.svg": (site_assets / "favicon.svg").read_bytes(),
        "assets/site.css": (site_assets / "site.css").read_bytes(),
        "assets/print.css": (site_assets / "print.css").read_bytes(),
        ".nojekyll": b"",
    }
    if config.site.url:
        fixed["feed.xml"] = atom_feed(entries, config)
        fixed["sitemap.xml"] = sitemap(entries, config)
    for name, data in fixed.items():
        writer.write_bytes(name, data)
        result.written.append(name)
    writer.write_text(MANIFEST, json.dumps({"version": SITE_VERSION, "days": days}, indent=1))


# -- preview -------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


def make_server(folder: Path, port: int = 8000, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """An HTTP server for `folder` (resolved per request, so a rebuild shows at once)."""
    if not folder.exists():
        raise DeliveryError(f"no site at {folder}: run `reportgen publish` first")
    handler = partial(_QuietHandler, directory=str(folder))
    try:
        return ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise DeliveryError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def serve(folder: Path, port: int = 8000, host: str = "127.0.0.1",
          on_ready: Any = None) -> None:
    """Serve the site on http://host:port/ until interrupted."""
    server = make_server(folder, port, host)
    if on_ready:
        on_ready(f"http://{host}:{server.server_address[1]}/index.html")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
