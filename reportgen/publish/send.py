"""Mail one rendered day's brief to its recipients (or write the .eml with a dry run).

Works from what the phases before it made: the view-model (the Brief) and the day's
manifest with the files it lists (charts, PDF). Never runs the pipeline, never renders and
never touches the upstream network; SMTP is the only connection it opens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
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


@dataclass
class _Mailing:
    """One day's mailing, prepared: who gets what, before anything is sent or written."""

    report: SendReport
    recipients: list[tuple[str, bool]]  # email.to/bcc or --to: the full message
    make: Callable[[str, bool], EmailMessage] | None
    list_mail: Callable[[str], EmailMessage] | None  # the subscribers' message, if any
    stats: ListStats = field(default_factory=ListStats)
    first: str | None = None  # the list's first subscriber (the list is read lazily)
    rest: Iterator[str] = field(default_factory=lambda: iter(()))

    @property
    def subscribers(self) -> Iterator[str]:
        return chain([self.first], self.rest) if self.first is not None else iter(())


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
    mailing = _prepare(config, brief, manifest, to, dry_run=dry_run, now=clock.now())
    if dry_run:
        _write_drafts(mailing, writer, brief.day)
        return mailing.report
    smtp = SmtpSettings.from_config(config.email, secrets_from_env())
    if mailing.recipients and mailing.make is not None:
        mailing.make(*mailing.recipients[0])  # fail on size before connecting to anyone
    if mailing.list_mail is not None and mailing.first is not None:
        _check_list_size(mailing.list_mail(mailing.first), brief.day)
    _deliver(config, mailing, smtp, factory=factory, ticker=ticker, force=force)
    if mailing.list_mail is not None:
        _note_list(config, mailing)
    log.info(mailing.report.summary())
    return mailing.report


def _prepare(config: Config, brief: Brief, manifest: ReportManifest, to: list[str] | None,
             *, dry_run: bool, now: datetime) -> _Mailing:
    """Check what can be checked before any work, and compose the messages."""
    day = brief.day
    recipients = recipients_from(config.email, to)  # a bad --to fails before any work
    listed = config.email.subscribers if not to else None
    if not recipients and not listed and not dry_run:
        raise ConfigError("no email recipients: set email.to / email.bcc (or "
                          "email.subscribers) in the config or pass --to ADDRESS")
    full = bool(recipients or not listed)
    if full and config.email.attach_pdf and not manifest.has("brief.pdf"):
        raise UsageError(f"email.attach_pdf is on but {day} was rendered without a PDF: run "
                         f"`reportgen render --date {day} --formats html,md,pdf` first (or set "
                         "email.attach_pdf: false)")
    mailing = _Mailing(report=SendReport(day=day), recipients=recipients,
                       make=_full_message(config, brief, manifest, now) if full else None,
                       list_mail=_list_message(config, brief, manifest, now) if listed else None)
    if listed:
        mailing.rest = subscribers(listed, mailing.stats)
        mailing.first = next(mailing.rest, None)  # reads the list's start: a missing file fails here
    return mailing


def _write_drafts(mailing: _Mailing, writer: OutputWriter, day: date) -> None:
    """The dry run: the messages as .eml files in the report folder, nothing sent."""
    if mailing.make is not None:
        visible = mailing.recipients[0] if mailing.recipients else ("undisclosed-recipients:;", True)
        path = writer.write_bytes(f"{report_dir(day)}/brief.eml", mailing.make(*visible).as_bytes())
        mailing.report.dry_run_files.append(str(path))
    if mailing.list_mail is not None and mailing.first is not None:
        path = writer.write_bytes(f"{report_dir(day)}/brief-list.eml",
                                  mailing.list_mail(mailing.first).as_bytes())
        mailing.report.dry_run_files.append(str(path))


def _deliver(config: Config, mailing: _Mailing, smtp: SmtpSettings, *, factory: SmtpFactory,
             ticker: Ticker | None, force: bool) -> None:
    """The full message to each recipient on one connection, then the list over a pool;
    each outcome in the archive's delivery log as soon as it is known."""
    email, day, report = config.email, mailing.report.day, mailing.report
    with Archive(config.archive_path) as archive, DeliveryLog(archive) as delivery_log:
        if mailing.recipients and mailing.make is not None:
            with Mailer(smtp, attempts=email.attempts, backoff_s=email.backoff_s,
                        factory=factory) as mailer:
                deliver(day, mailing.recipients, mailing.make, email.from_addr, mailer,
                        delivery_log, force=force, report=report)
        if mailing.list_mail is not None and mailing.first is not None:
            sender = ListSender(smtp, connections=email.connections,
                                per_second=email.max_per_second, attempts=email.attempts,
                                backoff_s=email.backoff_s, factory=factory, ticker=ticker)
            sender.run(day, mailing.subscribers, mailing.list_mail, email.from_addr,
                       delivery_log, report, force=force)


def _note_list(config: Config, mailing: _Mailing) -> None:
    """What reading the subscriber list found, into the report (and the log)."""
    report, stats = mailing.report, mailing.stats
    report.invalid, report.duplicates = stats.invalid, stats.duplicates
    report.invalid_examples = list(stats.invalid_examples or [])
    if stats.invalid:
        log.warning("%s: %d invalid entries skipped (never sent to); first: %s",
                    config.email.subscribers, stats.invalid, "; ".join(report.invalid_examples))


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
