"""What reportgen leaves on disk: report files readable like any program's (umask), the
archive private and free of the keys upstreams echo back."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from reportgen.archive import Archive
from reportgen.clock import FixedClock
from reportgen.collect import CollectOptions
from reportgen.config import config_from_mapping
from reportgen.models import RawPayload
from reportgen.pipeline import collect_phase
from reportgen.writer import OutputWriter
from tests.conftest import live_config
from tests.fakeupstream import Upstream

KEY = "EtherscanKey0123456789ABCDEFGHIJ"


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_report_files_follow_the_umask(tmp_path: Path, umask: None) -> None:
    writer = OutputWriter(tmp_path / "out")
    assert _mode(writer.write_text("reports/2025-06-11/brief.md", "# brief\n")) == 0o644
    assert _mode(writer.write_bytes("reports/2025-06-11/charts/a.svg", b"<svg/>")) == 0o644
    os.umask(0o027)
    assert _mode(writer.write_text("reports/2025-06-11/brief.html", "<p>")) == 0o640
    assert not list((tmp_path / "out").rglob("*.tmp"))


def test_the_archive_is_private(tmp_path: Path, umask: None) -> None:
    path = tmp_path / "out" / "archive.sqlite"
    with Archive(path):
        pass
    assert _mode(path) == 0o600
    path.chmod(0o644)  # e.g. restored by a CI cache
    with Archive(path):
        pass
    assert _mode(path) == 0o600


def test_secrets_are_blanked_wherever_a_payload_is_stored(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTGEN_ETHERSCAN_KEY", KEY)
    other = "smtp/Pass word+987"
    raw = RawPayload(
        source="gas", url=f"https://api.etherscan.io/v2/api?apikey={KEY}", status=500,
        body=f'<html>Bad request GET /v2/api?apikey={KEY}&x=smtp%2FPass+word%2B987</html>'.encode(),
        fetched_at=datetime(2025, 6, 11, tzinfo=UTC), headers={"x-echo": f"apikey={KEY}"},
        error=f"upstream said: key {KEY} rate limited",
    )
    path = tmp_path / "archive.sqlite"
    with Archive(path) as archive:
        archive.protect([other])
        archive.add_payloads(date(2025, 6, 11), [raw])
        stored = archive.payloads(date(2025, 6, 11), "gas", only_ok=False)[0]
    assert KEY not in stored.url and "***" in stored.url
    assert KEY.encode() not in stored.body and b"***" in stored.body
    assert b"987" not in stored.body
    assert stored.headers == {"x-echo": "apikey=***"}
    assert stored.error is not None and KEY not in stored.error
    assert KEY.encode() not in path.read_bytes()


def test_an_error_page_echoing_the_key_does_not_put_it_in_the_archive(
        tmp_path: Path, upstream: Upstream) -> None:
    def echo(query: str, _body: bytes) -> tuple[int, bytes]:
        return 500, f'{{"message": "NOTOK", "request": "/v2/api?{query}"}}'.encode()

    upstream.handle("https://api.etherscan.io/v2/api", echo)
    config = config_from_mapping(live_config(upstream, tmp_path / "out"))
    day = date(2025, 6, 11)
    with Archive(config.archive_path) as archive:
        snaps = collect_phase(config, day, archive, clock=FixedClock(datetime(2025, 6, 11, 12, tzinfo=UTC)),
                              sample=False, options=CollectOptions(only=("gas",),
                                                                   secrets={"etherscan_key": KEY}))
    assert not snaps["gas"].ok
    assert any("apikey" in path for _, path in upstream.requests)  # the key did go upstream
    db = sqlite3.connect(config.archive_path)
    try:
        bodies = [row[0] for row in db.execute("SELECT body FROM payloads")]
    finally:
        db.close()
    assert bodies and all(b"/v2/api?" in body for body in bodies)
    for folder in (config.output,):
        for path in folder.rglob("*"):
            if path.is_file():
                assert KEY.encode() not in path.read_bytes(), path
