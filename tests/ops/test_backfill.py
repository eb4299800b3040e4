"""`reportgen backfill`: all seven sample days in two processes, then a resume that skips."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from reportgen.cli import app

DAYS = [f"2025-06-{d:02d}" for d in range(5, 12)]


def test_backfill_sample_week_then_resume(tmp_path: Path) -> None:
    output = tmp_path / "out"
    args = ["-o", str(output), "backfill", "--sample", "--from", DAYS[0], "--to", DAYS[-1],
            "--jobs", "2", "--formats", "md"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code in (0, 3), first.output
    for day in DAYS:
        assert (output / "reports" / day / "brief.md").is_file()
        assert day in first.output
    assert "skipped" not in first.output
    with sqlite3.connect(output / "archive.sqlite") as db:
        rows = db.execute("SELECT report_date, status FROM runs ORDER BY report_date").fetchall()
    assert [r[0] for r in rows] == DAYS and {r[1] for r in rows} <= {"complete", "partial"}

    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert again.output.count("skipped") == 7
    with sqlite3.connect(output / "archive.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == (7,)


def test_backfill_refuses_dates_outside_the_sample(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["-o", str(tmp_path), "backfill", "--sample",
                                      "--from", "2025-06-01", "--to", "2025-06-05"])
    assert result.exit_code == 2
    assert "2025-06-01 is outside" in result.output
