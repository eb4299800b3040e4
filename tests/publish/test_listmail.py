"""List mail (email.subscribers) against a real SMTP server on 127.0.0.1: one message per
subscriber with its own signed unsubscribe link, charts linked from the site, a pool of
reused connections, relay throttling, permanent refusals, and a killed send re-run."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.errors import ConfigError
from reportgen.publish.subscribers import ListStats, subscribers
from reportgen.publish.unsubscribe import sign, unsubscribe_link, verify_unsubscribe
from tests.conftest import write_config
from tests.publish.conftest import LAST
from tests.publish.smtpserver import REFUSED, Inbox, serving

SECRET = "s3cret-for-tests-0123456789abcdef"
SITE = "https://briefs.example.org/daily/"
UNSUB = "https://briefs.example.org/unsubscribe?list=brief"
ROOT = Path(__file__).resolve().parents[2]


def _config(output: Path, port: int, subscribers_file: Path, **email: Any) -> Path:
    return write_config(output.parent / "config.yaml", {
        "output": str(output),
        "email": {
            "from_addr": "Crypto brief <brief@example.org>",
            "subscribers": str(subscribers_file),
            "list_unsubscribe_url": UNSUB,
            "list_unsubscribe_mailto": "unsubscribe@example.org",
            "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none",
            "backoff_s": 0.01, "max_per_second": 1000, "connections": 3,
            **email,
        },
        "site": {"url": SITE},
    })


def _send(config: Path, *args: str, secret: str | None = SECRET) -> Any:
    env = {"REPORTGEN_UNSUBSCRIBE_SECRET": secret} if secret else {}
    return CliRunner().invoke(app, ["-c", str(config), "send", "--date", LAST.isoformat(),
                                    *args], env=env)


def _outcomes(output: Path) -> dict[str, tuple[str, str | None]]:
    db = sqlite3.connect(output / "archive.sqlite")
    try:
        rows = db.execute("SELECT recipient, outcome, detail FROM deliveries").fetchall()
        return {r: (o, d) for r, o, d in rows}
    finally:
        db.close()


def _addresses(n: int, domain: str = "list.test") -> list[str]:
    return [f"reader{i:05d}@{domain}" for i in range(n)]


def test_each_subscriber_gets_one_small_message_with_its_own_signed_link(
        output: Path, tmp_path: Path) -> None:
    good = _addresses(25)
    listing = tmp_path / "subscribers.csv"
    listing.write_text("name,email\n" + "".join(f"R{i},{a}\n" for i, a in enumerate(good))
                       + "Dup,reader00003@LIST.TEST\n"  # same mailbox: domains compare caselessly
                       + "Bad,not-an-address\nBad2,Eve <eve@list.test>\nBad3,\n"
                       + "Bad4,x@nodot\n", encoding="utf-8")
    inbox = Inbox()
    with serving(inbox) as port:
        result = _send(_config(output, port, listing))
    assert result.exit_code == 0, result.output
    assert sorted(inbox.counts) == good and set(inbox.counts.values()) == {1}
    assert inbox.most_open <= 3  # email.connections
    assert inbox.opened <= 3  # reused, not one per message
    assert "4 invalid list entries skipped" in result.output
    assert "line 28: 'not-an-address' is not an email address" in result.output
    assert "1 duplicate list entries sent once" in result.output

    for rcpt, msg in inbox.received:
        _check_list_message(rcpt, msg)
    assert inbox.max_size < 100 * 1024
    assert {r: o for r, (o, _) in _outcomes(output).items()} == dict.fromkeys(good, "sent")


def _check_list_message(rcpt: str, msg: EmailMessage) -> None:
    # RFC 8058: the https target first, with its own signature, and the one-click POST
    header = str(msg["List-Unsubscribe"])
    https, mailto = re.findall(r"<([^>]+)>", header)
    assert https.startswith("https://briefs.example.org/unsubscribe?") and mailto.startswith(
        "mailto:unsubscribe@example.org")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Id"] == "<daily-brief.example.org>"
    assert msg["To"] == rcpt
    query = parse_qs(urlsplit(https).query)
    assert query["list"] == ["brief"] and query["u"] == [rcpt]
    assert verify_unsubscribe(rcpt, query["s"][0], SECRET)
    assert not verify_unsubscribe("someone.else@list.test", query["s"][0], SECRET)

    # No attachment: alternative = [plain, html], nothing else
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    plain, html_part = msg.iter_parts()
    html = html_part.get_content()
    imgs = re.findall(r"<img\b[^>]*>", html)
    assert len(imgs) == 8  # four charts, each light and dark (the phone look's PNGs)
    assert sum("-phone-dark.png" in img for img in imgs) == 4
    for img in imgs:
        src = re.search(r'src="([^"]+)"', img)
        assert src and src.group(1).startswith(f"{SITE}{LAST:%Y/%m/%d}/charts/"), img
        assert src.group(1).endswith(".png")
        assert re.search(r'width="\d+"', img) and re.search(r'height="\d+"', img), img
    # the visible links: the recipient's own unsubscribe link and the PDF on the site
    assert f'href="{https.replace("&", "&amp;")}"' in html
    assert f'href="{SITE}{LAST:%Y/%m/%d}/brief.pdf"' in html
    text = plain.get_content()
    assert f"Unsubscribe: {https}" in text and f"PDF edition: {SITE}{LAST:%Y/%m/%d}/brief.pdf" in text
    assert "unsubscribe.invalid" not in html + text  # the placeholder was replaced


def test_relay_throttling_is_backed_off_then_everyone_is_served_once(
        output: Path, tmp_path: Path) -> None:
    good = _addresses(20)
    listing = tmp_path / "subscribers.txt"
    listing.write_text("# the list\n" + "\n".join(good) + "\n", encoding="utf-8")
    inbox = Inbox(throttle=6, keep=False)  # 421 to the first six MAIL commands
    with serving(inbox) as port:
        result = _send(_config(output, port, listing, connections=2, attempts=10))
    assert result.exit_code == 0, result.output
    assert sorted(inbox.counts) == good and set(inbox.counts.values()) == {1}
    assert "relay throttled 6 times: backed off" in result.output
    assert inbox.most_open <= 2
    assert inbox.opened > 2  # each 421 closed the connection: a fresh one followed


def test_a_permanent_refusal_is_recorded_once_and_never_retried(
        output: Path, tmp_path: Path) -> None:
    listing = tmp_path / "subscribers.txt"
    listing.write_text("\n".join(["a@list.test", REFUSED, "b@list.test"]) + "\n", encoding="utf-8")
    inbox = Inbox(keep=False)
    with serving(inbox) as port:
        config = _config(output, port, listing)
        first = _send(config)
        assert first.exit_code == 1, first.output  # not everyone was served
        assert f"refused: {REFUSED}: 550 5.1.1 No such mailbox" in first.output
        assert inbox.rcpt_attempts[REFUSED] == 1
        again = _send(config)
    assert again.exit_code == 0, again.output
    assert inbox.rcpt_attempts[REFUSED] == 1  # not retried, this run or the next
    assert dict(inbox.counts) == {"a@list.test": 1, "b@list.test": 1}
    outcome, detail = _outcomes(output)[REFUSED]
    assert outcome == "refused" and detail is not None and detail.startswith("550")


@pytest.mark.parametrize("smtputf8", [True, False], ids=["relay-offers-SMTPUTF8", "ascii-only-relay"])
def test_internationalised_addresses_are_sent_or_refused_never_a_crash(
        output: Path, tmp_path: Path, smtputf8: bool) -> None:
    listing = tmp_path / "subscribers.txt"
    listing.write_text("a@list.test\nzoë@exämple.com\nbob@exämple.com\nb@list.test\n",
                       encoding="utf-8")
    inbox = Inbox()
    with serving(inbox, smtputf8=smtputf8) as port:
        config = _config(output, port, listing)
        first = _send(config)
        again = _send(config)  # a re-run: nobody twice, no crash
    # A non-ASCII domain goes as its IDNA form, which any relay takes, in envelope and To:.
    assert inbox.counts["bob@xn--exmple-cua.com"] == 1
    bob = next(m for r, m in inbox.received if r == "bob@xn--exmple-cua.com")
    assert bob["To"] == "bob@xn--exmple-cua.com"
    outcomes = _outcomes(output)
    assert {r: o for r, (o, _) in outcomes.items()} == {
        "a@list.test": "sent", "b@list.test": "sent", "bob@exämple.com": "sent",
        "zoë@exämple.com": "sent" if smtputf8 else "refused"}
    if smtputf8:
        # A non-ASCII local part needs SMTPUTF8: the message is then UTF-8 throughout.
        assert first.exit_code == 0, first.output
        assert inbox.counts["zoë@xn--exmple-cua.com"] == 1
        zoe = next(m for r, m in inbox.received if r == "zoë@xn--exmple-cua.com")
        assert zoe["To"] == "zoë@xn--exmple-cua.com"
        # her unsubscribe link names her as she is listed, signed
        https = re.findall(r"<([^>]+)>", str(zoe["List-Unsubscribe"]))[0]
        query = parse_qs(urlsplit(https).query)
        assert query["u"] == ["zoë@exämple.com"]
        assert verify_unsubscribe("zoë@exämple.com", query["s"][0], SECRET)
    else:
        assert first.exit_code == 1, first.output  # not everyone was served, and it says why
        assert ("refused: zoë@exämple.com: 553 5.6.7 the SMTP server does not offer SMTPUTF8, "
                "which this internationalised address needs: not sent") in first.output
        assert not any(r.startswith("zo") for r in inbox.counts)
    assert again.exit_code == 0, again.output
    assert sum(inbox.counts.values()) == (4 if smtputf8 else 3)  # each once, over two runs


def test_list_mode_without_the_secret_is_a_configuration_error(
        output: Path, tmp_path: Path) -> None:
    listing = tmp_path / "subscribers.txt"
    listing.write_text("a@list.test\n", encoding="utf-8")
    config = _config(output, 9, listing)  # port 9: nothing listens, nothing may be sent
    missing = _send(config, secret=None)
    assert missing.exit_code == 2, missing.output
    assert "REPORTGEN_UNSUBSCRIBE_SECRET" in missing.output and "is not set" in missing.output
    short = _send(config, secret="short")
    assert short.exit_code == 2 and "shorter than 16" in short.output


def test_the_secret_never_leaves_the_process(output: Path, tmp_path: Path) -> None:
    listing = tmp_path / "subscribers.txt"
    listing.write_text(f"a@list.test\n{REFUSED}\n", encoding="utf-8")
    inbox = Inbox()
    with serving(inbox) as port:
        result = _send(_config(output, port, listing))
    assert SECRET not in result.output
    assert [r for r, _ in inbox.received] == ["a@list.test"]
    _, msg = inbox.received[0]
    assert SECRET.encode() not in msg.as_bytes()
    assert sign("a@list.test", SECRET) in str(msg["List-Unsubscribe"])  # only its signature
    db = (output / "archive.sqlite").read_bytes()
    assert SECRET.encode() not in db


def test_list_mode_needs_the_site_url(output: Path, tmp_path: Path) -> None:
    listing = tmp_path / "subscribers.txt"
    listing.write_text("a@list.test\n", encoding="utf-8")
    config = _config(output, 9, listing)
    text = config.read_text().replace(f"url: {SITE}", "url: null")
    config.write_text(text)
    result = _send(config)
    assert result.exit_code == 2, result.output
    assert "email.subscribers needs site.url" in result.output


def test_dry_run_writes_the_list_message(output: Path, tmp_path: Path) -> None:
    listing = tmp_path / "subscribers.txt"
    listing.write_text("first@list.test\nsecond@list.test\n", encoding="utf-8")
    result = _send(_config(output, 9, listing), "--dry-run")
    assert result.exit_code == 0, result.output
    eml = output / "reports" / LAST.isoformat() / "brief-list.eml"
    from email import policy
    from email.parser import BytesParser

    msg = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    _check_list_message("first@list.test", msg)  # type: ignore[arg-type]


# -- the list, the links and the bucket, without a server -----------------------------------


def test_subscriber_lists_in_each_form(tmp_path: Path) -> None:
    text = tmp_path / "list.txt"
    text.write_text("\ufeff# readers\nA@Example.COM\n\n a@example.com \nb@example.com\n"
                    "b@EXAMPLE.com\n", "utf-8")
    stats = ListStats()
    assert list(subscribers(str(text), stats)) == ["A@example.com", "a@example.com",
                                                    "b@example.com"]
    assert stats.duplicates == 1 and stats.invalid == 0  # the local part keeps its case

    db_path = tmp_path / "subs.db"
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, mail TEXT)")
    db.executemany("INSERT INTO people (mail) VALUES (?)",
                   [("x@example.com",), (None,), ("bad",), ("y@example.com",)])
    db.commit()
    db.close()
    stats = ListStats()
    found = list(subscribers(f"sqlite:///{db_path}?table=people&column=mail", stats))
    assert found == ["x@example.com", "y@example.com"]
    assert stats.invalid == 2 and stats.invalid_examples == [
        "row 2: '' is empty", "row 3: 'bad' is not an email address"]

    nocol = tmp_path / "list.csv"
    nocol.write_text("name,mail\nA,a@example.com\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no `email` column"):
        list(subscribers(str(nocol), ListStats()))
    with pytest.raises(ConfigError, match="no subscriber file"):
        list(subscribers(str(tmp_path / "missing.txt"), ListStats()))


@pytest.mark.parametrize(("value", "problem"), [
    ("sqlite://subs.db", "three slashes"),
    ("sqlite:///subs.db?table=x;drop", "not a plain SQL name"),
    ("sqlite:///subs.db?where=1", "unknown option 'where'"),
])
def test_a_bad_subscribers_value_names_the_key(tmp_path: Path, value: str, problem: str) -> None:
    from reportgen.config import config_from_mapping

    with pytest.raises(ConfigError, match=problem) as caught:
        config_from_mapping({"email": {"subscribers": value}})
    assert "email.subscribers" in str(caught.value)


def test_unsubscribe_signatures() -> None:
    link = unsubscribe_link("https://x.example/unsub?list=a&u=old", "Bob@Example.ORG", SECRET)
    query = parse_qs(urlsplit(link).query)
    assert query["u"] == ["Bob@example.org"] and query["list"] == ["a"]
    sig = query["s"][0]
    assert len(sig) == 43 and verify_unsubscribe("Bob@EXAMPLE.org", sig, SECRET)
    assert not verify_unsubscribe("bob@example.org", sig, SECRET)  # the local part counts
    assert not verify_unsubscribe("Bob@example.org", sig, SECRET, list_id="other-list")
    assert not verify_unsubscribe("Bob@example.org", sig, "another-secret-0123456789")
    assert not verify_unsubscribe("Bob@example.org", sig[:-1] + "é", SECRET)


class _Ticks:
    """A ticker whose sleeps only move its own time forward."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)


