"""Farside's full tables (every day since launch): the sample day's recording answers."""

from __future__ import annotations

from pathlib import Path

from tests.backdated import DAY
from tests.fakeupstream import Upstream

SHOWN = ("+164.6",)  # BTC ETF total for 2025-06-11
NEVER: tuple[str, ...] = ()
NEVER_ASKED: tuple[str, ...] = ()


def serve(upstream: Upstream, output: Path) -> None:
    upstream.load_day(DAY, ["etf_farside"])
