"""One clock (issue 10, item 2): under REPORTGEN_NOW every "now" of a run is that instant,
and "as of" is the data's own time, kept apart from when it was fetched."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from reportgen.cli import app
from tests.conftest import live_config, write_config
from tests.fakeupstream import Upstream
from tests.realised.recorded import record_sample_day

DAY = date(2025, 6, 11)  # the sample day the fake upstream serves
NOW = "2025-06-11T23:58:00+00:00"


def _real_date_patterns() -> list[re.Pattern[str]]:
    """Ways today's real date could show up in an output file."""
    # Reading the real clock is the point here: it is what must not leak into the output.
    today = datetime.now(UTC).date()
    patterns = [today.isoformat(), f"{today.day} {today:%B} {today.year}",
                f"{today:%d %b %Y}", f"{today:%a, %d %b %Y}"]
    if today.year != DAY.year:  # any date of the real year, in ISO or written form
        patterns += [rf"\b{today.year}-\d\d-\d\d", rf"\b{today.year}\d{{4}}T",
                     rf"\b\d{{1,2}} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w* "
                     rf"{today.year}\b"]
    return [re.compile(p) for p in patterns]


def _leaks(text: str) -> list[str]:
    return [m.group(0) for p in _real_date_patterns() for m in p.finditer(text)]


def test_a_past_instant_leaves_no_trace_of_the_real_date(
        upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upstream.load_day(DAY)
    output = tmp_path / "out"
    data = live_config(upstream, output)
    data["site"] = {"enabled": True, "url": "https://brief.example.org/"}
    config = write_config(tmp_path / "c.yaml", data)
    record_sample_day(output / "archive.sqlite", DAY)  # the liquidation recorder ran that day
    monkeypatch.setenv("REPORTGEN_NOW", NOW)
    result = CliRunner().invoke(app, ["--config", str(config), "run"])
    assert result.exit_code == 0, result.output

    folder = output / "reports" / DAY.isoformat()
    md = (folder / "brief.md").read_text()
    assert "_Generated 2025-06-11 23:58 UTC by reportgen._" in md
    checked = 0
    for path in sorted(p for p in output.rglob("*") if p.is_file()):
        if path.suffix == ".sqlite" or path.name.endswith(("-wal", "-shm")):
            continue
        raw = path.read_bytes()
        texts = [raw.decode("latin-1")]
        if path.suffix == ".pdf":
            texts.append("\n".join(page.extract_text() for page in PdfReader(path).pages))
        for text in texts:
            assert not _leaks(text), f"{path.relative_to(output)}: {_leaks(text)[:3]}"
        checked += 1
    assert checked > 20  # html, md, pdf, charts, site pages, feed, sitemap, manifest

    with sqlite3.connect(output / "archive.sqlite") as db:
        stamps = {
            "payloads.fetched_at": db.execute("SELECT fetched_at FROM payloads").fetchall(),
            "snapshots.fetched_at": db.execute("SELECT fetched_at FROM snapshots").fetchall(),
            "snapshots.updated_at": db.execute("SELECT updated_at FROM snapshots").fetchall(),
            "runs": db.execute("SELECT started_at, finished_at FROM runs").fetchall(),
        }
        # Everything we wrote ourselves; payload headers and bodies are what the upstream
        # sent (the fake server's own Date header carries the real date, rightly kept).
        ours = [db.execute(f"SELECT * FROM {table}").fetchall()
                for table in ("snapshots", "runs", "deliveries", "daily_prices")]
        ours.append(db.execute("SELECT report_date, source, url, status, fetched_at, error"
                               " FROM payloads").fetchall())
    for column, rows in stamps.items():
        values = {v for row in rows for v in row} - {None}  # None: nothing was fetched
        assert values == {"2025-06-11T23:58:00+00:00"}, (column, values)
    assert not _leaks(repr(ours))


def test_an_archive_written_before_as_of_existed_still_opens(tmp_path: Path) -> None:
    """Older archives have no snapshots.as_of column: it is added on open, and their rows
    read back with as_of None (the brief then falls back as before)."""
    from reportgen.archive import Archive
    from reportgen.clock import FixedClock
    from reportgen.sources.gas import Gas

    path = tmp_path / "archive.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE snapshots (report_date TEXT NOT NULL, source TEXT NOT NULL,"
                   " ok INTEGER NOT NULL, method TEXT NOT NULL, fetched_at TEXT, reason TEXT,"
                   " data TEXT NOT NULL, sample INTEGER NOT NULL DEFAULT 0,"
                   " updated_at TEXT NOT NULL, PRIMARY KEY (report_date, source))")
        db.execute("INSERT INTO snapshots VALUES ('2025-06-11', 'gas', 1, 'live',"
                   " '2025-06-11T23:55:00+00:00', NULL, '{\"gas_gwei\": 1.62}', 0,"
                   " '2025-06-11T23:55:00+00:00')")
    clock = FixedClock(datetime(2025, 6, 12, 1, 0, tzinfo=UTC))
    with Archive(path, clock=clock) as archive:
        old = archive.snapshot(DAY, "gas")
        assert old is not None and old.ok and old.as_of is None
        # Its data predates today's Gas model: read as that model, it says so.
        stale = archive.snapshot(DAY, "gas", Gas)
        assert stale is not None and not stale.ok and stale.data is None
        assert "does not fit Gas any more" in (stale.reason or "")
        gas = Gas(gas_gwei=1.62, base_fee_gwei=1.2, measure="eth_gasPrice")
        archive.put_snapshot(old.model_copy(update={
            "as_of": datetime(2025, 6, 11, 23, 54, tzinfo=UTC), "data": gas}))
        again = archive.snapshot(DAY, "gas", Gas)
        assert again is not None and again.as_of == datetime(2025, 6, 11, 23, 54, tzinfo=UTC)
        assert again.ok and again.data == gas
        (updated,) = archive.db.execute("SELECT updated_at FROM snapshots").fetchone()
    assert updated == "2025-06-12T01:00:00+00:00"  # stamped by the archive's clock
