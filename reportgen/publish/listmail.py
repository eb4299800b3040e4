"""Mail at list scale: one message per subscriber over a small pool of reused SMTP
connections, at a steady rate, backing off when the relay asks.

    subscribers (stream) ──▶ bounded queue ──▶ N worker threads, one connection each
                                                 │  build the recipient's message
                                                 │  take a token from the shared bucket
                                                 │  MAIL / RCPT / DATA, and just before
                                                 │  the final "." DeliveryLog: `sending`
                                                 └─▶ DeliveryLog.record the outcome

The main thread reads the list and feeds the queue (at most 2 × N addresses wait in it), so
memory stays flat whatever the list's length: each worker holds one message at a time.

Rate: `email.max_per_second` is one token bucket shared by every connection (a burst of at
most one token per connection). Relay throttling (421, 451, 452, 454 or any other 4xx) is
answered by holding *every* connection off for `backoff_s`, doubling while the relay keeps
refusing (at most 60 s) and reset by the first message accepted; the recipient is then
retried, on a fresh connection after a 421 or a dropped connection (RSET otherwise), up to
`email.attempts` tries in all before it is recorded as `failed` (retried by the next run).
A 5xx is permanent: recorded as `refused` for that recipient and never retried. A lost reply
after the whole message went out is `unknown` (mailer.Unclear), never resent blindly. An
authentication failure stops the whole send.

Idempotency is the delivery log's (see mailer.DeliveryLog): recipients with an outcome in
mailer.DONE are skipped, so a killed send re-run serves only those not yet done, and the few
in flight at the kill (`sending`: at most one per connection) are listed, never mailed again.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from functools import partial

from reportgen.clock import SystemTicker, Ticker
from reportgen.errors import DeliveryError
from reportgen.publish.mailer import (
    DONE,
    DeliveryLog,
    SendReport,
    SmtpFactory,
    SmtpSettings,
    Unclear,
    _data,
    _recipient_error,
    _reply,
    envelope,
)

log = logging.getLogger(__name__)

AUTH_CODES = (530, 534, 535, 538)
MAX_BACKOFF_S = 60.0


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; shared by threads. `hold_off` makes
    every taker wait until a moment has passed (the relay asked everyone to slow down)."""

    def __init__(self, rate: float, burst: int = 1, *, ticker: Ticker | None = None) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.ticker = ticker or SystemTicker()
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._last = self.ticker.monotonic()
        self._resume_at = self._last

    def take(self) -> float:
        """Wait for a token; returns the seconds waited."""
        with self._lock:
            now = self.ticker.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            # A negative balance is a reservation: this taker owns the next token to come,
            # so concurrent takers queue up one interval apart instead of all waking at once.
            self._tokens -= 1
            wait = max(-self._tokens / self.rate if self._tokens < 0 else 0.0,
                       self._resume_at - now)
        self.ticker.sleep(wait)
        return wait

    def hold_off(self, seconds: float) -> None:
        """No token is handed out before `seconds` from now."""
        with self._lock:
            self._resume_at = max(self._resume_at, self.ticker.monotonic() + seconds)


@dataclass
class _Outcome:
    outcome: str  # "sent", "refused", "unknown", "failed"
    detail: str | None = None


class _Fatal(Exception):
    """Trouble that concerns every recipient (authentication): stop the whole send."""


