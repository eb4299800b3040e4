"""Helpers for the operations tests: a movable clock and a fast fake runner."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from reportgen.archive import Archive
from reportgen.config import Config, config_from_mapping


class MovableClock:
    """A clock the test moves by hand (the injected "now" of the scheduler)."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def now(self) -> datetime:
        return self.instant


def make_config(output: Path, **schedule: Any) -> Config:
    zone = schedule.pop("zone", "UTC")
    return config_from_mapping({"output": str(output), "timezone": zone, "schedule": schedule})


class FakeRunner:
    """Stands in for pipeline.run: records each call and leaves what a finished run leaves
    (a brief file and a finished row in the runs table), so `is_done` sees it."""

    def __init__(self, config: Config, on_call: Callable[[date], None] | None = None) -> None:
        self.config = config
        self.calls: list[date] = []
        self.on_call = on_call
        self._lock = threading.Lock()

    def __call__(self, day: date) -> object:
        with self._lock:
            self.calls.append(day)
        if self.on_call:
            self.on_call(day)
        write_done(self.config, day)
        return None


def write_done(config: Config, day: date) -> None:
    relative = f"reports/{day}/brief.md"
    path = config.output / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"brief {day}\n")
    with Archive(config.archive_path) as archive:
        run_id = archive.start_run(day)
        archive.finish_run(run_id, "complete", {"indicators": "ok"},
                           {"md": {"status": "ok", "path": relative}})


@pytest.fixture
def output(tmp_path: Path) -> Path:
    return tmp_path / "out"
