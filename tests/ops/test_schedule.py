"""The scheduler, driven by an injected clock: DST, catch-up, and two schedulers at once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.dayguard import is_done
from reportgen.errors import LockError
from reportgen.locks import scheduler_lock
from reportgen.ops.schedule import DailyJob, DailyTrigger, due_days, fire_times, make_trigger, serve
from tests.ops.conftest import FakeRunner, MovableClock, make_config

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def _local_days(fires: list[datetime], zone: ZoneInfo) -> Counter[date]:
    return Counter(f.astimezone(zone).date() for f in fires)


@pytest.mark.parametrize(("zone", "hhmm", "start", "instant"), [
    # New York springs forward 02:00 → 03:00 on 9 March: 02:30 does not exist that day;
    # it fires once, at 03:30 EDT (07:30 UTC).
    (NY, (2, 30), datetime(2025, 3, 7), datetime(2025, 3, 9, 7, 30, tzinfo=UTC)),
    # London springs forward 01:00 → 02:00 on 30 March: 01:30 does not exist.
    (LONDON, (1, 30), datetime(2025, 3, 28), datetime(2025, 3, 30, 1, 30, tzinfo=UTC)),
    # New York falls back 02:00 → 01:00 on 2 November: 01:30 happens twice; first one only.
    (NY, (1, 30), datetime(2025, 10, 31), datetime(2025, 11, 2, 5, 30, tzinfo=UTC)),
    # London falls back 02:00 → 01:00 on 26 October.
    (LONDON, (1, 30), datetime(2025, 10, 24), datetime(2025, 10, 26, 0, 30, tzinfo=UTC)),
    # 02:30 on New York's fall-back day is not ambiguous: plainly once.
    (NY, (2, 30), datetime(2025, 10, 31), datetime(2025, 11, 2, 7, 30, tzinfo=UTC)),
])
def test_once_per_day_across_dst(zone: ZoneInfo, hhmm: tuple[int, int], start: datetime,
                                 instant: datetime) -> None:
    trigger = DailyTrigger(CronTrigger(hour=hhmm[0], minute=hhmm[1], timezone=zone))
    begin = start.replace(tzinfo=zone)
    fires = list(fire_times(trigger, begin, begin + timedelta(days=5)))
    per_day = _local_days(fires, zone)
    assert len(fires) == 5 and set(per_day.values()) == {1}, fires
    # Compare instants in UTC: PEP 495 makes gap/fold times unequal across zones.
    assert instant in [f.astimezone(UTC) for f in fires]
    assert fires == sorted(fires)


def test_raw_crontrigger_fires_twice_on_fall_back_dailytrigger_once() -> None:
    """Why DailyTrigger exists: APScheduler's CronTrigger yields 01:30 twice on 2 Nov."""
    cron = CronTrigger(hour=1, minute=30, timezone=NY)
    first = cron.get_next_fire_time(None, datetime(2025, 11, 2, tzinfo=NY))
    second = cron.get_next_fire_time(first, first + timedelta(microseconds=1))
    assert first is not None and second is not None
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    wrapped = DailyTrigger(cron)
    nxt = wrapped.get_next_fire_time(first, first + timedelta(microseconds=1))
    assert nxt == datetime(2025, 11, 3, 6, 30, tzinfo=UTC)


def test_started_inside_the_spring_gap_still_fires_that_day() -> None:
    """Started at 03:10 EDT on 9 March, before the moved 02:30 (= 03:30 EDT) fire."""
    trigger = DailyTrigger(CronTrigger(hour=2, minute=30, timezone=NY))
    now = datetime(2025, 3, 9, 7, 10, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, now) == datetime(2025, 3, 9, 7, 30, tzinfo=UTC)


def _drive(job: DailyJob, start: datetime, end: datetime, clock: MovableClock) -> None:
    """Move the clock to each fire time and tick, like the scheduler (plus a late re-tick)."""
    for fire in fire_times(job.trigger, start, end):
        clock.instant = fire.astimezone(UTC)
        job()
        clock.instant = fire.astimezone(UTC) + timedelta(hours=1)  # e.g. a repeated 01:30
        job()


@pytest.mark.parametrize(("start", "dst_day"), [
    (datetime(2025, 3, 7, tzinfo=NY), date(2025, 3, 9)),
    (datetime(2025, 10, 31, tzinfo=NY), date(2025, 11, 2)),
])
def test_scheduled_job_runs_each_date_once_across_dst(output: Path, start: datetime,
                                                      dst_day: date) -> None:
    config = make_config(output, zone="America/New_York", time="02:30", catch_up_days=0)
    clock = MovableClock(start)
    runner = FakeRunner(config)
    job = DailyJob(config, clock=clock, runner=runner)
    _drive(job, start, start + timedelta(days=4, hours=23), clock)
    assert runner.calls == [start.date() + timedelta(days=i) for i in range(5)]
    assert dst_day in runner.calls


def test_fall_back_ambiguous_time_runs_once(output: Path) -> None:
    config = make_config(output, zone="America/New_York", time="01:30", catch_up_days=0)
    clock = MovableClock(datetime(2025, 11, 2, 5, 30, tzinfo=UTC))  # first 01:30 (EDT)
    runner = FakeRunner(config)
    job = DailyJob(config, clock=clock, runner=runner)
    job()
    clock.instant = datetime(2025, 11, 2, 6, 30, tzinfo=UTC)  # second 01:30 (EST)
    assert [o.status for o in job()] == ["done"]
    assert runner.calls == [date(2025, 11, 2)]


