"""Build the bundled sample's Bitcoin hashrate payloads for 2025-06-05 … 2025-06-11.

Constructed, not recorded, in the exact shape of the real answer in
tests/fixtures/market/mempool_hashrate_3d_mainnet_docs_example_2022-05-16.json (mempool.space
`GET /api/v1/mining/hashrate/3d`, provenance in tests/fixtures/PROVENANCE.md): `hashrates`
rows stamped 00:00 UTC with integer `avgHashrate` in H/s, one `difficulty` item, the current
figures. Each day's answer is what a run on that day (`/3d`) asks: the rows of D − 2 … D.
The values are plausible for June 2025 (~0.9 ZH/s), not history. Deterministic: run
`python scripts/sample/hashrate.py` to rebuild.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_source

DAYS = [date(2025, 6, 5) + timedelta(days=i) for i in range(7)]
URL = "https://mempool.space/api/v1/mining/hashrate/3d"
# Daily average hashrate, EH/s, for the sample days and the two before them.
EHS = {date(2025, 6, 3): 884.6, date(2025, 6, 4): 902.1, date(2025, 6, 5): 871.9,
       date(2025, 6, 6): 915.3, date(2025, 6, 7): 896.0, date(2025, 6, 8): 931.7,
       date(2025, 6, 9): 908.4, date(2025, 6, 10): 887.2, date(2025, 6, 11): 924.5}
DIFFICULTY = 126_411_437_451_912.23  # the difficulty epoch of late May 2025
EPOCH = (datetime(2025, 5, 31, 5, 41, 12, tzinfo=UTC), 899_136)


def unix(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=UTC).timestamp())


def hashes(ehs: float) -> int:
    """EH/s → H/s as the integer mempool.space prints (beyond 2^64)."""
    return round(ehs * 1000) * 10**15


def payload(day: date) -> dict[str, object]:
    rows = [{"timestamp": unix(d), "avgHashrate": hashes(EHS[d])}
            for d in (day - timedelta(days=2), day - timedelta(days=1), day)]
    stamp, height = EPOCH
    return {
        "hashrates": rows,
        "difficulty": [{"timestamp": int(stamp.timestamp()), "difficulty": DIFFICULTY,
                        "height": height}],
        "currentHashrate": hashes(EHS[day] + 6.3),
        "currentDifficulty": DIFFICULTY,
    }


def main() -> None:
    for day in DAYS:
        write_source(day, "hashrate", [{"file": "hashrate.json", "url": URL,
                                        "body": payload(day)}])


if __name__ == "__main__":
    main()
