"""One hostile upstream at the default HTTP settings: how long the run takes, how much memory.

Serves the sample day from the fake upstream on 127.0.0.1 with one misbehaving host
(stablecoins.llama.fi) and runs `reportgen run --formats md` in this process, at the shipped
`config.yaml` defaults for `http` (45 s deadline, 16 MB cap). Prints the run's wall time, its
exit code, the stablecoins reason and this process's peak RSS. Asserts nothing.

Run one fault:   .venv/bin/python bench/bench_hostile.py trickle|endless|gzip-bomb|none
Whole process:   farm-bench -n 3 --timeout 600 -- .venv/bin/python bench/bench_hostile.py endless
"""

from __future__ import annotations

import os
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from typer.testing import CliRunner  # noqa: E402

from reportgen.cli import app  # noqa: E402
from tests.conftest import live_config  # noqa: E402
from tests.fakeupstream import start_upstream  # noqa: E402

DAY = date(2025, 6, 11)


def main(fault: str) -> None:
    upstream = start_upstream()
    upstream.load_day(DAY, ["coingecko", "feargreed", "stablecoins", "gas", "news", "etf_farside"])
    upstream.bomb_mb = 2048  # 2 GiB once inflated
    if fault != "none":
        upstream.faults["stablecoins.llama.fi"] = fault
        if fault == "gzip-bomb":
            start = time.perf_counter()
            upstream._bomb = __import__("tests.fakeupstream", fromlist=["_gzip_bomb"])._gzip_bomb(2048)
            print(f"bomb: {len(upstream._bomb) / 1e6:.1f} MB of gzip -> 2048 MiB "
                  f"(built in {time.perf_counter() - start:.1f} s, not counted below)")
    with tempfile.TemporaryDirectory() as tmp:
        data = live_config(upstream, Path(tmp) / "out")
        data.pop("http")  # the shipped defaults
        data["sources"]["altseason"]["enabled"] = False
        data["liquidation"] = {"enabled": False}
        config = Path(tmp) / "c.yaml"
        config.write_text(yaml.safe_dump(data))
        os.environ["REPORTGEN_NOW"] = "2025-06-11T23:58:00+00:00"
        start = time.perf_counter()
        result = CliRunner().invoke(app, ["--config", str(config), "run", "--formats", "md"])
        took = time.perf_counter() - start
        with sqlite3.connect(Path(tmp) / "out" / "archive.sqlite") as db:
            row = db.execute("SELECT ok, reason FROM snapshots WHERE source='stablecoins'").fetchone()
    upstream.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fault={fault} exit={result.exit_code} run={took:.1f} s peak_rss={peak_mb:.0f} MB")
    print(f"stablecoins ok={row[0]} reason={row[1]}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "endless")
