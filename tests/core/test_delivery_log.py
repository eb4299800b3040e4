"""The archive's delivery log: one row per (day, channel, recipient), for every channel."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from reportgen.archive import DELIVERY_DONE, Archive

DAY = date(2025, 6, 11)


def test_channels_keep_their_own_rows_for_the_same_recipient(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.sqlite") as archive:
        archive.claim_delivery(DAY, "email", "x", "<1@example.org>")
        archive.claim_delivery(DAY, "chat", "x", "part-1")
        archive.mark_delivery(DAY, "chat", "x", "part-1", "unknown", "HTTP 503")
        email, chat = archive.deliveries(DAY, "email"), archive.deliveries(DAY, "chat")
    assert email["x"].outcome == "sending" and email["x"].ref == "<1@example.org>"
    assert chat["x"].outcome == "unknown" and chat["x"].detail == "HTTP 503"
    assert {"sending", "unknown"} <= set(DELIVERY_DONE) and "failed" not in DELIVERY_DONE


def test_an_outcome_the_log_does_not_know_is_refused(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.sqlite") as archive, pytest.raises(ValueError, match="maybe"):
        archive.mark_delivery(DAY, "email", "x", "ref", "maybe")


def test_a_secret_in_a_detail_is_blanked(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.sqlite", secrets=["canary-0123456789"]) as archive:
        archive.mark_delivery(DAY, "chat", "x", "ref", "failed", "/botcanary-0123456789/send")
        assert archive.deliveries(DAY, "chat")["x"].detail == "/bot***/send"


def test_a_one_channel_log_is_kept_as_emails_on_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE deliveries (report_date TEXT NOT NULL, recipient TEXT NOT NULL, "
                   "message_id TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT, "
                   "updated_at TEXT NOT NULL, PRIMARY KEY (report_date, recipient))")
        db.execute("INSERT INTO deliveries VALUES (?,?,?,?,?,?)",
                   (DAY.isoformat(), "a@example.org", "<m@x>", "sent", None, "2025-06-11T08:00"))
    db.close()
    for _ in range(2):  # a second open finds it done
        with Archive(path) as archive:
            rows = archive.deliveries(DAY, "email")
        assert list(rows) == ["a@example.org"] and rows["a@example.org"].outcome == "sent"
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    assert "deliveries_one_channel" not in tables
