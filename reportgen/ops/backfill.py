"""`reportgen backfill`: render every date in a range, in parallel processes, resumably.

Two phases, each a pool of processes (concurrent.futures.ProcessPoolExecutor; every task
opens its own archive connection, and SQLite's WAL journal with a busy timeout lets them
write concurrently):

1. collect each date not yet done (network or bundled sample) into the archive;
2. run each of those dates through `pipeline.run`, which finds its data archived, builds and
   renders it, under the date's lock, and records the run.

Collecting everything first means each brief's "vs previous day" figures see the previous
day's data no matter which process got there first. Dates already done (a finished run
whose files exist, see reportgen.dayguard) are skipped unless `force`. Backfill never sends
email unless `send` is asked for, and never rebuilds the site per date.

Workers end with the backfill process, however it ends (even SIGKILL): each watches a pipe
only the parent writes to. A date a killed worker was producing is left as an interrupted run
and produced by the next backfill.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from reportgen import sample as sample_data
from reportgen.archive import Archive
from reportgen.config import Config
from reportgen.dayguard import is_done
from reportgen.errors import LockError, ReportgenError, UsageError
from reportgen.lifeline import Lifeline, watch_parent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayResult:
    """One date's outcome: complete, partial, skipped (already done), busy or failed."""

    day: date
    status: str
    seconds: float = 0.0
    detail: str = ""


def date_range(first: date, last: date) -> list[date]:
    """Every date from `first` to `last`, inclusive (none before any source's history)."""
    from reportgen.pipeline import too_early

    if last < first:
        raise UsageError(f"--from {first} is after --to {last}")
    early = too_early(first, "--from")
    if early:
        raise UsageError(early)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _collect_task(config: Config, day: date, sample: bool) -> None:
    from reportgen.clock import default_clock
    from reportgen.pipeline import collect_phase

    with Archive(config.archive_path) as archive:
        collect_phase(config, day, archive, clock=default_clock(), sample=sample)


def _run_task(config: Config, day: date, sample: bool, formats: list[str] | None,
              send: bool) -> DayResult:
    from reportgen.pipeline import run

    started = time.perf_counter()
    try:
        # Never mail or publish per date unless asked: pass the switches off explicitly.
        result = run(config, day, sample=sample, formats=formats, send=send, publish=False)
    except LockError as exc:
        return DayResult(day, "busy", time.perf_counter() - started, str(exc))
    except ReportgenError as exc:
        return DayResult(day, "failed", time.perf_counter() - started, str(exc))
    status = "complete" if result.complete else "partial"
    gaps = ", ".join(s.id for s in result.brief.unavailable)
    return DayResult(day, status, time.perf_counter() - started, f"gaps: {gaps}" if gaps else "")


class _Pool(ProcessPoolExecutor):
    """Worker processes that do not outlive the backfill process (reportgen.lifeline):
    killed, it would leave them producing forever, each holding its date's lock."""

    def __init__(self, jobs: int) -> None:
        # forkserver: workers are forked from a clean server process, not from this one (which
        # may run threads, e.g. the progress bar), and it imports the pipeline once for all.
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["reportgen.pipeline"])
        self._lifeline = Lifeline(ctx)
        super().__init__(max_workers=jobs, mp_context=ctx, initializer=watch_parent,
                         initargs=self._lifeline.initargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        if wait:
            self._lifeline.close()


def _pool(jobs: int) -> Executor:
    return _Pool(jobs)


class _Inline(Executor):
    """--jobs 1: run tasks in this process, in order (no worker start-up cost)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def backfill(config: Config, first: date, last: date, *, jobs: int = 1, force: bool = False,
             sample: bool = False, formats: list[str] | None = None, send: bool = False,
             on_start: Callable[[int], None] | None = None,
             on_result: Callable[[DayResult], None] | None = None) -> list[DayResult]:
    """Produce every date in [first, last]; returns one DayResult per date, in date order.

    `on_start(n)` is told how many dates will run; `on_result` hears each date as it ends."""
    if jobs < 1:
        raise UsageError(f"--jobs {jobs}: use 1 or more")
    days = date_range(first, last)
    if sample:
        outside = [d for d in days if not sample_data.has_day(d)]
        if outside:
            raise UsageError(f"--sample covers {sample_data.SAMPLE_FIRST} to "
                             f"{sample_data.SAMPLE_LAST} only; {outside[0]} is outside")
    # Open the archive once here: creates the file, schema and WAL mode before workers race.
    with Archive(config.archive_path) as archive:
        skipped = [] if force else [d for d in days if is_done(config, d, archive)]
    todo = [d for d in days if d not in skipped]
    results = {d: DayResult(d, "skipped", detail="already done") for d in skipped}
    for result in results.values():
        if on_result:
            on_result(result)
    if on_start:
        on_start(len(todo))
    if not todo:
        return [results[d] for d in days]

    to_collect = list(todo)
    before = todo[0] - timedelta(days=1)
    if sample and sample_data.has_day(before):
        to_collect.insert(0, before)  # the first brief's "vs previous day" figures
    workers = min(jobs, len(todo))
    log.info("backfill %s … %s: %d to run, %d already done, %d processes",
             first, last, len(todo), len(skipped), workers)
    with _Inline() if workers == 1 else _pool(workers) as pool:
        # Phase 1: collect. A failure here shows up again (and is recorded) in phase 2.
        for collected in as_completed([pool.submit(_collect_task, config, d, sample)
                                       for d in to_collect]):
            if collected.exception() is not None:
                log.warning("collect failed: %s", collected.exception())
        # Phase 2: build, render and record each date.
        futures = {pool.submit(_run_task, config, d, sample, formats, send): d for d in todo}
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # a crashed worker: report the date, keep going
                result = DayResult(futures[future], "failed", detail=f"{type(exc).__name__}: {exc}")
            results[result.day] = result
            log.info("%s: %s %s", result.day, result.status, result.detail)
            if on_result:
                on_result(result)
    return [results[d] for d in days]
