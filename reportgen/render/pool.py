"""Where the charts and the PDF are made: worker processes beside the main one.

Drawing the charts (matplotlib) and laying out the PDF (WeasyPrint) are the render phase's
big costs, each bound to one core, and importing the two libraries takes ~0.9 s more. A
`RenderPool` runs them in worker processes while the main process renders HTML and
Markdown; the pipeline starts it before collect, so the imports happen while collect runs.
On the project's 2-core machine that takes `run --sample` from ~4.1 s to ~2.7 s
(bench/bench_formats.py).

Workers are forked by a fork server that imported the libraries once (reportgen.render.warm);
the main process itself is never forked (unsafe once it runs threads, as the CLI's progress
display does). Like any multiprocessing code, a script that calls the pipeline must do so
under `if __name__ == "__main__":`. Where there is no fork server (Windows), with one core,
or with `report.render_workers: 0`, the pool runs the jobs in the calling process: same
files, same bytes. A job is a module-level function returning {path in the report folder:
bytes}; the main process writes them through the run's OutputWriter, so workers never
touch the output folder. Workers end with the process that started them, however it ends
(reportgen.lifeline): a killed run leaves no process behind.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import forkserver
from types import TracebackType
from typing import Any

from reportgen.lifeline import Lifeline, watch_parent

log = logging.getLogger(__name__)

# A job's files: {path relative to the report folder: bytes}.
Files = dict[str, bytes]

# What the fork server imports once, so each worker starts ready.
PRELOAD = ["reportgen.render.warm"]
MAX_WORKERS = 4  # a day has a handful of charts and one PDF: more would only wait


def default_workers() -> int:
    """One worker per core, at most MAX_WORKERS; none on one core or without a fork server."""
    cores = os.cpu_count() or 1
    if cores < 2 or "forkserver" not in multiprocessing.get_all_start_methods():
        return 0
    return min(cores, MAX_WORKERS)


def start_fork_server(workers: int | None = None) -> None:
    """Start the fork server now if a pool of `workers` (None: the default) will have any:
    it imports the libraries in the background (~1 s) while the caller goes on; the pool's
    workers can start only once it has. Cheap and idempotent: call it as early as you can."""
    if (default_workers() if workers is None else workers) > 0:
        multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
        forkserver.ensure_running()


def _ready() -> None:
    """The warm-up job: starts a worker without drawing anything."""


def _warm_up(executor: ProcessPoolExecutor, workers: int) -> None:
    """Start each worker (they start on demand, one per job waiting)."""
    try:
        for _ in range(workers):
            executor.submit(_ready)
    except (BrokenProcessPool, RuntimeError):  # closed or broken meanwhile: run() copes
        pass


@dataclass(frozen=True)
class Job:
    """One piece of work: a module-level function (workers find it by name) and its arguments."""

    work: Callable[..., Files]
    args: tuple[Any, ...] = ()

    def __call__(self) -> Files:
        return self.work(*self.args)


@dataclass
class Pending:
    """Jobs handed to a pool; `wait()` gives their files in job order."""

    jobs: list[Job]
    futures: list[Future[Files] | None]

    def wait(self) -> Files:
        files: Files = {}
        for job, future in zip(self.jobs, self.futures, strict=True):
            if future is None:
                files.update(job())
                continue
            try:
                files.update(future.result())
            except BrokenProcessPool:  # a worker killed (out of memory, by hand): run it here
                log.warning("a render worker stopped; running %s in this process",
                            job.work.__name__)
                files.update(job())
        return files


class RenderPool:
    """Runs render jobs in `workers` processes (0: in the calling process). Use as a context
    manager; `start()` early lets the workers start up while the caller does other work."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else workers
        self._executor: ProcessPoolExecutor | None = None
        self._lifeline: Lifeline | None = None
        self._starting: threading.Thread | None = None

    def start(self) -> RenderPool:
        """Start the workers now (idempotent) and return at once: the fork server imports
        the drawing modules in the background, and the first jobs find the workers ready."""
        if self.workers > 0 and self._executor is None:
            start_fork_server(self.workers)
            ctx = multiprocessing.get_context("forkserver")
            self._lifeline = Lifeline(ctx)  # workers end with this process, even SIGKILLed
            executor = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=watch_parent,
                                           initargs=self._lifeline.initargs)
            self._executor = executor
            # A worker's start waits for the fork server's imports (~0.5 s): ask for them
            # from a thread, so that wait overlaps the caller's work (collect).
            self._starting = threading.Thread(target=_warm_up, args=(executor, self.workers),
                                              name="render-workers", daemon=True)
            self._starting.start()
        return self

    def run(self, jobs: list[Job]) -> Pending:
        """Hand `jobs` to the workers (run later, in `wait()`, when the pool has none)."""
        self.start()
        futures: list[Future[Files] | None] = []
        for job in jobs:
            future = None
            if self._executor is not None:
                try:
                    future = self._executor.submit(job)
                except BrokenProcessPool:
                    log.warning("render workers stopped; doing the rest in this process")
                    self._executor = None
            futures.append(future)
        return Pending(jobs, futures)

    def close(self) -> None:
        """Stop the workers (jobs not yet started are dropped)."""
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._lifeline is not None:
            self._lifeline.close()
            self._lifeline = None

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
