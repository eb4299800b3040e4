"""mempool.space's trailing month up to TODAY: only D and D − 1 carry the day's numbers
(924.5 and 887.2 EH/s); every other day, TODAY included, 999.9 EH/s."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.backdated import DAY, TODAY, unix
from tests.fakeupstream import Upstream

SHOWN = ("924 EH/s (daily average of 2025-06-11)", "▲ +4.20%")
NEVER = ("1,000 EH/s",)  # 999.9 EH/s as printed
NEVER_ASKED: tuple[str, ...] = ()


def _hashrate(_query: str, _body: bytes) -> tuple[int, bytes]:
    rows = [{"timestamp": unix(TODAY - timedelta(days=back)),
             "avgHashrate": {DAY: 924_500, DAY - timedelta(days=1): 887_200}.get(
                 TODAY - timedelta(days=back), 999_900) * 10**15}
            for back in range(30, -1, -1)]
    return 200, json.dumps({"hashrates": rows, "difficulty": [], "currentHashrate": 1,
                            "currentDifficulty": 1}).encode()


def serve(upstream: Upstream, output: Path) -> None:
    upstream.handle("https://mempool.space/api/v1/mining/hashrate/1m", _hashrate)
