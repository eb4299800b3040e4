"""Worker processes that do not outlive the process that started them.

A `concurrent.futures.ProcessPoolExecutor` on the forkserver context forks its workers from
the fork server, not from the caller, and the fork server lives as long as any worker does.
If the caller is killed (SIGKILL, out of memory), nothing tells the workers: they wait on
their job queue forever, and keep the fork server and multiprocessing's resource tracker
alive with them — four processes and ~100 MB left behind per killed run.

A `Lifeline` is a pipe whose only write end the caller holds; nothing is ever written to it.
Each worker, through `watch_parent` as the pool's initializer, waits on the read end in a
daemon thread: the read returns only with EOF, which the kernel delivers the moment the
caller is gone, however it ended. The worker then ends at once. With the workers gone the
fork server sees its last client leave and exits, and the resource tracker follows.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext


class Lifeline:
    """The pipe between one caller and its pool's workers: pass `watch_parent` as the pool's
    initializer and `initargs` as its initargs; `close()` once the pool has shut down."""

    def __init__(self, ctx: BaseContext) -> None:
        self._read, self._write = ctx.Pipe(duplex=False)

    @property
    def initargs(self) -> tuple[Connection]:
        return (self._read,)

    def close(self) -> None:
        """Drop both ends (the workers still alive, if any, then end as orphans would)."""
        self._write.close()
        self._read.close()


def watch_parent(lifeline: Connection) -> None:
    """Pool initializer: end this worker as soon as the process that started it is gone."""
    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            lifeline.recv()  # nothing is ever sent: this returns only at EOF
        os.kill(os.getpid(), signal.SIGTERM)  # the default action ends the process now
        os._exit(1)  # in case SIGTERM is handled

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
