"""The static site: every rendered brief under output/site, built atomically and
incrementally, from what render wrote: each day's manifest (reports/D/manifest.json: title,
summary, headline, sample flag, files) and the files it lists. Nothing is parsed back out of
the rendered HTML or Markdown; a day's page is templates/site/day.html.j2 around the
brief's body-only HTML (body.html), with the navigation from site/_nav.html.j2.

    output/site -> .site-<random>/     a symlink, swapped with os.replace
        index.html                     latest brief + report history by month
        YYYY/MM/DD/index.html          one permalink page per date (the brief + site nav)
        YYYY/MM/DD/brief.pdf|.md       beside it, with charts/ when the report has them
        liquidation/                   the Liquidation Map pages (reportgen.publish.liqpages),
                                       when the days carry map data; linked from every page
        feed.xml  sitemap.xml          only with site.url (absolute URLs need it)
        favicon.svg  assets/  .nojekyll  .manifest.json

Atomic: the build happens in a sibling temporary folder; only a complete build is swapped
in, so readers never see half a site and a failed build leaves the previous one in place.
One build at a time: output/locks/publish.lock makes a second publisher (cron overlapping a
manual run) wait, then build with everything there by then.
Never deletes what it did not make: each build's manifest lists its files; a live site
holding anything else (a hand-made CNAME, a real folder where the symlink should be) is
refused with the reason. Files the host needs in every build (CNAME, robots.txt, _headers)
go in the folder named by `site.extra_files`. Only regular files are published: symlinks
and files a manifest does not list (a killed run's `.x.tmp`) are never published.
Incremental: a day's page is keyed by a hash of its report files' metadata, its neighbours and
the site templates, the files beside it by their metadata alone, a month page by what it
lists. From the third publish on, the new build is the build before the previous one (which
used to be deleted) remade in place: what is unchanged there stays, what changed since is
hard-linked from the live build, the rest is written, and what the new build no longer has
is removed. Its manifest goes first, so a publish killed mid-way leaves a build that the next
one removes; the live build is never written to. A day's manifest is parsed only when it
changed (reportgen.publish.sitedays keeps a summary in output/cache/site-days.json), and a
build's folder is listed (for files publish did not make) only when its timestamps changed
since a listing found nothing else (output/cache/site-folders.json; see `_scan`).
Links between pages are page-relative and name index.html (works from file:// and any
sub-path); feed, sitemap, canonical and OpenGraph URLs are absolute, from site.url.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from itertools import groupby
from pathlib import Path
from typing import Any, TypeGuard
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from filelock import FileLock, Timeout
from markupsafe import Markup

from reportgen.config import Config
from reportgen.errors import ConfigError, DeliveryError, LockError, UsageError
from reportgen.publish.liqpages import pages as liquidation_pages
from reportgen.publish.reports import read_bytes, regular
from reportgen.publish.sitedays import DayEntry, read_days
from reportgen.render.environment import environment, templates_dir
from reportgen.writer import OutputWriter

log = logging.getLogger(__name__)

SITE_VERSION = "1"  # bump to force every page to be rebuilt after a format change
MANIFEST = ".manifest.json"
ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
DAY_ROOT = "../../../"  # from YYYY/MM/DD/index.html back to the site root
MONTH_ROOT = "../../"  # from YYYY/MM/index.html
DAYS_CACHE = "cache/site-days.json"  # output-relative: what publish keeps of each manifest
INDEX_BRIEFS = 60  # briefs listed on the home page; older ones on their month's page


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
    dry_run: bool = False  # built in build_dir to be looked at, never swapped in

    def as_record(self) -> dict[str, Any]:
        """JSON-able outcome, for the run record (archive `runs.channels`)."""
        return {"ok": True, "summary": self.summary(), "warnings": self.warnings,
                "days": len(self.days), "written": len(self.written), "reused": len(self.reused)}

    def summary(self) -> str:
        if self.dry_run:
            return (f"site {self.path} (dry run, left as it is): {len(self.days)} briefs, "
                    f"{len(self.written)} files would be written, {len(self.reused)} reused")
        return (f"site {self.path}: {len(self.days)} briefs, {len(self.written)} files written, "
                f"{len(self.reused)} reused, {self.seconds:.2f}s")


def _day_key(entry: DayEntry, prev: DayEntry | None, nxt: DayEntry | None, config: Config,
             templates_hash: str, liq_pages: bool = False) -> str:
    """Changes whenever anything that shapes the day's pages changes: the report manifest
    file (render replaces it, with a new generated_at, after every file it lists), each
    published file's size and modification time (`DayEntry.stamp`), the neighbours, the
    site settings and templates.

    Files are stat-ed, never read: with a year of history the key of every unchanged day is
    a few hundred bytes of metadata, so publishing one new day does not re-read every day's
    charts and PDF (730 days: 13.9 s when they were hashed)."""
    digest = hashlib.sha256()
    for part in (SITE_VERSION, templates_hash, config.site.url or "", config.site.title,
                 "liq" if liq_pages else "",
                 prev.day.isoformat() if prev else "", nxt.day.isoformat() if nxt else "",
                 entry.stamp):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def _templates_hash() -> str:
    """The site's templates and the brief's stylesheets (a day's page includes them)."""
    digest = hashlib.sha256()
    for folder in ("site", "assets"):
        for path in sorted((templates_dir() / folder).iterdir()):
            digest.update(f"{folder}/{path.name}".encode() + b"\0" + path.read_bytes())
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


def brief_page(entry: DayEntry, prev: DayEntry | None, nxt: DayEntry | None, config: Config,
               *, liq_pages: bool = False) -> str:
    """The day's page: templates/site/day.html.j2 around the brief's body-only HTML (which
    render wrote for layouts like this one), with the site's head tags and navigation."""
    body = read_bytes(entry.source / entry.page).decode("utf-8")
    meta = _page_meta(config, title=entry.social_title, description=entry.description,
                      path=entry.path, image=entry.image, image_alt=f"Liquidation map, {entry.day}",
                      og_type="article")
    return environment().get_template("site/day.html.j2").render(
        root=DAY_ROOT, meta=meta, entry=entry, prev=prev, next=nxt, has_pdf=entry.pdf,
        has_md=entry.md, liq_pages=liq_pages,
        body=Markup(body),  # render's own HTML, escaped when it was made
    )


@dataclass(frozen=True)
class MonthPage:
    """One month's archive page (YYYY/MM/index.html): every brief of that month."""

    month: date  # its first day
    entries: list[DayEntry]  # newest first

    @property
    def path(self) -> str:
        return f"{self.month:%Y/%m}/index.html"

    @property
    def title(self) -> str:
        return f"{self.month:%B %Y}"


def month_pages(entries: list[DayEntry]) -> list[MonthPage]:
    """The archive by month, newest month first."""
    newest_first = list(reversed(entries))
    return [MonthPage(month, list(items)) for month, items in
            groupby(newest_first, key=lambda e: e.day.replace(day=1))]


def month_page(page: MonthPage, newer: MonthPage | None, older: MonthPage | None,
               config: Config, *, liq_pages: bool = False) -> str:
    """A month of the report history, with links to the months either side."""
    meta = _page_meta(config, title=f"{config.site.title} — {page.title}",
                      description=f"{config.site.title}: the {len(page.entries)} briefs of "
                                  f"{page.title}.", path=page.path, image=None, image_alt="",
                      og_type="website")
    return environment().get_template("site/month.html.j2").render(
        root=MONTH_ROOT, meta=meta, site_title=config.site.title, page=page, newer=newer,
        older=older, liq_pages=liq_pages)


def index_page(entries: list[DayEntry], config: Config, *, liq_pages: bool = False) -> str:
    """The home page: the latest brief, the last INDEX_BRIEFS briefs by month, and a link to
    every month's archive page (so the page stays small with years of history)."""
    newest_first = list(reversed(entries))
    months = [(f"{month:%B %Y}", list(items)) for month, items in
              groupby(newest_first[:INDEX_BRIEFS], key=lambda e: e.day.replace(day=1))]
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
        feed_entries=config.site.feed_entries, archive=month_pages(entries),
        shown=min(len(entries), INDEX_BRIEFS), total=len(entries), liq_pages=liq_pages,
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
        sub(entry, "summary", e.description)
    ET.indent(feed)
    return _xml_document(feed)


def sitemap(entries: list[DayEntry], config: Config, pages: list[str] | None = None) -> bytes:
    """Every page: the index, each day's, and `pages` (updated with the latest day).

    Written as text (the same bytes ElementTree makes): with two years of history it has
    ~750 rows, and building the tree cost more than the rest of a publish's listing pages."""
    base = config.site.url
    assert base is not None
    latest = entries[-1].day if entries else None
    rows = [("index.html", latest), *((page, latest) for page in pages or [])]
    rows += [(page.path, page.entries[0].day) for page in month_pages(entries)]
    rows += [(e.path, e.day) for e in reversed(entries)]
    lines = [f'<?xml version="1.0" encoding="utf-8"?>\n<urlset xmlns="{SITEMAP}">']
    for path, day in rows:
        lastmod = f"\n    <lastmod>{day.isoformat()}</lastmod>" if day else ""
        lines.append(f"  <url>\n    <loc>{escape(f'{base}{path}')}</loc>{lastmod}\n  </url>")
    lines.append("</urlset>\n")
    return "\n".join(lines).encode()


def _xml_document(root: ET.Element) -> bytes:
    # typeshed types tostring() with an arbitrary encoding name as Any; "utf-8" gives bytes.
    body: bytes = ET.tostring(root, encoding="utf-8")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"


# -- the build -------------------------------------------------------------------------------


def _inside_site(name: str, whose: str) -> str:
    """`name` from a build's own manifest, checked to be a path inside the site."""
    if not name or name.startswith("/") or "\\" in name or ".." in name.split("/"):
        raise DeliveryError(f"{whose} manifest lists {name!r}, which is not a path inside the "
                            "site: publish again from scratch (remove output/site)")
    return name


class _Reuse:
    """Hard-links unchanged files from the previous build into the new one (replacing what a
    recycled build holds under that name).

    The names come from the previous build's own manifest and are checked to stay inside the
    build; the folders made are remembered. With a year of history this is thousands of
    files on a build from scratch, so it works on plain strings rather than resolving paths."""

    def __init__(self, previous: Path, build: Path) -> None:
        self.previous, self.build = str(previous), str(build)
        self.made: set[str] = set()

    def link(self, name: str) -> None:
        _inside_site(name, "the previous build's")
        folder = os.path.dirname(name)
        if folder and folder not in self.made:
            os.makedirs(os.path.join(self.build, folder), exist_ok=True)
            self.made.add(folder)
        source, target = os.path.join(self.previous, name), os.path.join(self.build, name)
        try:
            os.link(source, target)  # builds share unchanged files; none is modified in place
        except FileExistsError:  # a recycled build's older version of the file
            os.unlink(target)
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


def _readable(root: Path, names: list[str]) -> None:
    """mkdtemp makes a private folder; a site is for a web server to read. The root, every
    folder holding a file written or linked now, and the files written now are made so
    (files linked from the previous build, and folders a recycled build had, already are)."""
    root.chmod(0o755)
    folders = {os.path.dirname(name) for name in names}
    for folder in list(folders):
        while folder:
            folders.add(folder)
            folder = os.path.dirname(folder)
    for folder in folders - {""}:
        os.chmod(os.path.join(root, folder), 0o755)


# What every build makes besides the days' files (the manifest of an older build may not
# list them).
_FIXED = ("index.html", "favicon.svg", "assets/site.css", "assets/print.css", ".nojekyll",
          "feed.xml", "sitemap.xml", MANIFEST)  # and the Liquidation Map pages, when made
_BUILD_NAME = re.compile(r"^\.site-[a-z0-9_]{8}$")  # tempfile.mkdtemp(prefix=".site-")


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads(read_bytes(folder / MANIFEST))
    except (OSError, ValueError, DeliveryError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _made_by_publish(manifest: dict[str, Any]) -> set[str]:
    """Every file (site-relative) a build with this manifest made."""
    if isinstance(manifest.get("files"), list):
        return {*manifest["files"], MANIFEST}
    days = manifest.get("days", {})
    return {*_FIXED, *(f for d in days.values() if isinstance(d, dict) for f in d.get("files", []))}


FOLDERS_CACHE = "cache/site-folders.json"  # output-relative: folders found holding only builds' files
# A folder whose timestamps are closer than this to the moment it was listed is listed
# again next time: a change in the same clock tick (2 s on the coarsest file systems)
# could leave its mtime as it was.
SETTLE_NS = 2_000_000_000


def _names_digest(names: list[str]) -> str:
    return hashlib.blake2b("\0".join(sorted(names)).encode(), digest_size=8).hexdigest()


def _still(record: Any, stamp: str) -> TypeGuard[list[Any]]:
    """Whether `record` (from the cache file: anything) was made of a folder with `stamp`
    and names only plain subfolder names."""
    return (isinstance(record, list) and len(record) == 3 and record[0] == stamp
            and isinstance(record[1], str) and isinstance(record[2], list)
            and all(type(d) is str and d and "/" not in d and d not in (".", "..")
                    for d in record[2]))


def _folder_stat(path: str) -> os.stat_result | None:
    """`path`'s lstat when it is a folder (not a symlink to one), else None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st if stat.S_ISDIR(st.st_mode) else None


def _scan(folder: Path, manifest: dict[str, Any] | None,
          known: dict[str, Any] | None = None) -> tuple[list[str], set[str], dict[str, Any]]:
    """Files (and symlinks) in `folder` that no publish made (all of them without a
    manifest), the regular files it holds that publish made, and what to remember of each
    folder found holding only those (for the next scan of this build).

    A folder is listed (scandir: files, folders and symlinks told apart without a stat
    each) unless `known` says an earlier listing found in it only files the manifest lists
    there, all of them, and the folder's inode, ctime and mtime are still those of then:
    creating, removing or renaming an entry changes them (POSIX), so its entries are still
    those. Then one lstat is all it costs. A file rewritten in place (same name) does not
    change its folder; neither does it change what this scan reports (names and types)."""
    made = _made_by_publish(manifest) if manifest is not None else set()
    known = known or {}
    grouped: dict[str, list[str]] | None = None
    foreign: list[str] = []
    ours: set[str] = set()
    seen: dict[str, Any] = {}
    settled = time.time_ns() - SETTLE_NS

    def in_folder(relative: str) -> list[str]:
        nonlocal grouped
        if grouped is None:
            grouped = {}
            for name in made:
                grouped.setdefault(name.rpartition("/")[0], []).append(name)
        return grouped.get(relative, [])

    def walk(path: str, relative: str, st: os.stat_result) -> None:
        stamp = f"{st.st_ino}:{st.st_ctime_ns}:{st.st_mtime_ns}"
        record = known.get(relative)
        prefix = relative + "/" if relative else ""
        if _still(record, stamp) and record[1] == _names_digest(files := in_folder(relative)):
            stats = [_folder_stat(os.path.join(path, sub)) for sub in record[2]]
            if all(stats):  # else the cache was edited: list the folder
                ours.update(files)
                seen[relative] = record
                for sub, sub_st in zip(record[2], stats, strict=True):
                    assert sub_st is not None
                    walk(os.path.join(path, sub), prefix + sub, sub_st)
                return
        found: list[str] = []
        subs: list[str] = []
        clean = True
        with os.scandir(path) as entries:
            for entry in entries:
                name = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    subs.append(entry.name)
                    walk(entry.path, name, os.lstat(entry.path))
                elif name in made and entry.is_file(follow_symlinks=False):
                    ours.add(name)
                    found.append(name)
                else:  # a symlink, or a file no publish made
                    foreign.append(name)
                    clean = False
        if clean and max(st.st_ctime_ns, st.st_mtime_ns) < settled:
            seen[relative] = [stamp, _names_digest(found), sorted(subs)]

    walk(str(folder), "", os.lstat(folder))
    # A folder is remembered only when it held every file the manifest lists in it.
    for name in made - ours:
        seen.pop(name.rpartition("/")[0], None)
    return sorted(foreign), ours, seen


def _foreign_files(folder: Path, manifest: dict[str, Any] | None) -> list[str]:
    """Files (and symlinks) in `folder` that no publish made: all of them without a manifest."""
    return _scan(folder, manifest)[0]


def _refusal(link: Path, what: str, foreign: list[str], config: Config) -> UsageError:
    shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
    extra = (f"the site.extra_files folder ({config.site.extra_files})" if config.site.extra_files
             else "a folder named by site.extra_files in the config")
    return UsageError(
        f"{link} {what} files that `reportgen publish` did not make ({shown}); publish never "
        f"deletes those: move them to {extra}, which is copied into every build, then publish again"
    )


@dataclass
class _Build:
    """A build on disk as publish made it: its folder, its manifest, the files it holds."""

    path: Path
    manifest: dict[str, Any]
    files: set[str]  # regular files present that publish made
    folders: dict[str, Any] = field(default_factory=dict)  # what _scan remembers of them

    def days(self) -> dict[str, Any]:
        days = self.manifest.get("days") if self.manifest.get("version") == SITE_VERSION else None
        return days if isinstance(days, dict) else {}

    def pages(self) -> dict[str, Any]:
        pages = self.manifest.get("pages") if self.manifest.get("version") == SITE_VERSION else None
        return pages if isinstance(pages, dict) else {}

    def holds(self, record: Any, field: str, key: str, files: list[str]) -> bool:
        """Whether `record` (a day or page of its manifest) has `key` in `field`, and every
        one of `files` is there."""
        return (isinstance(record, dict) and record.get(field) == key
                and all(f in self.files for f in files))


def _live_build(link: Path, config: Config,
                known: dict[str, Any] | None = None) -> tuple[_Build | None, bool]:
    """The build `link` shows now, and whether it is a real folder (an older layout) rather
    than our symlink. Refuses (UsageError) when publish did not make it all. `known`: what
    the last publish remembered of the builds' folders (FOLDERS_CACHE), by build name."""
    if link.is_symlink():
        target = os.readlink(link)
        build = link.resolve()
        if "/" in target or not _BUILD_NAME.match(target) or not build.is_dir():
            raise UsageError(
                f"{link} is a symlink to {target}, not to a build made by `reportgen publish`: "
                "remove the link (publish makes its own), or point the web server at it instead"
            )
        manifest = _read_manifest(build)
        foreign, files, folders = _scan(build, manifest or {}, (known or {}).get(build.name))
        if foreign:
            raise _refusal(link, "holds", foreign, config)
        return _Build(build, manifest or {}, files, folders), False
    if not link.exists():
        return None, False
    if not link.is_dir():
        raise UsageError(f"{link} is a file, not a site made by `reportgen publish`: move it away")
    manifest = _read_manifest(link)
    foreign, files, _ = _scan(link, manifest)
    if manifest is None or foreign:
        raise _refusal(link, "is a real folder (publish makes a symlink to a build) holding",
                       foreign or ["everything in it"], config)
    return _Build(link, manifest, files), True


def _recyclable(output: Path, live: Path, known: dict[str, Any]) -> _Build | None:
    """An earlier build (not the live one) that the new build can be made from in place:
    the build before the previous one, which this publish would otherwise delete. Only one
    that holds nothing but what its complete manifest lists."""
    for folder in sorted(output.glob(".site-*")):
        if (not _BUILD_NAME.match(folder.name) or folder.is_symlink() or not folder.is_dir()
                or folder.resolve() == live):
            continue
        manifest = _read_manifest(folder)
        if manifest is None or manifest.get("version") != SITE_VERSION:
            continue
        foreign, files, folders = _scan(folder, manifest, known.get(folder.name))
        if not foreign:
            return _Build(folder, manifest, files, folders)
    return None


def _swap(link: Path, build: Path, *, legacy: bool) -> Path | None:
    """Point `link` at `build` in one step (rename of a symlink over the old one). A real
    folder of an older layout (checked to hold only what publish made) is moved aside first;
    its new name is returned, for removal."""
    aside = None
    if legacy:
        aside = link.with_name(f".site-migrated-{os.getpid()}")
        link.rename(aside)
    tmp_link = link.with_name(f".site-link-{os.getpid()}")
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(build.name, target_is_directory=True)
    os.replace(tmp_link, link)
    return aside


def _remove_old_builds(output: Path, keep: set[Path], result: SiteResult) -> None:
    """Remove earlier builds (named as mkdtemp names them) that hold only what publish made.
    The previous build is kept: a reader may be in the middle of it."""
    for stale in output.glob(".site-link-*"):  # a publisher killed mid-swap (we hold the lock)
        if stale.is_symlink():
            stale.unlink()
    for folder in output.glob(".site-*"):
        if (not _BUILD_NAME.match(folder.name) or folder.is_symlink() or not folder.is_dir()
                or folder.resolve() in keep):
            continue
        manifest = _read_manifest(folder)
        # No manifest: a build killed before it finished; everything in it is ours.
        foreign = _foreign_files(folder, manifest) if manifest is not None else []
        if foreign:
            result.warnings.append(f"kept the old build {folder}: it holds files publish did not "
                                   f"make ({', '.join(foreign[:3])})")
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _lock(output: Path, wait: float) -> FileLock:
    """output/locks/publish.lock: one site build at a time per output folder."""
    folder = output / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / "publish.lock")
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise LockError(f"another `reportgen publish` (or run) has held {folder / 'publish.lock'} "
                        f"for {wait:g} s (site.lock_wait_s); try again when it has finished") from None
    return lock


def build_site(config: Config, *, writer: OutputWriter | None = None) -> SiteResult:
    """Build output/site from every rendered report in output/reports; see the module doc.
    Files are written through `writer`, the run's one writer of the output folder (a new
    one when the site is built on its own).

    One build at a time per output folder: a second publisher waits for the first (up to
    site.lock_wait_s), then builds with whatever is there by then."""
    with site_build(config, writer=writer) as result:
        return result


@contextmanager
def site_build(config: Config, *, writer: OutputWriter | None = None,
               dry_run: bool = False) -> Iterator[SiteResult]:
    """`build_site`, holding the publish lock until the block ends, so the caller can use the
    build it yields (reportgen.publish.objectstore uploads it) before another publisher
    replaces it. With `dry_run` the build is made beside the live one, never swapped in, and
    removed when the block ends: output/site is left exactly as it was."""
    started = time.perf_counter()
    output = config.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    writer = writer or OutputWriter(output)
    if writer.root != output:
        raise ValueError(f"the site of {output} cannot be written by a writer of {writer.root}")
    lock = _lock(output, config.site.lock_wait_s)
    try:
        result = _build_locked(config, output, started, writer, dry_run=dry_run)
        try:
            yield result
        finally:
            if dry_run:
                shutil.rmtree(result.build_dir, ignore_errors=True)
    finally:
        lock.release()


def _extra_folder(config: Config) -> Path | None:
    folder = config.site.extra_files
    if folder is None:
        return None
    if not folder.is_dir():
        raise ConfigError(f"site.extra_files: {folder} is not a folder (it holds files copied into "
                          "every build, such as CNAME or robots.txt)")
    return folder


def _known_days(output: Path) -> dict[str, Any]:
    """The summaries of the days' manifests kept by the last publish (output/cache/); empty
    when there are none or they cannot be read (every manifest is then read again)."""
    try:
        kept = json.loads(read_bytes(output / DAYS_CACHE))
    except (OSError, ValueError, DeliveryError):
        return {}
    days = kept.get("days") if isinstance(kept, dict) else None
    return days if isinstance(days, dict) else {}


def _known_folders(output: Path) -> dict[str, Any]:
    """What the last publish remembered of the builds' folders, by build name; empty when
    there is nothing or it cannot be read (every folder is then listed)."""
    try:
        kept = json.loads(read_bytes(output / FOLDERS_CACHE))
    except (OSError, ValueError, DeliveryError):
        return {}
    builds = kept.get("builds") if isinstance(kept, dict) else None
    return builds if isinstance(builds, dict) else {}


def _keep_folders(writer: OutputWriter, known: dict[str, Any], builds: dict[str, Any]) -> None:
    if builds != known:
        writer.write_text(FOLDERS_CACHE, json.dumps({"builds": builds}, separators=(",", ":")))


def _keep_days(writer: OutputWriter, known: dict[str, Any], entries: list[DayEntry]) -> None:
    days = {e.day.isoformat(): e.record for e in entries if e.record.get("sig")}
    if days != known:
        writer.write_text(DAYS_CACHE, json.dumps({"days": days}, separators=(",", ":")))


def _build_locked(config: Config, output: Path, started: float,
                  writer: OutputWriter, *, dry_run: bool = False) -> SiteResult:
    extra = _extra_folder(config)
    link = output / "site"
    folders = _known_folders(output)
    live, legacy = _live_build(link, config, folders)
    warnings: list[str] = []
    known = _known_days(output)
    entries = read_days(output / "reports", warnings, known)
    if not entries:
        why = "; ".join(warnings[:3]) + (f" (and {len(warnings) - 3} more)" if len(warnings) > 3 else "")
        raise DeliveryError(f"no rendered briefs in {output / 'reports'}: "
                            + (why if why else "run `reportgen run` first"))
    # The build before the previous one is made into the new build in place (only what
    # changed since is redone); else a new folder, its unchanged files linked from the live one.
    recycled = (None if dry_run or legacy or live is None
                else _recyclable(output, live.path, folders))
    build = Path(tempfile.mkdtemp(prefix=".site-", dir=output))
    if recycled is not None:
        # A new name (rename over the empty folder just made): no path of the new build is
        # one an earlier build had, for the writer's record and for anyone caching by path.
        os.replace(recycled.path, build)
        recycled.path = build
        (build / MANIFEST).unlink()  # until it is complete: a crash leaves a build to remove
    result = SiteResult(path=link, build_dir=build, days=[e.day for e in entries], warnings=warnings,
                        dry_run=dry_run)
    if not config.site.url:
        result.warnings.append(
            "site.url is not set (config site.url or REPORTGEN_SITE_URL): feed.xml, sitemap.xml, "
            "canonical and OpenGraph URLs are left out"
        )
    try:
        placed = _build_into(writer.within(build.name), entries, config,
                             None if legacy else live, recycled, result, extra)
        _readable(build, placed)
        if dry_run:
            result.seconds = time.perf_counter() - started
            return result  # the caller looks at it, then site_build removes it
        aside = _swap(link, build, legacy=legacy)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)  # checked above: only what publish made
    _remove_old_builds(output, {build.resolve(), *([live.path] if live and not legacy else [])},
                       result)
    _keep_days(writer, known, entries)
    # The folders of the recycled build the new one was made from are remembered under
    # its new name: those the remake changed are listed again at the next scan.
    _keep_folders(writer, folders, {
        **({live.path.name: live.folders} if live and not legacy else {}),
        **({build.name: recycled.folders} if recycled else {})})
    result.seconds = time.perf_counter() - started
    for warning in result.warnings:
        log.warning(warning)
    log.info(result.summary())
    return result


