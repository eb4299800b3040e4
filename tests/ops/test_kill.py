"""A run killed (SIGKILL) mid-render leaves a consistent archive and no half-written output;
the next run completes the day."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.config import config_from_mapping
from reportgen.dayguard import is_done

DAY = date(2025, 6, 11)
ROOT = Path(__file__).resolve().parents[2]


def _wait_for(path: Path, proc: subprocess.Popen[bytes], limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    while not path.exists():
        assert proc.poll() is None, f"driver exited early: {proc.returncode}"
        assert time.monotonic() < deadline, "the run never reached the render phase"
        time.sleep(0.05)


def test_sigkill_mid_render_then_next_run_completes(tmp_path: Path) -> None:
    output, marker = tmp_path / "out", tmp_path / "rendering"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ops.killable_run", str(marker), "-o", str(output), "run",
         "--sample", "--date", DAY.isoformat(), "--formats", "html,md"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(marker, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    folder = output / "reports" / DAY.isoformat()
    with sqlite3.connect(output / "archive.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT status, finished_at FROM runs").fetchall()
    assert rows == [("running", None)]  # the killed run: started, never finished
    briefs = sorted(p.name for p in folder.glob("brief.*"))
    assert len(briefs) == 1  # the first file is complete; the second never replaced
    temps = list(folder.glob(".*.tmp"))
    assert temps and all(not p.name.startswith("brief.") for p in temps)
    config = config_from_mapping({"output": str(output)})
    assert not is_done(config, DAY)
    status = CliRunner().invoke(app, ["-o", str(output), "status", "--days", "100000"])
    assert "interrupted" in status.output

    result = CliRunner().invoke(app, ["-o", str(output), "run", "--sample", "--date", DAY.isoformat(),
                                      "--formats", "html,md"])
    assert result.exit_code in (0, 3), result.output
    assert sorted(p.name for p in folder.glob("brief.*")) == ["brief.html", "brief.md"]
    assert not list(folder.glob(".*.tmp"))  # swept under the date lock
    assert (folder / "brief.md").read_text().strip()
    assert is_done(config, DAY)
    with sqlite3.connect(output / "archive.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
