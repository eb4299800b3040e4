"""Sending the brief over SMTP, with a delivery log so a re-run never mails twice.

One message per recipient, on one SMTP connection: each recipient gets their own To: (or
none, for Bcc) and their own row in the archive's `deliveries` table, written right after
the server accepted that message. A send interrupted half-way therefore resumes with the
recipients not yet served.

Outcomes recorded per (date, recipient):

    sent      the server accepted the message                        → skipped next time
    refused   permanent refusal (5xx), e.g. unknown mailbox           → skipped next time
    failed    transient trouble (4xx, connection) after every retry   → retried next time

`force=True` sends again to everyone. The SMTP password is never logged or recorded.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from reportgen.archive import Archive
from reportgen.config import EmailSettings
from reportgen.errors import ConfigError, DeliveryError

log = logging.getLogger(__name__)

DONE = ("sent", "refused")  # outcomes that end a recipient's delivery for that date


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to connect. `password` comes from the environment only."""

    host: str
    port: int
    tls: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0

    @classmethod
    def from_config(cls, email: EmailSettings, secrets: dict[str, str]) -> SmtpSettings:
        port = email.smtp_port or {"ssl": 465, "starttls": 587, "none": 25}[email.smtp_tls]
        password = secrets.get("smtp_password")
        if password and not email.smtp_user:
            raise ConfigError("REPORTGEN_SMTP_PASSWORD is set but email.smtp_user "
                              "(or REPORTGEN_SMTP_USER) is not")
        return cls(host=email.smtp_host, port=port, tls=email.smtp_tls, user=email.smtp_user,
                   password=password, timeout_s=email.smtp_timeout_s)


# The SMTP seam: tests may inject another factory; the default opens a real connection.
SmtpFactory = Callable[[SmtpSettings], smtplib.SMTP]


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An authenticated SMTP connection per `settings` (TLS as configured)."""
    context = ssl.create_default_context()
    if settings.tls == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port,
                                              timeout=settings.timeout_s, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
    try:
        smtp.ehlo()
        if settings.tls == "starttls":
            if not smtp.has_extn("starttls"):
                raise DeliveryError(
                    f"SMTP server {settings.host}:{settings.port} does not offer STARTTLS; set "
                    "email.smtp_tls (REPORTGEN_SMTP_TLS) to 'ssl' or, for a local relay, 'none'"
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.user and settings.password:
            smtp.login(settings.user, settings.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


class DeliveryLog:
    """The archive's `deliveries` table: one row per (report date, recipient)."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def outcomes(self, day: date) -> dict[str, str]:
        rows = self.archive.db.execute(
            "SELECT recipient, outcome FROM deliveries WHERE report_date=?", (day.isoformat(),)
        ).fetchall()
        return {row[0]: row[1] for row in rows}

    def record(self, day: date, recipient: str, message_id: str, outcome: str,
               detail: str | None = None) -> None:
        with self.archive.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO deliveries (report_date, recipient, message_id, outcome,"
                " detail, updated_at) VALUES (?,?,?,?,?,?)",
                (day.isoformat(), recipient, message_id, outcome, detail,
                 self.archive.clock.now().isoformat()),
            )

    def rows(self, day: date) -> list[dict[str, str]]:
        rows = self.archive.db.execute(
            "SELECT * FROM deliveries WHERE report_date=? ORDER BY recipient", (day.isoformat(),)
        ).fetchall()
        return [dict(row) for row in rows]


@dataclass
class SendReport:
    """What one send did, per recipient."""

    day: date
    sent: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # recipient → earlier outcome
    dry_run_files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused and not self.failed

    def as_record(self) -> dict[str, Any]:
        """JSON-able outcome, for the run record (archive `runs.channels`)."""
        return {"ok": self.ok, "summary": self.summary(), "sent": self.sent, "refused": self.refused,
                "failed": self.failed, "skipped": sorted(self.skipped)}

    def summary(self) -> str:
        parts = [f"{len(self.sent)} sent"]
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        if self.failed:
            parts.append(f"{len(self.failed)} failed (will retry next time)")
        if self.skipped:
            parts.append(f"{len(self.skipped)} already done earlier (use --force to send again)")
        return f"{self.day}: " + ", ".join(parts)


class _Transient(Exception):
    """A failure worth retrying: 4xx replies, dropped or refused connections."""


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


def _recipient_error(exc: smtplib.SMTPRecipientsRefused, recipient: str) -> tuple[int, str]:
    code, message = exc.recipients.get(parseaddr(recipient)[1], (550, b"refused"))
    return code, f"{code} {message.decode('utf-8', 'replace') if isinstance(message, bytes) else message}"


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error
    return f"{exc.smtp_code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"


