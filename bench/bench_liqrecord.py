"""The liquidation recorder under a flood: frames per second archived, and its peak memory.

    .venv/bin/python bench/bench_liqrecord.py [--frames 100000] [--queue 1000]

Serves the test suite's fake venue (tests/realised/wsvenue.py, a real WebSocket server on
127.0.0.1) in this process, pushing `--frames` Binance `!forceOrder@arr` frames (the real
recorded frame, each with its own time) as fast as the connection takes them, and runs the
real `reportgen liqrecord` in a subprocess against it (its peak RSS is its own, read with
os.wait4). When the archive holds every frame, the recorder gets SIGINT and must exit 0.

Prints: frames sent and archived (they must be equal), seconds from the first frame to the
last one archived, frames per second, the recorder's peak RSS, and the same RSS for a run of
100 frames (what the flood adds), then the archive's size per frame.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.realised.wsvenue import HOLD, Venue, running  # noqa: E402  (after the path is set)

FRAME = (ROOT / "tests" / "fixtures" / "realised"
         / "binance_forceOrder_arr_BTCUSDT_2026-10-09.json").read_text()


def _count(archive: Path) -> int:
    try:
        with sqlite3.connect(archive, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM liquidation_frames").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


async def _one(frames: int, queue: int, workdir: Path) -> dict[str, float]:
    doc = json.loads(FRAME)
    started: list[float] = []

    async def flood() -> AsyncIterator[str]:
        started.append(time.perf_counter())
        for i in range(frames):
            doc["data"]["o"]["T"] = 1791565602120 + i
            yield json.dumps(doc, separators=(",", ":"))

    venue = Venue([[flood, HOLD]])
    async with running({"binance": venue}) as fake:
        output = workdir / f"out-{frames}"
        config = workdir / f"config-{frames}.yaml"
        config.write_text(yaml.safe_dump({"output": str(output), "sources": {
            "liquidation_realised": {
                "venues": ["binance"], "queue_frames": queue,
                "binance_ws": fake.url("binance", "/stream?streams=!forceOrder@arr")}}}))
        env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")}
        env["PYTHONPATH"] = str(ROOT)
        proc = subprocess.Popen([sys.executable, "-m", "reportgen.cli", "--config", str(config),
                                 "liqrecord"], cwd=workdir, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        archive = output / "archive.sqlite"
        while _count(archive) < frames:
            if proc.poll() is not None:
                raise SystemExit(f"the recorder exited early: {proc.communicate()}")
            await asyncio.sleep(0.05)
        done = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        # wait4 in a thread: the server must keep serving while the recorder closes.
        _pid, status, usage = await asyncio.to_thread(os.wait4, proc.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit(f"the recorder exited {code}: {proc.stderr.read() if proc.stderr else ''}")
    seconds = done - started[0]
    return {"sent": venue.sent, "archived": _count(archive), "seconds": seconds,
            "rate": frames / seconds, "rss_mb": usage.ru_maxrss / 1024,
            "bytes_per_frame": archive.stat().st_size / frames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--queue", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = asyncio.run(_one(100, args.queue, Path(tmp)))
        flood = asyncio.run(_one(args.frames, args.queue, Path(tmp)))
    print(f"frames sent {flood['sent']:,.0f}, archived {flood['archived']:,.0f}"
          f" ({'no loss' if flood['sent'] == flood['archived'] else 'LOST FRAMES'})")
    print(f"{flood['seconds']:.2f} s from the first frame to the last archived: "
          f"{flood['rate']:,.0f} frames/s (queue {args.queue})")
    print(f"recorder peak RSS {flood['rss_mb']:.1f} MB under the flood, "
          f"{small['rss_mb']:.1f} MB for 100 frames")
    print(f"archive: {flood['bytes_per_frame']:.0f} bytes per frame")


if __name__ == "__main__":
    main()
