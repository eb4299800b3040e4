"""Section status tells the truth (issue 10, item 6): an ETF section with no table is not
"ok", and a source switched off in config is left out instead of failing every run."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportgen.brief import Brief, build_brief
from reportgen.cli import app
from reportgen.config import config_from_mapping
from reportgen.models import RawPayload, SourceSnapshot
from reportgen.sources.base import ParseContext
from reportgen.sources.etf import EtfSource
from tests.conftest import live_config, only_sources, write_config
from tests.fakeupstream import SAMPLE_ROOT, Upstream

DAY = date(2025, 6, 11)
NOW = "2025-06-11T23:58:00+00:00"


def _etf_snapshot(day: date) -> SourceSnapshot:
    """What the ETF source makes of the sample's real Farside pages for `day`."""
    folder = SAMPLE_ROOT / DAY.isoformat() / "etf_farside"
    raws = [RawPayload(source="etf_farside", url=entry["url"], status=200,
                       body=(folder / entry["file"]).read_bytes(),
                       fetched_at=datetime(2025, 6, 11, 23, 58, tzinfo=UTC))
            for entry in json.loads((folder / "index.json").read_text())]
    source = EtfSource(config_from_mapping({}))
    model = source.parse(raws, ParseContext(report_date=day, is_past=True))
    return SourceSnapshot(source="etf_farside", report_date=day, ok=True, method="history",
                          fetched_at=raws[0].fetched_at, as_of=model.as_of,
                          data=model)


def _brief(day: date, snapshot: SourceSnapshot) -> Brief:
    return build_brief(day, {"etf_farside": snapshot}, {},
                       contributors=[EtfSource(config_from_mapping({}))], title="t", zone="UTC",
                       generated_at=datetime(2025, 6, 11, tzinfo=UTC), sample=False)


def test_etf_before_the_funds_launched_is_unavailable_not_ok() -> None:
    day = date(2024, 1, 5)  # BTC funds launched 11 Jan 2024, ETH 23 Jul 2024
    brief = _brief(day, _etf_snapshot(day))
    etf = brief.section("etf")
    assert not etf.available
    assert etf.status == (
        "unavailable: unavailable for 2024-01-05: BTC: Farside's BTC table has no row on or "
        "before 2024-01-05 (funds not trading yet).; ETH: Farside's ETH table has no row on or "
        "before 2024-01-05 (funds not trading yet).")
    assert etf in brief.unavailable and not brief.complete


def test_etf_with_one_table_missing_is_partial() -> None:
    day = date(2024, 3, 1)  # BTC funds trading, ETH funds not yet
    brief = _brief(day, _etf_snapshot(day))
    etf = brief.section("etf")
    assert etf.available and etf.missing == ["ETH ETF flows"]
    assert etf.status == "partial: ETH ETF flows"
    assert not brief.complete


def test_etf_section_status_in_the_run_record(upstream: Upstream, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A backdated run for a day before the launch: the run record and the exit code say the
    section is unavailable (it used to say "ok")."""
    upstream.load_day(DAY, ["etf_farside"])
    data = only_sources(live_config(upstream, tmp_path / "out"), "etf_farside")
    config = write_config(tmp_path / "c.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", NOW)
    result = CliRunner().invoke(app, ["--config", str(config), "run", "--date", "2024-01-05",
                                      "--formats", "md"])
    assert result.exit_code == 3, result.output
    with sqlite3.connect(tmp_path / "out" / "archive.sqlite") as db:
        (sections,) = db.execute("SELECT sections FROM runs").fetchone()
    assert json.loads(sections)["etf"].startswith("unavailable: unavailable for 2024-01-05: BTC:")


def test_a_source_disabled_in_config_is_omitted_and_the_run_can_exit_0(
        upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upstream.load_day(DAY, ["coingecko", "feargreed", "stablecoins", "gas", "etf_farside",
                            "news"])
    data = only_sources(live_config(upstream, tmp_path / "out"), "coingecko", "feargreed",
                        "stablecoins", "gas", "etf_farside", "news")
    config = write_config(tmp_path / "c.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", NOW)
    result = CliRunner().invoke(app, ["--config", str(config), "run", "--formats", "md"])
    assert result.exit_code == 0, result.output
    md = (tmp_path / "out" / "reports" / DAY.isoformat() / "brief.md").read_text()
    assert "Liquidation map" not in md and "Altcoin Season" not in md and "hashrate" not in md
    assert "not collected" not in md and "unavailable" not in md.lower()
    assert [line for line in md.splitlines() if line.startswith("## ")][:6] == [
        "## The day in brief", "## 1. Indicators", "## 2. Stablecoins", "## 3. Spot ETF flows",
        "## 4. Macro & policy", "## 5. Market highlights"]
    with sqlite3.connect(tmp_path / "out" / "archive.sqlite") as db:
        (status, sections) = db.execute("SELECT status, sections FROM runs").fetchone()
    assert status == "complete" and set(json.loads(sections).values()) == {"ok"}
    assert "liquidation" not in json.loads(sections)
