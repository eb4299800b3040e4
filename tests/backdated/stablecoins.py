"""DefiLlama: the daily chart around D (US$254.4 B on D); the current total (US$999.9 B)
must be neither asked nor shown."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.backdated import DAY, unix
from tests.fakeupstream import Upstream

SHOWN = ("US$254.4 B",)
NEVER = ("999.9",)
NEVER_ASKED = ("stablecoins.llama.fi/stablecoins",)


def _chart(_query: str, _body: bytes) -> tuple[int, bytes]:
    rows = [{"date": str(unix(DAY + timedelta(days=k))),
             "totalCirculatingUSD": {"peggedUSD": (254.4 + 0.1 * k) * 1e9, "peggedEUR": 2e8}}
            for k in range(-10, 10)]
    return 200, json.dumps(rows).encode()


def serve(upstream: Upstream, output: Path) -> None:
    upstream.handle("https://stablecoins.llama.fi/stablecoincharts/all", _chart)
    assets = [{"pegType": "peggedUSD", "circulating": {"peggedUSD": 999.9e9}}]
    upstream.add("https://stablecoins.llama.fi/stablecoins",
                 json.dumps({"peggedAssets": assets}).encode())
