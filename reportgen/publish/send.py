"""Mail one rendered day's brief to its recipients (or write the .eml with a dry run).

Works from what the phases before it made: the view-model (the Brief) and the day's
manifest with the files it lists (charts, PDF). Never runs the pipeline, never renders and
never touches the upstream network; SMTP is the only connection it opens.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage

from reportgen.archive import Archive
from reportgen.brief.model import Brief
from reportgen.clock import Clock, default_clock
from reportgen.config import Config, secrets_from_env
from reportgen.errors import ConfigError, DeliveryError, UsageError
from reportgen.manifest import ReportManifest, report_dir
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


def permalink(config: Config, manifest: ReportManifest) -> str | None:
    """The brief's page on the public site, when `site.url` is configured."""
    if not config.site.url:
        return None
    return f"{config.site.url}{manifest.day:%Y/%m/%d}/index.html"


def history_link(config: Config, brief: Brief) -> str | None:
    """The report history the email links to: the brief's own, else the site's index."""
    if brief.archive_url:
        return brief.archive_url
    return f"{config.site.url}index.html" if config.site.url else None


def send_brief(config: Config, brief: Brief, manifest: ReportManifest, *,
               writer: OutputWriter, to: list[str] | None = None, dry_run: bool = False,
               force: bool = False, clock: Clock | None = None,
               factory: SmtpFactory = connect) -> SendReport:
    """Mail `brief` (rendered as `manifest` says) to `to` (default: config email.to +
    email.bcc), skipping recipients already served unless `force`. With `dry_run`, write
    reports/D/brief.eml through `writer` (the run's one output writer) and send nothing."""
    clock = clock or default_clock()
    day = brief.day
    recipients = recipients_from(config.email, to)  # a bad --to fails before any work
    if config.email.attach_pdf and not manifest.has("brief.pdf"):
        raise UsageError(f"email.attach_pdf is on but {day} was rendered without a PDF: run "
                         f"`reportgen render --date {day} --formats html,md,pdf` first (or set "
                         "email.attach_pdf: false)")
    folder = config.output / report_dir(day)
    content = compose(brief, manifest, folder, config.email,
                      web_url=permalink(config, manifest), history_url=history_link(config, brief))
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
        path = writer.write_bytes(f"{report_dir(day)}/brief.eml", msg.as_bytes())
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