def _month_key(page: MonthPage, newer: MonthPage | None, older: MonthPage | None,
               config: Config, templates_hash: str, liq_pages: bool) -> str:
    """Changes whenever anything a month page shows changes."""
    return hashlib.sha256(json.dumps([
        SITE_VERSION, templates_hash, config.site.url, config.site.title, liq_pages, page.path,
        newer.path if newer else None, older.path if older else None,
        [(e.day.isoformat(), e.description, e.sample, e.pdf, e.md) for e in page.entries],
    ]).encode()).hexdigest()


class _Site:
    """Puts each file of the new build in place: kept as it is when a recycled build holds
    it already, hard-linked from the live build when that holds it, else written."""

    def __init__(self, writer: OutputWriter, live: _Build | None, recycled: _Build | None,
                 result: SiteResult) -> None:
        self.writer, self.live, self.recycled, self.result = writer, live, recycled, result
        self.reuse = _Reuse(live.path, writer.root) if live else None
        self.placed: list[str] = []  # written or linked now (their folders made readable)

    def reuse_of(self, in_recycled: Any, in_live: Any, field: str, key: str, files: list[str]) -> bool:
        """Whether `files` are in place without being made again: kept when the recycled
        build's record (`in_recycled`) has `key` in `field` and holds them all, else linked
        from the live build when its record does."""
        if self.recycled is not None and self.recycled.holds(in_recycled, field, key, files):
            self.result.reused.extend(files)
            return True
        if self.live is None or self.reuse is None or not self.live.holds(in_live, field, key, files):
            return False
        for name in files:
            self.reuse.link(name)
        self.placed.extend(files)
        self.result.reused.extend(files)
        return True

    def write(self, name: str, data: bytes) -> None:
        """`name` with `data`; left alone when a recycled build holds these very bytes."""
        if self.recycled is not None and name in self.recycled.files:
            try:
                same = read_bytes(self.writer.root / name) == data
            except (OSError, DeliveryError):
                same = False
            if same:
                self.result.reused.append(name)
                return
        self.writer.write_bytes(name, data)
        self.placed.append(name)
        self.result.written.append(name)

    def remove_stale(self, keep: set[str]) -> None:
        """Delete what the recycled build made that the new build does not have."""
        if self.recycled is None:
            return
        root = str(self.writer.root)
        folders: set[str] = set()
        for name in sorted(_made_by_publish(self.recycled.manifest) - keep):
            _inside_site(name, "an earlier build's")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(root, name))
            folders.add(os.path.dirname(name))
        for folder in sorted(folders, key=lambda f: -f.count("/")):
            while folder:  # deepest first, each folder left empty removed
                try:
                    os.rmdir(os.path.join(root, folder))
                except OSError:
                    break
                folder = os.path.dirname(folder)


