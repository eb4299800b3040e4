"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the delivery tests: it keeps what it
accepted and refuses one address, as a relay refuses an unknown mailbox.

For list mail it can also behave like a busy relay: answer 421 to the first `throttle`
MAIL commands, refuse more addresses with 550, hold every DATA after `hold_after` accepted
messages (so a test can kill the sender at a known point), keep only per-recipient counts
(`keep=False`, for thousands of messages), and count its connections (`Listening`)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

REFUSED = "gone@example.org"


@dataclass
class Inbox:
    """What the SMTP server accepted: one entry per (message, envelope recipient)."""

    received: list[tuple[str, EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=lambda: {REFUSED})
    throttle: int = 0  # answer 421 to this many MAIL commands first
    hold_after: int | None = None  # accept this many messages, then hold every DATA
    keep: bool = True  # keep the parsed messages (else only counts and sizes)
    counts: Counter[str] = field(default_factory=Counter)  # messages accepted, by recipient
    rcpt_attempts: Counter[str] = field(default_factory=Counter)
    max_size: int = 0
    throttled: int = 0
    opened: int = 0  # connections made
    open_now: int = 0
    most_open: int = 0  # connections open at the same time, at most
    released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def accepted(self) -> int:
        return sum(self.counts.values())

    def connected(self) -> None:
        with self._lock:
            self.opened += 1
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)

    def disconnected(self) -> None:
        with self._lock:
            self.open_now -= 1

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        if self.throttled < self.throttle:
            self.throttled += 1
            return "421 4.7.0 Too many messages, slow down"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        self.rcpt_attempts[address] += 1
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        while (self.hold_after is not None and self.accepted >= self.hold_after
               and not self.released.is_set()):
            await asyncio.sleep(0.02)  # the sender waits for a reply that does not come
        content = envelope.original_content
        self.max_size = max(self.max_size, len(content))
        for rcpt in envelope.rcpt_tos:
            self.counts[rcpt] += 1
            if self.keep:
                msg = BytesParser(policy=policy.default).parsebytes(content)
                self.received.append((rcpt, msg))  # type: ignore[arg-type]
        return "250 Message accepted"


class _CountingSMTP(SMTP):
    def connection_made(self, transport: Any) -> None:
        self.event_handler.connected()
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self.event_handler.disconnected()
        super().connection_lost(error)


class Listening(Controller):
    """aiosmtpd's Controller whose sessions tell the Inbox when they open and close."""

    def factory(self) -> SMTP:
        return _CountingSMTP(self.handler, **self.SMTP_kwargs)


@contextmanager
def serving(inbox: Inbox, *, smtputf8: bool = True) -> Iterator[int]:
    """`inbox` served on 127.0.0.1; yields the port. `smtputf8=False`: a relay that does not
    offer SMTPUTF8 (RFC 6531), so refuses non-ASCII addresses."""
    port = free_port()  # aiosmtpd's Controller cannot take port 0: it connects to it to start
    controller = Listening(inbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    # start() makes one connection of its own to check the server is up: not the sender's
    for _ in range(100):
        if inbox.open_now == 0:
            break
        threading.Event().wait(0.01)
    with inbox._lock:
        inbox.opened = inbox.most_open = 0
    try:
        yield port
    finally:
        inbox.released.set()
        controller.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
