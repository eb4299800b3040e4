"""File locks in the output folder, so two processes never produce the same thing twice.

    output/locks/<YYYY-MM-DD>.lock   held while one process runs one report date
    output/locks/scheduler.lock      held by the one `reportgen schedule` allowed per folder

Locks are `filelock` (flock on POSIX): the kernel drops them when a process dies, even by
SIGKILL, so a crash never leaves a stale lock behind. The lock file itself stays (harmless).
Within one process the same path gives the same lock object (`is_singleton`), and a thread
may take it again while it holds it: the scheduler holds a date's lock while it checks
"already done?" and then calls `pipeline.run`, which takes the same lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from filelock import FileLock, Timeout

from reportgen.errors import LockError

LOCKS_DIR = "locks"


def lock_path(output: Path, name: str) -> Path:
    """The lock file `name` (without suffix) in the output folder's locks/ directory."""
    folder = output / LOCKS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.lock"


@contextmanager
def _held(path: Path, wait: float, refusal: str) -> Iterator[None]:
    lock = FileLock(path, is_singleton=True)
    try:
        # timeout 0 means a single try: refuse at once rather than queue behind the holder.
        lock.acquire(timeout=wait)
    except Timeout:
        raise LockError(refusal) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def date_lock(output: Path, day: date, *, wait: float = 0) -> Iterator[None]:
    """Hold the lock of report date `day`, waiting up to `wait` seconds, else LockError."""
    path = lock_path(output, day.isoformat())
    with _held(path, wait, f"{day} is being produced by another process (lock {path} is held); "
                           "try again when it has finished"):
        yield


@contextmanager
def scheduler_lock(output: Path, *, wait: float = 0) -> Iterator[None]:
    """Hold the one-scheduler-per-output-folder lock, else LockError."""
    path = lock_path(output, "scheduler")
    with _held(path, wait, f"another `reportgen schedule` is running on {output} (lock {path} "
                           "is held); stop it first"):
        yield


def is_locked(output: Path, day: date) -> bool:
    """Whether some process holds `day`'s lock right now (a probe: takes and drops it)."""
    try:
        with date_lock(output, day, wait=0):
            return False
    except LockError:
        return True


@contextmanager
def every_lock(output: Path) -> Iterator[None]:
    """Hold the scheduler lock and every date lock there is: for work on the archive that no
    run may overlap (recovery). LockError names the first one held by another process."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(scheduler_lock(output))
        for path in sorted((output / LOCKS_DIR).glob("*.lock")):
            if path.stem == "scheduler":
                continue
            stack.enter_context(_held(path, 0, f"{path.stem} is being produced by another process "
                                                f"(lock {path} is held); wait until it has finished"))
        yield
