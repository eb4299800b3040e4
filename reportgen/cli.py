"""The command line: a thin layer that parses options, calls one library function and maps
the outcome to an exit code (0 complete, 1 failure, 2 bad usage or configuration, 3 produced
but some sections unavailable).

Heavy modules (matplotlib, WeasyPrint, pycoingecko) are imported inside the commands, so
`reportgen --help` stays fast.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from reportgen.config import Config

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3

app = typer.Typer(
    name="reportgen",
    help="Daily crypto research brief: collect market data, archive it, render HTML/PDF/Markdown.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass
class Globals:
    config_path: Path | None = None
    output: Path | None = None
    verbose: bool = False


STATE = Globals()

# Options shared by several commands, defined once so they read the same everywhere.
DateOption = Annotated[
    str | None,
    typer.Option("--date", "-d", help="Report date, YYYY-MM-DD (default: today in the report zone)."),
]
SampleOption = Annotated[
    bool, typer.Option("--sample", help="Use the bundled sample data (2025-06-05 … 2025-06-11), no network.")
]
FormatsOption = Annotated[
    str | None, typer.Option("--formats", help="Comma-separated formats: html,pdf,md (default from config).")
]


def installed_version() -> str:
    """The version of the installed package (its metadata, not a constant kept by hand)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("reportgen")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed: run `make setup`)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"reportgen {installed_version()}")
        raise typer.Exit(EXIT_OK)


