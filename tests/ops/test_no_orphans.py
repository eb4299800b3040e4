"""A `run` or `backfill` killed with SIGKILL, at any moment, leaves no process behind: not
the render pool's fork server, its workers, nor multiprocessing's resource tracker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from tests.ops.procs import alive, descendants, processes, wait_until

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2025, 6, 11)

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def _command_line(name: str) -> str:
    try:
        return Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _kill_when(args: list[str], moment: Callable[[subprocess.Popen[bytes], set[int], Path], bool],
               tmp_path: Path) -> set[int]:
    """Start `args`, SIGKILL it once `moment(proc, family, tmp_path)` holds, and return every
    process it had started (seen by polling its process tree until the kill)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    family: set[int] = set()

    def ready() -> bool:
        family.update(descendants(proc.pid))
        return moment(proc, family, tmp_path)

    try:
        wait_until(ready, "the moment to kill never came", proc, limit_s=120)
        family.update(descendants(proc.pid))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return family


def _none_left(family: set[int]) -> None:
    try:
        wait_until(lambda: not alive(family), f"left running: {alive(family)}")
    finally:
        for pid in alive(family):  # on failure, do not leave them running after the test
            os.kill(pid, signal.SIGKILL)


def _fork_server_started(proc: subprocess.Popen[bytes], family: set[int], _: Path) -> bool:
    return any("forkserver" in _command_line(str(pid)) for pid in family)


def _workers_started(proc: subprocess.Popen[bytes], family: set[int], _: Path) -> bool:
    table = processes()
    servers = {pid for pid in family if "forkserver" in _command_line(str(pid))
               and table.get(pid, (0, ""))[0] == proc.pid}
    return len([pid for pid in family if table.get(pid, (0, ""))[0] in servers]) >= 2


def _mid_render(proc: subprocess.Popen[bytes], family: set[int], tmp_path: Path) -> bool:
    return (tmp_path / "rendering").exists()


@pytest.mark.parametrize("moment", [_fork_server_started, _workers_started, _mid_render],
                         ids=["fork-server-importing", "workers-ready", "mid-render"])
def test_killed_run_leaves_no_process(tmp_path: Path,
                                      moment: Callable[[subprocess.Popen[bytes], set[int], Path], bool],
                                      ) -> None:
    # tests.ops.killable_run freezes just before the second brief file is put in place.
    family = _kill_when(["-m", "tests.ops.killable_run", str(tmp_path / "rendering"),
                         "-o", str(tmp_path / "out"), "run", "--sample", "--date", DAY.isoformat(),
                         "--formats", "html,md,pdf", "--no-send", "--no-publish"], moment, tmp_path)
    assert any("forkserver" in _command_line(str(pid)) for pid in family) or not family
    _none_left(family)


def test_killed_backfill_mid_render_leaves_no_process(tmp_path: Path) -> None:
    def rendering(proc: subprocess.Popen[bytes], family: set[int], tmp: Path) -> bool:
        # a brief written: the render phase runs, with a render pool inside each worker
        return any((tmp / "out" / "reports").glob("*/brief.md"))

    family = _kill_when(["-m", "reportgen.cli", "-o", str(tmp_path / "out"), "backfill", "--sample",
                         "--from", "2025-06-05", "--to", "2025-06-11", "--jobs", "2",
                         "--formats", "md,pdf"], rendering, tmp_path)
    assert len(family) >= 4  # backfill's pool, and a render pool in its workers
    _none_left(family)
