"""The daily run as an explicit, ordered pipeline:

    collect → archive → build the view-model → render → publish

Phases talk through data objects only, each reading what the one before made. `collect` is
the only phase that may touch the network, and the only one that runs the liquidation model
(it stores each map result in the archive); `render_day` works from the archive alone (a
test proves it), so any archived day can be rebuilt exactly, and ends with the day's
manifest. `send_day` mails a day that was rendered, from that manifest and the view-model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen import sample as sample_data
from reportgen.agenda import SAMPLE_CALENDAR, load_calendar
from reportgen.archive import Archive
from reportgen.brief import Brief, build_brief
from reportgen.clock import Clock, default_clock, today_in
from reportgen.collect import CollectOptions, collect
from reportgen.config import Config, secrets_from_env
from reportgen.dayguard import day_guard
from reportgen.errors import ArchiveError, ConfigError, UsageError
from reportgen.manifest import ReportManifest, report_dir
from reportgen.models import SourceSnapshot
from reportgen.registry import models, sources
from reportgen.render import Rendered, render_report
from reportgen.render.pool import RenderPool
from reportgen.view import CalendarEvent, MapScoreRow
from reportgen.writer import OutputWriter

if TYPE_CHECKING:
    from reportgen.channels.base import Channel, Command, Outcome
    from reportgen.liquidation.result import LiquidationResult

log = logging.getLogger(__name__)

PHASES = ("collect", "archive", "build", "render", "publish")


@dataclass
class RunResult:
    day: date
    brief: Brief
    files: list[Path]
    snapshots: dict[str, SourceSnapshot]
    manifest: ReportManifest | None = None  # what render wrote (None before render)
    seconds: dict[str, float] = field(default_factory=dict)
    phases: list[str] = field(default_factory=list)
    published: dict[str, Outcome] = field(default_factory=dict)  # channel → its outcome

    @property
    def complete(self) -> bool:
        return self.brief.complete


# The earliest report date any source can answer for: CoinGecko's market history (the
# oldest of them) starts on 28 April 2013. Before it a brief would be empty, and a date near
# year 1 cannot even have a previous day.
EARLIEST_DAY = date(2013, 4, 28)


def too_early(day: date, option: str = "--date") -> str | None:
    """Why `day` cannot have a brief because no source reaches back that far (None if it can)."""
    if day >= EARLIEST_DAY:
        return None
    return (f"{option} {day} is before {EARLIEST_DAY}, the earliest date any source can answer "
            "for (CoinGecko's market history starts there): choose a later date")


def check_date(day: date, config: Config, clock: Clock, *, sample: bool) -> None:
    """Refuse dates that cannot have a report: the future, before any source's history, or
    outside the sample."""
    today = today_in(config.timezone, clock)
    early = too_early(day)
    if early:
        raise UsageError(early)
    if sample and not sample_data.has_day(day):
        raise UsageError(
            f"--date {day}: the bundled sample covers {sample_data.SAMPLE_FIRST} to "
            f"{sample_data.SAMPLE_LAST} only"
        )
    if not sample and day > today:
        raise UsageError(f"--date {day} is in the future (today is {today} in {config.timezone})")


def collect_phase(config: Config, day: date, archive: Archive, *, clock: Clock, sample: bool,
                  options: CollectOptions | None = None,
                  on_done: Callable[[SourceSnapshot], None] | None = None,
                  ) -> dict[str, SourceSnapshot]:
    options = options or CollectOptions()
    options.sample = sample
    options.clock = clock
    if options.secrets is None:
        options.secrets = secrets_from_env()
    return collect(config, day, today_in(config.timezone, clock), archive, options, on_done)


def _collect_previous(config: Config, day: date, archive: Archive, *, clock: Clock,
                      sample: bool, options: CollectOptions | None) -> None:
    """The "vs previous day" changes need D − 1: from the archive when it is there, else
    from the sample or the sources' historical endpoints (never from today's data)."""
    previous = day - timedelta(days=1)
    if sample:
        if sample_data.has_day(previous) and not archive.has_day(previous):
            collect_phase(config, previous, archive, clock=clock, sample=True, options=options)
        return
    have = archive.snapshots(previous)
    # Sources whose figures compare with the previous day's snapshot (those that carry the
    # day before in their own answer, or have no history, are not asked).
    missing = tuple(s.name for s in sources(config)
                    if s.needs_previous_day and s.enabled()[0] and s.name not in have)
    if missing:
        opts = CollectOptions(transport=options.transport if options else None,
                              secrets=options.secrets if options else None, only=missing,
                              exchanges=options.exchanges if options else None)
        collect_phase(config, previous, archive, clock=clock, sample=False, options=opts)


def build_phase(config: Config, day: date, archive: Archive, *, clock: Clock) -> Brief:
    """The view-model for `day` from the archive only (and the previous day's snapshots)."""
    snapshots = archive.snapshots(day, models())
    previous = archive.snapshots(day - timedelta(days=1), models())
    notes, rows = _map_scores(config, day, archive)
    return build_brief(
        day, snapshots, previous, contributors=[s for s in sources(config) if s.enabled()[0]],
        title=config.report.title, zone=config.timezone,
        generated_at=_generated_at(snapshots, clock), sample=archive.is_sample_day(day),
        original_url=config.report.original_url, author=config.report.author,
        archive_url=_archive_url(config), notes=notes, map_scores=rows,
        calendar=_calendar(config, sample=archive.is_sample_day(day)),
    )


def _calendar(config: Config, *, sample: bool) -> list[CalendarEvent] | None:
    """The configured calendar's events (None when none is configured); a sample day without
    one uses the bundled June 2025 calendar."""
    if config.calendar is not None:
        return load_calendar(config.calendar)
    return load_calendar(SAMPLE_CALENDAR) if sample else None


def _map_scores(config: Config, day: date,
                archive: Archive) -> tuple[dict[str, list[str]], list[MapScoreRow]]:
    """"Yesterday's map, scored" (reportgen.realised.score): the previous day's stored maps
    against the day's archived liquidations, as the sentence under the realised liquidations
    and as data for the manifest and the site."""
    from reportgen.liquidation.config import LiqConfig
    from reportgen.realised.score import REALISED_SOURCE, score_sentence, scores_for

    liquidation = config.settings_for("liquidation", LiqConfig)
    scores = scores_for(archive, day, liquidation) if liquidation.enabled else None
    if scores is None:
        return {}, []
    rows = [MapScoreRow(symbol=s.symbol, map_day=day - timedelta(days=1), lift=s.lift,
                        lift_long=s.lift_long, lift_short=s.lift_short, p_value=s.p_value,
                        events=s.events) for s in scores]
    return {REALISED_SOURCE: [score_sentence(scores, day)]}, rows


def _archive_url(config: Config) -> str | None:
    """The report history: the site's index when the site has a public URL."""
    url = config.site.url
    if not url:
        return None
    return url.rstrip("/") + "/index.html"


def _generated_at(snapshots: dict[str, SourceSnapshot], clock: Clock) -> datetime:
    """For reproducible output the brief is stamped with the newest fetch time of its data,
    not the wall clock: rendering the same archived day twice gives identical files."""
    stamps = [s.fetched_at for s in snapshots.values() if s.fetched_at]
    return max(stamps) if stamps else clock.now()


# The source whose stored map results the charts are drawn from.
CHART_SOURCE = "liquidation"


def stored_maps(day: date, archive: Archive) -> list[LiquidationResult]:
    """The liquidation map results collect computed and stored for `day`, for the charts:
    render draws them and never runs the model again. Empty when the source had no map."""
    from reportgen.liquidation.result import StoredMap

    snapshot = archive.snapshot(day, CHART_SOURCE)
    if snapshot is None or not snapshot.ok:
        return []
    stored = archive.results(day, CHART_SOURCE, StoredMap)
    if not stored:
        sample = " --sample" if archive.is_sample_day(day) else ""
        raise ArchiveError(
            f"the archive has the liquidation map of {day} but not the map results its charts "
            f"are drawn from (it was collected by an older reportgen): run "
            f"`reportgen collect{sample} --date {day} --force`, then render again"
        )
    return [m.full() for m in stored.values()]


def _render(config: Config, brief: Brief, writer: OutputWriter, formats: list[str] | None,
            maps: list[LiquidationResult], pool: RenderPool, *,
            for_channels: set[str] | None = None) -> Rendered:
    formats = list(formats or config.report.formats)
    formats += sorted((for_channels or set()) - set(formats))  # e.g. a PDF to attach
    from reportgen.liquidation.config import LiqConfig

    heatmaps = config.settings_for("liquidation", LiqConfig).heatmaps
    return render_report(brief, writer, formats, maps, heatmaps=heatmaps, pool=pool)


def render_day(config: Config, day: date, *, clock: Clock | None = None,
               formats: list[str] | None = None) -> RunResult:
    """Build and render `day` from the archive alone: never touches the network."""
    clock = clock or default_clock()
    started = time.perf_counter()
    with Archive(config.archive_path, clock=clock) as archive:
        brief = build_phase(config, day, archive, clock=clock)
        snapshots = archive.snapshots(day, models())
        maps = stored_maps(day, archive)
    built = time.perf_counter()
    writer = OutputWriter(config.output)
    with RenderPool(config.report.render_workers) as pool:
        rendered = _render(config, brief, writer, formats, maps, pool)
    return RunResult(day=day, brief=brief, files=rendered.files, snapshots=snapshots,
                     manifest=rendered.manifest,
                     seconds={"build": built - started, "render": time.perf_counter() - built},
                     phases=["build", "render"])


def run(config: Config, day: date | None = None, *, sample: bool = False,
        formats: list[str] | None = None, clock: Clock | None = None,
        options: CollectOptions | None = None,
        on_phase: Callable[[str], None] | None = None,
        on_source: Callable[[SourceSnapshot], None] | None = None,
        send: bool = True, publish: bool = True) -> RunResult:
    """The whole daily job for one date: collect → archive → build → render (→ publish).

    Publish runs the channels enabled in config (reportgen.channels) and not switched off
    here: `send=False` (--no-send) skips those that run on `send`, `publish=False`
    (--no-publish) those that run on `publish`."""
    clock = clock or default_clock()
    if day is None:
        day = sample_data.SAMPLE_LAST if sample else today_in(config.timezone, clock)
    check_date(day, config, clock, sample=sample)
    # One process per date (output/locks/<date>.lock), leftovers of a killed run swept, and
    # a row in the archive's runs table: see reportgen.dayguard.
    with day_guard(config, day, sample=sample, report_dir=report_dir(day)) as record:
        result = _run_locked(config, day, sample=sample, formats=formats, clock=clock,
                             options=options, on_phase=on_phase, on_source=on_source,
                             send=send, publish=publish)
        record.finish(complete=result.complete, files=result.files,
                      published={name: o.as_record() for name, o in result.published.items()},
                      sections={s.id: s.status for s in result.brief.sections})
    return result


def _run_locked(config: Config, day: date, *, sample: bool, formats: list[str] | None,
                clock: Clock, options: CollectOptions | None,
                on_phase: Callable[[str], None] | None,
                on_source: Callable[[SourceSnapshot], None] | None,
                send: bool, publish: bool) -> RunResult:
    from reportgen.publish.phase import active_channels, needed_formats

    seconds: dict[str, float] = {}
    phases: list[str] = []
    off: list[Command] = [*(() if send else ("send",)), *(() if publish else ("publish",))]
    active = active_channels(config, "run", skip=off)

    def phase(name: str) -> float:
        phases.append(name)
        log.info("%s: %s", day, name)
        if on_phase:
            on_phase(name)
        return time.perf_counter()

    # The render workers start now: their imports overlap collect (reportgen.render.pool).
    with RenderPool(config.report.render_workers).start() as pool:
        with Archive(config.archive_path, clock=clock) as archive:
            start = phase("collect")
            snapshots = collect_phase(config, day, archive, clock=clock, sample=sample,
                                      options=options, on_done=on_source)
            _collect_previous(config, day, archive, clock=clock, sample=sample, options=options)
            seconds["collect"] = time.perf_counter() - start
            phases.append("archive")  # collect writes each source's payloads as they arrive
            start = phase("build")
            brief = build_phase(config, day, archive, clock=clock)
            maps = stored_maps(day, archive)
            seconds["build"] = time.perf_counter() - start
        start = phase("render")
        writer = OutputWriter(config.output)  # the run's one writer of the output folder
        rendered = _render(config, brief, writer, formats, maps, pool,
                           for_channels=needed_formats(active))
    files = rendered.files
    seconds["render"] = time.perf_counter() - start
    log.info("%s: %d files, %d sections unavailable", day, len(files), len(brief.unavailable))
    published: dict[str, Outcome] = {}
    if active:
        start = phase("publish")
        published = _publish(config, active, brief, rendered.manifest, writer=writer,
                             clock=clock)
        seconds["publish"] = time.perf_counter() - start
    return RunResult(day=day, brief=brief, files=files, snapshots=snapshots, seconds=seconds,
                     phases=phases, published=published, manifest=rendered.manifest)


def _publish(config: Config, active: list[Channel[Any]], brief: Brief,
             manifest: ReportManifest, *, writer: OutputWriter, clock: Clock,
             command: Command = "run", to: tuple[str, ...] = (), dry_run: bool = False,
             force: bool = False, seams: dict[str, object] | None = None,
             ) -> dict[str, Outcome]:
    """Deliver the rendered day on the `active` channels (reportgen.publish.phase)."""
    from reportgen.channels.base import Delivery
    from reportgen.publish.phase import page_url, publish_phase

    job = Delivery(command=command, brief=brief, manifest=manifest, writer=writer, clock=clock,
                   page_url=page_url(config, brief.day), force=force, dry_run=dry_run, to=to,
                   seams=seams or {})
    return publish_phase(active, job)


def send_day(config: Config, day: date, *, to: list[str] | None = None, dry_run: bool = False,
             force: bool = False, clock: Clock | None = None,
             seams: dict[str, object] | None = None) -> dict[str, Outcome]:
    """`reportgen send`: deliver a day that was rendered on every channel that runs on
    `send` (`to`: only these recipients, on the channels that take addresses). The
    view-model is built again from the archive (pure, no network) and must be the one render
    wrote (the manifest's digest); nothing is collected or rendered here: a day that was not
    rendered, or whose archived data changed since, is a UsageError naming the command to
    run first."""
    from reportgen.publish.phase import active_channels
    from reportgen.publish.reports import read_manifest
    from reportgen.render import render_markdown, without_site_links
    from reportgen.render.report import digest

    clock = clock or default_clock()
    active = active_channels(config, "send", addressed=bool(to), dry_run=dry_run)
    if not active:
        raise ConfigError("nothing to send with: no email recipients (set email.to / email.bcc "
                          "or email.subscribers, or pass --to ADDRESS) and no other channel "
                          "that runs on `send` is enabled")
    manifest = read_manifest(config.output / report_dir(day))
    with Archive(config.archive_path, clock=clock) as archive:
        collected = bool(archive.snapshots(day))
        if manifest is None and not collected:
            raise UsageError(f"no brief for {day} in {config.output}: nothing was collected "
                             f"for that date; run `reportgen run --date {day} --no-send` "
                             "first (add --sample for a day of the bundled sample)")
        if manifest is None:
            raise UsageError(f"{day} was collected but never rendered in {config.output}: run "
                             f"`reportgen render --date {day}` first")
        if not collected:
            raise UsageError(f"{day} was rendered, but the archive {config.archive_path} has "
                             "nothing for it, and the email is made from the archived data: "
                             f"use the archive it was rendered from, or `reportgen run --date "
                             f"{day} --no-send` again")
        brief = build_phase(config, day, archive, clock=clock)
    if digest(render_markdown(without_site_links(brief))) != manifest.digest:
        raise UsageError(f"the archived data for {day} changed since it was rendered (collected "
                         f"again?): run `reportgen render --date {day}` so the email matches "
                         "the rendered brief")
    return _publish(config, active, brief, manifest, writer=OutputWriter(config.output),
                    clock=clock, command="send", to=tuple(to or ()), dry_run=dry_run,
                    force=force, seams=seams)