def make_console(stderr: bool = False) -> Any:
    """A rich Console for a command's output. On a terminal it fits the screen; piped or
    redirected, lines are never cut to 80 columns (a script reads whole timestamps and
    reasons) and no colour is written. NO_COLOR is honoured by rich itself."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=10_000, no_color=True, highlight=False)


@app.callback()
def main_options(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", envvar="REPORTGEN_CONFIG",
                                  help="Config file (default ./config.yaml).")
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", envvar="REPORTGEN_OUTPUT",
                                 help="Output folder; the archive lives inside it.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the installed version and exit.")] = False,
) -> None:
    """Global options go before the command: `reportgen -o out run --sample`."""
    from reportgen.errors import ConfigError
    from reportgen.logs import log_format, setup_logging

    if output is not None and not output.strip():
        # Path("") is ".": an empty value would silently write into the current folder.
        fail("--output is empty: name a folder, e.g. --output output", EXIT_USAGE)
    STATE.config_path, STATE.verbose = config, verbose
    STATE.output = Path(output) if output is not None else None
    try:
        fmt = log_format()
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    setup_logging(verbose=verbose, fmt=fmt)  # config's logging.format: see load()


def fail(message: str, code: int) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def load(log_level: int | None = None) -> Config:
    """The configuration; also applies its `logging.format` (and `log_level`, for daemons)."""
    from reportgen.config import load_config
    from reportgen.logs import log_format, setup_logging

    config = load_config(STATE.config_path, output=STATE.output)
    if log_level is not None or log_format(config.logging.format) != log_format():
        setup_logging(verbose=STATE.verbose, fmt=log_format(config.logging.format), level=log_level)
    return config


def load_output(log_level: int | None = None) -> Config:
    """`load`, then make sure the output folder can be written (else exit 2, naming it)."""
    from reportgen.writer import check_output

    config = load(log_level)
    check_output(config.output)
    return config


def _os_error_line(exc: OSError | sqlite3.Error) -> str:
    """One line for an operating-system or SQLite failure that escaped the library."""
    import errno

    text = str(exc)
    if isinstance(exc, sqlite3.Error):
        full = "full" in text
        text = f"the archive: {text}"
    else:
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        text = f"{exc.strerror or type(exc).__name__}: {exc.filename}" if exc.filename else text
    if full:
        return (f"{text}: the disk is full; free some space and run again (every file written "
                "is whole and the archive is consistent; the interrupted date is redone)")
    return text


def sound_archive(config: Config) -> None:
    """Refuse to run on a damaged archive (a quick check; ArchiveError names the damage)."""
    from reportgen.archive import check_sound

    check_sound(config.archive_path)


def parse_date(text: str | None, option: str = "--date") -> date | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a date: use YYYY-MM-DD, e.g. 2025-06-11", EXIT_USAGE)
    from reportgen.pipeline import too_early

    early = too_early(day, option)  # no source reaches back that far: no command can help
    if early:
        fail(early, EXIT_USAGE)
    return day


def parse_formats(text: str | None) -> list[str] | None:
    if text is None:
        return None
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in ("html", "pdf", "md")]
    if unknown or not formats:
        fail(f"--formats {text!r}: choose from html, pdf, md", EXIT_USAGE)
    return formats


def guarded(body: Callable[[], int]) -> None:
    """Run a command body, mapping library errors to exit codes at this one edge."""
    from reportgen.errors import ConfigError, ReportgenError, UsageError

    try:
        code = body()
    except (ConfigError, UsageError) as exc:
        fail(str(exc), EXIT_USAGE)
    except ReportgenError as exc:
        fail(str(exc), EXIT_FAILURE)
    except (OSError, sqlite3.Error) as exc:  # a full disk, a file gone: one line, not a traceback
        logging.getLogger("reportgen").debug("failed", exc_info=True)
        fail(_os_error_line(exc), EXIT_FAILURE)
    raise typer.Exit(code)


def _source_line(snap: Any) -> str:
    from rich.markup import escape

    if snap.ok:
        return f"  [green]✓[/] {snap.source} ({snap.method})"
    return f"  [yellow]✗[/] {snap.source}: {escape(snap.reason or 'unavailable')}"


def _report_summary(result: Any, console: Any) -> int:
    from rich.markup import escape
    from rich.table import Table

    # Reasons and labels carry upstream text: always escaped, never read as rich markup.
    brief = result.brief
    title = f"Brief for {brief.day}{' (sample data)' if brief.sample else ''}"
    table = Table(title=title, show_header=True, min_width=len(title))  # a title on one line
    table.add_column("Section")
    table.add_column("Status")
    for section in brief.sections:
        if not section.available:
            status = f"[yellow]unavailable[/] — {escape(section.reason or '')}"
        elif section.missing:
            status = f"[yellow]partial[/] — unavailable: {escape(', '.join(section.missing))}"
        else:
            status = "[green]ok[/]"
        table.add_row(escape(section.title), status)
    console.print(table)
    for path in result.files:
        console.print(f"wrote {escape(str(path))}")
    timing = ", ".join(f"{k} {v:.2f}s" for k, v in result.seconds.items())
    console.print(f"{len(result.files)} files · {len(brief.unavailable)} sections with gaps · {timing}")
    return EXIT_OK if brief.complete else EXIT_PARTIAL


@app.command()
def run(
    date_: DateOption = None,
    sample: SampleOption = False,
    formats: FormatsOption = None,
    no_send: Annotated[bool, typer.Option(
        "--no-send", help="Skip the channels that run on `send` (messages to people).")] = False,
    no_publish: Annotated[bool, typer.Option(
        "--no-publish", help="Skip the channels that run on `publish` (the site).")] = False,
) -> None:
    """Collect, archive, build and render the brief for one date (then publish/send)."""
    def body() -> int:

        from reportgen.render.pool import start_fork_server

        config = load_output()
        sound_archive(config)
        start_fork_server(config.report.render_workers)  # its imports overlap ours, collect
        from reportgen.pipeline import run as run_pipeline

        console = make_console(stderr=True)
        day, fmts = parse_date(date_), parse_formats(formats)
        with console.status("collecting…") as status:
            result = run_pipeline(
                config, day, sample=sample, formats=fmts,
                on_phase=lambda name: status.update(f"{name}…"),
                on_source=lambda snap: console.print(_source_line(snap)),
                send=not no_send, publish=not no_publish,
            )
        code = _report_summary(result, console)
        published_ok = _published_summary(result.published, console)
        return code if published_ok else EXIT_FAILURE

    guarded(body)


@app.command()
def collect(date_: DateOption = None, sample: SampleOption = False,
            force: Annotated[bool, typer.Option("--force", help="Fetch again even if archived.")] = False,
            ) -> None:
    """Fetch and archive the raw payloads for one date (no rendering)."""
    def body() -> int:
        from rich.markup import escape

        from reportgen import sample as sample_data
        from reportgen.archive import Archive
        from reportgen.clock import default_clock, today_in
        from reportgen.collect import CollectOptions
        from reportgen.pipeline import check_date, collect_phase

        console = make_console(stderr=True)
        config = load_output()
        clock = default_clock()
        day = parse_date(date_) or (sample_data.SAMPLE_LAST if sample else today_in(config.timezone, clock))
        check_date(day, config, clock, sample=sample)
        with Archive(config.archive_path) as archive:
            snaps = collect_phase(config, day, archive, clock=clock, sample=sample,
                                  options=CollectOptions(force=force))
        for snap in snaps.values():
            console.print(_source_line(snap))
        console.print(f"archived in {escape(str(config.archive_path))}")
        return EXIT_OK if all(s.ok for s in snaps.values()) else EXIT_PARTIAL

    guarded(body)


@app.command()
def render(date_: DateOption = None, formats: FormatsOption = None) -> None:
    """Render the brief for one date from the archive only (never the network)."""
    def body() -> int:

        from reportgen.archive import Archive
        from reportgen.clock import default_clock, today_in
        from reportgen.errors import UsageError
        from reportgen.pipeline import render_day

        config = load_output()
        sound_archive(config)
        day = parse_date(date_) or today_in(config.timezone, default_clock())
        with Archive(config.archive_path) as archive:
            if not archive.has_day(day):
                raise UsageError(
                    f"the archive {config.archive_path} has nothing for {day}: "
                    f"run `reportgen collect --date {day}` first"
                )
        result = render_day(config, day, formats=parse_formats(formats))
        return _report_summary(result, make_console(stderr=True))

    guarded(body)


def _published_summary(published: Mapping[str, Any], console: Any) -> bool:
    """Print each channel's outcome (reportgen.channels.base.Outcome), in delivery order:
    its warnings, its summary line and who needs a look; False when one is not ok."""
    from rich.markup import escape

    for outcome in published.values():
        for warning in outcome.warnings:
            console.print(f"[yellow]warning:[/] {escape(warning)}")
        console.print(escape(outcome.summary))
        for name, why in outcome.needs_look.items():
            console.print(f"  {escape(name)}: {escape(why)}")
    return all(outcome.ok for outcome in published.values())


@app.command()
def send(
    date_: DateOption = None,
    sample: Annotated[bool, typer.Option(
        "--sample", help="Without --date, the last day of the bundled sample.")] = False,
    to: Annotated[list[str] | None,
                  typer.Option("--to", help="Recipient (repeatable); default from config.")] = None,
    dry_run: Annotated[bool,
                       typer.Option("--dry-run", help="Write reports/D/brief.eml; send nothing.")] = False,
    force: Annotated[bool,
                     typer.Option("--force", help="Send again to recipients already served.")] = False,
) -> None:
    """Send one rendered date's brief on every channel that runs on `send` (each recipient
    at most once per date)."""
    def body() -> int:
        from rich.markup import escape

        from reportgen import sample as sample_data
        from reportgen.clock import default_clock, today_in
        from reportgen.pipeline import send_day

        console = make_console(stderr=True)
        config = load_output()
        sound_archive(config)
        day = parse_date(date_) or (sample_data.SAMPLE_LAST if sample else
                                    today_in(config.timezone, default_clock()))
        outcomes = send_day(config, day, to=to or None, dry_run=dry_run, force=force)
        for outcome in outcomes.values():
            for path in outcome.files:
                console.print(f"dry run: wrote {escape(path)} (nothing sent)")
            if not dry_run:
                console.print(escape("\n".join([outcome.summary, *outcome.lines])))
        return EXIT_OK if all(o.ok for o in outcomes.values()) else EXIT_FAILURE

    guarded(body)


@app.command()
def publish(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="List what would be uploaded to / deleted from site.target (and "
                          "left); change nothing, locally or in the bucket.")] = False,
) -> None:
    """Rebuild the static site (output/site) from the rendered reports; with site.target
    (or REPORTGEN_SITE_TARGET) set, sync it to that s3:// bucket."""
    def body() -> int:
        from rich.markup import escape

        from reportgen.publish import publish_site

        console = make_console(stderr=True)
        result = publish_site(load_output(), dry_run=dry_run)
        for warning in result.site.warnings:
            console.print(f"[yellow]warning:[/] {escape(warning)}")
        console.print(escape(result.site.summary()))
        if result.remote is not None:
            lines = result.remote.lines() if dry_run else [result.remote.summary()]
            console.print(escape("\n".join(lines)), soft_wrap=True)
        elif dry_run:
            console.print("no site.target set: the site stays in the local folder only")
        return EXIT_OK

    guarded(body)


