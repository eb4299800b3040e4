"""The process tree, read from Linux /proc: for tests that kill a command and look for what
it left running."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, state) of every process now."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        found[int(entry.name)] = (int(fields[1]), fields[0])
    return found


def descendants(root: int) -> set[int]:
    table = processes()
    family, grew = {root}, True
    while grew:
        more = {pid for pid, (ppid, _) in table.items() if ppid in family} - family
        family |= more
        grew = bool(more)
    return family - {root}


def alive(pids: set[int]) -> set[int]:
    table = processes()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


def wait_until(condition: object, what: str, proc: subprocess.Popen[bytes] | None = None,
              limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():  # type: ignore[operator]
        if proc is not None:
            assert proc.poll() is None, f"the command exited early: {proc.returncode}"
        assert time.monotonic() < deadline, what
        time.sleep(0.05)
