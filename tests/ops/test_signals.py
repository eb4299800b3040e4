"""SIGTERM to `reportgen schedule`: the date in progress finishes, then a clean exit."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _runs(archive: Path) -> list[tuple[str, str]]:
    if not archive.exists():
        return []
    try:
        with sqlite3.connect(archive, timeout=5) as db:
            return db.execute("SELECT report_date, status FROM runs ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # schema not created yet
        return []


def test_sigterm_finishes_current_job_and_exits(tmp_path: Path) -> None:
    output = tmp_path / "out"
    config = tmp_path / "config.yaml"
    config.write_text(f"output: {output}\nschedule: {{time: '07:00', catch_up_days: 1}}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")}
    env["REPORTGEN_NOW"] = "2025-06-11T08:00:00+00:00"  # due: 2025-06-10 and 2025-06-11
    proc = subprocess.Popen(
        [sys.executable, "-m", "reportgen.cli", "--config", str(config), "schedule", "--sample",
         "--formats", "md"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while not _runs(output / "archive.sqlite"):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no run started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "received SIGTERM" in err and "scheduler stopped" in err
    runs = _runs(output / "archive.sqlite")
    assert runs[0][0] == "2025-06-10"
    assert all(status in ("complete", "partial") for _, status in runs), runs
