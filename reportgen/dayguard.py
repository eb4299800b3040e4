"""The guard around one run of one report date: lock, clean-up, run record.

`pipeline.run` enters `day_guard` before it collects anything:

1. takes the date lock (output/locks/<date>.lock), so a second scheduler or a manual run of
   the same date waits or refuses instead of producing (and sending) it twice;
2. removes temporary files a killed run left in the report folder and below it (charts/):
   the OutputWriter writes `.brief.html.XXXX.tmp` then renames; a SIGKILL between the two
   leaves the temp file;
3. records the run in the archive's `runs` table: started, then finished with a status per
   section and per channel, or "failed" with the error. A run killed outright stays
   "running" with no end time; `reportgen status` shows it as interrupted.

A report date is **done** when a finished run with a brief (status complete or partial)
exists for it and every file that run wrote is still there. The scheduler's catch-up and
`reportgen backfill` skip done dates; `--force` does not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.archive import Archive
from reportgen.locks import date_lock

if TYPE_CHECKING:
    from reportgen.config import Config

log = logging.getLogger(__name__)

DONE_STATUSES = ("complete", "partial")


class RunRecord:
    """One row of the `runs` table, finished through `finish` (or `fail`)."""

    def __init__(self, config: Config, day: date, *, sample: bool) -> None:
        self.config, self.day = config, day
        with Archive(config.archive_path) as archive:
            self.id = archive.start_run(day, sample=sample)
        self.finished = False

    def finish(self, *, complete: bool, sections: dict[str, str], files: list[Path],
               published: dict[str, Any]) -> None:
        """Record the outcome: complete or partial, each section's status ("ok", "partial:
        …", "unavailable: …"), each brief file written and each publish channel's outcome
        (channel → its JSON-able report). Plain data: the guard knows nothing of the pipeline."""
        root = self.config.output.resolve()
        channels: dict[str, Any] = {}
        for path in files:
            if path.name.startswith("brief."):
                channels[path.suffix.lstrip(".")] = {
                    "status": "ok", "path": str(path.resolve().relative_to(root)),
                }
        channels.update(published)
        status = "complete" if complete else "partial"
        self._write(status, sections, channels)
        log.info("%s: run %d %s", self.day, self.id, status)

    def fail(self, error: BaseException) -> None:
        self._write("failed", {}, {"error": f"{type(error).__name__}: {error}"})
        log.warning("%s: run %d failed: %s", self.day, self.id, error)

    def _write(self, status: str, sections: dict[str, Any], channels: dict[str, Any]) -> None:
        with Archive(self.config.archive_path) as archive:
            archive.finish_run(self.id, status, sections, channels)
        self.finished = True


def sweep_temp_files(folder: Path) -> list[Path]:
    """Delete the OutputWriter's leftover temp files (`.<name>.<random>.tmp`) in `folder` and
    below it (charts/ too).

    Only safe while holding the folder's date lock: then nobody else is writing there."""
    if not folder.is_dir():
        return []
    removed = []
    for path in folder.rglob(".*.tmp"):
        if path.is_file() or path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        log.info("removed %d temp files left by an interrupted run in %s", len(removed), folder)
    return removed


@contextmanager
def day_guard(config: Config, day: date, *, sample: bool, report_dir: str) -> Iterator[RunRecord]:
    """Lock `day`, sweep its report folder, record the run (see the module docstring)."""
    with date_lock(config.output, day, wait=config.schedule.lock_wait_s):
        sweep_temp_files(config.output / report_dir)
        record = RunRecord(config, day, sample=sample)
        try:
            yield record
        except BaseException as exc:  # KeyboardInterrupt too: the row must not stay "running"
            if not record.finished:
                record.fail(exc)
            raise


def is_done(config: Config, day: date, archive: Archive | None = None) -> bool:
    """Whether `day` has a finished run with a brief whose files all still exist."""
    if archive is None:
        with Archive(config.archive_path) as own:
            return is_done(config, day, own)
    for channels in archive.finished_runs(day, DONE_STATUSES):
        paths = [c["path"] for c in channels.values() if isinstance(c, dict) and "path" in c]
        if paths and all((config.output / p).is_file() for p in paths):
            return True
    return False
