"""`reportgen send` against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import json
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.publish.email import HTML_LIMIT_BYTES
from tests.conftest import write_config
from tests.publish.conftest import LAST
from tests.publish.smtpserver import REFUSED, Inbox, serving


def _send(output: Path, port: int, *args: str) -> Any:
    config = write_config(output.parent / "config.yaml", {
        "output": str(output),
        "email": {
            "from_addr": "Crypto brief <brief@example.org>",
            "to": ["alice@example.org", "bob@example.org"],
            "bcc": ["carol@example.org"],
            "list_unsubscribe_mailto": "unsubscribe@example.org",
            "list_unsubscribe_url": "https://example.org/unsubscribe?list=brief",
            "backoff_s": 0.01,
        },
        "site": {"url": "https://briefs.example.org/daily/"},
    })
    env = {"REPORTGEN_SMTP_HOST": "127.0.0.1", "REPORTGEN_SMTP_PORT": str(port),
           "REPORTGEN_SMTP_TLS": "none"}
    return CliRunner().invoke(app, ["-c", str(config), "send", "--date", LAST.isoformat(),
                                    "--sample", *args], env=env)


def test_send_builds_a_mail_client_friendly_message(output: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    result = _send(output, port)
    assert result.exit_code == 0, result.output
    assert sorted(r for r, _ in inbox.received) == ["alice@example.org", "bob@example.org",
                                                    "carol@example.org"]
    _, msg = inbox.received[0]

    # Headers
    # the headline of "the day in brief": the day's most unusual move
    assert msg["Subject"] == (f"[SAMPLE] Crypto brief {LAST}: US spot ETH ETFs took in "
                              "US$240.3 M, their largest daily inflow since 2025-02-04")
    assert msg["Date"] and msg["Message-ID"]
    assert msg["List-Unsubscribe"] == ("<mailto:unsubscribe@example.org?subject=unsubscribe>, "
                                       "<https://example.org/unsubscribe?list=brief>")
    # The shared URL identifies nobody: a one-click POST to it could unsubscribe no one, so
    # no one-click offer (RFC 8058); the link stays, for a page that asks.
    assert msg["List-Unsubscribe-Post"] is None
    carol = next(m for r, m in inbox.received if r == "carol@example.org")
    assert "carol" not in str(carol["To"])  # Bcc stays hidden
    assert len({m["Message-ID"] for _, m in inbox.received}) == 3

    # Structure: mixed = [alternative = [plain, related = [html, png…]], pdf]
    assert msg.get_content_type() == "multipart/mixed"
    alternative, pdf = msg.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, related = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    assert images and all(i.get_content_type() == "image/png" for i in images)
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content().startswith(b"%PDF-")
    assert pdf.get_filename() == f"crypto-brief-{LAST}.pdf"

    # HTML: size as encoded, every cid resolves, no data: or remote images, alt text
    assert len(html_part.get_payload().encode("ascii")) <= HTML_LIMIT_BYTES
    html = html_part.get_content()
    cids = {i["Content-ID"].strip("<>") for i in images}
    srcs = re.findall(r'<img\b[^>]*\bsrc="([^"]*)"', html)
    assert srcs and all(s.startswith("cid:") for s in srcs), srcs
    assert {s.removeprefix("cid:") for s in srcs} <= cids
    assert len(re.findall(r"<img\b", html)) == len(re.findall(r'<img\b[^>]*\balt="[^"]+"', html))
    assert "data:" not in html
    assert 'style="' in html  # CSS inlined
    assert html.index("Risk warning") < html.index("1. Indicators")  # disclaimer near the top
    assert "▼" in html or "▲" in html
    assert f"https://briefs.example.org/daily/{LAST:%Y/%m/%d}/index.html" in html

    # Text part: a readable rendering, not HTML and not Markdown syntax
    text = plain.get_content()
    assert "Total market cap" in text and "Risk warning" in text
    assert "<td" not in text and "**" not in text and "|---" not in text
    assert "Liquidation map" in text


def test_second_send_sends_nothing_unless_forced(output: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    assert _send(output, port).exit_code == 0
    assert len(inbox.received) == 3
    again = _send(output, port)
    assert again.exit_code == 0, again.output
    assert len(inbox.received) == 3
    assert "already delivered" in again.output
    forced = _send(output, port, "--force", "--to", "alice@example.org")
    assert forced.exit_code == 0, forced.output
    assert [r for r, _ in inbox.received[3:]] == ["alice@example.org"]


def test_refused_recipient_is_reported_and_others_still_served(
        output: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    result = _send(output, port, "--to", "alice@example.org", "--to", REFUSED,
                   "--to", "bob@example.org")
    assert result.exit_code == 1
    assert REFUSED in result.output and "550" in result.output
    assert sorted(r for r, _ in inbox.received) == ["alice@example.org", "bob@example.org"]


def test_interrupted_send_resumes_with_recipients_not_yet_served(
        output: Path, smtp: tuple[Inbox, int]) -> None:
    from reportgen.archive import Archive
    from reportgen.publish.mailer import DeliveryLog

    inbox, port = smtp
    with Archive(output / "archive.sqlite") as archive:  # alice was served before a crash
        DeliveryLog(archive).record(LAST, "alice@example.org", "<x@example.org>", "sent")
    assert _send(output, port).exit_code == 0
    assert sorted(r for r, _ in inbox.received) == ["bob@example.org", "carol@example.org"]
    with Archive(output / "archive.sqlite") as archive:
        rows = DeliveryLog(archive).rows(LAST)
    assert {r["recipient"]: r["outcome"] for r in rows} == {
        "alice@example.org": "sent", "bob@example.org": "sent", "carol@example.org": "sent"}


def test_a_crash_after_the_relay_accepted_never_mails_twice(
        output: Path, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch) -> None:
    # The process dies after the relay's "250" for bob and before bob's row says "sent":
    # the row written just before the message's final "." says he was in flight, so the
    # next send leaves him alone and names him instead of mailing him again.
    from reportgen.publish.mailer import DeliveryLog

    inbox, port = smtp
    record = DeliveryLog.record

    def dies_before_recording_bob(self: DeliveryLog, day: Any, recipient: str, *args: Any,
                                  **kwargs: Any) -> None:
        if recipient == "bob@example.org" and args[1] == "sent":
            raise KeyboardInterrupt  # as the process being killed right there
        record(self, day, recipient, *args, **kwargs)

    monkeypatch.setattr(DeliveryLog, "record", dies_before_recording_bob)
    crashed = _send(output, port)
    assert crashed.exit_code != 0
    assert sorted(r for r, _ in inbox.received) == ["alice@example.org", "bob@example.org"]
    monkeypatch.setattr(DeliveryLog, "record", record)
    again = _send(output, port)
    assert again.exit_code == 0, again.output
    assert sorted(r for r, _ in inbox.received) == [
        "alice@example.org", "bob@example.org", "carol@example.org"]  # bob once, carol now
    assert "in flight when an earlier send stopped: bob@example.org" in again.output


def test_dry_run_writes_the_eml(output: Path) -> None:
    result = _send(output, 9, "--dry-run")  # port 9: nothing listens, nothing is sent
    assert result.exit_code == 0, result.output
    eml = output / "reports" / LAST.isoformat() / "brief.eml"
    msg = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert msg.get_content_type() == "multipart/mixed"


def _eml(output: Path) -> EmailMessage:
    eml = output / "reports" / LAST.isoformat() / "brief.eml"
    return BytesParser(policy=policy.default).parsebytes(eml.read_bytes())  # type: ignore[return-value]


def test_text_part_comes_from_its_own_template(output: Path) -> None:
    assert _send(output, 9, "--dry-run").exit_code == 0
    plain = next(p for p in _eml(output).walk() if p.get_content_type() == "text/plain")
    text = plain.get_content().replace("\r\n", "\n")
    assert re.search(r"^Total market cap +US\$3,754 B  ▼ −1\.70%$", text, re.M), text[:1500]
    assert "The day in brief\n----------------\n\nUS spot ETH ETFs took in US$240.3 M" in text
    assert "1. Indicators\n-------------" in text
    assert re.search(r"^\[Chart: BTC liquidation map .*\]$", text, re.M)
    assert "48 accounts" in text
    assert re.search(r"^  IBIT +▲ \+131\.0  iShares Bitcoin Trust ETF$", text, re.M)
    assert "<https://en.theblockbeats.news/news/58527>" in text
    assert "Report history: https://briefs.example.org/daily/index.html" in text
    assert f"View in a browser: https://briefs.example.org/daily/{LAST:%Y/%m/%d}/index.html" in text
    # Plain text, not Markdown turned back into text: no escapes, emphasis or link syntax.
    for markdown in ("\\(", "\\_", "**", "](", "[^", "|---"):
        assert markdown not in text, markdown


def test_send_never_collects_or_renders(output: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reportgen.collect
    import reportgen.pipeline
    import reportgen.render

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("send ran an earlier phase")

    for module, name in ((reportgen.pipeline, "run"), (reportgen.pipeline, "collect_phase"),
                         (reportgen.collect, "collect"), (reportgen.render, "render_report"),
                         (reportgen.render, "render_brief"), (reportgen.render, "render_pdf")):
        monkeypatch.setattr(module, name, refuse)
    result = _send(output, 9, "--dry-run")
    assert result.exit_code == 0, result.output


def test_a_day_never_rendered_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    output = tmp_path / "empty"
    result = _send(output, 9, "--dry-run")
    assert result.exit_code == 2, result.output
    assert f"reportgen run --date {LAST} --no-send" in result.output
    assert not (output / "reports").exists()  # nothing was collected or rendered

    collected = CliRunner().invoke(app, ["-o", str(output), "collect", "--sample"])
    assert collected.exit_code == 0, collected.output
    result = _send(output, 9, "--dry-run")
    assert result.exit_code == 2, result.output
    assert f"run `reportgen render --date {LAST}` first" in result.output
    assert "Traceback" not in result.output


def test_archived_data_changed_since_render_is_refused(output: Path) -> None:
    from reportgen.archive import Archive
    from reportgen.sources.feargreed import FearGreed

    with Archive(output / "archive.sqlite") as archive:
        snap = archive.snapshot(LAST, "feargreed", FearGreed)
        assert snap is not None and isinstance(snap.data, FearGreed)
        archive.put_snapshot(snap.model_copy(update={"data": snap.data.model_copy(
            update={"value": 12})}), sample=True)
    result = _send(output, 9, "--dry-run")
    assert result.exit_code == 2, result.output
    assert "changed since it was rendered" in result.output
    assert f"reportgen render --date {LAST}" in result.output


def test_attach_pdf_without_a_rendered_pdf_names_the_render_command(output: Path) -> None:
    import json

    manifest = output / "reports" / LAST.isoformat() / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["files"].remove("brief.pdf")  # as if rendered with --formats html,md
    manifest.write_text(json.dumps(data), encoding="utf-8")
    result = _send(output, 9, "--dry-run")
    assert result.exit_code == 2, result.output
    assert f"reportgen render --date {LAST} --formats html,md,pdf" in result.output


def test_the_run_record_counts_a_big_list_and_names_only_what_needs_a_look() -> None:
    # 10,000 subscribers must not put 10,000 addresses into every run record: the delivery
    # log holds each recipient; the record counts them and names the ones to look at.
    from datetime import date

    from reportgen.publish.mailer import RECORD_NAMES, SendReport

    report = SendReport(day=date(2025, 6, 11))
    report.sent = [f"reader{i}@list.test" for i in range(10_000)]
    report.refused = {f"gone{i}@list.test": "550 No such mailbox" for i in range(60)}
    record = report.as_record()
    assert record["sent"] == 10_000
    assert len(record["refused"]) == RECORD_NAMES + 1
    assert record["refused"]["gone0@list.test"] == "550 No such mailbox"
    assert record["refused"]["…"].startswith("and 10 more")
    assert len(json.dumps(record)) < 10_000


def test_a_non_ascii_mailbox_on_an_ascii_only_relay_is_refused_not_a_crash(output: Path) -> None:
    config = write_config(output.parent / "config.yaml", {
        "output": str(output),
        "email": {"from_addr": "Crypto brief <brief@example.org>", "backoff_s": 0.01,
                  "to": ["alice@example.org", "zoë@exämple.com", "bob@exämple.com"]},
    })
    inbox = Inbox()
    with serving(inbox, smtputf8=False) as port:
        env = {"REPORTGEN_SMTP_HOST": "127.0.0.1", "REPORTGEN_SMTP_PORT": str(port),
               "REPORTGEN_SMTP_TLS": "none"}
        result = CliRunner().invoke(app, ["-c", str(config), "send", "--date", LAST.isoformat(),
                                          "--sample"], env=env)
    assert result.exit_code == 1, result.output
    assert "refused: zoë@exämple.com: 553 5.6.7" in result.output
    assert sorted(inbox.counts) == ["alice@example.org", "bob@xn--exmple-cua.com"]


def _downgrade_delivery_log(archive_path: Path) -> None:
    """Rewrite the archive's delivery log as the version before channels kept it: email's
    rows only, keyed by (date, recipient), no `channel` column."""
    import sqlite3

    with sqlite3.connect(archive_path) as db:
        rows = db.execute("SELECT report_date, recipient, message_id, outcome, detail, "
                          "updated_at FROM deliveries").fetchall()
        db.execute("DROP TABLE deliveries")
        db.execute("CREATE TABLE deliveries (report_date TEXT NOT NULL, recipient TEXT NOT NULL, "
                   "message_id TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT, "
                   "updated_at TEXT NOT NULL, PRIMARY KEY (report_date, recipient))")
        db.executemany("INSERT INTO deliveries VALUES (?,?,?,?,?,?)", rows)
    db.close()


def test_an_email_sent_before_the_upgrade_is_never_sent_again(
        output: Path, smtp: tuple[Inbox, int]) -> None:
    # Archives written before the delivery log kept every channel hold email's rows without
    # a channel: opened by this version, they stay email's, so nobody is mailed twice.
    from reportgen.archive import Archive

    inbox, port = smtp
    assert _send(output, port, "--to", "alice@example.org").exit_code == 0
    _downgrade_delivery_log(output / "archive.sqlite")
    again = _send(output, port)
    assert again.exit_code == 0, again.output
    assert sorted(r for r, _ in inbox.received) == [
        "alice@example.org", "bob@example.org", "carol@example.org"]  # alice once
    with Archive(output / "archive.sqlite") as archive:
        kept = archive.deliveries(LAST, "email")
    assert {r: d.outcome for r, d in kept.items()} == {
        "alice@example.org": "sent", "bob@example.org": "sent", "carol@example.org": "sent"}