def _build_into(writer: OutputWriter, entries: list[DayEntry], config: Config,
                live: _Build | None, recycled: _Build | None, result: SiteResult,
                extra: Path | None = None) -> list[str]:
    """Write the build through `writer`, rooted at the new build's folder (empty, or a
    recycled earlier build). Returns the files written or linked now."""
    templates_hash = _templates_hash()
    liq = liquidation_pages(entries, config, result.warnings)
    site = _Site(writer, live, recycled, result)
    live_days = live.days() if live else {}
    recycled_days = recycled.days() if recycled else {}
    days: dict[str, Any] = {}
    for i, entry in enumerate(entries):
        prev = entries[i - 1] if i > 0 else None
        nxt = entries[i + 1] if i + 1 < len(entries) else None
        name = entry.day.isoformat()
        # The page changes with its neighbours; the files beside it only with the report.
        key = _day_key(entry, prev, nxt, config, templates_hash, bool(liq))
        data_key = hashlib.sha256(entry.stamp.encode()).hexdigest()
        in_recycled, in_live = recycled_days.get(name), live_days.get(name)
        if not site.reuse_of(in_recycled, in_live, "key", key, [entry.path]):
            site.write(entry.path, brief_page(entry, prev, nxt, config, liq_pages=bool(liq)).encode())
        files = [entry.dir + file for file in entry.files]
        if not site.reuse_of(in_recycled, in_live, "data", data_key, files):
            for file in entry.files:
                site.write(entry.dir + file, read_bytes(entry.source / file))
        days[name] = {"key": key, "data": data_key, "files": [entry.path, *files]}

    # A month page is redone when a brief it lists (or its neighbours) changed: with every
    # new day, the newest month's (and, on the first of a month, the one before).
    months = month_pages(entries)
    pages: dict[str, str] = {}
    for i, page in enumerate(months):
        newer, older = months[i - 1] if i else None, months[i + 1] if i + 1 < len(months) else None
        key = _month_key(page, newer, older, config, templates_hash, bool(liq))
        in_recycled = {"key": recycled.pages().get(page.path)} if recycled else None
        in_live = {"key": live.pages().get(page.path)} if live else None
        if not site.reuse_of(in_recycled, in_live, "key", key, [page.path]):
            site.write(page.path, month_page(page, newer, older, config, liq_pages=bool(liq)).encode())
        pages[page.path] = key

    # The pages that list the newest briefs change with every new day: always made, and
    # written when their bytes changed.
    site_assets = templates_dir() / "site"
    fixed = {
        "index.html": index_page(entries, config, liq_pages=bool(liq)).encode(),
        "favicon.svg": (site_assets / "favicon.svg").read_bytes(),
        "assets/site.css": (site_assets / "site.css").read_bytes(),
        "assets/print.css": (site_assets / "print.css").read_bytes(),
        ".nojekyll": b"",
        **liq,
    }
    if config.site.url:
        fixed["feed.xml"] = atom_feed(entries, config)
        fixed["sitemap.xml"] = sitemap(entries, config, sorted(p for p in liq if p.endswith(".html")))
    for name, data in fixed.items():
        site.write(name, data)
    written = {*fixed, *pages, *(f for d in days.values() for f in d["files"])}
    copied = _copy_extra_files(extra, site, written | set(_FIXED), result) if extra else []
    site.remove_stale(written | set(copied))
    # Every file of the build is listed: the next publish refuses to delete anything else.
    writer.write_text(MANIFEST, json.dumps({
        "version": SITE_VERSION, "days": days, "pages": pages,
        "files": sorted(written | set(copied)),
    }, separators=(",", ":")))
    return [*site.placed, MANIFEST]


def _copy_extra_files(folder: Path, site: _Site, made: set[str], result: SiteResult) -> list[str]:
    """site.extra_files → the build root, regular files only, never over a file publish makes."""
    copied = []
    for top, dirs, files in os.walk(folder):
        for name in sorted([*files, *(d for d in dirs if (Path(top) / d).is_symlink())]):
            path = Path(top) / name
            relative = path.relative_to(folder).as_posix()
            if not regular(path):
                result.warnings.append(f"skipped {path}: site.extra_files copies regular files only")
                continue
            if relative in made:
                raise ConfigError(f"site.extra_files: {path} has the name of a file publish makes "
                                  f"({relative}); rename or remove it")
            site.write(relative, read_bytes(path))
            copied.append(relative)
    return copied


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
