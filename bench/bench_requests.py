"""Requests per source, the slowest request and peak memory of one live run over loopback.

Serves the recorded sample day (2025-06-11) from the strict fake upstream on 127.0.0.1 and
runs the whole pipeline (every source, liquidation included; html, pdf, md) at the shipped
HTTP defaults, collecting every exchange the run's Http made. The `--sample` run makes no
HTTP request at all (its payloads are bundled). Asserts nothing.

Run: .venv/bin/python bench/bench_requests.py
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reportgen.clock import FixedClock  # noqa: E402
from reportgen.collect import CollectOptions  # noqa: E402
from reportgen.config import config_from_mapping  # noqa: E402
from reportgen.pipeline import run  # noqa: E402
from tests.conftest import live_config  # noqa: E402
from tests.fakeupstream import start_upstream  # noqa: E402

DAY = date(2025, 6, 11)


def main() -> None:
    upstream = start_upstream()
    upstream.load_day(DAY)
    exchanges: list[tuple[str, str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = live_config(upstream, Path(tmp) / "out")
        data.pop("http")  # the shipped defaults
        config = config_from_mapping(data)
        os.environ.pop("REPORTGEN_NOW", None)
        clock = FixedClock(__import__("datetime").datetime.fromisoformat("2025-06-11T23:58:00+00:00"))
        start = time.perf_counter()
        result = run(config, DAY, clock=clock,
                     options=CollectOptions(secrets={}, exchanges=exchanges),
                     send=False, publish=False)
        took = time.perf_counter() - start
    upstream.close()
    per_source = Counter(source for source, _, _ in exchanges)
    print(f"run {DAY}: complete={result.complete}, {took:.1f} s, {len(exchanges)} requests, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    for source, count in sorted(per_source.items()):
        slowest = max((s for name, _, s in exchanges if name == source), default=0.0)
        print(f"  {source:<16} {count:>4} requests, slowest {slowest * 1000:.0f} ms")
    source, where, seconds = max(exchanges, key=lambda e: e[2])
    print(f"slowest request: {source} {where} {seconds * 1000:.0f} ms")
    if upstream.unmatched:
        print(f"unrecorded requests: {len(upstream.unmatched)} (first: {upstream.unmatched[0]})")


if __name__ == "__main__":
    main()
