"""What the backdated end-to-end test (tests/core/test_backdated.py) serves for each
registered source: a run on TODAY for the past DAY.

One module per source, named like it (`tests/backdated/<name>.py`), found by the test
through the registry, so the test itself is never edited for a new source. A source that
answers past dates (`supports_past = True`) must have one; it provides:

- `serve(upstream, output)`: the answers its historical requests get (as asked on TODAY for
  DAY) and, where the upstream has one, a "current" answer whose numbers must never reach
  the past brief;
- `SHOWN`: text the brief must show for DAY (the historical numbers);
- `NEVER`: text of the current answers, which must not appear;
- `NEVER_ASKED`: request paths (host/path, no query) a past date must not ask;
- or `DISABLED = "why"` instead, which switches it off in the test (said in its output).

A source without history (`supports_past = False`) needs none: the test checks that it asked
nothing for DAY and is shown unavailable, saying it has no history. It may still have a
module to serve a current-answer trap.
"""

from __future__ import annotations

import importlib
import importlib.util
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Protocol

from tests.fakeupstream import Upstream

TODAY = date(2025, 6, 20)
DAY = date(2025, 6, 11)


def unix(day: date) -> int:
    """Midnight UTC of `day` as a Unix timestamp."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


class Answers(Protocol):
    """What a module of this package provides (or `DISABLED` alone)."""

    SHOWN: tuple[str, ...]
    NEVER: tuple[str, ...]
    NEVER_ASKED: tuple[str, ...]

    def serve(self, upstream: Upstream, output: Path) -> None: ...


def answers_for(name: str) -> ModuleType | None:
    """The module for source `name`, or None when there is none."""
    module = f"{__name__}.{name}"
    if importlib.util.find_spec(module) is None:
        return None
    return importlib.import_module(module)


def disabled(module: ModuleType | None) -> str | None:
    """Why a source is off in the backdated test (None: it runs)."""
    return getattr(module, "DISABLED", None) if module is not None else None


def missing_answers(names_with_history: list[str]) -> list[str]:
    """Of these sources (those answering past dates), the ones with no module here."""
    return [name for name in names_with_history if answers_for(name) is None]
