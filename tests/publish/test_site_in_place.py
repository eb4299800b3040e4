"""The site remade in place: from the third publish on, the build before the previous one
becomes the new build (only what changed is redone), and day manifests are read only when
they changed. Whatever the history of publishes, the live site must be exactly what a
build from scratch of the same reports makes; the live build is never touched."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from reportgen.config import Config, config_from_mapping
from reportgen.errors import DeliveryError, UsageError
from reportgen.manifest import MANIFEST_NAME, ReportManifest
from reportgen.publish import build_site
from reportgen.publish import site as site_module
from reportgen.publish import sitedays as sitedays_module
from reportgen.publish.site import DAYS_CACHE, FOLDERS_CACHE, MANIFEST, SiteResult
from tests.publish.conftest import DAYS, LAST, day_path

URL = "https://briefs.example.org/daily/"


def _config(output: Path) -> Config:
    return config_from_mapping({"output": str(output), "site": {"url": URL}})


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST}


def _folders(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_dir()}


def _same_as_from_scratch(output: Path, tmp_path: Path) -> None:
    """The live site holds the very files, and folders, a first build of these reports makes."""
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(output / "reports", fresh / "reports", symlinks=True)
    build_site(_config(fresh))
    live, expected = _files(output / "site"), _files(fresh / "site")
    assert sorted(live) == sorted(expected)
    assert [name for name in expected if live[name] != expected[name]] == []
    assert _folders(output / "site") == _folders(fresh / "site")  # no empty folder left
    listed = json.loads((output / "site" / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert sorted(listed) == sorted(live)


def _whole(build: Path) -> None:
    """Every file a build's manifest lists is there."""
    listed = json.loads((build / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert [name for name in listed if not (build / name).is_file()] == []


def _rerender(folder: Path, **changes: object) -> None:
    """What render does to a day's manifest: a new one, replaced in one step."""
    manifest = ReportManifest.model_validate_json((folder / MANIFEST_NAME).read_bytes())
    tmp = folder / ".manifest.tmp"
    tmp.write_text(manifest.model_copy(update=changes).model_dump_json(), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST_NAME)


def _three_builds(week: Path) -> tuple[SiteResult, SiteResult]:
    """Publish with the last day held back, then with it: the next publish has a build to
    remake. Returns the two builds."""
    aside = week / "later"
    shutil.move(week / "reports" / LAST.isoformat(), aside)
    first = build_site(_config(week))
    shutil.move(aside, week / "reports" / LAST.isoformat())
    second = build_site(_config(week))
    assert second.build_dir != first.build_dir
    return first, second


def test_the_build_before_the_previous_one_is_remade_into_the_new_one(week: Path, tmp_path: Path) -> None:
    first, second = _three_builds(week)
    folder = first.build_dir.stat().st_ino
    _rerender(week / "reports" / DAYS[2].isoformat(), title="A title of the day, rendered again")
    third = build_site(_config(week))
    assert third.build_dir.stat().st_ino == folder  # remade in place (renamed), not from scratch
    assert third.build_dir != first.build_dir and not first.build_dir.exists()
    assert (week / "site").resolve() == third.build_dir.resolve()
    assert day_path(DAYS[2]) in third.written and day_path(DAYS[0]) in third.reused
    assert "A title of the day, rendered again" in (week / "site" / day_path(DAYS[2])).read_text(
        encoding="utf-8")
    _whole(second.build_dir)  # the previous build, still kept for readers in it, is intact
    assert "A title of the day, rendered again" not in (second.build_dir / day_path(DAYS[2])).read_text(
        encoding="utf-8")
    _same_as_from_scratch(week, tmp_path)
    # nothing changed: the next publish remakes the other build, and redoes no day
    folder = second.build_dir.stat().st_ino
    fourth = build_site(_config(week))
    assert fourth.build_dir.stat().st_ino == folder
    assert not [name for name in fourth.written if name.count("/") == 3]  # YYYY/MM/DD/…
    _same_as_from_scratch(week, tmp_path)


def test_a_removed_day_leaves_the_site_and_a_file_edited_by_hand_is_published(
        week: Path, tmp_path: Path) -> None:
    _three_builds(week)
    gone = DAYS[3]
    shutil.rmtree(week / "reports" / gone.isoformat())
    md = week / "reports" / DAYS[1].isoformat() / "brief.md"
    with md.open("a", encoding="utf-8") as handle:  # in place: same file, its manifest unchanged
        handle.write("\nA line added by hand.\n")
    result = build_site(_config(week))
    site = week / "site"
    assert gone not in result.days and not (site / f"{gone:%Y/%m/%d}").exists()
    after = (site / day_path(DAYS[4])).read_text(encoding="utf-8")
    assert f"{gone:%d}/index.html" not in after and f"{DAYS[2]:%d}/index.html" in after
    assert gone.isoformat() not in (site / "2025" / "06" / "index.html").read_text(encoding="utf-8")
    assert (site / f"{DAYS[1]:%Y/%m/%d}/brief.md").read_bytes() == md.read_bytes()
    _same_as_from_scratch(week, tmp_path)
    # and it comes back when rendered again
    shutil.copytree(tmp_path / "fresh" / "reports" / DAYS[2].isoformat(),
                    week / "reports" / gone.isoformat())
    _rerender(week / "reports" / gone.isoformat(), day=gone)
    build_site(_config(week))
    _same_as_from_scratch(week, tmp_path)


def test_a_build_failing_while_it_is_remade_leaves_the_live_site(
        week: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen.publish import site as site_module

    _, second = _three_builds(week)
    live_files = _files(second.build_dir)
    _rerender(week / "reports" / DAYS[0].isoformat(), title="Changed")

    def broken(*args: object, **kwargs: object) -> str:
        raise DeliveryError("template exploded")

    with monkeypatch.context() as patch:
        patch.setattr(site_module, "brief_page", broken)
        with pytest.raises(DeliveryError):
            build_site(_config(week))
    assert (week / "site").resolve() == second.build_dir.resolve()
    assert _files(second.build_dir) == live_files
    _whole(second.build_dir)
    builds = [p for p in week.glob(".site-*") if p.is_dir() and not p.is_symlink()]
    assert builds == [second.build_dir]  # the half-remade build is not left behind
    build_site(_config(week))
    _same_as_from_scratch(week, tmp_path)


def test_a_build_killed_while_it_was_remade_is_not_remade_again(week: Path, tmp_path: Path) -> None:
    first, second = _three_builds(week)
    # what a publish killed mid-way leaves: its manifest removed first, a file half-written
    (first.build_dir / MANIFEST).unlink()
    (first.build_dir / "2025" / "06" / ".index.html.0123abcd.tmp").write_text("<html><body>half",
                                                                              encoding="utf-8")
    folders = {first.build_dir.stat().st_ino, second.build_dir.stat().st_ino}
    third = build_site(_config(week))
    assert third.build_dir.stat().st_ino not in folders  # built afresh
    assert not first.build_dir.exists() and second.build_dir.exists()
    _same_as_from_scratch(week, tmp_path)


def test_an_old_build_holding_a_file_publish_did_not_make_is_kept_not_remade(
        week: Path, tmp_path: Path) -> None:
    first, _ = _three_builds(week)
    (first.build_dir / "notes.txt").write_text("mine", encoding="utf-8")
    folder = first.build_dir.stat().st_ino
    third = build_site(_config(week))
    assert third.build_dir.stat().st_ino != folder
    assert (first.build_dir / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert any("kept the old build" in w and "notes.txt" in w for w in third.warnings), third.warnings
    assert not (week / "site" / "notes.txt").exists()
    _same_as_from_scratch(week, tmp_path)


def test_only_new_and_changed_manifests_are_read(week: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    aside = week / "later"
    shutil.move(week / "reports" / LAST.isoformat(), aside)
    build_site(_config(week))
    assert (week / DAYS_CACHE).is_file()
    shutil.move(aside, week / "reports" / LAST.isoformat())
    _rerender(week / "reports" / DAYS[1].isoformat(), summary="Summary, rendered again")
    read: list[str] = []
    real = sitedays_module.read_manifest

    def counted(folder: Path) -> ReportManifest | None:
        read.append(folder.name)
        return real(folder)

    monkeypatch.setattr(sitedays_module, "read_manifest", counted)
    build_site(_config(week))
    # the new day and the re-rendered one; the day before the new one for its own page
    assert sorted(set(read)) == sorted({LAST.isoformat(), DAYS[1].isoformat(), DAYS[-2].isoformat()})
    assert "Summary, rendered again" in (week / "site" / "index.html").read_text(encoding="utf-8")
    # a cache that cannot be read is no harm: every manifest is read again
    (week / DAYS_CACHE).write_text("{not json", encoding="utf-8")
    read.clear()
    build_site(_config(week))
    assert sorted(set(read)) == sorted(d.isoformat() for d in DAYS)
    _same_as_from_scratch(week, tmp_path)
    # nor is one edited to name a file outside the report: that day's manifest is read again
    kept = json.loads((week / DAYS_CACHE).read_text(encoding="utf-8"))
    kept["days"][DAYS[0].isoformat()]["published"].append("../../archive.sqlite")
    (week / DAYS_CACHE).write_text(json.dumps(kept), encoding="utf-8")
    read.clear()
    build_site(_config(week))
    assert read == [DAYS[0].isoformat()]
    _same_as_from_scratch(week, tmp_path)


def test_a_build_folder_unchanged_since_it_was_listed_is_not_listed_again(
        week: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Folders are remembered however recently they changed (publish waits 2 s: tests don't).
    monkeypatch.setattr(site_module, "SETTLE_NS", -10**12)
    _three_builds(week)
    build_site(_config(week))  # lists both builds, remembers their folders
    listed: list[str] = []
    real = os.scandir

    def counted(path: str) -> Any:
        listed.append(str(path))
        return real(path)

    monkeypatch.setattr(site_module.os, "scandir", counted)
    fourth = build_site(_config(week))
    old_day = f"{DAYS[0]:%Y/%m/%d}"
    builds = [p for p in listed if "/.site-" in p]
    assert builds and not [p for p in builds if old_day in p], builds  # only what changed
    _same_as_from_scratch(week, tmp_path)

    time.sleep(0.1)  # past the file system's clock tick: the change shows in the timestamps
    # a file dropped deep in the live build is still found, though its folder was remembered
    dropped = fourth.build_dir / old_day / "charts" / "notes.txt"
    dropped.write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match=r"notes\.txt"):
        build_site(_config(week))
    dropped.unlink()
    # and one in the build before it: that build is kept, not remade
    time.sleep(0.1)
    older = (week / "site").resolve()
    build_site(_config(week))  # `older` is now the build this next publish would remake
    time.sleep(0.1)
    (older / old_day / "notes.txt").write_text("mine", encoding="utf-8")
    sixth = build_site(_config(week))
    assert sixth.build_dir.stat().st_ino != older.stat().st_ino
    assert any("kept the old build" in w and "notes.txt" in w for w in sixth.warnings), sixth.warnings
    _same_as_from_scratch(week, tmp_path)
    # a cache that cannot be read is no harm: every folder is listed again
    (week / FOLDERS_CACHE).write_text("{not json", encoding="utf-8")
    listed.clear()
    build_site(_config(week))
    assert [p for p in listed if old_day in p]
    _same_as_from_scratch(week, tmp_path)
    # nor is one edited to name a folder that is not there: that folder is listed
    kept = json.loads((week / FOLDERS_CACHE).read_text(encoding="utf-8"))
    live = (week / "site").resolve().name
    kept["builds"][live][old_day][2].append("gone")
    (week / FOLDERS_CACHE).write_text(json.dumps(kept), encoding="utf-8")
    listed.clear()
    build_site(_config(week))
    assert [p for p in listed if p.endswith(f"{live}/{old_day}")]
    _same_as_from_scratch(week, tmp_path)