class Mailer:
    """Sends one date's messages to recipients, retrying transient failures with backoff."""

    def __init__(self, smtp: SmtpSettings, *, attempts: int = 4, backoff_s: float = 2.0,
                 factory: SmtpFactory = connect) -> None:
        self.smtp_settings = smtp
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.factory = factory
        self._conn: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                self._conn.close()
            self._conn = None

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _send_once(self, msg: EmailMessage, sender: str, recipient: str) -> None:
        try:
            if self._conn is None:
                self._conn = self.factory(self.smtp_settings)
            refused = self._conn.send_message(msg, from_addr=parseaddr(sender)[1],
                                              to_addrs=[parseaddr(recipient)[1]])
        except smtplib.SMTPRecipientsRefused as exc:
            code, detail = _recipient_error(exc, recipient)
            if _is_permanent(code):
                raise
            raise _Transient(detail) from exc
        except smtplib.SMTPResponseException as exc:
            # Sender refused, DATA refused, auth refused …: 4xx may pass, 5xx will not.
            self._drop()
            if _is_permanent(exc.smtp_code):
                raise
            raise _Transient(_reply(exc)) from exc
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, TimeoutError,
                ConnectionError) as exc:
            self._drop()
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        except OSError as exc:  # DNS failure, unreachable host
            self._drop()
            raise _Transient(f"cannot reach SMTP server {self.smtp_settings.host}:"
                             f"{self.smtp_settings.port}: {exc}") from exc
        if refused:
            raise _Transient(f"recipient refused: {refused}")

    def send(self, msg: EmailMessage, sender: str, recipient: str) -> None:
        """Deliver `msg` to `recipient`; raises SMTPRecipientsRefused (permanent),
        SMTPResponseException (5xx) or DeliveryError (transient, retries exhausted)."""
        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, _Transient)),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff_s, max=60),
            before_sleep=lambda state: log.info(
                "SMTP: retrying %s after %s", recipient, state.outcome.exception() if state.outcome else ""
            ),
            reraise=False,
        )
        try:
            retrying(self._send_once, msg, sender, recipient)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise DeliveryError(f"{recipient}: {last} (after {self.attempts} tries)") from None


def deliver(
    day: date,
    recipients: Iterable[tuple[str, bool]],
    make_message: Callable[[str, bool], EmailMessage],
    sender: str,
    mailer: Mailer,
    log_: DeliveryLog,
    *,
    force: bool = False,
) -> SendReport:
    """Send `day`'s message to each (address, visible-in-To) recipient not yet served,
    recording each outcome as soon as it is known."""
    report = SendReport(day=day)
    earlier = {} if force else log_.outcomes(day)
    for address, visible in recipients:
        if earlier.get(address) in DONE:
            report.skipped[address] = earlier[address]
            continue
        msg = make_message(address, visible)
        message_id = str(msg["Message-ID"])
        try:
            mailer.send(msg, sender, address)
        except smtplib.SMTPRecipientsRefused as exc:
            detail = _recipient_error(exc, address)[1]
            report.refused[address] = detail
            log_.record(day, address, message_id, "refused", detail)
            log.warning("%s refused by the SMTP server: %s", address, detail)
            continue
        except smtplib.SMTPResponseException as exc:
            detail = _reply(exc)
            if exc.smtp_code in (530, 535, 534, 538):
                # Authentication trouble concerns every recipient: stop, name the fix.
                raise DeliveryError(f"SMTP authentication failed ({detail}): check "
                                    "REPORTGEN_SMTP_USER / REPORTGEN_SMTP_PASSWORD") from None
            report.refused[address] = detail
            log_.record(day, address, message_id, "refused", detail)
            continue
        except DeliveryError as exc:
            report.failed[address] = str(exc)
            log_.record(day, address, message_id, "failed", str(exc))
            continue
        report.sent.append(address)
        log_.record(day, address, message_id, "sent")
    return report


def recipients_from(settings: EmailSettings, override: list[str] | None = None) -> list[tuple[str, bool]]:
    """(address, shown in To:) pairs: `--to` addresses, else config `to` then `bcc`."""
    pairs = [(a, True) for a in override] if override else [
        *((a, True) for a in settings.to), *((a, False) for a in settings.bcc)
    ]
    seen: dict[str, bool] = {}
    for address, visible in pairs:
        if "@" not in parseaddr(address)[1]:
            raise ConfigError(f"email recipient {address!r} is not an email address")
        seen.setdefault(address, visible)
    return list(seen.items())
