"""`reportgen send` against relays that misbehave: one that drops the connection after the
whole message was sent, one that answers 535 to AUTH and then goes silent; and an operator
who mistypes an address."""

from __future__ import annotations

import socketserver
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from tests.conftest import write_config
from tests.publish.conftest import LAST
from tests.publish.smtpserver import REFUSED, Inbox


class RawSmtp(socketserver.ThreadingTCPServer):
    """A scripted SMTP relay on 127.0.0.1.

    mode "drop-after-data": takes the whole message, then closes without a reply.
    mode "auth-535": answers the first AUTH with 535, then never answers again."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), _RawHandler)
        self.mode = mode
        self.connections = 0
        self.auth_commands = 0
        self.messages: list[bytes] = []
        self.closing = threading.Event()

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _RawHandler(socketserver.StreamRequestHandler):
    server: RawSmtp
    timeout = 30

    def _say(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        relay = self.server
        relay.connections += 1
        self._say("220 relay.test ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode("ascii", "replace").strip().split(" ")[0].upper()
            if verb == "EHLO":
                self._say("250-relay.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME")
            elif verb == "AUTH":
                relay.auth_commands += 1
                if relay.auth_commands > 1:
                    relay.closing.wait(30)  # goes silent, like a relay that tarpits failures
                    return
                self._say("535 5.7.8 Authentication credentials invalid")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 End data with <CR><LF>.<CR><LF>")
                body = b""
                while not body.endswith(b"\r\n.\r\n"):
                    chunk = self.rfile.readline()
                    if not chunk:
                        return
                    body += chunk
                relay.messages.append(body)
                if relay.mode == "drop-after-data":
                    return  # the connection closes with no reply to the message
                self._say("250 OK queued")
            elif verb == "QUIT":
                self._say("221 Bye")
                return
            else:
                self._say("502 Command not implemented")


@pytest.fixture
def relay(request: pytest.FixtureRequest) -> Iterator[RawSmtp]:
    server = RawSmtp(request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.closing.set()
        server.shutdown()
        server.server_close()


def _send(output: Path, port: int, *args: str, **env: str) -> Any:
    config = write_config(output.parent / "config.yaml", {
        "output": str(output),
        "email": {"from_addr": "Crypto brief <brief@example.org>",
                  "to": ["alice@example.org", "bob@example.org"],
                  "smtp_timeout_s": 2, "attempts": 4, "backoff_s": 0.01},
    })
    env = {"REPORTGEN_SMTP_HOST": "127.0.0.1", "REPORTGEN_SMTP_PORT": str(port),
           "REPORTGEN_SMTP_TLS": "none", **env}
    return CliRunner().invoke(app, ["-c", str(config), "send", "--date", LAST.isoformat(), *args],
                              env=env)


def _outcomes(output: Path) -> dict[str, str]:
    db = sqlite3.connect(output / "archive.sqlite")
    try:
        return dict(db.execute("SELECT recipient, outcome FROM deliveries").fetchall())
    finally:
        db.close()


@pytest.mark.parametrize("relay", ["drop-after-data"], indirect=True)
def test_a_connection_dropped_after_data_is_unknown_and_not_resent(output: Path, relay: RawSmtp) -> None:
    first = _send(output, relay.port)
    assert first.exit_code == 1, first.output
    assert len(relay.messages) == 2  # once per recipient, no blind retry
    assert "unknown" in first.output and "--force" in first.output
    assert _outcomes(output) == {"alice@example.org": "unknown", "bob@example.org": "unknown"}

    again = _send(output, relay.port)
    assert len(relay.messages) == 2, again.output  # not resent by a later send
    assert "outcome unknown" in again.output and "alice@example.org" in again.output
    assert "already delivered to every recipient" not in again.output

    forced = _send(output, relay.port, "--force")
    assert len(relay.messages) == 4, forced.output  # --force does resend


@pytest.mark.parametrize("relay", ["auth-535"], indirect=True)
def test_a_wrong_password_is_an_authentication_failure_tried_once(output: Path, relay: RawSmtp) -> None:
    result = _send(output, relay.port, REPORTGEN_SMTP_USER="brief",
                   REPORTGEN_SMTP_PASSWORD="wrong-password")
    assert result.exit_code == 1, result.output
    assert "authentication failed" in result.output
    assert "535" in result.output and "REPORTGEN_SMTP_PASSWORD" in result.output
    assert "timed out" not in result.output
    assert relay.auth_commands == 1 and relay.connections == 1
    assert not relay.messages
    assert "wrong-password" not in result.output


def test_after_a_refused_recipient_the_next_send_says_so(output: Path, smtp: tuple[Inbox, int]) -> None:
    box, port = smtp
    first = _send(output, port, "--to", "alice@example.org", "--to", REFUSED)
    assert first.exit_code == 1, first.output
    assert [r for r, _ in box.received] == ["alice@example.org"]
    again = _send(output, port, "--to", "alice@example.org", "--to", REFUSED)
    assert len(box.received) == 1
    assert "already delivered to every recipient" not in again.output
    assert f"refused earlier: {REFUSED}" in again.output and "550" in again.output


@pytest.mark.parametrize("address", ["alice@example.org\r\nBcc: eve@example.org",
                                     "alice@example.org\nX-Injected: 1",
                                     "alice@example.org, eve@example.org"])
def test_a_to_address_with_a_line_break_is_bad_usage(output: Path, smtp: tuple[Inbox, int],
                                                     address: str) -> None:
    box, port = smtp
    result = _send(output, port, "--to", address)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: --to")
    assert isinstance(result.exception, SystemExit)  # an exit code, not a crash
    assert not box.received