class ListSender:
    """A pool of `connections` SMTP connections delivering one message per recipient."""

    def __init__(self, smtp: SmtpSettings, *, connections: int, per_second: float,
                 attempts: int, backoff_s: float, factory: SmtpFactory,
                 ticker: Ticker | None = None) -> None:
        self.smtp_settings = smtp
        self.connections = connections
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.factory = factory
        self.ticker = ticker or SystemTicker()
        self.bucket = TokenBucket(per_second, burst=connections, ticker=self.ticker)
        self._lock = threading.Lock()
        self._streak = 0  # throttle replies since the last accepted message
        self.opened = 0
        self.throttled = 0
        self.backoff_total = 0.0
        self.max_bytes = 0

    # -- shared state ---------------------------------------------------------------------

    def _throttle(self, detail: str) -> None:
        """The relay said "not now": everyone waits, longer each time it repeats."""
        with self._lock:
            delay = min(MAX_BACKOFF_S, self.backoff_s * 2 ** self._streak)
            self._streak += 1
            self.throttled += 1
            self.backoff_total += delay
        self.bucket.hold_off(delay)
        log.info("SMTP relay throttling (%s): all connections hold off %.2f s", detail, delay)

    def _accepted(self, size: int) -> None:
        with self._lock:
            self._streak = 0
            self.max_bytes = max(self.max_bytes, size)

    def _open(self) -> smtplib.SMTP:
        conn = self.factory(self.smtp_settings)
        with self._lock:
            self.opened += 1
        return conn

    # -- one recipient --------------------------------------------------------------------

    def _deliver(self, conn: smtplib.SMTP | None, msg: EmailMessage, sender: str,
                 recipient: str, sending: Callable[[], None]) -> tuple[smtplib.SMTP | None, _Outcome]:
        """Send `msg` to `recipient` on `conn` (opened or reopened as needed), calling
        `sending()` (which records the recipient as in flight) just before the message's
        final "." on each try; returns the connection to reuse (None when it is gone) and
        the outcome."""
        detail = "not tried"
        size = 0
        for _ in range(self.attempts):
            self.bucket.take()
            try:
                if conn is None:
                    conn = self._open()
                conn.data = partial(_data, conn,  # type: ignore[method-assign]
                                    before_end=sending)
                wire = envelope(conn, msg, sender, recipient)
                size = len(wire.data)
                conn.sendmail(wire.sender, [wire.recipient], wire.data,
                              mail_options=list(wire.options))
            except Unclear as exc:
                return _close(conn), _Outcome("unknown", str(exc))
            except smtplib.SMTPRecipientsRefused as exc:
                code, detail = _recipient_error(exc, recipient)
                if not 400 <= code < 500:
                    return _alive(conn), _Outcome("refused", detail)
                conn = _alive(conn) if code != 421 else _close(conn)
                self._throttle(detail)
            except smtplib.SMTPResponseException as exc:
                detail = _reply(exc)
                if exc.smtp_code in AUTH_CODES:
                    _close(conn)
                    raise _Fatal(f"SMTP authentication failed ({detail}): check "
                                 "REPORTGEN_SMTP_USER / REPORTGEN_SMTP_PASSWORD") from None
                if not 400 <= exc.smtp_code < 500:
                    return _reset(conn), _Outcome("refused", detail)
                conn = _reset(conn) if exc.smtp_code != 421 else _close(conn)
                self._throttle(detail)
            except (smtplib.SMTPException, OSError) as exc:
                # dropped, refused or timed-out connection: a fresh one next time
                conn = _close(conn)
                detail = f"{type(exc).__name__}: {exc}"
                self._throttle(detail)
            else:
                self._accepted(size)
                return conn, _Outcome("sent")
        return conn, _Outcome("failed", f"{detail} (after {self.attempts} tries)")

    # -- the pool -------------------------------------------------------------------------

    def run(self, day: date, recipients: Iterable[str],
            make_message: Callable[[str], EmailMessage], sender: str, log_: DeliveryLog,
            report: SendReport, *, force: bool = False) -> SendReport:
        """Deliver `day`'s message to each of `recipients` not done yet (per `log_`, unless
        `force`), recording each outcome the moment it is known; fills `report`."""
        earlier = {} if force else log_.outcomes(day)
        work: queue.Queue[str | None] = queue.Queue(maxsize=2 * self.connections)
        stop = threading.Event()
        fatal: list[str] = []
        report_lock = threading.Lock()

        errors: list[BaseException] = []

        def worker() -> None:
            conn: smtplib.SMTP | None = None
            try:
                while (address := work.get()) is not None:
                    if stop.is_set():
                        continue  # drain: the feeder still hands out the end marks
                    msg = make_message(address)
                    message_id = str(msg["Message-ID"])
                    try:
                        conn, result = self._deliver(
                            conn, msg, sender, address,
                            partial(log_.record, day, address, message_id, "sending"))
                    except _Fatal as exc:
                        conn = None
                        fatal.append(str(exc))
                        stop.set()
                        continue
                    log_.record(day, address, message_id, result.outcome, result.detail)
                    with report_lock:
                        _note(report, address, result)
            except BaseException as exc:  # a bug or a full disk: stop, show it in the caller
                errors.append(exc)
                stop.set()
            finally:
                _quit(conn)

        threads = [threading.Thread(target=worker, name=f"smtp-{i}", daemon=True)
                   for i in range(self.connections)]

        def put(item: str | None) -> None:
            # Bounded: the list is read only as fast as it is sent. Never blocks for good
            # when every worker has stopped.
            while True:
                try:
                    work.put(item, timeout=0.2)
                    return
                except queue.Full:
                    if not any(thread.is_alive() for thread in threads):
                        return

        for thread in threads:
            thread.start()
        try:
            for address in recipients:
                if stop.is_set():
                    break
                if earlier.get(address) in DONE:
                    report.skipped[address] = earlier[address]
                    continue
                put(address)
        finally:
            stop_marks = [None] * len(threads)
            for mark in stop_marks:
                put(mark)
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]
        report.connections = self.opened
        report.throttled = self.throttled
        report.backoff_s = self.backoff_total
        report.max_bytes = self.max_bytes
        if fatal:
            raise DeliveryError(fatal[0])
        return report


def _note(report: SendReport, address: str, result: _Outcome) -> None:
    detail = result.detail or ""
    if result.outcome == "sent":
        report.sent.append(address)
    elif result.outcome == "refused":
        report.refused[address] = detail
        log.warning("%s refused by the SMTP server: %s", address, detail)
    elif result.outcome == "unknown":
        report.unknown[address] = detail
        log.warning("%s: %s; recorded as unknown, not resent without --force", address, detail)
    else:
        report.failed[address] = detail


def _alive(conn: smtplib.SMTP | None) -> smtplib.SMTP | None:
    """`conn` unless smtplib closed it (it does after a 421)."""
    return conn if conn is not None and conn.sock is not None else None


def _reset(conn: smtplib.SMTP | None) -> smtplib.SMTP | None:
    """`conn` ready for the next message (RSET), or None when it is no longer usable."""
    conn = _alive(conn)
    if conn is None:
        return None
    try:
        conn.rset()
    except (smtplib.SMTPException, OSError):
        return _close(conn)
    return conn


def _close(conn: smtplib.SMTP | None) -> smtplib.SMTP | None:
    """Close `conn`; returns None, the connection to use next (a fresh one)."""
    if conn is not None:
        conn.close()
    return None


def _quit(conn: smtplib.SMTP | None) -> None:
    if conn is None:
        return
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()
