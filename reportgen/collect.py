"""Collect phase: ask every enabled source for one report date and archive what it said.

Order for each source: a snapshot already in the archive → reuse it;
the bundled sample when asked for; a past date → the source's historical endpoint if it has
one, otherwise "unavailable for D" with the reason; today → the live endpoint. Live data is
never used for a past date. A failing source never stops the others: its raw payload is
archived for diagnosis and its snapshot says why it is unavailable.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import httpx

from reportgen import sample as sample_data
from reportgen.archive import Archive
from reportgen.clock import Clock, default_clock
from reportgen.config import Config
from reportgen.errors import SourceError
from reportgen.http import Http
from reportgen.models import Method, RawPayload, SourceSnapshot
from reportgen.registry import sources as registered
from reportgen.sources.base import FetchContext, ParseContext, Source, SourceConfig

log = logging.getLogger(__name__)


@dataclass
class CollectOptions:
    sample: bool = False
    force: bool = False
    transport: httpx.AsyncBaseTransport | None = None
    secrets: dict[str, str] | None = None
    only: tuple[str, ...] | None = None  # collect just these sources (by name)
    clock: Clock | None = None  # stamps every payload's fetched_at (the run's one clock)
    # Filled by collect: (source, host+path, seconds) of every HTTP exchange, for the summary.
    exchanges: list[tuple[str, str, float]] | None = None


def parse_payloads(source: Source[Any], raws: list[RawPayload], day: date, config: SourceConfig,
                   method: Method, *, is_past: bool) -> SourceSnapshot:
    """Run a source's parser on payloads; a parse failure becomes an unavailable snapshot.

    The snapshot keeps two times: `fetched_at` (when we asked, the newest payload's stamp)
    and `as_of` (the moment the data describes, from the parsed model: a row's date, an
    `updated_at`, a block's timestamp). A model that names no time of its own is taken as
    of its fetch for the current day, and as of an unknown time for a past one."""
    fetched_at = max((r.fetched_at for r in raws), default=None)
    ctx = ParseContext(report_date=day, zone=config.timezone, is_past=is_past)
    try:
        model = source.parse(raws, ctx)
    except SourceError as exc:
        return SourceSnapshot.unavailable(source.name, day, str(exc), method, fetched_at)
    as_of = getattr(model, "as_of", None)
    if not isinstance(as_of, datetime):
        as_of = None if is_past else fetched_at
    return SourceSnapshot(
        source=source.name, report_date=day, ok=True, method=method, fetched_at=fetched_at,
        as_of=as_of, data=model,
    )


async def _collect_one(source: Source[Any], ctx: FetchContext, archive: Archive,
                       options: CollectOptions) -> SourceSnapshot:
    day = ctx.report_date
    existing = archive.snapshot(day, source.name, source.model)
    if existing is not None and existing.ok and not options.force:
        if existing.method == "live" and ctx.is_past:
            existing = existing.model_copy(update={"method": "archive"})
        return existing

    if options.sample:
        raws = [raw for folder in source.sample_folders()
                for raw in sample_data.load_raws(folder, day)]
        if not raws:
            return SourceSnapshot.unavailable(
                source.name, day, f"the bundled sample has no {source.title} data for {day}",
                "sample",
            )
        snapshot = parse_payloads(source, raws, day, ctx.config, "sample", is_past=False)
        _archive(archive, day, source, raws, snapshot, sample=True)
        return snapshot

    method: Method = "history" if ctx.is_past else "live"
    if ctx.is_past and not source.supports_past:
        kept = [raw for fetched in source.archive_days(day) if fetched <= ctx.today
                for raw in archive.payloads(fetched, source.name)]
        if kept:
            snapshot = parse_payloads(source, kept, day, ctx.config, "archive", is_past=True)
            if snapshot.ok:
                _keep(archive, day, source, snapshot)
                return snapshot
        snapshot = SourceSnapshot.unavailable(
            source.name, day,
            f"unavailable for {day}: {source.title} has no free history, and the archive "
            "holds nothing for that day",
            method,
        )
        archive.put_snapshot(snapshot)
        return snapshot
    source.remember(archive.latest_payloads(source.name))
    try:
        raws = await source.fetch(ctx)
    except SourceError as exc:
        failed = [r for r in (exc.raws or [exc.raw]) if isinstance(r, RawPayload)]
        snapshot = SourceSnapshot.unavailable(source.name, day, str(exc), method,
                                              max((r.fetched_at for r in failed), default=None))
        _archive(archive, day, source, failed, snapshot)
        return snapshot
    snapshot = parse_payloads(source, raws, day, ctx.config, method, is_past=ctx.is_past)
    _archive(archive, day, source, raws, snapshot)
    return snapshot


def _keep(archive: Archive, day: date, source: Source[Any], snapshot: SourceSnapshot, *,
          sample: bool = False) -> None:
    """Store the snapshot, then what the parser computed besides it (`Source.results`, e.g.
    the liquidation maps' arrays the charts are drawn from): put_snapshot drops a source's
    earlier results, so they go second."""
    archive.put_snapshot(snapshot, sample=sample)
    if snapshot.ok and snapshot.data is not None:
        results = source.results(snapshot.data)
        if results:
            archive.put_results(day, source.name, results)


def _archive(archive: Archive, day: date, source: Source[Any], raws: list[RawPayload],
             snapshot: SourceSnapshot, *, sample: bool = False) -> None:
    if not snapshot.ok:
        # Keep the payloads, flagged, so they are not mistaken for a good collection.
        raws = [replace(r, error=r.error or f"parse: {snapshot.reason}") for r in raws]
        log.info("%s unavailable: %s", snapshot.source, snapshot.reason)
    archive.add_payloads(day, raws, sample=sample)
    _keep(archive, day, source, snapshot, sample=sample)


async def collect_day(
    config: Config, day: date, today: date, archive: Archive, options: CollectOptions,
    on_done: Callable[[SourceSnapshot], None] | None = None,
) -> dict[str, SourceSnapshot]:
    """Collect every enabled source for `day`, concurrently. Returns snapshots by source."""
    sources = [s for s in registered(config) if s.enabled()[0]
               and (options.only is None or s.name in options.only)]
    # Whatever a source was given as a secret is blanked in what the archive stores.
    archive.protect([*(options.secrets or {}).values(),
                     *(os.environ.get(name) for s in sources for name in s.secret_names())])
    async with Http(config.http, clock=options.clock or default_clock(),
                    transport=options.transport) as http:
        ctx = FetchContext(report_date=day, today=today, config=config, http=http,
                           secrets=options.secrets or {}, prices=archive,
                           recorded=archive)

        async def run(source: Source[Any]) -> SourceSnapshot:
            try:
                snapshot = await _collect_one(source, ctx, archive, options)
            except sqlite3.Error:
                raise  # the archive itself failed (a full disk?): every source is stuck
            except Exception as exc:  # a bug in one source must not cost the others
                log.exception("%s: unexpected error while collecting %s", source.name, day)
                snapshot = SourceSnapshot.unavailable(
                    source.name, day, f"internal error in {source.name}: "
                    f"{type(exc).__name__}: {exc}")
                archive.put_snapshot(snapshot)
            if on_done:
                on_done(snapshot)
            return snapshot

        results = await asyncio.gather(*(run(s) for s in sources))
        if options.exchanges is not None:
            options.exchanges.extend(http.exchanges)
    return {s.source: s for s in results}


def collect(config: Config, day: date, today: date, archive: Archive,
            options: CollectOptions | None = None,
            on_done: Callable[[SourceSnapshot], None] | None = None) -> dict[str, SourceSnapshot]:
    """Synchronous entry point of the collect phase."""
    return asyncio.run(collect_day(config, day, today, archive, options or CollectOptions(),
                                   on_done))
