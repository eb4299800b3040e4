"""Killing `reportgen backfill` (SIGKILL, as an OOM killer or `kill -9` would) ends its
worker processes too, so no date stays locked by an orphan."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from reportgen.locks import is_locked
from tests.ops.procs import alive as _alive
from tests.ops.procs import descendants as _descendants
from tests.ops.procs import processes as _processes
from tests.ops.procs import wait_until as _wait_until

ROOT = Path(__file__).resolve().parents[2]
FIRST, LAST = date(2025, 6, 5), date(2025, 6, 11)

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def test_killing_backfill_ends_its_workers(tmp_path: Path) -> None:
    output = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "reportgen.cli", "-o", str(output), "backfill", "--sample",
         "--from", FIRST.isoformat(), "--to", LAST.isoformat(), "--jobs", "2", "--formats", "md"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    family: set[int] = set()

    def workers() -> set[int]:
        """The forkserver's children (grandchildren of backfill) that are alive."""
        family.update(_descendants(proc.pid))
        table = _processes()
        return _alive({pid for pid in family if table.get(pid, (0, ""))[0] in family})

    def working() -> bool:
        if not workers() or not (output / "archive.sqlite").exists():
            return False
        db = sqlite3.connect(output / "archive.sqlite", timeout=5)
        try:
            return bool(db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0])
        except sqlite3.OperationalError:  # the schema is not there yet
            return False
        finally:
            db.close()

    try:
        _wait_until(working, "backfill's workers never started collecting", proc)
        busy = workers()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert busy  # workers were alive and collecting when backfill was killed

    try:
        _wait_until(lambda: not _alive(family), f"orphaned workers still running: {_alive(family)}")
    finally:
        for pid in _alive(family):  # on failure, do not leave them running after the test
            os.kill(pid, signal.SIGKILL)
    day, days = FIRST, []
    while day <= LAST:
        days.append(day)
        day += timedelta(days=1)
    assert not [d for d in days if is_locked(output, d)]
