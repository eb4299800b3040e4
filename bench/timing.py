"""The benches' one timer: wall seconds of a call, several runs, the median to quote.
(Run a bench as `python bench/NAME.py`: its folder is then on the import path.)"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timings(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall seconds of each of `runs` calls of `fn`, in order."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median_of(fn: Callable[[], object], runs: int = 3) -> float:
    """The median wall seconds of `runs` calls of `fn`."""
    return statistics.median(timings(fn, runs))
