"""A backdated run uses only historical answers: the fake upstream's "current" endpoints
carry different numbers, and none of them may appear in the brief for the past date.

Every registered source is checked (the registry, not a list here): one that answers past
dates serves its historical answers from `tests/backdated/<name>.py` and must be whole, its
data's own time on the day; one without history must ask nothing and say so."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.config import load_config
from reportgen.registry import source_classes
from tests.backdated import DAY, TODAY, answers_for, disabled, missing_answers
from tests.conftest import live_config, only_sources, write_config
from tests.fakeupstream import Upstream
from tests.sourcecontract import Shortfall, shortfalls

NOW = f"{TODAY.isoformat()}T12:00:00+00:00"


@pytest.fixture
def past_upstream(upstream: Upstream, tmp_path: Path) -> Upstream:
    """Every registered source's historical answers (and current-answer traps)."""
    for cls in source_classes():
        module = answers_for(cls.name)
        if module is not None and not disabled(module):
            module.serve(upstream, tmp_path / "out")
    return upstream


def _past_run(upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              formats: str) -> tuple[int, str, Path]:
    data = live_config(upstream, tmp_path / "out")
    for cls in source_classes():
        if disabled(answers_for(cls.name)):
            node = data
            for part in cls.config_key().split("."):
                node = node[part]
            node["enabled"] = False
    path = write_config(tmp_path / "c.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", NOW)
    result = CliRunner().invoke(app, ["--config", str(path), "run", "--date", DAY.isoformat(),
                                      "--formats", formats])
    return result.exit_code, result.output, path


def test_every_source_with_history_has_its_past_answers() -> None:
    """A source that declares `supports_past` is backdated-tested: its answers module exists
    (or says why it is off)."""
    missing = missing_answers([cls.name for cls in source_classes() if cls.supports_past])
    assert missing == [], (f"{missing} answer past dates: add tests/backdated/<name>.py serving "
                           "the historical answers (see tests/backdated/__init__.py)")


def test_backdated_run_shows_only_historical_numbers(
    past_upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, path = _past_run(past_upstream, tmp_path, monkeypatch, "html,md")
    config = load_config(path, env={})
    md = (tmp_path / "out" / "reports" / DAY.isoformat() / "brief.md").read_text()
    without_history = [c for c in source_classes() if not c.supports_past]
    # Sources with history are whole; those without are down, and nothing else is.
    found = shortfalls(config, DAY, expected_unavailable={c.name for c in without_history})
    assert [str(s) for s in found] == []
    assert code == (3 if without_history else 0), out
    with sqlite3.connect(tmp_path / "out" / "archive.sqlite") as db:
        snapshots = {name: (ok, reason) for name, ok, reason in db.execute(
            "SELECT source, ok, reason FROM snapshots WHERE report_date=?", (DAY.isoformat(),))}
        fetched = {name for (name,) in db.execute(
            "SELECT DISTINCT source FROM payloads WHERE report_date=?", (DAY.isoformat(),))}
    down = [Shortfall(c.name, f"ok={snapshots.get(c.name)}, asked: {c.name in fetched}")
            for c in without_history
            if c.name in fetched or snapshots.get(c.name, (1, ""))[0]
            or "has no free history" not in (snapshots[c.name][1] or "")]
    assert [str(s) for s in down] == []  # no live answer stood in for the past date
    assert "historical endpoint" in md and "has no free history" in md

    asked = [path.split("?")[0].lstrip("/") for _, path in past_upstream.requests]
    for cls in source_classes():
        module = answers_for(cls.name)
        if module is None or disabled(module):
            continue
        for shown in module.SHOWN:
            assert shown in md, (cls.name, shown)
        for current in module.NEVER:
            assert current not in md, (cls.name, current)
        for path in module.NEVER_ASKED:
            assert path not in asked, (cls.name, path)


def test_past_headlines_come_from_later_fetches_in_the_archive(
    upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Feeds have no history, but the day after still lists the day's items: a backdated run
    finds them in the archive (fetched on D+1), never from a live fetch for D."""
    upstream.load_day(DAY, ["news"])
    data = only_sources(live_config(upstream, tmp_path / "out"), "news")
    config = write_config(tmp_path / "c.yaml", data)
    runner = CliRunner()
    next_day = DAY + timedelta(days=1)
    monkeypatch.setenv("REPORTGEN_NOW", f"{next_day.isoformat()}T08:00:00+00:00")
    first = runner.invoke(app, ["--config", str(config), "run", "--formats", "md"])
    assert first.exit_code == 3, first.output  # D+1 itself has no headlines of its own
    feed_calls = len(upstream.requests)
    monkeypatch.setenv("REPORTGEN_NOW", f"{(DAY + timedelta(days=2)).isoformat()}T08:00:00+00:00")
    result = runner.invoke(app, ["--config", str(config), "run", "--date", DAY.isoformat(),
                                 "--formats", "md"])
    assert result.exit_code == 0, result.output  # news alone, and it is complete
    md = (tmp_path / "out" / "reports" / DAY.isoformat() / "brief.md").read_text()
    assert "HYPE surpasses $42" in md and "Divergence Between U.S. Institutional" in md
    assert "archived earlier" in md
    assert len(upstream.requests) == feed_calls  # nothing fetched for the past date


def test_as_of_is_the_datas_own_time_and_fetch_time_is_kept_apart(
        past_upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backdated run answered from historical endpoints: the footnotes give each row's
    or block's own time on the report day, never the (later) moment it was fetched."""
    code, out, _path = _past_run(past_upstream, tmp_path, monkeypatch, "md")
    # the sources without history are down (the test above checks which, and why)
    assert code == (3 if any(not c.supports_past for c in source_classes()) else 0), out
    md = (tmp_path / "out" / "reports" / DAY.isoformat() / "brief.md").read_text()
    notes = {line.split("]: ")[1].split(" <")[0]: line for line in md.splitlines()
             if line.startswith("[^")}
    assert "as of 2025-06-11 00:00 UTC · historical endpoint" in notes[
        "alternative.me Fear & Greed Index"]
    # The last block before the cut-off (one block every 12 s in the fake chain).
    assert "as of 2025-06-11 23:59 UTC · historical endpoint" in notes[
        "Ethereum JSON-RPC / Etherscan gas oracle"]
    assert "2025-06-20" not in "\n".join(notes.values())
    assert "_Generated 2025-06-20 12:00 UTC by reportgen._" in md

    with sqlite3.connect(tmp_path / "out" / "archive.sqlite") as db:
        rows = {s: (f, a) for s, f, a in db.execute(
            "SELECT source, fetched_at, as_of FROM snapshots WHERE report_date=? AND ok=1",
            (DAY.isoformat(),))}
    for cls in source_classes():
        if not cls.supports_past or disabled(answers_for(cls.name)):
            continue
        fetched, as_of = rows[cls.name]
        assert fetched == NOW, cls.name
        # within the day, its cut-off (the next midnight) included
        start = datetime.fromisoformat(f"{DAY.isoformat()}T00:00:00+00:00")
        assert start <= datetime.fromisoformat(as_of) <= start + timedelta(days=1), \
            (cls.name, as_of)
        credit = cls.credit or cls.title
        if credit in notes:  # a source whose figures carry a footnote
            assert "as of 2025-06-11" in notes[credit] and "historical endpoint" in notes[credit]
