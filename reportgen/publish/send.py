"""`reportgen send`: mail one date's brief to its recipients (or write the .eml with
--dry-run). Works from the archive and the rendered report folder; never the upstream
network."""

from __future__ import annotations

import logging
from datetime import date
from email.message import EmailMessage

from reportgen.archive import Archive
from reportgen.brief.model import Brief
from reportgen.clock import Clock, default_clock
from reportgen.config import Config, secrets_from_env
from reportgen.errors import ConfigError, DeliveryError, UsageError
from reportgen.publish.email import HTML_LIMIT_BYTES, build_message, compose, html_part_size
from reportgen.publish.mailer import (
    DeliveryLog,
    Mailer,
    SendReport,
    SmtpFactory,
    SmtpSettings,
    connect,
    deliver,
    recipients_from,
)
from reportgen.writer import OutputWriter

log = logging.getLogger(__name__)


def permalink(config: Config, day: date) -> str | None:
    """The brief's page on the public site, when `site.url` is configured."""
    if not config.site.url:
        return None
    return f"{config.site.url}{day:%Y/%m/%d}/index.html"


def _brief_for(config: Config, day: date, *, sample: bool, clock: Clock) -> Brief:
    """The day's view-model from the archive; with `sample`, collect and render the bundled
    sample first when the archive does not have the day yet."""
    from reportgen.pipeline import build_phase, report_dir, run

    with Archive(config.archive_path) as archive:
        have = bool(archive.snapshots(day))
    report = config.output / report_dir(day)
    if not have or not (report / "brief.md").is_file():
        if not sample and not have:
            raise UsageError(f"no brief for {day} in {config.output}: run "
                             f"`reportgen run --date {day}` first (or add --sample)")
        formats = ["html", "md", *(["pdf"] if config.email.attach_pdf else [])]
        return run(config, day, sample=sample, formats=formats, clock=clock,
                   send=False, publish=False).brief
    with Archive(config.archive_path) as archive:
        return build_phase(config, day, archive, clock=clock)


def send_day(config: Config, day: date, *, sample: bool = False, to: list[str] | None = None,
             dry_run: bool = False, force: bool = False, clock: Clock | None = None,
             brief: Brief | None = None, factory: SmtpFactory = connect) -> SendReport:
    """Mail `day`'s brief to `to` (default: config email.to + email.bcc), skipping
    recipients already served unless `force`. With `dry_run`, write
    reports/D/brief.eml instead and send nothing."""
    from reportgen.pipeline import report_dir
    from reportgen.render import render_brief

    clock = clock or default_clock()
    recipients = recipients_from(config.email, to)  # a bad --to fails before any work
    brief = brief or _brief_for(config, day, sample=sample, clock=clock)
    site_url = config.site.url
    if site_url and not brief.archive_url:
        brief.archive_url = f"{site_url}index.html"
    folder = config.output / report_dir(day)
    if config.email.attach_pdf and not (folder / "brief.pdf").is_file():
        render_brief(brief, OutputWriter(config.output), report_dir(day), ["pdf"])
    content = compose(brief, folder, config.email, web_url=permalink(config, day))
    now = clock.now()

    def make(address: str, visible: bool) -> EmailMessage:
        msg = build_message(content, config.email, address, visible=visible, now=now)
        size = html_part_size(msg)
        if size > HTML_LIMIT_BYTES:
            # Gmail clips larger HTML and hides the rest behind a link: refuse to send that.
            raise DeliveryError(f"{day}: the email's HTML part is {size / 1024:.1f} KB encoded, "
                                f"over the {HTML_LIMIT_BYTES // 1024} KB limit")
        return msg

    if dry_run:
        first = recipients[0] if recipients else ("undisclosed-recipients:;", True)
        msg = make(first[0], first[1])
        path = OutputWriter(config.output).write_bytes(f"{report_dir(day)}/brief.eml", msg.as_bytes())
        return SendReport(day=day, dry_run_files=[str(path)])
    if not recipients:
        raise ConfigError("no email recipients: set email.to / email.bcc in the config "
                          "or pass --to ADDRESS")
    smtp = SmtpSettings.from_config(config.email, secrets_from_env())
    make(*recipients[0])  # fail on size before connecting to anyone
    with Archive(config.archive_path) as archive, Mailer(
        smtp, attempts=config.email.attempts, backoff_s=config.email.backoff_s, factory=factory
    ) as mailer:
        report = deliver(day, recipients, make, config.email.from_addr, mailer,
                         DeliveryLog(archive), force=force)
    log.info(report.summary())
    return report
