"""Publishing the site to object storage: a real S3 API (moto's server) on 127.0.0.1.

Prints, for the sample week rendered in every format (nothing is asserted):

1. the first publish of six days (2025-06-05 … 2025-06-10) to an empty bucket;
2. the next day (2025-06-11) added and published: the daily case;
3. the same again with nothing changed;

each with the objects uploaded, the bytes, the requests by operation and the seconds (the
sync alone, and the whole `publish_site`, local build included). The sample has seven days,
so "seven days then one more" is measured as six then the seventh.

Run: .venv/bin/python bench/bench_publish_s3.py [--output DIR]
(--output: a folder where the seven sample days are already rendered, to skip rendering.)
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reportgen import sample  # noqa: E402
from reportgen.config import config_from_mapping  # noqa: E402

DAYS = [sample.SAMPLE_FIRST + timedelta(days=i)
        for i in range((sample.SAMPLE_LAST - sample.SAMPLE_FIRST).days + 1)]


def render_week(out: Path) -> None:
    from reportgen.pipeline import run

    config = config_from_mapping({"output": str(out)})
    start = time.perf_counter()
    for day in DAYS:
        run(config, day, sample=True, formats=["html", "md", "pdf"], send=False, publish=False)
    print(f"rendered {len(DAYS)} sample days (html, md, pdf) in {time.perf_counter() - start:.1f} s")


def publish(config: Any, label: str) -> None:
    from reportgen.publish import publish_site
    from reportgen.publish.objectstore import make_client

    client = make_client(config.http)
    requests: collections.Counter[str] = collections.Counter()
    client.meta.events.register("before-send.s3",
                                lambda request, **_: requests.update([request.method]))
    start = time.perf_counter()
    result = publish_site(config, client=client)
    total = time.perf_counter() - start
    remote = result.remote
    assert remote is not None
    shown = ", ".join(f"{method} {n}" for method, n in sorted(requests.items()))
    print(f"{label:<32} uploaded {len(remote.uploaded):>3} objects "
          f"({remote.bytes_uploaded / 1024:>7.1f} KiB), deleted {len(remote.deleted)}, "
          f"unchanged {len(remote.unchanged):>3} | requests: {shown} | "
          f"sync {remote.seconds:.2f} s, publish {total:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="a folder with the sample week rendered")
    args = parser.parse_args()

    from tests.publish.s3server import start_s3

    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "output"
        if args.output:
            shutil.copytree(args.output / "reports", out / "reports")
        else:
            render_week(out)
        s3 = start_s3()
        os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": s3.endpoint,
                           "AWS_EC2_METADATA_DISABLED": "true"})
        try:
            s3.client().create_bucket(Bucket="bench")
            config = config_from_mapping({"output": str(out), "site": {
                "url": "https://briefs.example.org/", "target": "s3://bench/daily/"}})
            last = out / "reports" / DAYS[-1].isoformat()
            shutil.move(last, Path(tmp) / "later")
            publish(config, f"first publish, {len(DAYS) - 1} days")
            shutil.move(Path(tmp) / "later", last)
            publish(config, f"one more day ({DAYS[-1]})")
            publish(config, "again, nothing changed")
        finally:
            s3.stop()


if __name__ == "__main__":
    main()