def test_the_token_bucket_paces_and_holds_off() -> None:
    from reportgen.publish.listmail import TokenBucket

    ticks = _Ticks()
    bucket = TokenBucket(4.0, burst=2, ticker=ticks)
    waits = [bucket.take() for _ in range(6)]
    assert waits[:2] == [0.0, 0.0]  # the burst
    assert waits[2:] == pytest.approx([0.25] * 4)  # then four a second
    bucket.hold_off(3.0)
    assert bucket.take() == pytest.approx(3.0)


# -- a killed send, re-run ------------------------------------------------------------------


def test_a_send_killed_half_way_is_completed_by_the_next_without_duplicates(
        output: Path, tmp_path: Path) -> None:
    """2,000 subscribers; the relay accepts 700, then holds every DATA after the message's
    final "." (its reply never comes), and the sender is killed (SIGKILL) right there: the
    worst moment, when the relay may already have queued those messages. The re-run serves
    the other subscribers and mails nobody twice; the few caught in flight (one per
    connection at most) are left alone and listed as unknown."""
    total, accepted_first, connections = 2000, 700, 4
    good = _addresses(total)
    listing = tmp_path / "subscribers.txt"
    listing.write_text("\n".join(good) + "\n", encoding="utf-8")
    inbox = Inbox(keep=False, hold_after=accepted_first)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")}
    env.update(PYTHONPATH=str(ROOT), REPORTGEN_UNSUBSCRIBE_SECRET=SECRET)
    with serving(inbox) as port:
        config = _config(output, port, listing, connections=connections)
        cmd = [sys.executable, "-m", "reportgen.cli", "-c", str(config), "send", "--date",
               LAST.isoformat()]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 90
            # every accepted message is logged, and each connection has a held one in flight
            while _sent(output) < accepted_first or len(_in_flight(output)) < connections:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the first send never got half-way"
                time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
            if proc.stderr:
                proc.stderr.close()
        in_doubt = _in_flight(output)
        assert len(in_doubt) == connections
        inbox.released.set()  # whatever the relay held may now count as delivered
        again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300,
                               check=False)
    assert again.returncode == 0, again.stderr
    assert f"{total - accepted_first - connections} sent" in again.stderr
    assert f"{accepted_first + connections} already done earlier" in again.stderr
    # Named for an operator to check (`send --to ADDRESS --force` if it never arrived).
    assert again.stderr.count("in flight when an earlier send stopped") == connections
    assert all(address in again.stderr for address in in_doubt)

    assert max(inbox.counts.values()) == 1  # nobody twice
    assert set(good) - in_doubt <= set(inbox.counts)  # everyone else once
    assert _sent(output) == total - connections


def _in_flight(output: Path) -> set[str]:
    if not (output / "archive.sqlite").exists():
        return set()
    return {r for r, (outcome, _detail) in _outcomes(output).items() if outcome == "sending"}


def _sent(output: Path) -> int:
    if not (output / "archive.sqlite").exists():
        return 0
    db = sqlite3.connect(output / "archive.sqlite", timeout=30)
    try:
        return int(db.execute("SELECT count(*) FROM deliveries WHERE outcome='sent'")
                   .fetchone()[0])
    finally:
        db.close()
