"""`reportgen schedule`: APScheduler 3 running the daily `run`, with catch-up and locks.

Which report date a scheduled run makes: **today in the report zone** — the date of the
moment the job fires, converted to `config.timezone`. That is `pipeline.run`'s default too,
and the only choice that gets live data: a past date gets only sources with history (live
data is never used to fill a past date). With `time: "07:00"` the brief of 2025-06-11 is
made at 07:00 on 2025-06-11 and describes the market as of then.

When the job fires, it runs every *due* date not yet done (reportgen.dayguard.is_done):
the report dates of the trigger's fire times from `catch_up_days` days ago up to now. On a
normal day that is just today; after downtime it also catches up the missed days (oldest
first), each once. The same job runs once at start-up.

DST: cron fire times are wall-clock times in the schedule zone. `DailyTrigger` wraps
APScheduler's CronTrigger so that a wall time that does not exist (spring forward, 02:30 in
New York) fires once, at the same instant after the jump (03:30), and a wall time that
happens twice (fall back, 01:30) fires only at its first occurrence. Even if a trigger fired
twice, the date lock and the "done" check would still make one report.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from reportgen.clock import Clock, SystemClock, day_start, default_clock
from reportgen.config import Config
from reportgen.dayguard import is_done
from reportgen.errors import LockError, ReportgenError
from reportgen.locks import date_lock, scheduler_lock

log = logging.getLogger(__name__)

JOB_ID = "daily-brief"
# How far back a trigger is asked, so that a fire time moved forward by a DST gap (at most
# an hour anywhere) is still found when "now" is inside the gap.
_GAP_LOOKBACK = timedelta(hours=2)


def schedule_zone(config: Config) -> str:
    """The zone of the schedule's wall times: `schedule.timezone`, else the report zone."""
    return config.schedule.timezone or config.timezone


class DailyTrigger(BaseTrigger):
    """A CronTrigger that fires once per wall-clock time across DST changes (module doc)."""

    def __init__(self, cron: CronTrigger) -> None:
        self.cron = cron
        self.timezone: tzinfo = cron.timezone

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        """The first fire time after `previous_fire_time` (APScheduler's contract: it may be
        before `now`, to detect misfires), or at/after `now` when there is none."""
        # Arithmetic in UTC: aware-datetime + timedelta is wall-clock arithmetic in Python,
        # which drops `fold` and would step back into the repeated hour.
        now = now.astimezone(UTC)
        if previous_fire_time is None:
            lower = now
            candidate: datetime | None = self.cron.get_next_fire_time(None, now - _GAP_LOOKBACK)
        else:
            lower = previous_fire_time.astimezone(UTC) + timedelta(microseconds=1)
            candidate = self.cron.get_next_fire_time(None, lower)
        for _ in range(10_000):  # bounded: each step moves forward by at least a second
            if candidate is None:
                return None
            if candidate >= lower and not self._repeated(candidate):
                # Normalised (02:30 in a gap becomes 03:30 EDT): PEP 495 makes a gap time
                # compare unequal to the same instant in another zone, and --next shows it.
                return candidate.astimezone(UTC).astimezone(self.timezone)
            candidate = self.cron.get_next_fire_time(
                None, candidate.astimezone(UTC) + timedelta(seconds=1))
        return None

    def _repeated(self, instant: datetime) -> bool:
        """Whether `instant` is the second occurrence of an ambiguous wall time."""
        local = instant.astimezone(self.timezone)
        return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()

    def __str__(self) -> str:
        return f"daily[{self.cron}]"


def make_trigger(config: Config) -> DailyTrigger:
    """The configured trigger: `schedule.cron` if set, else every day at `schedule.time`."""
    zone = ZoneInfo(schedule_zone(config))
    if config.schedule.cron:
        return DailyTrigger(CronTrigger.from_crontab(config.schedule.cron, timezone=zone))
    hour, minute = (int(part) for part in config.schedule.time.split(":"))
    return DailyTrigger(CronTrigger(hour=hour, minute=minute, timezone=zone))


def fire_times(trigger: BaseTrigger, start: datetime, end: datetime) -> Iterator[datetime]:
    """Every fire time in [start, end], driving the trigger the way the scheduler does."""
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= end:
        yield fire
        fire = trigger.get_next_fire_time(fire, fire.astimezone(UTC) + timedelta(microseconds=1))


def next_fire_times(config: Config, count: int, now: datetime) -> list[datetime]:
    """The next `count` fire times from `now` (for `reportgen schedule --next N`)."""
    trigger = make_trigger(config)
    times: list[datetime] = []
    fire = trigger.get_next_fire_time(None, now)
    while fire is not None and len(times) < count:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, fire.astimezone(UTC) + timedelta(microseconds=1))
    return times


def report_day(config: Config, fire: datetime) -> date:
    """The report date a run firing at `fire` makes: that instant's date in the report zone."""
    return fire.astimezone(ZoneInfo(config.timezone)).date()


