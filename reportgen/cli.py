"""The command line: a thin layer that parses options, calls one library function and maps
the outcome to an exit code (0 complete, 1 failure, 2 bad usage or configuration, 3 produced
but some sections unavailable).

Heavy modules (matplotlib, WeasyPrint, pycoingecko) are imported inside the commands, so
`reportgen --help` stays fast.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
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


@app.callback()
def main_options(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", envvar="REPORTGEN_CONFIG",
                                  help="Config file (default ./config.yaml).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", envvar="REPORTGEN_OUTPUT",
                                  help="Output folder; the archive lives inside it.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False,
) -> None:
    STATE.config_path, STATE.output, STATE.verbose = config, output, verbose
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "fontTools", "weasyprint", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)


def fail(message: str, code: int) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def load() -> Config:
    from reportgen.config import load_config

    return load_config(STATE.config_path, output=STATE.output)


def parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--date {text!r} is not a date: use YYYY-MM-DD, e.g. 2025-06-11", EXIT_USAGE)


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
    raise typer.Exit(code)


def _source_line(snap: Any) -> str:
    from rich.markup import escape

    if snap.ok:
        return f"  [green]✓[/] {snap.source} ({snap.method})"
    return f"  [yellow]✗[/] {snap.source}: {escape(snap.reason or 'unavailable')}"


def _report_summary(result: Any, console: Any) -> int:
    from rich.table import Table

    brief = result.brief
    table = Table(title=f"Brief for {brief.day}{' (sample data)' if brief.sample else ''}",
                  show_header=True)
    table.add_column("Section")
    table.add_column("Status")
    for section in brief.sections:
        missing = [f.label for f in section.figures if not f.available]
        if not section.available:
            status = f"[yellow]unavailable[/] — {section.reason}"
        elif missing:
            status = f"[yellow]partial[/] — unavailable: {', '.join(missing)}"
        else:
            status = "[green]ok[/]"
        table.add_row(section.title, status)
    console.print(table)
    for path in result.files:
        console.print(f"wrote {path}")
    timing = ", ".join(f"{k} {v:.2f}s" for k, v in result.seconds.items())
    console.print(f"{len(result.files)} files · {len(brief.unavailable)} sections with gaps · {timing}")
    return EXIT_OK if brief.complete else EXIT_PARTIAL


@app.command()
def run(
    date_: DateOption = None,
    sample: SampleOption = False,
    formats: FormatsOption = None,
    no_send: Annotated[bool, typer.Option("--no-send", help="Do not send email.")] = False,
    no_publish: Annotated[bool, typer.Option("--no-publish", help="Do not rebuild the site.")] = False,
) -> None:
    """Collect, archive, build and render the brief for one date (then publish/send)."""
    def body() -> int:
        from rich.console import Console

        from reportgen.pipeline import run as run_pipeline

        console = Console(stderr=True)
        config = load()
        day, fmts = parse_date(date_), parse_formats(formats)
        with console.status("collecting…") as status:
            result = run_pipeline(
                config, day, sample=sample, formats=fmts,
                on_phase=lambda name: status.update(f"{name}…"),
                on_source=lambda snap: console.print(_source_line(snap)),
            )
        return _report_summary(result, console)

    guarded(body)


@app.command()
def collect(date_: DateOption = None, sample: SampleOption = False,
            force: Annotated[bool, typer.Option("--force", help="Fetch again even if archived.")] = False,
            ) -> None:
    """Fetch and archive the raw payloads for one date (no rendering)."""
    def body() -> int:
        from rich.console import Console

        from reportgen import sample as sample_data
        from reportgen.archive import Archive
        from reportgen.clock import default_clock, today_in
        from reportgen.collect import CollectOptions
        from reportgen.pipeline import check_date, collect_phase

        console = Console(stderr=True)
        config = load()
        clock = default_clock()
        day = parse_date(date_) or (sample_data.SAMPLE_LAST if sample else today_in(config.timezone, clock))
        check_date(day, config, clock, sample=sample)
        with Archive(config.archive_path) as archive:
            snaps = collect_phase(config, day, archive, clock=clock, sample=sample,
                                  options=CollectOptions(force=force))
        for snap in snaps.values():
            console.print(_source_line(snap))
        console.print(f"archived in {config.archive_path}")
        return EXIT_OK if all(s.ok for s in snaps.values()) else EXIT_PARTIAL

    guarded(body)


@app.command()
def render(date_: DateOption = None, formats: FormatsOption = None) -> None:
    """Render the brief for one date from the archive only (never the network)."""
    def body() -> int:
        from rich.console import Console

        from reportgen.archive import Archive
        from reportgen.clock import default_clock, today_in
        from reportgen.errors import UsageError
        from reportgen.pipeline import render_day

        config = load()
        day = parse_date(date_) or today_in(config.timezone, default_clock())
        with Archive(config.archive_path) as archive:
            if not archive.snapshots(day):
                raise UsageError(
                    f"the archive {config.archive_path} has nothing for {day}: "
                    f"run `reportgen collect --date {day}` first"
                )
        result = render_day(config, day, formats=parse_formats(formats))
        return _report_summary(result, Console(stderr=True))

    guarded(body)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