@app.command()
def serve(
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port on 127.0.0.1.")] = 8000,
) -> None:
    """Preview the static site on http://127.0.0.1:PORT/ (Ctrl-C to stop)."""
    def body() -> int:
        from reportgen.publish import serve as serve_site

        config = load()
        serve_site(config.output / "site", port=port,
                   on_ready=lambda url: typer.echo(f"serving {config.output / 'site'} at {url}"))
        return EXIT_OK

    guarded(body)


def _register_plugins() -> None:
    from reportgen.liquidation.cli import register

    register(app, config_loader=load)


_register_plugins()


def parse_duration(text: str | None, option: str = "--for") -> float | None:
    """"90s", "30m", "2h", "1d" or plain seconds → seconds (None: no limit)."""
    if text is None:
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text[-1:].lower() in units else (text, "s")
    try:
        seconds = float(number) * units[unit.lower()]
    except ValueError:
        raise typer.BadParameter(f"{option} must be a duration such as 90s, 30m or 2h, "
                                 f"got {text!r}") from None
    if not 0 < seconds < float("inf"):
        raise typer.BadParameter(f"{option} must be more than 0, got {text!r}")
    return seconds


@app.command()
def liqrecord(
    for_: Annotated[str | None, typer.Option(
        "--for", help="Record this long, then stop (90s, 30m, 2h); default: until "
                      "SIGINT/SIGTERM.")] = None,
) -> None:
    """Record the venues' public liquidation streams (Binance, Bybit, OKX) into the archive."""
    duration = parse_duration(for_)

    def body() -> int:
        from reportgen.realised.recorder import record
        from reportgen.realised.settings import RealisedSettings

        config = load_output(log_level=logging.INFO)
        sound_archive(config)
        settings = config.settings_for("sources.liquidation_realised", RealisedSettings)
        stats = record(settings, config.archive_path, duration=duration)
        for line in stats.lines():
            typer.echo(line)
        return EXIT_OK

    guarded(body)


