"""Wall time of `reportgen backfill --sample` over the seven sample days, --jobs 1 vs N.

    .venv/bin/python bench/bench_backfill.py [--jobs 1 2] [--formats html,pdf,md] [--repeat 1]

Each measurement starts from an empty output folder (so every date is produced), runs the
real CLI in a subprocess, and checks the exit code (0 or 3: briefs produced). A second run
on the same folder measures the resume path (every date skipped).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "reportgen.cli"] if not (ROOT / ".venv/bin/reportgen").exists() \
    else [str(ROOT / ".venv/bin/reportgen")]


def backfill(output: Path, jobs: int, formats: str) -> float:
    """Seconds of one `reportgen backfill` run (sample week) into `output`."""
    cmd = [*CLI, "-o", str(output), "backfill", "--sample", "--from", "2025-06-05",
           "--to", "2025-06-11", "--jobs", str(jobs), "--formats", formats]
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")}
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 3):
        sys.exit(f"backfill failed ({proc.returncode}):\n{proc.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--formats", default="html,pdf,md")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()} formats={args.formats} days=7")
    for jobs in args.jobs:
        for i in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                output = Path(tmp) / "out"
                cold = backfill(output, jobs, args.formats)
                resume = backfill(output, jobs, args.formats)
            print(f"jobs={jobs} run={i + 1}: all 7 dates {cold:6.2f} s · resume (all skipped) "
                  f"{resume:5.2f} s")


if __name__ == "__main__":
    main()
