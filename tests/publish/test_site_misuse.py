"""`reportgen publish` as an operator misuses it: overlapping publishers, a hand-made file in
the site, a symlink under output/reports, a killed run's temp file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.dayguard import sweep_temp_files
from tests.conftest import write_config
from tests.publish.conftest import DAYS, LAST, day_path

ROOT = Path(__file__).resolve().parents[2]


def _publish(output: Path, *args: str) -> object:
    return CliRunner().invoke(app, ["-o", str(output), *args, "publish"])


def _check_site(output: Path) -> None:
    """The live site is whole: a symlink to an existing build holding every file its
    manifest lists, every day's page, and no half-made leftovers beside it."""
    site = output / "site"
    assert site.is_symlink(), "output/site is not the build symlink"
    assert site.resolve().is_dir(), f"output/site points at a missing build {os.readlink(site)}"
    manifest = json.loads((site / ".manifest.json").read_text(encoding="utf-8"))
    listed = {f for day in manifest["days"].values() for f in day["files"]}
    missing = [f for f in sorted(listed | set(manifest.get("files", []))) if not (site / f).is_file()]
    assert not missing, missing
    assert all((site / day_path(d)).is_file() for d in DAYS)
    builds = [p for p in output.glob(".site-*") if p.is_dir() and not p.is_symlink()]
    assert len(builds) <= 2, builds  # the live build and the one before it
    assert not list(output.glob(".site-link-*"))


def test_three_publishers_at_once_leave_a_whole_site(week: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")}
    env["PYTHONPATH"] = str(ROOT)
    for round_ in range(3):
        # A changed brief per day makes every build redo every page: publishers overlap more.
        # (On the code without the lock, 14 rounds in 15 went wrong this way, 12 in 15 without.)
        for md in sorted((week / "reports").glob("*/brief.md")):
            md.write_text(md.read_text(encoding="utf-8") + f"\n<!-- round {round_} -->\n",
                          encoding="utf-8")
        procs = [subprocess.Popen([sys.executable, "-m", "reportgen.cli", "-o", str(week), "publish"],
                                  cwd=week.parent, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
                 for _ in range(3)]
        outputs = [(p.communicate()[0].decode(), p.returncode) for p in procs]
        for text, code in outputs:
            assert code == 0, f"round {round_}: exit {code}: {text}"
            assert "Traceback" not in text, text
        _check_site(week)


def test_a_real_site_folder_is_refused_not_deleted(week: Path) -> None:
    site = week / "site"
    site.mkdir()
    (site / "CNAME").write_text("briefs.example.org\n")
    (site / "about.html").write_text("<p>hand made</p>\n")
    result = _publish(week)
    assert result.exit_code == 2, result.output
    assert "did not make" in result.output and "CNAME" in result.output
    assert "site.extra_files" in result.output
    assert "Traceback" not in result.output
    assert (site / "CNAME").read_text() == "briefs.example.org\n"
    assert (site / "about.html").is_file() and not site.is_symlink()


def test_extra_files_are_in_every_build_and_hand_made_files_are_kept(week: Path) -> None:
    extra = week.parent / "site-extra"
    (extra / ".well-known").mkdir(parents=True)
    (extra / "CNAME").write_text("briefs.example.org\n")
    (extra / "robots.txt").write_text("User-agent: *\n")
    (extra / ".well-known" / "security.txt").write_text("Contact: mailto:sec@example.org\n")
    config = write_config(week.parent / "config.yaml", {
        "output": str(week), "site": {"extra_files": str(extra)}})
    for _ in range(2):
        result = CliRunner().invoke(app, ["-c", str(config), "publish"])
        assert result.exit_code == 0, result.output
        site = week / "site"
        assert (site / "CNAME").read_text() == "briefs.example.org\n"
        assert (site / ".well-known" / "security.txt").is_file()
        assert oct((site / "robots.txt").stat().st_mode & 0o777) == oct(0o644)

    # A file dropped into the live site by hand: publish refuses rather than lose it later.
    (week / "site" / "about.html").write_text("<p>hand made</p>\n")
    live = (week / "site").resolve()
    result = CliRunner().invoke(app, ["-c", str(config), "publish"])
    assert result.exit_code == 2, result.output
    assert "about.html" in result.output
    assert (week / "site").resolve() == live and (live / "about.html").is_file()

    # An extra file named like a page publish makes is refused too.
    (week / "site" / "about.html").unlink()
    (extra / "index.html").write_text("<p>mine</p>\n")
    result = CliRunner().invoke(app, ["-c", str(config), "publish"])
    assert result.exit_code == 2, result.output
    assert "index.html" in result.output and "site.extra_files" in result.output


def test_a_real_folder_made_by_an_older_publish_is_migrated(week: Path) -> None:
    assert _publish(week).exit_code == 0
    site = week / "site"
    build = site.resolve()
    site.unlink()
    shutil.copytree(build, site)  # the older layout: the site itself was a folder
    shutil.rmtree(build)
    result = _publish(week)
    assert result.exit_code == 0, result.output
    _check_site(week)


def test_symlinks_under_reports_are_not_published(week: Path) -> None:
    secret = week.parent / "secret.txt"
    secret.write_text("root-only secret\n")
    secret.chmod(0o600)
    day = week / "reports" / LAST.isoformat()
    (day / "brief.md").unlink()
    (day / "brief.md").symlink_to(secret)
    (day / "charts" / "extra.png").symlink_to(secret)
    elsewhere = week.parent / "elsewhere"
    shutil.copytree(week / "reports" / DAYS[0].isoformat(), elsewhere)
    (week / "reports" / "2025-06-04").symlink_to(elsewhere, target_is_directory=True)

    result = _publish(week)
    assert result.exit_code == 0, result.output
    assert "symlink" in result.output
    site = week / "site"
    assert not (site / f"{LAST:%Y/%m/%d}/brief.md").exists()
    assert not (site / f"{LAST:%Y/%m/%d}/charts/extra.png").exists()
    assert not (site / "2025/06/04").exists()
    for path in site.rglob("*"):
        if path.is_file():
            assert b"root-only secret" not in path.read_bytes(), path


def test_a_killed_runs_chart_temp_file_is_not_published_and_is_swept(week: Path) -> None:
    charts = week / "reports" / LAST.isoformat() / "charts"
    leftover = charts / ".liqmap_btc_cex.png.1a2b3c4d.tmp"
    leftover.write_bytes(b"half a chart")
    assert _publish(week).exit_code == 0
    assert not list((week / "site").rglob("*.tmp"))

    assert sweep_temp_files(charts.parent) == [leftover]
    assert not leftover.exists()