def test_report_date_is_today_in_the_report_zone(output: Path) -> None:
    # Fires 07:00 London = 06:00 UTC in summer; the report zone is Tokyo (15:00 there).
    config = make_config(output, zone="Asia/Tokyo", time="07:00", timezone="Europe/London",
                         catch_up_days=0)
    now = datetime(2025, 6, 11, 6, 0, tzinfo=UTC)
    assert due_days(config, make_trigger(config), now) == [date(2025, 6, 11)]
    assert due_days(config, make_trigger(config), now - timedelta(minutes=1)) == []


def test_missed_days_are_caught_up_once(output: Path) -> None:
    config = make_config(output, time="07:00", catch_up_days=3)
    clock = MovableClock(datetime(2025, 6, 5, 7, 0, tzinfo=UTC))
    runner = FakeRunner(config)
    job = DailyJob(config, clock=clock, runner=runner)
    job()
    assert runner.calls == [date(2025, 6, 2), date(2025, 6, 3), date(2025, 6, 4), date(2025, 6, 5)]
    runner.calls.clear()
    # Down from the 6th to the 10th: on restart at 09:00 on the 10th, the window (3 days)
    # brings back the 7th, 8th, 9th and today; the 6th is outside it.
    clock.instant = datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
    job()
    assert runner.calls == [date(2025, 6, 7), date(2025, 6, 8), date(2025, 6, 9), date(2025, 6, 10)]
    # The scheduled tick the next morning, and a repeated tick, only make the new day.
    runner.calls.clear()
    clock.instant = datetime(2025, 6, 11, 7, 0, tzinfo=UTC)
    job()
    job()
    assert runner.calls == [date(2025, 6, 11)]
    assert not is_done(config, date(2025, 6, 6))


def test_failed_day_is_retried_on_the_next_tick(output: Path) -> None:
    config = make_config(output, time="07:00", catch_up_days=1)
    clock = MovableClock(datetime(2025, 6, 10, 7, 0, tzinfo=UTC))
    attempts: list[date] = []

    def flaky(day: date) -> object:
        attempts.append(day)
        if len(attempts) == 1:
            raise RuntimeError("boom")
        FakeRunner(config)(day)
        return None

    job = DailyJob(config, clock=clock, runner=flaky)
    assert [o.status for o in job()] == ["failed", "complete"]
    clock.instant += timedelta(hours=2)  # e.g. the scheduler restarted
    assert [o.status for o in job()] == ["complete", "done"]
    assert attempts == [date(2025, 6, 9), date(2025, 6, 10), date(2025, 6, 9)]


def test_two_schedulers_in_threads_never_run_a_date_twice(output: Path) -> None:
    config = make_config(output, time="07:00", catch_up_days=5, lock_wait_s=30)
    now = datetime(2025, 6, 11, 8, 0, tzinfo=UTC)
    barrier = threading.Barrier(2)
    calls: list[date] = []
    lock = threading.Lock()

    def runner_for(_name: str) -> FakeRunner:
        def note(day: date) -> None:
            with lock:
                calls.append(day)

        return FakeRunner(config, on_call=note)

    jobs = [DailyJob(config, clock=MovableClock(now), runner=runner_for(n)) for n in "ab"]

    def tick(job: DailyJob) -> None:
        barrier.wait()
        job()

    threads = [threading.Thread(target=tick, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(calls) == [date(2025, 6, 6) + timedelta(days=i) for i in range(6)]


def test_second_scheduler_is_refused(output: Path) -> None:
    config = make_config(output)
    held, release = threading.Event(), threading.Event()

    def first_scheduler() -> None:  # another thread: a lock is re-entrant in its own thread
        with scheduler_lock(output):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=first_scheduler)
    holder.start()
    try:
        assert held.wait(30)
        with pytest.raises(LockError, match="another `reportgen schedule`"):
            serve(config, DailyJob(config, runner=FakeRunner(config)), install_signals=False)
    finally:
        release.set()
        holder.join()


def test_serve_runs_catch_up_then_stops_cleanly(output: Path) -> None:
    config = make_config(output, time="07:00", catch_up_days=1)
    clock = MovableClock(datetime(2025, 6, 11, 8, 0, tzinfo=UTC))
    ran = threading.Event()
    stop = threading.Event()
    runner = FakeRunner(config, on_call=lambda day: ran.set() if day == date(2025, 6, 11) else None)
    job = DailyJob(config, clock=clock, runner=runner)
    seen: dict[str, object] = {}

    def started(scheduler: object) -> None:
        seen["job"] = scheduler.get_job("daily-brief")  # type: ignore[attr-defined]

    worker = threading.Thread(target=serve, args=(config, job),
                              kwargs={"stop": stop, "install_signals": False, "on_started": started})
    worker.start()
    assert ran.wait(30), "the start-up catch-up did not run"
    stop.set()
    worker.join(30)
    assert not worker.is_alive()
    assert runner.calls == [date(2025, 6, 10), date(2025, 6, 11)]
    scheduled = seen["job"]
    assert scheduled.coalesce is True and scheduled.max_instances == 1  # type: ignore[attr-defined]
    assert scheduled.misfire_grace_time == 3600  # type: ignore[attr-defined]


def test_schedule_next_prints_run_times(output: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTGEN_NOW", "2025-03-07T12:00:00+00:00")
    config = Path("config.yaml")
    config.write_text("timezone: America/New_York\nschedule: {time: '02:30'}\n")
    result = CliRunner().invoke(app, ["-o", str(output), "schedule", "--next", "5"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 5
    assert lines[0].startswith("2025-03-08T02:30:00-05:00")
    assert "report 2025-03-09" in lines[1] and "report 2025-03-10" in lines[2]