# -- running it every day (reportgen.ops) -------------------------------------------------


@app.command()
def schedule(
    sample: SampleOption = False,
    formats: FormatsOption = None,
    next_: Annotated[int | None, typer.Option("--next", min=1, max=1000,
                                              help="Print the next N run times and exit.")] = None,
) -> None:
    """Run the daily job on the configured schedule until SIGTERM/SIGINT (catching up first)."""
    def body() -> int:
        from reportgen.clock import default_clock
        from reportgen.ops.schedule import DailyJob, next_fire_times, report_day, schedule_zone, serve

        config = load(log_level=None if next_ else logging.INFO)
        clock = default_clock()
        if next_:
            for fire in next_fire_times(config, next_, clock.now()):
                typer.echo(f"{fire.isoformat()}  ({schedule_zone(config)}) → report "
                           f"{report_day(config, fire)}")
            return EXIT_OK
        from reportgen.writer import check_output

        check_output(config.output)
        from reportgen.realised.recorder import recording_in_background
        from reportgen.realised.settings import RealisedSettings

        # The realised-liquidations recorder runs beside the daily job (not for --sample).
        recorder = config.settings_for("sources.liquidation_realised", RealisedSettings)
        with recording_in_background(recorder.model_copy(update={"record": recorder.record
                                                                 and not sample}),
                                     config.archive_path, clock=clock):
            serve(config, DailyJob(config, clock=clock, sample=sample,
                                   formats=parse_formats(formats)))
        return EXIT_OK

    guarded(body)


