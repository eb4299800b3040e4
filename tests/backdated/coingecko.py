"""CoinGecko /global has no free history: its current answer (numbers of the present) is
served as a trap, and must be neither asked nor shown for D."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakeupstream import Upstream

SHOWN: tuple[str, ...] = ()
NEVER = ("9,999", "99,999", "11.1%", "5.55")
NEVER_ASKED = ("api.coingecko.com/api/v3/global",)


def serve(upstream: Upstream, output: Path) -> None:
    current = {"data": {"active_cryptocurrencies": 99999, "markets": 9999,
                        "total_market_cap": {"usd": 9.999e12}, "total_volume": {"usd": 8.888e11},
                        "market_cap_percentage": {"btc": 11.1, "eth": 22.2},
                        "market_cap_change_percentage_24h_usd": 5.55, "updated_at": 1750000000}}
    upstream.add("https://api.coingecko.com/api/v3/global", json.dumps(current).encode())
