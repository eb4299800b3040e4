"""Realised liquidations of D come from the frames the recorder archived during D (the
sample's stream frames); nothing is asked of the venues for a past date."""

from __future__ import annotations

from pathlib import Path

from tests.backdated import DAY
from tests.fakeupstream import Upstream
from tests.realised.recorded import record_sample_day

SHOWN = ("Total liquidated",)
NEVER: tuple[str, ...] = ()
NEVER_ASKED: tuple[str, ...] = ()


def serve(upstream: Upstream, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    record_sample_day(output / "archive.sqlite", DAY)