@app.command()
def backfill(
    from_: Annotated[str, typer.Option("--from", help="First date, YYYY-MM-DD.")],
    to: Annotated[str, typer.Option("--to", help="Last date, YYYY-MM-DD (inclusive).")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=64, help="Parallel processes.")] = 1,
    force: Annotated[bool, typer.Option("--force", help="Redo dates already done.")] = False,
    sample: SampleOption = False,
    formats: FormatsOption = None,
    send: Annotated[bool, typer.Option(
        "--send", help="Also deliver each brief on the channels that run on `send` "
                        "(off by default).")] = False,
) -> None:
    """Produce every date in a range, in parallel; dates already done are skipped."""
    def body() -> int:
        from rich.markup import escape
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        from rich.table import Table

        from reportgen.ops.backfill import backfill as run_backfill

        console = make_console(stderr=True)
        config = load_output(log_level=logging.WARNING)
        first, last = parse_date(from_, "--from"), parse_date(to, "--to")
        assert first is not None and last is not None
        days = (last - first).days + 1

        def started(n: int) -> None:
            console.print(f"backfill {first} … {last}: {n} of {days} dates to produce "
                          f"({days - n} already done), {min(jobs, n) if n else 0} processes")
            bar.update(task, total=n)

        with Progress(TextColumn("backfill"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}"), console=console, transient=True) as bar:
            task = bar.add_task("", total=None)
            results = run_backfill(
                config, first, last, jobs=jobs, force=force, sample=sample,
                formats=parse_formats(formats), send=send,
                on_start=started,
                on_result=lambda r: None if r.status == "skipped" else
                bar.update(task, advance=1, description=f"{r.day} {r.status}"),
            )
        table = Table(title=f"Backfill {first} … {last}")
        for column in ("Date", "Status", "Seconds", "Detail"):
            table.add_column(column)
        colour = {"complete": "green", "partial": "yellow", "skipped": "dim", "busy": "yellow",
                  "failed": "red"}
        for r in results:
            table.add_row(str(r.day), f"[{colour.get(r.status, 'white')}]{r.status}[/]",
                          f"{r.seconds:.2f}" if r.seconds else "", escape(r.detail))
        console.print(table)
        if any(r.status in ("failed", "busy") for r in results):
            return EXIT_FAILURE
        return EXIT_PARTIAL if any(r.status == "partial" for r in results) else EXIT_OK

    guarded(body)


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON to stdout instead of a table.")]


def print_json(data: Any) -> None:
    """Machine-readable output: one JSON document on stdout, nothing else there."""
    import json

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


@app.command()
def sources(as_json: JsonOption = False) -> None:
    """Check every upstream: enabled, reachable, latency, key present, history support."""
    def body() -> int:
        from dataclasses import asdict

        from rich.markup import escape

        from reportgen.ops.sources_check import run_checks

        console = make_console()
        checks = run_checks(load())
        down = [c.name for c in checks if c.down]
        if as_json:
            print_json({"sources": [{**asdict(c), "down": c.down} for c in checks],
                        "required_down": down})
            return EXIT_FAILURE if down else EXIT_OK
        for c in checks:
            if not c.enabled:
                reach = f"[dim]disabled: {escape(c.why)}[/]"
            elif c.reachable:
                reach = f"[green]reachable[/] HTTP {c.status} {c.latency_ms:.0f} ms"
            elif c.reachable is None:
                reach = f"[yellow]not checked[/]: {escape(c.error or '')}"
            else:
                reach = f"[red]DOWN[/] {escape(c.error or '')}"
            keys = ", ".join(f"{k} {'set' if v else 'missing'}" for k, v in c.keys.items()) or "no key"
            past = "history: " + ("yes" if c.supports_past else "archive only")
            kind = "required" if c.required else "optional"
            console.print(f"{c.name:<12} {kind:<8} {reach} · {keys} · {past} ({escape(c.history)})",
                          soft_wrap=True)
        if down:
            console.print(f"[red]required upstream down: {', '.join(down)}[/]")
            return EXIT_FAILURE
        return EXIT_OK

    guarded(body)


@app.command()
def status(days: Annotated[int, typer.Option("--days", "-n", min=1, help="How many days back.")] = 14,
           as_json: JsonOption = False) -> None:
    """Show recent runs: start, end, status, per-section and per-channel outcome."""
    def body() -> int:
        from datetime import timedelta

        from rich.markup import escape
        from rich.table import Table

        from reportgen.archive import Archive
        from reportgen.clock import default_clock, today_in
        from reportgen.locks import is_locked

        config = load()
        sound_archive(config)
        since = today_in(config.timezone, default_clock()) - timedelta(days=days)
        runs: list[dict[str, Any]] = []
        if config.archive_path.exists():  # none yet: no runs to show
            with Archive(config.archive_path, read_only=True) as archive:
                runs = archive.runs(since)
        for r in runs:
            if r["status"] == "running" and not is_locked(config.output,
                                                          date.fromisoformat(r["report_date"])):
                r["status"] = "interrupted"  # no process holds the date: it died mid-run
        if as_json:
            print_json({"archive": str(config.archive_path), "since": since.isoformat(),
                        "runs": runs})
            return EXIT_OK
        table = Table(title=escape(f"Runs started since {since} ({config.archive_path})"))
        for column in ("Date", "Started", "Ended", "Status", "Sections", "Channels"):
            table.add_column(column)
        for r in runs:
            state = r["status"]
            day = date.fromisoformat(r["report_date"])
            ok = sum(1 for v in r["sections"].values() if v == "ok")
            sections = f"{ok}/{len(r['sections'])} ok" if r["sections"] else ""
            # what is missing, by section (e.g. "liquidation: partial: BTC: OKX dropped: …")
            sections += "".join(f"\n{escape(k)}: {escape(str(v))}"
                                for k, v in r["sections"].items() if v != "ok")
            channels = ", ".join(
                f"{k}:{v.get('status', '?') if isinstance(v, dict) else v}" for k, v in r["channels"].items()
            )
            table.add_row(str(day), r["started_at"][:19], (r["finished_at"] or "")[:19],
                          state + (" (sample)" if r["sample"] else ""), sections, escape(channels))
        make_console().print(table)
        return EXIT_OK

    guarded(body)


archive_app = typer.Typer(help="Check or recover the archive (the SQLite file in the output folder).",
                          no_args_is_help=True)
app.add_typer(archive_app, name="archive")


@archive_app.command("check")
def archive_check(as_json: JsonOption = False) -> None:
    """Check the whole archive (PRAGMA integrity_check): exit 0 sound, 1 damaged."""
    def body() -> int:
        from reportgen.archive import damage

        config = load()
        found = damage(config.archive_path, full=True)
        if as_json:
            print_json({"archive": str(config.archive_path), "sound": not found, "damage": found})
        elif found:
            console = make_console()
            console.print(f"[red]damaged[/]: {config.archive_path} ({len(found)} problems; "
                          "`reportgen archive recover` rebuilds it)", highlight=False)
            for line in found:
                console.print(f"  {line}", markup=False, highlight=False)
        else:
            typer.echo(f"sound: {config.archive_path}")
        return EXIT_FAILURE if found else EXIT_OK

    guarded(body)


@archive_app.command("recover")
def archive_recover() -> None:
    """Rebuild a damaged archive with SQLite's own recovery; the damaged file is kept beside it."""
    def body() -> int:
        from reportgen.clock import default_clock
        from reportgen.ops.recover import recover

        config = load()
        done = recover(config.archive_path, config.output, default_clock())
        console = make_console()
        how = {"sqlite-recover": "SQLite's .recover",
               "row-salvage": "row salvage (this sqlite3 has no .recover)"}[done.method]
        console.print(f"recovered {done.archive} by {how}: {len(done.damage)} problems found "
                      f"before; the damaged file is kept as {done.kept}", markup=False,
                      highlight=False)
        for table, count in done.rows.items():
            lost = done.unreadable.get(table, 0)
            console.print(f"  {table}: {count} rows" + (f", {lost} unreadable rows lost" if lost
                                                         else ""), markup=False, highlight=False)
        if done.rows.get("lost_and_found"):
            console.print("  rows SQLite could not place in their table are in lost_and_found",
                          markup=False, highlight=False)
        return EXIT_OK

    guarded(body)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
