"""alternative.me: `limit=N` rows back to TODAY; D and D − 1 carry the past numbers, every
other day (TODAY included) 12, "Extreme Fear"."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

from tests.backdated import DAY, TODAY, unix
from tests.fakeupstream import Upstream

SHOWN = ("68 (Greed)", "▼ −3 pts")
NEVER = ("Extreme Fear",)
NEVER_ASKED: tuple[str, ...] = ()


def _fng(query: str, _body: bytes) -> tuple[int, bytes]:
    limit = int(parse_qs(query)["limit"][0])
    rows = []
    for back in range(limit):
        d = TODAY - timedelta(days=back)
        value = {DAY: 68, DAY - timedelta(days=1): 71}.get(d, 12)  # today: 12, Extreme Fear
        label = "Greed" if value > 55 else "Extreme Fear"
        rows.append({"value": str(value), "value_classification": label, "timestamp": str(unix(d))})
    body = {"name": "Fear and Greed Index", "data": rows, "metadata": {"error": None}}
    return 200, json.dumps(body).encode()


def serve(upstream: Upstream, output: Path) -> None:
    upstream.handle("https://api.alternative.me/fng/", _fng)
