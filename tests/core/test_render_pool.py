"""The render pool (reportgen.render.pool): workers make the same bytes as the main process,
a killed worker costs nothing but time, and a job's error reaches the caller."""

from __future__ import annotations

import multiprocessing
import os
import signal
from datetime import date
from pathlib import Path

import pytest

from reportgen.archive import Archive
from reportgen.clock import default_clock
from reportgen.config import config_from_mapping
from reportgen.errors import ConfigError, RenderError
from reportgen.pipeline import build_phase, run, stored_maps
from reportgen.render.charts import chart_jobs
from reportgen.render.pool import Files, Job, RenderPool

DAY = date(2025, 6, 11)


def in_a_worker() -> bool:
    return multiprocessing.parent_process() is not None


def killed_in_a_worker() -> Files:
    """Dies the way an out-of-memory kill does, but only in a worker."""
    if in_a_worker():
        os.kill(os.getpid(), signal.SIGKILL)
    return {"x.txt": b"made in the main process"}


def failing() -> Files:
    raise RenderError("the PDF engine failed")


def where() -> Files:
    return {"where.txt": b"worker" if in_a_worker() else b"main"}


def test_workers_draw_the_same_bytes_as_the_main_process(tmp_path: Path) -> None:
    config = config_from_mapping({"output": str(tmp_path)})
    run(config, DAY, sample=True, formats=["md"], send=False, publish=False)
    with Archive(config.archive_path) as archive:
        brief = build_phase(config, DAY, archive, clock=default_clock())
        maps = stored_maps(DAY, archive)
    jobs = chart_jobs(brief, maps, "png") + chart_jobs(brief, maps, "svg")
    with RenderPool(workers=2) as pool:
        from_workers = pool.run([*jobs, Job(where)]).wait()
    here = RenderPool(workers=0).run([*jobs, Job(where)]).wait()
    assert from_workers.pop("where.txt") == b"worker" and here.pop("where.txt") == b"main"
    assert sorted(from_workers) == sorted(
        f"charts/{kind}_{sym}{look}" for kind in ("liqmap", "etf") for sym in ("btc", "eth")
        for look in (".svg", "-dark.svg", ".png", "-phone.png", "-phone-dark.png"))
    assert from_workers == here


def test_a_killed_worker_is_redone_in_the_main_process() -> None:
    with RenderPool(workers=1) as pool:
        files = pool.run([Job(killed_in_a_worker)]).wait()
        assert files == {"x.txt": b"made in the main process"}
        # The pool is broken now: later jobs run here too, and still succeed.
        assert pool.run([Job(where)]).wait() == {"where.txt": b"main"}


def test_a_jobs_error_reaches_the_caller() -> None:
    with RenderPool(workers=1) as pool, pytest.raises(RenderError, match="PDF engine failed"):
        pool.run([Job(failing)]).wait()


def test_no_workers_means_everything_in_the_main_process() -> None:
    pool = RenderPool(workers=0).start()
    assert pool.run([Job(where), Job(where)]).wait() == {"where.txt": b"main"}


def test_render_workers_must_not_be_negative() -> None:
    with pytest.raises(ConfigError, match="render_workers"):
        config_from_mapping({"report": {"render_workers": -1}})
