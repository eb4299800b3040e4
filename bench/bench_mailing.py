"""List mail at scale: the sample day sent to 10,000 generated subscribers over loopback.

    .venv/bin/python bench/bench_mailing.py [--subscribers 10000] [--connections 8]

Renders the 2025-06-11 sample day once, serves the test suite's aiosmtpd server
(tests/publish/smtpserver.py) on 127.0.0.1 in this process, and runs the real
`reportgen send` in a subprocess (so its peak RSS is its own, read with os.wait4). The
addresses are generated on reserved names (.test and example.com): nothing leaves the host.

Prints: messages per second, the sender's peak RSS, the largest message, connections opened
(and open at once), then the resume check: a second send SIGKILLed at an unplanned moment
half-way, re-run, and every address counted (duplicates, missing).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.publish.smtpserver import Inbox, serving  # noqa: E402  (after the path is set)

DAY = "2025-06-11"
SECRET = "bench-secret-0123456789abcdef-not-real"
CLI = [sys.executable, "-m", "reportgen.cli"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")}
    env.update(PYTHONPATH=str(ROOT), REPORTGEN_UNSUBSCRIBE_SECRET=SECRET)
    return env


def render(output: Path) -> None:
    done = subprocess.run([*CLI, "-o", str(output), "run", "--sample", "--no-send",
                           "--date", DAY], env=_env(), capture_output=True, text=True,
                          check=False)
    if done.returncode not in (0, 3):
        sys.exit(f"render failed ({done.returncode}):\n{done.stderr}")


def write_list(path: Path, n: int) -> list[str]:
    addresses = [f"reader{i:05d}@{'example.com' if i % 2 else f'list{i % 97}.test'}"
                 for i in range(n)]
    path.write_text("\n".join(addresses) + "\n", encoding="utf-8")
    return addresses


def config(folder: Path, output: Path, listing: Path, port: int, connections: int,
           rate: float) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({
        "output": str(output),
        "email": {"from_addr": "Crypto brief <brief@example.com>", "subscribers": str(listing),
                  "list_unsubscribe_url": "https://example.com/unsubscribe",
                  "list_unsubscribe_mailto": "unsubscribe@example.com",
                  "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none",
                  "connections": connections, "max_per_second": rate, "backoff_s": 0.05},
        "site": {"url": "https://briefs.example.com/"},
    }), encoding="utf-8")
    return path


def start_send(cfg: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*CLI, "-c", str(cfg), "send", "--date", DAY], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_rss(proc: subprocess.Popen[bytes]) -> tuple[int, int, str]:
    """(exit code, peak RSS in KiB, stderr) of the sender; os.wait4 reports this child only."""
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8", "replace")  # the sender prints little
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    return proc.returncode, usage.ru_maxrss, err


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="email.max_per_second (default high: measure the sender)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pristine = folder / "rendered"
        render(pristine)
        listing = folder / "subscribers.txt"
        addresses = write_list(listing, args.subscribers)
        print(f"cpus={os.cpu_count()} subscribers={len(addresses)} "
              f"connections={args.connections} max_per_second={args.rate}")

        # 1. the whole list, uninterrupted
        output = folder / "out1"
        shutil.copytree(pristine, output)
        inbox = Inbox(keep=False)
        with serving(inbox) as port:
            cfg = config(folder, output, listing, port, args.connections, args.rate)
            started = time.perf_counter()
            code, rss_kib, err = wait_rss(start_send(cfg))
            seconds = time.perf_counter() - started
        if code != 0:
            sys.exit(f"send failed ({code}):\n{err}")
        dupes = sum(c - 1 for c in inbox.counts.values() if c > 1)
        print(f"sent {inbox.accepted} in {seconds:.1f} s (process start included): "
              f"{inbox.accepted / seconds:.0f} messages/s")
        print(f"peak RSS of the sender {rss_kib / 1024:.0f} MB · largest message "
              f"{inbox.max_size / 1024:.1f} KB · connections opened {inbox.opened}, at once "
              f"{inbox.most_open} · duplicates {dupes} · missing "
              f"{len(set(addresses) - set(inbox.counts))}")

        # 2. killed at an unplanned moment half-way, then re-run
        output = folder / "out2"
        shutil.copytree(pristine, output)
        inbox = Inbox(keep=False)
        kill_at = len(addresses) // 2 + random.randrange(len(addresses) // 10)
        with serving(inbox) as port:
            cfg = config(folder, output, listing, port, args.connections, args.rate)
            proc = start_send(cfg)
            while inbox.accepted < kill_at and proc.poll() is None:
                time.sleep(0.001)
            proc.send_signal(signal.SIGKILL)
            wait_rss(proc)
            first = inbox.accepted
            code, _, err = wait_rss(start_send(cfg))
        if code != 0:
            sys.exit(f"re-run failed ({code}):\n{err}")
        dupes = sum(c - 1 for c in inbox.counts.values() if c > 1)
        missing = set(addresses) - set(inbox.counts)
        in_doubt = in_flight(output)
        summary = next(line for line in err.splitlines() if " sent" in line)
        print(f"killed (SIGKILL) after {first} accepted; re-run: {summary.strip()}")
        print(f"after the re-run: {len(inbox.counts)} recipients served, duplicates {dupes}, "
              f"in flight at the kill (left alone, listed as unknown) {len(in_doubt)}, of "
              f"which the relay had accepted {len(in_doubt - missing)}; missing otherwise "
              f"{len(missing - in_doubt)}")


def in_flight(output: Path) -> set[str]:
    """Recipients whose row still says `sending`: in flight when the sender was killed."""
    db = sqlite3.connect(output / "archive.sqlite")
    try:
        return {row[0] for row in db.execute(
            "SELECT recipient FROM deliveries WHERE outcome='sending'")}
    finally:
        db.close()


if __name__ == "__main__":
    main()
