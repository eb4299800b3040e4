"""Publishing the local site with a long history: does the daily publish scale with the new
day, or with the history?

Renders the sample's last day once, then makes N report folders of it (2025-06-11 backwards,
each with its own manifest date; the files are hard links, as like a real day's in size),
builds the site once, and prints, for N = 7, 90, 365 and 730 days of history (nothing is
asserted):

- one more day: a new report folder added, then `build_site` (the daily case, measured after
  two such publishes: from the third publish on, the build before the previous one is remade
  in place, as every day in production);
- nothing changed: `build_site` again;
- the size of index.html, and of the largest month page.

Each timed publish starts `--pause` seconds after the one before (2.5 s by default, untimed):
publish lists again a folder changed less than 2 s before it last looked (a change in the
same clock tick could leave its timestamps as they were), and a daily publish comes a day
after the last. Wall and CPU seconds (this process) are medians of `--runs`.

Run: .venv/bin/python bench/bench_publish_history.py [--days 7,90,365,730] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reportgen.config import config_from_mapping  # noqa: E402
from reportgen.manifest import MANIFEST_NAME, ReportManifest  # noqa: E402
from reportgen.publish.site import build_site  # noqa: E402

LAST = date(2025, 6, 11)


def render_one(output: Path) -> Path:
    """The sample's last day, rendered in every format; its report folder."""
    from typer.testing import CliRunner

    from reportgen.cli import app

    result = CliRunner().invoke(app, ["-o", str(output), "run", "--sample", "--no-send",
                                      "--no-publish"])
    if result.exit_code not in (0, 3):
        raise SystemExit(result.output)
    return output / "reports" / LAST.isoformat()


def copy_day(source: Path, reports: Path, day: date) -> None:
    """`source`'s report as day `day`: its files hard-linked, its manifest rewritten."""
    target = reports / day.isoformat()
    shutil.copytree(source, target, copy_function=os.link)
    (target / MANIFEST_NAME).unlink()
    manifest = ReportManifest.model_validate_json((source / MANIFEST_NAME).read_text())
    moved = manifest.model_copy(update={"day": day, "title": manifest.title.replace(
        LAST.isoformat(), day.isoformat())})
    (target / MANIFEST_NAME).write_text(moved.model_dump_json(indent=1))


def paused(fn: Callable[[], object], runs: int, pause: float) -> tuple[float, float]:
    """Median wall and CPU seconds of `runs` calls of `fn`, each `pause` s after the last."""
    wall, cpu = [], []
    for _ in range(runs):
        time.sleep(pause)
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def measure(source: Path, days: int, runs: int,
            pause: float) -> tuple[tuple[float, float], tuple[float, float], int, int]:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder)
        reports = output / "reports"
        reports.mkdir()
        first = LAST - timedelta(days=days)
        for i in range(days):
            copy_day(source, reports, first + timedelta(days=i))
        config = config_from_mapping({"output": str(output),
                                      "site": {"url": "https://briefs.example.org/"}})
        build_site(config)
        added = [LAST]

        def one_more_day() -> None:
            day = added[-1]
            copy_day(source, reports, day)
            build_site(config)
            added.append(day + timedelta(days=1))

        # the steady state: a build to remake exists, both builds' folders are remembered
        paused(one_more_day, 2, pause)
        new_day = paused(one_more_day, runs, pause)
        unchanged = paused(lambda: build_site(config), runs, pause)
        site = output / "site"
        months = [p.stat().st_size for p in site.glob("????/??/index.html")]
        return new_day, unchanged, (site / "index.html").stat().st_size, max(months)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", default="7,90,365,730")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pause", type=float, default=2.5)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as folder:
        source = render_one(Path(folder))
        print(f"{'history':>8} {'one more day (wall, CPU)':>25} {'no change (wall, CPU)':>22} "
              f"{'index.html':>11} {'largest month':>14}")
        for days in (int(d) for d in args.days.split(",")):
            new_day, unchanged, index, month = measure(source, days, args.runs, args.pause)
            print(f"{days:>5} d  {new_day[0]:>13.3f} s {new_day[1]:>6.3f} s "
                  f"{unchanged[0]:>11.3f} s {unchanged[1]:>6.3f} s {index / 1024:>8.1f} kB "
                  f"{month / 1024:>11.1f} kB")


if __name__ == "__main__":
    main()