def due_days(config: Config, trigger: BaseTrigger, now: datetime) -> list[date]:
    """Report dates whose fire time lies in the catch-up window and is not in the future."""
    zone = schedule_zone(config)
    today = now.astimezone(ZoneInfo(zone)).date()
    start = day_start(today - timedelta(days=config.schedule.catch_up_days), zone)
    days = [report_day(config, fire) for fire in fire_times(trigger, start, now)]
    return sorted(set(days))


@dataclass(frozen=True)
class Outcome:
    """What one tick did for one date: complete, partial, failed, done (skipped) or busy."""

    day: date
    status: str
    detail: str = ""


Runner = Callable[[date], object]


class DailyJob:
    """The callable APScheduler runs: make every due, not-yet-done report date, once.

    `clock` gives "now" (tests inject a FixedClock); `runner(day)` makes one date (default:
    `pipeline.run`). Setting `stopping` makes the job return after the date in progress."""

    def __init__(self, config: Config, *, clock: Clock | None = None, runner: Runner | None = None,
                 sample: bool = False, formats: list[str] | None = None,
                 trigger: BaseTrigger | None = None) -> None:
        self.config = config
        self.clock = clock or default_clock()
        self.trigger = trigger or make_trigger(config)
        self.runner = runner or self._pipeline_runner(sample, formats)
        self.stopping = threading.Event()

    def _pipeline_runner(self, sample: bool, formats: list[str] | None) -> Runner:
        def run_day(day: date) -> object:
            from reportgen.pipeline import run  # lazy: keeps `schedule --next` light

            return run(self.config, day, sample=sample, formats=formats, clock=self.clock)

        return run_day

    def __call__(self) -> list[Outcome]:
        now = self.clock.now()
        days = due_days(self.config, self.trigger, now)
        log.info("tick at %s: due %s", now.isoformat(timespec="seconds"),
                 ", ".join(map(str, days)) or "nothing")
        outcomes = []
        for day in days:
            if self.stopping.is_set():
                log.info("stopping: %s and later left for the next start", day)
                break
            outcomes.append(self.run_day(day))
        return outcomes

    def run_day(self, day: date) -> Outcome:
        """Make `day` unless it is done or another process is making it."""
        try:
            # Check "done" while holding the date's lock: a second scheduler waiting on the
            # lock then sees the first one's finished run and skips.
            with date_lock(self.config.output, day, wait=self.config.schedule.lock_wait_s):
                if is_done(self.config, day):
                    return Outcome(day, "done", "already produced")
                log.info("%s: starting scheduled run", day)
                result = self.runner(day)
        except LockError as exc:
            log.info("%s: %s", day, exc)
            return Outcome(day, "busy", str(exc))
        except ReportgenError as exc:
            log.error("%s: run failed: %s", day, exc)
            return Outcome(day, "failed", str(exc))
        except Exception as exc:  # a bug must not kill the daemon; the record says "failed"
            log.exception("%s: run crashed", day)
            return Outcome(day, "failed", f"{type(exc).__name__}: {exc}")
        complete = getattr(result, "complete", True)
        outcome = Outcome(day, "complete" if complete else "partial")
        log.info("%s: %s", day, outcome.status)
        return outcome


def make_scheduler(config: Config, job: DailyJob) -> BackgroundScheduler:
    """A BackgroundScheduler with the job added, options set explicitly: one instance at a
    time, missed runs coalesced into one, and a grace time for late starts."""
    zone = ZoneInfo(schedule_zone(config))
    grace = config.schedule.misfire_grace_time_s
    scheduler = BackgroundScheduler(
        timezone=zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
    )
    scheduler.add_job(
        job, trigger=job.trigger, id=JOB_ID, name="daily brief", coalesce=True, max_instances=1,
        misfire_grace_time=grace,
        # Fire once right away: the start-up catch-up runs through the same job and lock.
        # APScheduler fires on the real clock (a fixed REPORTGEN_NOW in the past would make
        # it skip the run as missed); the job itself takes its report date from job.clock.
        next_run_time=SystemClock().now().astimezone(zone),
    )
    return scheduler


def serve(config: Config, job: DailyJob, *, stop: threading.Event | None = None,
          install_signals: bool = True, on_started: Callable[[BackgroundScheduler], None] | None = None,
          ) -> None:
    """Run the scheduler until SIGTERM/SIGINT (or `stop` is set), then finish the job in
    progress and return. Refuses (LockError) when another scheduler holds the folder."""
    stop = stop or threading.Event()
    previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int | None] = {}

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: finishing the current job, then exiting", signal.Signals(signum).name)
        stop.set()

    with scheduler_lock(config.output, wait=config.schedule.lock_wait_s):
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, on_signal)
        scheduler = make_scheduler(config, job)
        try:
            scheduler.start()
            log.info("scheduler started: %s in %s, catch-up %d days, output %s", job.trigger,
                     schedule_zone(config), config.schedule.catch_up_days, config.output)
            if on_started:
                on_started(scheduler)
            while not stop.wait(1.0):  # a timed wait keeps signal handlers responsive
                pass
        finally:
            job.stopping.set()
            scheduler.shutdown(wait=True)  # waits for the date in progress to finish
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            log.info("scheduler stopped")
