"""The recorder: follows the venues' public liquidation streams and writes every frame to
the archive as it arrives.

One connection per venue (the `websockets` library's asyncio client), each:

- subscribes as its venue documents it: Binance by the stream URL itself
  (`/stream?streams=!forceOrder@arr`), Bybit with `{"op":"subscribe","args":
  ["allLiquidation.BTCUSDT", …]}` (at most 10 topics a message), OKX with
  `{"op":"subscribe","args":[{"channel":"liquidation-orders","instType":"SWAP"}]}`;
- keeps the connection alive the venue's way: protocol pings (the library's, every 20 s;
  Binance pings us and the library answers), plus Bybit's `{"op":"ping"}` every
  `bybit_ping_s` and OKX's text "ping" when nothing arrived for `okx_ping_s` (OKX drops a
  connection silent for 30 s);
- reconnects after any failure with exponential back-off from `backoff_s`, capped at
  `backoff_max_s`, with full jitter (a uniform wait up to the step), reset once a
  connection delivers a data frame.

Frames go through one bounded queue to one writer, which appends whatever has arrived in
one transaction (`Archive.add_liquidation_frames`; usually a single frame). When the queue
is full the readers wait, so the sockets' own bounded buffers and TCP push back on the
venue: nothing is dropped and memory stays bounded. A crash loses at most the frames in
the queue (at ordinary rates, the one in hand). The archive is written from one thread of
its own, so a slow disk or a lock held by the daily run never stalls the heartbeats.

Unreadable frames are counted and archived raw with the reason; control frames (subscribe
answers, pongs) are counted, not archived.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.clock import Clock, default_clock
from reportgen.models import LiquidationFrame
from reportgen.realised.frames import VENUE_NAMES, parse_frame
from reportgen.realised.settings import RealisedSettings

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from reportgen.archive import Archive

log = logging.getLogger(__name__)

BYBIT_TOPICS_PER_MESSAGE = 10
# Most frames written in one transaction (a flood is written in steps this size).
MAX_BATCH = 2000


@dataclass(frozen=True)
class Stream:
    """One venue's connection: where, what to send once connected, and its keep-alive
    (`ping` sent every `ping_every` seconds, or only after that long without a message when
    `ping_when_idle`)."""

    venue: str
    url: str
    subscribe: tuple[str, ...] = ()
    ping: str | None = None
    ping_every: float = 20.0
    ping_when_idle: bool = False


def streams(settings: RealisedSettings) -> list[Stream]:
    """The configured venues' streams, with their subscribe messages and heartbeats."""
    out = []
    for venue in settings.venues:
        if venue == "binance":
            out.append(Stream("binance", settings.binance_ws))
        elif venue == "bybit":
            topics = [f"allLiquidation.{s}" for s in settings.bybit_symbols]
            batches = [topics[i:i + BYBIT_TOPICS_PER_MESSAGE]
                       for i in range(0, len(topics), BYBIT_TOPICS_PER_MESSAGE)]
            out.append(Stream(
                "bybit", settings.bybit_ws,
                tuple(json.dumps({"op": "subscribe", "args": b}) for b in batches),
                ping=json.dumps({"op": "ping"}), ping_every=settings.bybit_ping_s))
        elif venue == "okx":
            out.append(Stream(
                "okx", settings.okx_ws,
                (json.dumps({"op": "subscribe", "args": [
                    {"channel": "liquidation-orders", "instType": "SWAP"}]}),),
                ping="ping", ping_every=settings.okx_ping_s, ping_when_idle=True))
    return out


