"""Funding history (Binance, Bybit, OKX): a past date asks the same history request a run on
the day makes, so the sample day's recordings answer it."""

from __future__ import annotations

from pathlib import Path

from tests.backdated import DAY
from tests.fakeupstream import Upstream

# Binance's last settlement of 2025-06-11 (16:00 UTC) and its annualised rate.
SHOWN = ("| BTC funding, Binance[^", "0.0070% (7.66% a year")
NEVER: tuple[str, ...] = ()
NEVER_ASKED = ("fapi.binance.com/fapi/v1/premiumIndex",)


def serve(upstream: Upstream, output: Path) -> None:
    upstream.load_day(DAY, ["funding"])
