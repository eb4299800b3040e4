"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the delivery tests: it keeps what it
accepted and refuses one address, as a relay refuses an unknown mailbox."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

REFUSED = "gone@example.org"


@dataclass
class Inbox:
    """What the SMTP server accepted: one entry per (message, envelope recipient)."""

    received: list[tuple[str, EmailMessage]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address == REFUSED:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        for rcpt in envelope.rcpt_tos:
            self.received.append((rcpt, msg))  # type: ignore[arg-type]
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
