"""Sending the brief over SMTP, with a delivery log so a re-run never mails twice.

(The subscriber list goes through `listmail`, a pool of connections; it shares this module's
delivery log, outcomes and SMTP connection.)

One message per recipient, on one SMTP connection: each recipient gets their own To: (or
none, for Bcc) and their own row in the archive's `deliveries` table, written right after
the server accepted that message. A send interrupted half-way therefore resumes with the
recipients not yet served.

Outcomes recorded per (date, recipient):

    sending   written just before the message's final "." (the first   → skipped next time,
              moment the server could accept it); a row still             reported as unknown
              "sending" on the next run means the process died then:
              the message may have arrived
    sent      the server accepted the message                        → skipped next time
    refused   permanent refusal (5xx), e.g. unknown mailbox           → skipped next time
    unknown   the whole message went out, then the reply was lost     → skipped next time
              (connection dropped or timed out after DATA): the server
              may have accepted it, so it is never resent blindly
    failed    transient trouble (4xx, connection) after every retry   → retried next time

So nobody gets two messages, however the sender dies: a recipient is recorded before the
server can accept their message, or the message cannot have been accepted (without its
final "." a dropped connection aborts it) and the next run sends it. The price is the few
recipients (at most one per SMTP connection) whose final "." was out when the process died:
listed as unknown for an operator to check (`send --to ADDRESS --force` sends again).

Only what happens before the end of the message is retried: once the message's final "."
is sent, a lost reply is "unknown", not "failed". Authentication is tried once, with one
mechanism: a 535 (bad credentials) stops the whole send at once with the fix named.
`force=True` sends again to everyone. The SMTP password is never logged or recorded.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.policy import SMTPUTF8
from email.utils import parseaddr
from functools import partial
from typing import Any

from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from reportgen.archive import DELIVERY_DONE, Archive
from reportgen.config import EmailSettings, address_problem
from reportgen.errors import ConfigError, DeliveryError, UsageError

log = logging.getLogger(__name__)

# Outcomes that end a recipient's delivery for that date ("sending": in flight when an
# earlier send died, so maybe delivered).
DONE = DELIVERY_DONE


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
            _login(smtp, settings)
    except BaseException:
        smtp.close()
        raise
    return smtp


_AUTH_MECHANISMS = ("CRAM-MD5", "PLAIN", "LOGIN")  # smtplib's order of preference


def _login(smtp: smtplib.SMTP, settings: SmtpSettings) -> None:
    """Authenticate with the first mechanism both sides know. Unlike smtplib.login, a 535
    (credentials refused) is final: trying the next mechanism only repeats the refusal, and
    some relays stop answering after one, which used to surface as a time-out."""
    offered = smtp.esmtp_features.get("auth", "").upper().split() if smtp.has_extn("auth") else []
    mechanisms = [m for m in _AUTH_MECHANISMS if m in offered]
    if not mechanisms:
        raise DeliveryError(
            f"SMTP server {settings.host}:{settings.port} offers no authentication we can use "
            f"(AUTH {' '.join(offered) or 'not offered'}; many servers offer it only after "
            "STARTTLS): check email.smtp_tls, or unset REPORTGEN_SMTP_USER/REPORTGEN_SMTP_PASSWORD"
        )
    smtp.user, smtp.password = settings.user or "", settings.password or ""
    for mechanism in mechanisms:
        method = getattr(smtp, "auth_" + mechanism.lower().replace("-", "_"))
        try:
            smtp.auth(mechanism, method)
            return
        except smtplib.SMTPAuthenticationError as exc:
            if exc.smtp_code == 535 or mechanism == mechanisms[-1]:
                raise
            # e.g. 504: this mechanism is not supported after all; try the next one.


def _data(conn: smtplib.SMTP, msg: bytes,
          before_end: Callable[[], None] | None = None) -> tuple[int, bytes]:
    """smtplib.SMTP.data, except that a reply lost after the whole message went out raises
    Unclear: the server may have taken the message, so sending it again could deliver it
    twice. `before_end()` runs just before the final "." — the first moment the server
    could accept the message (it records the recipient as `sending`). (Installed on each
    connection; sendmail/send_message call self.data.)"""
    conn.putcmd("data")
    code, reply = conn.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    body = re.sub(rb"(?m)^\.", b"..", msg)  # dot-stuffing, as smtplib does
    if body[-2:] != b"\r\n":
        body += b"\r\n"
    conn.send(body)
    if before_end is not None:
        before_end()
    conn.send(b".\r\n")
    try:
        return conn.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise Unclear(f"the connection was lost after the whole message was sent ({exc}); "
                      "it may or may not have been delivered") from exc


class DeliveryLog:
    """Email's side of the archive's delivery log (`Archive.deliveries`, channel "email"):
    one row per (report date, recipient).

    The idempotency record: a recipient is written as `sending` before its message leaves
    and as `sent` (or what else happened) right after the server's reply, so a send killed
    at any moment never mails anyone twice (see the outcomes in this module's docstring).
    The log has its own handle on the archive, shared by the list sender's threads under a
    lock.

    Durability, in two steps. Each `record` commits to the WAL (a write to the OS, about
    0.1 ms): from then on a killed process cannot lose it. Every SYNC_EVERY records, and on
    close, the WAL is fsynced (batched: an fsync costs ~4 ms here, one per message would
    serialise the pool); a power cut can forget at most the rows since the last fsync, and
    only a power cut can then make a message go twice."""

    SYNC_EVERY = 64
    CHANNEL = "email"

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._lock = threading.Lock()
        self._unsynced = 0
        self.log = Archive(archive.path, clock=archive.clock, secrets=archive.secrets,
                           threads=True)

    def __enter__(self) -> DeliveryLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._sync()
            self.log.close()

    def _sync(self) -> None:
        """fsync the WAL, so the rows recorded so far survive a power cut too."""
        if self._unsynced:
            self.log.sync()
            self._unsynced = 0

    def outcomes(self, day: date) -> dict[str, str]:
        with self._lock:
            return {r: d.outcome for r, d in self.log.deliveries(day, self.CHANNEL).items()}

    def details(self, day: date) -> dict[str, str]:
        """recipient → what the server said (or what went wrong), where it was recorded."""
        with self._lock:
            return {r: d.detail for r, d in self.log.deliveries(day, self.CHANNEL).items()
                    if d.detail is not None}

    def record(self, day: date, recipient: str, message_id: str, outcome: str,
               detail: str | None = None) -> None:
        """Write one outcome, committed when this returns (fsynced in batches). Thread-safe."""
        with self._lock:
            self.log.mark_delivery(day, self.CHANNEL, recipient, message_id, outcome, detail)
            self._unsynced += 1
            if self._unsynced >= self.SYNC_EVERY:
                self._sync()

    def rows(self, day: date) -> list[dict[str, str | None]]:
        with self._lock:
            found = self.log.deliveries(day, self.CHANNEL)
        return [{"report_date": day.isoformat(), "recipient": d.recipient,
                 "message_id": d.ref, "outcome": d.outcome, "detail": d.detail,
                 "updated_at": d.updated_at} for d in found.values()]


@dataclass
class SendReport:
    """What one send did, per recipient."""

    day: date
    sent: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)  # sent, reply lost: maybe delivered
    skipped: dict[str, str] = field(default_factory=dict)  # recipient → earlier outcome
    skipped_detail: dict[str, str] = field(default_factory=dict)  # … and what was said then
    dry_run_files: list[str] = field(default_factory=list)
    # list mode (reportgen.publish.listmail): what reading the list and pacing the relay did
    invalid: int = 0  # entries that are not one address: never sent to
    invalid_examples: list[str] = field(default_factory=list)  # the first few, with where
    duplicates: int = 0
    throttled: int = 0  # 4xx replies (421, 451, 452, 454 …) answered by backing off
    backoff_s: float = 0.0  # seconds every connection held off for those, in all
    connections: int = 0  # SMTP connections opened
    max_bytes: int = 0  # largest message sent

    @property
    def ok(self) -> bool:
        return not self.refused and not self.failed and not self.unknown

    def as_record(self) -> dict[str, Any]:
        """JSON-able outcome, for the run record (archive `runs.channels`): counts, and the
        recipients that need a look (refused, failed, unknown) up to RECORD_NAMES each. The
        delivery log keeps every recipient; a run record of a 10,000-address list need not."""
        record = {"ok": self.ok, "summary": self.summary(), "sent": len(self.sent),
                  "refused": _first(self.refused), "failed": _first(self.failed),
                  "unknown": _first(self.unknown), "skipped": len(self.skipped)}
        if self.connections:  # list mode: the counts an operator checks after a big send
            record.update(invalid=self.invalid, invalid_examples=self.invalid_examples,
                          duplicates=self.duplicates, throttled=self.throttled,
                          backoff_s=round(self.backoff_s, 3), connections=self.connections,
                          max_bytes=self.max_bytes)
        return record

    def summary(self) -> str:
        parts = [f"{len(self.sent)} sent"]
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        if self.unknown:
            parts.append(f"{len(self.unknown)} unknown (connection lost after the message was "
                         "sent: not resent without --force)")
        if self.failed:
            parts.append(f"{len(self.failed)} failed (will retry next time)")
        if self.skipped:
            parts.append(f"{len(self.skipped)} already done earlier (use --force to send again)")
        if self.invalid:
            parts.append(f"{self.invalid} invalid list entries skipped (first: "
                         f"{'; '.join(self.invalid_examples)})")
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate list entries sent once")
        if self.throttled:
            parts.append(f"relay throttled {self.throttled} times: backed off "
                         f"{self.backoff_s:.1f} s, then resumed")
        return f"{self.day}: " + ", ".join(parts)

    def lines(self) -> list[str]:
        """What the operator reads under the summary: who needs a look and why, and what
        was skipped (`reportgen send` prints them)."""
        lines = [f"  refused: {addr}: {why}" for addr, why in self.refused.items()]
        lines += [f"  unknown: {addr}: {why}; check whether it arrived, then send again with "
                  "--force if not" for addr, why in self.unknown.items()]
        lines += [f"  failed: {addr}: {why}" for addr, why in self.failed.items()]
        lines += [f"  {line}" for line in self.skipped_lines()]
        if self.skipped and not (self.sent or self.refused or self.failed or self.unknown):
            if all(outcome == "sent" for outcome in self.skipped.values()):
                lines.append(f"  nothing sent: {self.day} was already delivered to every "
                             "recipient (use --force to send again)")
            else:
                lines.append(f"  nothing sent: every recipient of {self.day} was already "
                             "handled (see above; use --force to send again)")
        return lines

    def skipped_lines(self) -> list[str]:
        """One line per recipient skipped for an outcome other than "sent"."""
        words = {"refused": "refused earlier", "unknown": "outcome unknown since an earlier send",
                 "sending": "unknown, in flight when an earlier send stopped"}
        return [f"{words.get(outcome, outcome)}: {address}"
                + (f": {self.skipped_detail[address]}" if address in self.skipped_detail else "")
                for address, outcome in self.skipped.items() if outcome != "sent"]


RECORD_NAMES = 50  # recipients a run record names per outcome


def _first(by_address: dict[str, str]) -> dict[str, str]:
    """The first RECORD_NAMES entries, and how many more there are (the delivery log has all)."""
    if len(by_address) <= RECORD_NAMES:
        return dict(by_address)
    shown = dict(list(by_address.items())[:RECORD_NAMES])
    shown["…"] = (f"and {len(by_address) - RECORD_NAMES} more, each in the archive's "
                  "deliveries table")
    return shown


class _Transient(Exception):
    """A failure worth retrying: 4xx replies, dropped or refused connections."""


class Unclear(Exception):
    """The whole message was sent but no reply came: delivered or not, nobody knows."""


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


def _recipient_error(exc: smtplib.SMTPRecipientsRefused, recipient: str) -> tuple[int, str]:
    code, message = exc.recipients.get(parseaddr(recipient)[1], (550, b"refused"))
    return code, f"{code} {message.decode('utf-8', 'replace') if isinstance(message, bytes) else message}"


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error
    return f"{exc.smtp_code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"


# RFC 6531's reply for a non-ASCII address a server cannot carry; recorded as a refusal.
NO_SMTPUTF8 = (553, b"5.6.7 the SMTP server does not offer SMTPUTF8, which this "
                    b"internationalised address needs: not sent")


def smtp_address(address: str) -> str:
    """The bare address as SMTP can carry it without SMTPUTF8 where possible: a non-ASCII
    domain in its IDNA (xn--) form, which every server accepts. A non-ASCII local part is
    left as it is: only SMTPUTF8 can carry it."""
    bare = parseaddr(address)[1] or address
    local, at, domain = bare.rpartition("@")
    if at and not domain.isascii():
        with contextlib.suppress(UnicodeError):  # not a valid IDN: only SMTPUTF8 carries it
            domain = domain.encode("idna").decode("ascii")
    return f"{local}{at}{domain}"


@dataclass(frozen=True)
class Envelope:
    """What goes on the wire for one message to one recipient on one connection."""

    sender: str
    recipient: str
    data: bytes
    options: tuple[str, ...] = ()


def envelope(conn: smtplib.SMTP, msg: EmailMessage, sender: str, recipient: str) -> Envelope:
    """The envelope and bytes of `msg` for `recipient` on `conn`. ASCII addresses (a non-ASCII
    domain becomes its xn-- form, in the envelope and in To:) go as usual; a non-ASCII local
    part needs the server's SMTPUTF8 (then the message is written in UTF-8 and MAIL FROM says
    SMTPUTF8); without it the recipient is refused as RFC 6531 says (553 5.6.7), like any
    permanent refusal: recorded, reported, never a crash of the whole send."""
    frm, to = smtp_address(sender), smtp_address(recipient)
    if to != parseaddr(recipient)[1] and msg.get("To") == recipient:
        msg.replace_header("To", to)
    if frm.isascii() and to.isascii():
        return Envelope(frm, to, msg.as_bytes())
    conn.ehlo_or_helo_if_needed()
    if not conn.has_extn("smtputf8"):
        raise smtplib.SMTPRecipientsRefused({parseaddr(recipient)[1]: NO_SMTPUTF8})
    return Envelope(frm, to, msg.as_bytes(policy=SMTPUTF8),
                    ("SMTPUTF8", "BODY=8BITMIME"))


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

    def _send_once(self, msg: EmailMessage, sender: str, recipient: str,
                   before_end: Callable[[], None] | None = None) -> None:
        try:
            if self._conn is None:
                self._conn = self.factory(self.smtp_settings)
            self._conn.data = partial(_data, self._conn,  # type: ignore[method-assign]
                                      before_end=before_end)
            wire = envelope(self._conn, msg, sender, recipient)
            refused = self._conn.sendmail(wire.sender, [wire.recipient], wire.data,
                                          mail_options=list(wire.options))
        except Unclear:
            self._drop()
            raise
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

    def send(self, msg: EmailMessage, sender: str, recipient: str,
             before_end: Callable[[], None] | None = None) -> None:
        """Deliver `msg` to `recipient`; raises SMTPRecipientsRefused (permanent),
        SMTPResponseException (5xx), Unclear (reply lost after the message was sent: never
        retried) or DeliveryError (transient, retries exhausted). `before_end()` runs just
        before the message's final "." on each try (see `_data`)."""
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
            retrying(self._send_once, msg, sender, recipient, before_end)
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
    report: SendReport | None = None,
) -> SendReport:
    """Send `day`'s message to each (address, visible-in-To) recipient not yet served,
    recording each outcome as soon as it is known (into `report`, when given)."""
    report = SendReport(day=day) if report is None else report
    earlier = {} if force else log_.outcomes(day)
    details = {} if force else log_.details(day)
    for address, visible in recipients:
        if earlier.get(address) in DONE:
            report.skipped[address] = earlier[address]
            if address in details:
                report.skipped_detail[address] = details[address]
            continue
        msg = make_message(address, visible)
        message_id = str(msg["Message-ID"])
        try:
            mailer.send(msg, sender, address,
                        partial(log_.record, day, address, message_id, "sending"))
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
        except Unclear as exc:
            report.unknown[address] = str(exc)
            log_.record(day, address, message_id, "unknown", str(exc))
            log.warning("%s: %s; recorded as unknown, not resent without --force", address, exc)
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
        problem = address_problem(address)
        if problem:
            where = "--to" if override else "email.to/email.bcc:"
            error = UsageError if override else ConfigError
            raise error(f"{where} {address!r} {problem}")
        seen.setdefault(address, visible)
    return list(seen.items())

