"""Mail one rendered day's brief to its recipients (or write the .eml with a dry run).

Works from what the phases before it made: the view-model (the Brief) and the day's
manifest with the files it lists (charts, PDF). Never runs the pipeline, never renders and
never touches the upstream network; SMTP is the only connection it opens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from email.message import EmailMessage
from itertools import chain

from reportgen.archive import Archive
from reportgen.brief.model import Brief
from reportgen.clock import Clock, Ticker, default_clock
from reportgen.config import Config, secrets_from_env
from reportgen.errors import ConfigError, DeliveryError, UsageError
from reportgen.manifest import ReportManifest, report_dir
from reportgen.publish.email import HTML_LIMIT_BYTES, build_message, compose, html_part_size
from reportgen.publish.listmail import ListSender
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
from reportgen.publish.subscribers import ListStats, subscribers
from reportgen.publish.unsubscribe import MIN_SECRET_LEN, SECRET_ENV, unsubscribe_link
from reportgen.writer import OutputWriter

log = logging.getLogger(__name__)

LIST_LIMIT_BYTES = 100 * 1024  # a whole list message, encoded: no attachment, linked charts


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
               factory: SmtpFactory = connect, ticker: Ticker | None = None) -> SendReport:
    """Mail `brief` (rendered as `manifest` says) to `to` (default: config email.to +
    email.bcc, then the list email.subscribers), skipping recipients already served unless
    `force`. With `dry_run`, write reports/D/brief.eml (and brief-list.eml for the list)
    through `writer` (the run's one output writer) and send nothing.

    email.to/bcc get the full message (charts inline, PDF attached); the subscribers get
    list mail (reportgen.publish.listmail): charts and PDF linked from the site, a signed
    unsubscribe link each. `--to` sends the full message to those addresses only."""
    clock = clock or default_clock()
    day = brief.day
    recipients = recipients_from(config.email, to)  # a bad --to fails before any work
    listed = config.email.subscribers if not to else None
    if not recipients and not listed and not dry_run:
        raise ConfigError("no email recipients: set email.to / email.bcc (or "
                          "email.subscribers) in the config or pass --to ADDRESS")
    if (recipients or not listed) and config.email.attach_pdf and not manifest.has("brief.pdf"):
        raise UsageError(f"email.attach_pdf is on but {day} was rendered without a PDF: run "
                         f"`reportgen render --date {day} --formats html,md,pdf` first (or set "
                         "email.attach_pdf: false)")
    now = clock.now()
    report = SendReport(day=day)
    make = _full_message(config, brief, manifest, now) if recipients or not listed else None
    list_mail = _list_message(config, brief, manifest, now) if listed else None
    stats = ListStats()
    addresses: Iterator[str] = subscribers(listed, stats) if listed else iter(())
    first = next(addresses, None)  # reads the list's start: a missing file fails here
    if dry_run:
        if make is not None:
            visible = recipients[0] if recipients else ("undisclosed-recipients:;", True)
            path = writer.write_bytes(f"{report_dir(day)}/brief.eml", make(*visible).as_bytes())
            report.dry_run_files.append(str(path))
        if list_mail is not None and first is not None:
            path = writer.write_bytes(f"{report_dir(day)}/brief-list.eml",
                                      list_mail(first).as_bytes())
            report.dry_run_files.append(str(path))
        return report
    smtp = SmtpSettings.from_config(config.email, secrets_from_env())
    if recipients and make is not None:
        make(*recipients[0])  # fail on size before connecting to anyone
    if list_mail is not None and first is not None:
        _check_list_size(list_mail(first), day)
    with Archive(config.archive_path) as archive, DeliveryLog(archive) as delivery_log:
        if recipients and make is not None:
            with Mailer(smtp, attempts=config.email.attempts, backoff_s=config.email.backoff_s,
                        factory=factory) as mailer:
                deliver(day, recipients, make, config.email.from_addr, mailer, delivery_log,
                        force=force, report=report)
        if list_mail is not None and first is not None:
            sender = ListSender(smtp, connections=config.email.connections,
                                per_second=config.email.max_per_second,
                                attempts=config.email.attempts,
                                backoff_s=config.email.backoff_s, factory=factory, ticker=ticker)
            sender.run(day, chain([first], addresses), list_mail, config.email.from_addr,
                       delivery_log, report, force=force)
    if listed:
        report.invalid, report.duplicates = stats.invalid, stats.duplicates
        report.invalid_examples = list(stats.invalid_examples or [])
        if stats.invalid:
            log.warning("%s: %d invalid entries skipped (never sent to); first: %s",
                        config.email.subscribers, stats.invalid, "; ".join(report.invalid_examples))
    log.info(report.summary())
    return report


def _full_message(config: Config, brief: Brief, manifest: ReportManifest,
                  now: datetime) -> Callable[[str, bool], EmailMessage]:
    """The message for email.to/bcc and --to: charts inline, the PDF attached."""
    folder = config.output / report_dir(brief.day)
    content = compose(brief, manifest, folder, config.email,
                      web_url=permalink(config, manifest), history_url=history_link(config, brief))

    def make(address: str, visible: bool) -> EmailMessage:
        msg = build_message(content, config.email, address, visible=visible, now=now)
        size = html_part_size(msg)
        if size > HTML_LIMIT_BYTES:
            # Gmail clips larger HTML and hides the rest behind a link: refuse to send that.
            raise DeliveryError(f"{brief.day}: the email's HTML part is {size / 1024:.1f} KB "
                                f"encoded, over the {HTML_LIMIT_BYTES // 1024} KB limit")
        return msg

    return make


def _list_message(config: Config, brief: Brief, manifest: ReportManifest,
                  now: datetime) -> Callable[[str], EmailMessage]:
    """One subscriber's message: composed once, then only their unsubscribe link differs."""
    secret = unsubscribe_secret()
    endpoint = config.email.list_unsubscribe_url
    site = config.site.url
    if not endpoint or not site:  # Config's validator requires both with email.subscribers
        raise ConfigError("email.subscribers needs site.url and email.list_unsubscribe_url")
    folder = config.output / report_dir(brief.day)
    content = compose(brief, manifest, folder, config.email,
                      web_url=permalink(config, manifest), history_url=history_link(config, brief),
                      site_day_url=f"{site}{brief.day:%Y/%m/%d}/")

    def make(address: str) -> EmailMessage:
        link = unsubscribe_link(endpoint, address, secret, config.email.list_id)
        return build_message(content, config.email, address, visible=True, now=now,
                             unsubscribe_url=link)

    return make


def _check_list_size(msg: EmailMessage, day: date) -> None:
    """Refuse before connecting when a list message is over LIST_LIMIT_BYTES. Checked on the
    first subscriber's only: the others differ by their address and link, a few bytes."""
    size = len(msg.as_bytes())
    if size > LIST_LIMIT_BYTES:
        raise DeliveryError(f"{day}: a list message is {size / 1024:.1f} KB, over the "
                            f"{LIST_LIMIT_BYTES // 1024} KB list mode allows (a chart or the "
                            "text grew: check the rendered brief)")


def unsubscribe_secret(env: Mapping[str, str] | None = None) -> str:
    """REPORTGEN_UNSUBSCRIBE_SECRET, required in list mode; ConfigError naming it otherwise."""
    secret = secrets_from_env(env).get("unsubscribe_secret", "")
    if len(secret) < MIN_SECRET_LEN:
        state = "is shorter than" if secret else "is not set; it needs"
        raise ConfigError(f"email.subscribers (list mode) signs unsubscribe links with "
                          f"{SECRET_ENV}, which {state} {MIN_SECRET_LEN} characters: set it "
                          "to a long random value (e.g. `openssl rand -hex 32`) and give the "
                          "same one to the site's unsubscribe endpoint")
    return secret
