"""The briefs the site publishes: each reports/YYYY-MM-DD/ folder as the site sees it (a
`DayEntry`), read from the manifest render wrote there and from the files it lists.

Publishing one more day must not cost a pass over the whole history, so a day's manifest is
parsed only when it is new or changed: what the site needs of it (title, summary, sample
flag, files…) is kept between publishes in a summary (`DayEntry.record`, stored by the site
in output/cache/), keyed by the manifest file's inode, size, mtime and ctime. Render
replaces the manifest after every file it lists, so a re-rendered day always misses the
summary. Every published file is still lstat-ed on each publish (one system call each):
a file changed, removed or swapped for a symlink by hand changes the day's stamp, and so
its key, as before. The full manifest is parsed when a page needs more than the summary
(the day's own page, the liquidation scores table).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reportgen.errors import DeliveryError
from reportgen.manifest import MANIFEST_NAME, MapScoreRecord, ReportManifest
from reportgen.publish.reports import read_manifest

RECORD_VERSION = 2  # bump when the summary's fields change: every manifest is read again
_DAY_NAME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")  # a report folder: YYYY-MM-DD


@dataclass
class DayEntry:
    """One brief as the site sees it: what its manifest (reports/D/manifest.json) says, and
    which of the files it lists are there to publish."""

    day: date
    source: Path
    title: str
    description: str  # the manifest's summary: "the day in brief"
    lead: str | None
    headline: str | None
    sample: bool
    scored: bool  # the manifest carries map scores (the liquidation pages' table)
    page: str  # the body-only HTML, report-relative
    pdf: bool
    md: bool
    charts: list[str]  # file names in charts/
    stamp: str = ""  # the manifest's and each published file's identity, size and mtime
    record: dict[str, Any] = field(default_factory=dict, repr=False)  # the summary kept
    _manifest: ReportManifest | None = field(default=None, repr=False)

    @property
    def manifest(self) -> ReportManifest:
        """The full manifest, read when first asked for (most publishes need it for the new
        day and its neighbour only)."""
        if self._manifest is None:
            manifest = read_manifest(self.source)
            if manifest is None:
                raise DeliveryError(f"{self.source / MANIFEST_NAME} disappeared while the site "
                                    "was being built: publish again")
            self._manifest = manifest
        return self._manifest

    @property
    def map_scores(self) -> list[MapScoreRecord]:
        """The manifest's scores of yesterday's maps (kept in the summary: the liquidation
        pages list the last 30 days' on every publish)."""
        try:
            return [MapScoreRecord.model_validate(s) for s in self.record["scores"]]
        except (KeyError, TypeError, ValidationError):
            return list(self.manifest.map_scores)

    @property
    def social_title(self) -> str:
        """og:title and twitter:title: the headline of "the day in brief" (marked as sample
        data on the sample), else the page title."""
        if not self.lead:
            return self.title
        return f"{self.lead} (sample data)" if self.sample else self.lead

    @cached_property
    def dir(self) -> str:
        """"2025/06/11/", site-relative (asked for several times per day on every publish:
        made once, without strftime)."""
        return f"{self.day.year:04d}/{self.day.month:02d}/{self.day.day:02d}/"

    @property
    def path(self) -> str:
        return f"{self.dir}index.html"

    @property
    def files(self) -> list[str]:
        """The report's files published beside the page (report-relative)."""
        return [*(["brief.pdf"] if self.pdf else []), *(["brief.md"] if self.md else []),
                *(f"charts/{c}" for c in self.charts)]

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


def _summary(manifest: ReportManifest, signature: str) -> dict[str, Any]:
    """What the site keeps of a manifest between publishes (JSON-able)."""
    return {"v": RECORD_VERSION, "sig": signature, "title": manifest.title,
            "summary": manifest.summary, "lead": manifest.lead,
            "headline": manifest.headline.text if manifest.headline else None,
            "sample": manifest.sample, "scored": bool(manifest.map_scores),
            "scores": [score.model_dump(mode="json") for score in manifest.map_scores],
            "page": manifest.page, "published": _published(manifest.page or "", manifest.files)}


def _published(page: str, files: list[str]) -> list[str]:
    """The files of a report the site publishes, page first (report-relative, unique)."""
    return list(dict.fromkeys([
        page, *(n for n in ("brief.pdf", "brief.md") if n in files),
        *(n for n in files if n.startswith("charts/") and n.count("/") == 1)]))


def _inside(names: list[str]) -> bool:
    """Every name is a path inside the report folder (the cache is a file anyone who can
    write output/ could edit: it must not name a file elsewhere). Stricter than the
    manifest's own check, in a few string searches: a name it refuses sends the day back
    to its manifest."""
    joined = "\0".join(names)
    return bool(names) and not ("\\" in joined or ".." in joined or joined.startswith("/")
                                or "\0/" in joined or "\0\0" in joined or joined.endswith("\0")
                                or "//" in joined)


def _valid(record: Any, signature: str) -> bool:
    """Whether `record` (from the cache file: anything) is a summary of this very manifest."""
    if not (isinstance(record, dict) and record.get("v") == RECORD_VERSION
            and record.get("sig") == signature
            and isinstance(record.get("title"), str) and isinstance(record.get("summary"), str)):
        return False
    names = record.get("published")
    return (isinstance(names, list) and all(type(n) is str for n in names) and _inside(names)
            and record.get("page") == names[0])


def _signature(folder: str) -> str | None:
    """The manifest file's identity (None when it is absent or not a regular file: the
    manifest is then read the slow way, which says why)."""
    try:
        st = os.lstat(os.path.join(folder, MANIFEST_NAME))
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _entry(day: date, folder: Path, known: dict[str, Any], warnings: list[str]) -> DayEntry | None:
    """The day in `folder`; None (with a warning why, when it looks like a report) when it
    cannot go on the site."""
    signature = _signature(str(folder))
    record = known.get(day.isoformat())
    manifest = None
    if signature is None or not _valid(record, signature):
        try:
            manifest = read_manifest(folder)
        except DeliveryError as exc:
            warnings.append(f"skipped {day}: {exc}")
            return None
        if manifest is None:
            if any(p.name.startswith("brief.") for p in folder.iterdir()):
                warnings.append(f"skipped {day}: {folder} has no {MANIFEST_NAME} (rendered by "
                                f"an older reportgen): render it again with `reportgen render "
                                f"--date {day}`")
            return None
        if manifest.page is None:
            warnings.append(f"skipped {day}: rendered without HTML (render it with html in --formats)")
            return None
        record = _summary(manifest, signature or "")
    assert isinstance(record, dict)
    wanted: list[str] = record["published"]
    page = wanted[0]
    present, stamp = _present(str(folder), wanted, warnings)
    if page not in present:
        warnings.append(f"skipped {day}: {folder / page} is missing")
        return None
    return DayEntry(
        day=day, source=folder, title=record["title"], description=record["summary"],
        lead=record.get("lead"), headline=record.get("headline"),
        sample=bool(record.get("sample")), scored=bool(record.get("scored")), page=page,
        pdf="brief.pdf" in present, md="brief.md" in present,
        charts=[n.removeprefix("charts/") for n in wanted[1:] if n.startswith("charts/") and n in present],
        stamp=f"{record['sig']}\0{stamp}", record=record, _manifest=manifest,
    )


def _present(folder: str, names: list[str], warnings: list[str]) -> tuple[set[str], str]:
    """Which of `names` (report-relative) are regular files reached through no symlink, and
    their stamp (name, size, mtime of each). One lstat per file and per folder on the way:
    plain strings, as this runs for every file of every day on each publish."""
    links: dict[str, bool] = {"": False}

    def linked(name: str) -> bool:  # a folder on the way to `name` is a symlink
        parent = name.rpartition("/")[0]
        if parent not in links:
            try:
                is_link = stat.S_ISLNK(os.lstat(f"{folder}/{parent}").st_mode)
            except OSError:
                is_link = False
            links[parent] = is_link or linked(parent)
        return links[parent]

    present: set[str] = set()
    stamp: list[str] = []
    for name in names:
        try:
            st = os.lstat(f"{folder}/{name}")
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode) or linked(name):
            warnings.append(f"skipped {os.path.join(folder, name)}: a symlink (publish copies "
                            "only regular files)")
        elif stat.S_ISREG(st.st_mode):
            present.add(name)
            stamp.append(f"{name}\0{st.st_size}\0{st.st_mtime_ns}")
    return present, "\0".join(stamp)


def read_days(reports: Path, warnings: list[str] | None = None,
              known: dict[str, Any] | None = None) -> list[DayEntry]:
    """Every reports/YYYY-MM-DD/ folder holding a rendered HTML brief, oldest first, as its
    manifest describes it (or `known[day]`, the summary kept of that very manifest file).
    Only the files the manifest lists are published: not a killed run's `.name.XXXX.tmp`,
    not a file dropped in by hand, and no symlink (a day folder or a file: skipped with a
    warning)."""
    warnings = [] if warnings is None else warnings
    known = known or {}
    entries = []
    try:
        with os.scandir(reports) as items:
            folders = sorted((item for item in items if _DAY_NAME.match(item.name)), key=lambda i: i.name)
    except FileNotFoundError:
        return []
    for item in folders:
        try:
            day = date.fromisoformat(item.name)
        except ValueError:
            continue
        folder = reports / item.name
        if item.is_symlink():
            warnings.append(f"skipped {folder}: a symlink (publish copies only regular files)")
            continue
        if not item.is_dir():
            continue
        entry = _entry(day, folder, known, warnings)
        if entry is not None:
            entries.append(entry)
    return entries
