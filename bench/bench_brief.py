"""Benchmarks for the core pipeline (issue 3). Prints medians; asserts nothing.

1. `run --sample` for one day: collect/build, charts+HTML+MD, and the PDF step apart.
2. `reportgen --help` wall time (heavy imports must stay lazy).
3. `collect` against the fake upstream with every source delayed 1 s (concurrency check).

Run: .venv/bin/python bench/bench_brief.py
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timing import median_of  # noqa: E402

from reportgen.config import config_from_mapping  # noqa: E402
from reportgen.pipeline import render_day, run  # noqa: E402

DAY = date(2025, 6, 11)


def bench_sample_run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = config_from_mapping({"output": tmp})
        start = time.perf_counter()
        result = run(config, DAY, sample=True, formats=["html", "md"])
        first = time.perf_counter() - start
        print(f"run --sample (collect D and D-1, charts, html, md), cold: {first:.2f} s "
              f"{ {k: round(v, 2) for k, v in result.seconds.items()} }")
        html_md = median_of(lambda: render_day(config, DAY, formats=["html", "md"]))
        for f in (Path(tmp) / "reports").rglob("*"):
            if f.is_file():
                f.unlink()
        pdf = median_of(lambda: render_day(config, DAY, formats=["pdf"]))
        print(f"render charts+html+md from archive: median {html_md:.2f} s")
        print(f"render charts+pdf from archive:     median {pdf:.2f} s")


def bench_help() -> None:
    exe = ROOT / ".venv" / "bin" / "reportgen"
    t = median_of(lambda: subprocess.run([str(exe), "--help"], capture_output=True, check=True), 5)
    print(f"reportgen --help: median {t * 1000:.0f} ms")


def bench_collect_delayed() -> None:
    from tests.conftest import live_config, write_config
    from tests.fakeupstream import start_upstream

    upstream = start_upstream()
    upstream.load_day(DAY)
    upstream.delay_s = 1.0
    with tempfile.TemporaryDirectory() as tmp:
        data = live_config(upstream, Path(tmp) / "out")
        data["http"]["timeout_s"] = 10
        data["sources"]["altseason"]["enabled"] = False  # 50 sequential-ish chart calls
        data["liquidation"] = {"enabled": False}
        cfg = write_config(Path(tmp) / "c.yaml", data)
        env = {**os.environ, "REPORTGEN_NOW": "2025-06-11T23:58:00+00:00"}
        start = time.perf_counter()
        subprocess.run([str(ROOT / ".venv/bin/reportgen"), "--config", str(cfg), "collect"],
                       capture_output=True, env=env)
        took = time.perf_counter() - start
    upstream.close()
    print(f"collect, 6 sources each delayed 1 s (process start included): {took:.2f} s")


if __name__ == "__main__":
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    bench_help()
    bench_sample_run()
    bench_collect_delayed()