def backoff(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait before reconnect `attempt` (0-based): full jitter over
    min(cap, base × 2^attempt)."""
    return rng.uniform(0, min(cap, base * 2 ** min(attempt, 30)))


@dataclass
class RecorderStats:
    """What a recording did, per venue: frames archived (data and rejected), events in them,
    rejected frames, control frames, connections made and lost."""

    frames: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    control: Counter[str] = field(default_factory=Counter)
    connects: Counter[str] = field(default_factory=Counter)
    drops: Counter[str] = field(default_factory=Counter)
    written: int = 0
    queue_peak: int = 0

    def lines(self) -> list[str]:
        """One line per venue, for the command's summary."""
        return [f"{VENUE_NAMES.get(v, v)}: {self.frames[v]} frames archived ({self.events[v]} "
                f"liquidations, {self.rejected[v]} unreadable), {self.connects[v]} "
                f"connections, {self.drops[v]} lost"
                for v in sorted(set(self.connects) | set(self.frames))]


class Recorder:
    """Records the configured streams into the archive at `archive_path` until `stop()` or
    `duration` seconds. One instance records once."""

    def __init__(self, settings: RealisedSettings, archive_path: Path, *,
                 clock: Clock | None = None, rng: random.Random | None = None,
                 open_timeout: float = 10.0) -> None:
        self.settings = settings
        self.archive_path = archive_path
        self.clock = clock or default_clock()
        self.rng = rng or random.Random()
        self.open_timeout = open_timeout
        self.stats = RecorderStats()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = threading.Event()

    def stop(self) -> None:
        """Ask the recording to end (thread-safe; from a signal handler or another thread):
        connections close, queued frames are written, then `run` returns."""
        self._started.wait(timeout=10)
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop has just finished
                self._loop.call_soon_threadsafe(self._stop.set)

    def stop_now(self) -> None:
        """`stop` from the recording's own event loop (a signal handler added to it)."""
        log.info("stopping: closing the connections, writing what was read")
        if self._stop is not None:
            self._stop.set()

    async def run(self, duration: float | None = None) -> RecorderStats:
        """Record until stopped (or for `duration` seconds); returns what was done."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._started.set()
        queue: asyncio.Queue[LiquidationFrame | None] = asyncio.Queue(
            self.settings.queue_frames)
        # One thread owns the archive's connection (sqlite3 objects stay in their thread).
        with ThreadPoolExecutor(1, thread_name_prefix="liqrecord-archive") as executor:
            from reportgen.archive import Archive

            archive = await self._loop.run_in_executor(
                executor, lambda: Archive(self.archive_path, clock=self.clock))
            try:
                writer = asyncio.create_task(self._write(queue, archive, executor))
                readers = [asyncio.create_task(self._follow(s, queue))
                           for s in streams(self.settings)]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), duration)
                self._stop.set()
                await asyncio.gather(*readers, return_exceptions=True)
                await queue.put(None)  # after every frame read: the writer ends there
                await writer
            finally:
                await self._loop.run_in_executor(executor, archive.close)
        return self.stats

    async def _write(self, queue: asyncio.Queue[LiquidationFrame | None], archive: Archive,
                     executor: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        done = False
        while not done:
            self.stats.queue_peak = max(self.stats.queue_peak, queue.qsize())
            first = await queue.get()
            batch = [] if first is None else [first]
            done = first is None
            while not done and len(batch) < MAX_BATCH and not queue.empty():
                item = queue.get_nowait()
                if item is None:
                    done = True
                else:
                    batch.append(item)
            if batch:
                self.stats.written += await loop.run_in_executor(
                    executor, archive.add_liquidation_frames, batch)

    async def _follow(self, stream: Stream, queue: asyncio.Queue[LiquidationFrame | None],
                      ) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        assert self._stop is not None
        attempt = 0
        while not self._stop.is_set():
            delivered = False
            try:
                async with connect(stream.url, open_timeout=self.open_timeout,
                                   ping_interval=20, ping_timeout=20,
                                   max_size=8 * 1024 * 1024, max_queue=64) as ws:
                    self.stats.connects[stream.venue] += 1
                    log.info("%s: connected to %s", stream.venue, stream.url)
                    for request in stream.subscribe:
                        await ws.send(request)
                    last = [asyncio.get_running_loop().time()]
                    beat = asyncio.create_task(self._heartbeat(ws, stream, last))
                    closer = asyncio.create_task(self._close_on_stop(ws))
                    try:
                        async for message in ws:  # ends when the connection closes normally
                            last[0] = asyncio.get_running_loop().time()
                            if await self._take(stream, message, queue):
                                delivered = True
                    finally:
                        beat.cancel()
                        closer.cancel()
                    if not self._stop.is_set():
                        raise ConnectionError("the venue closed the connection")
            except (OSError, TimeoutError, WebSocketException) as exc:
                if self._stop.is_set():
                    break
                self.stats.drops[stream.venue] += 1
                log.warning("%s: connection lost (%s: %s)", stream.venue, type(exc).__name__,
                            exc)
            except Exception:  # a bug must not end this venue's recording silently
                self.stats.drops[stream.venue] += 1
                log.exception("%s: unexpected error; reconnecting", stream.venue)
            if self._stop.is_set():
                break
            attempt = 0 if delivered else attempt + 1
            wait = backoff(attempt, self.settings.backoff_s, self.settings.backoff_max_s,
                           self.rng)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), wait)

    async def _close_on_stop(self, ws: ClientConnection) -> None:
        assert self._stop is not None
        await self._stop.wait()
        await ws.close()

    async def _heartbeat(self, ws: ClientConnection, stream: Stream, last: list[float]) -> None:
        if stream.ping is None:
            return
        loop = asyncio.get_running_loop()
        while True:
            if stream.ping_when_idle:
                idle = loop.time() - last[0]
                if idle < stream.ping_every:
                    await asyncio.sleep(stream.ping_every - idle)
                    continue
            else:
                await asyncio.sleep(stream.ping_every)
            try:
                await ws.send(stream.ping)
            except Exception:  # the reader sees the closed connection and reconnects
                return
            last[0] = loop.time()

    async def _take(self, stream: Stream, message: str | bytes,
                    queue: asyncio.Queue[LiquidationFrame | None]) -> bool:
        """Queue one received frame for the archive; True when it was a data frame."""
        text = message.decode("utf-8", errors="replace") if isinstance(message, bytes) \
            else message
        parsed = parse_frame(stream.venue, text, self.settings.okx_contract_values)
        if parsed.kind == "control":
            self.stats.control[stream.venue] += 1
            return False
        received = self.clock.now()
        span = parsed.span_ms()
        if span is None:
            now_ms = int(received.timestamp() * 1000)
            span = (now_ms, now_ms)
        await queue.put(LiquidationFrame(venue=stream.venue, url=stream.url,
                                         received_at=received, body=text, first_ms=span[0],
                                         last_ms=span[1], error=parsed.error))
        self.stats.frames[stream.venue] += 1
        self.stats.events[stream.venue] += len(parsed.events)
        if parsed.kind == "rejected":
            self.stats.rejected[stream.venue] += 1
            log.info("%s: unreadable frame kept raw: %s", stream.venue, parsed.error)
            return False
        return True


@contextlib.contextmanager
def recording_in_background(settings: RealisedSettings, archive_path: Path, *,
                            clock: Clock | None = None) -> Iterator[Recorder | None]:
    """Run a Recorder in a thread of its own while the block runs (`reportgen schedule`);
    stopped cleanly when the block ends. None (nothing runs) when recording is off."""
    if not (settings.enabled and settings.record and settings.venues):
        yield None
        return
    recorder = Recorder(settings, archive_path, clock=clock)

    def main() -> None:
        try:
            stats = asyncio.run(recorder.run())
            for line in stats.lines():
                log.info("liquidation recorder: %s", line)
        except Exception:
            log.exception("the liquidation recorder failed")

    thread = threading.Thread(target=main, name="liqrecord", daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        recorder.stop()
        thread.join(timeout=30)


def record(settings: RealisedSettings, archive_path: Path, *, duration: float | None = None,
           clock: Clock | None = None) -> RecorderStats:
    """`reportgen liqrecord`: record in the foreground for `duration` seconds, or until
    SIGINT/SIGTERM; either way the connections close and every frame read is written."""
    import signal

    from reportgen.errors import UsageError

    if not settings.enabled or not settings.venues:
        raise UsageError("realised liquidations are switched off in config "
                         "(sources.liquidation_realised.enabled / .venues)")
    recorder = Recorder(settings, archive_path, clock=clock)

    async def main() -> RecorderStats:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, recorder.stop_now)
        try:
            return await recorder.run(duration)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    return asyncio.run(main())
