"""Realised liquidations in the brief: the sample day's section (after the map, sample-
labelled, the figures the tally gives, the undercount stated, yesterday's map scored), a
backdated day with nothing recorded (unavailable, saying so) or recorded (its own window
only), and the scoring adapter."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportgen import sample
from reportgen.archive import Archive
from reportgen.cli import app
from reportgen.realised.frames import RealisedLiquidation
from reportgen.realised.score import MapScore, score_sentence
from reportgen.realised.settings import RealisedSettings
from reportgen.sources.liquidation_realised import parse_realised
from tests.conftest import live_config, only_sources, write_config
from tests.fakeupstream import Upstream
from tests.realised.recorded import record_sample_day

DAY = date(2025, 6, 11)


def _run(tmp_path: Path, *args: str) -> tuple[int, str, Path]:
    output = tmp_path / "out"
    result = CliRunner().invoke(app, ["-o", str(output), "run", *args, "--formats", "md",
                                      "--no-publish", "--no-send"])
    return result.exit_code, result.output, output


def test_sample_brief_shows_the_day_after_the_map(tmp_path: Path) -> None:
    code, out, output = _run(tmp_path, "--sample", "--date", DAY.isoformat())
    assert code == 0, out
    md = (output / "reports" / DAY.isoformat() / "brief.md").read_text()
    titles = [line for line in md.splitlines() if line.startswith("## ")]
    at = titles.index("## 5. Realised liquidations, last 24 h")
    assert titles[at - 1] == "## 4. Liquidation map"
    section = md.split("## 5. Realised liquidations, last 24 h")[1].split("\n## ")[0]
    expected = parse_realised(sample.load_raws("liquidation_realised", DAY), RealisedSettings())
    def shown(orders: int) -> float:  # the US$ millions the card prints beside `orders`
        found = re.search(rf"US\$([\d.]+) M \({orders} orders", section)
        assert found, (orders, section)
        return float(found[1])

    assert shown(expected.orders) == pytest.approx(expected.total_usd / 1e6, abs=0.01)
    for name, venue in (("Binance", "binance"), ("Bybit", "bybit"), ("OKX", "okx")):
        tally = expected.venue(venue)
        assert tally is not None and f"| {name}[^" in section
        assert shown(tally.orders) == pytest.approx(tally.usd / 1e6, abs=0.01)
    assert "Largest single order: US$" in section
    assert "at most one liquidation per symbol per second" in section  # the undercount
    # sample-labelled like every sample figure: its source line says "bundled sample"
    assert "public liquidation streams, as recorded <" not in md
    assert "Binance, Bybit and OKX public liquidation streams, as recorded" in md
    source_line = next(line for line in md.splitlines()
                       if "public liquidation streams, as recorded" in line
                       and line.startswith("[^"))
    assert "bundled sample" in source_line
    # yesterday's (2025-06-10) map scored against these liquidations, by symbol
    line = next(li for li in section.splitlines() if li.startswith("Yesterday's map, scored"))
    scored = {m[1]: int(m[2].replace(",", "")) for m in re.finditer(
        r"(BTC|ETH) lift [^;]*?, p = [0-9.]+ \(([\d,]+) events\)", line)}
    assert set(scored) == {"BTC", "ETH"}, line
    assert 0 < scored["BTC"] + scored["ETH"] <= expected.orders  # scored: each on its side
    # ... and as data in the day's manifest, for the site's table of recent scores
    manifest = json.loads((output / "reports" / DAY.isoformat() / "manifest.json").read_text())
    rows = {r["symbol"]: r for r in manifest["map_scores"]}
    assert set(rows) == {"BTC", "ETH"}
    assert all(r["map_day"] == "2025-06-10" and 0 <= r["p_value"] <= 1 for r in rows.values())
    assert {k: r["events"] for k, r in rows.items()} == scored


def test_first_sample_day_has_no_map_of_the_day_before_to_score(tmp_path: Path) -> None:
    code, out, output = _run(tmp_path, "--sample", "--date", "2025-06-05")
    assert code in (0, 3), out
    md = (output / "reports" / "2025-06-05" / "brief.md").read_text()
    assert "Yesterday's map, scored: unavailable (no CEX map of 2025-06-04" in md


def _backdated(upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               recorded: bool) -> str:
    output = tmp_path / "out"
    data = only_sources(live_config(upstream, output), "liquidation_realised")
    config = write_config(tmp_path / "config.yaml", data)
    if recorded:
        record_sample_day(output / "archive.sqlite", DAY)
        record_sample_day(output / "archive.sqlite", DAY + timedelta(days=1))  # another day
    monkeypatch.setenv("REPORTGEN_NOW", "2025-06-20T08:00:00+00:00")  # beyond OKX's REST
    result = CliRunner().invoke(app, ["--config", str(config), "run", "--date",
                                      DAY.isoformat(), "--formats", "md"])
    assert result.exit_code in (0, 3), result.output
    return (output / "reports" / DAY.isoformat() / "brief.md").read_text()


def test_backdated_day_with_nothing_recorded_says_so(
        upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    md = _backdated(upstream, tmp_path, monkeypatch, recorded=False)
    section = md.split("Realised liquidations, last 24 h")[1].split("\n## ")[0]
    assert "_Unavailable_ — unavailable for 2025-06-11: nothing recorded for that window" \
        in section
    assert "2025-06-11 00:00 to 2025-06-12 00:00 UTC" in section  # the day, not "now"
    assert upstream.log == []  # OKX's REST is not asked so far back


def test_backdated_day_uses_only_its_own_window(
        upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    md = _backdated(upstream, tmp_path, monkeypatch, recorded=True)
    section = md.split("Realised liquidations, last 24 h")[1].split("\n## ")[0]
    raws = sample.load_raws("liquidation_realised", DAY)
    whole_day = parse_realised(
        [r for r in raws if r.headers.get("content-type") == "application/x-ndjson"],
        RealisedSettings())
    # the sample's events of 06-11 all lie between 00:05 and 23:50: the day holds them all,
    # and none of 06-12's frames (recorded "later") leaks in
    assert f"({whole_day.orders} orders)" in section
    assert "from 2025-06-11 00:00 to 2025-06-12 00:00 UTC" in section
    assert upstream.log == []


def _event(symbol: str, side: str, hours: float) -> RealisedLiquidation:
    return RealisedLiquidation(
        venue="bybit", symbol=symbol, side=side, price=100_000.0, quantity=1.0,  # type: ignore[arg-type]
        notional_usd=100_000.0, time=datetime(2025, 6, 11, tzinfo=UTC) + timedelta(hours=hours))


def test_score_sentence_says_what_it_has() -> None:
    assert "unavailable (no CEX map of 2025-06-10" in score_sentence([], DAY)
    line = score_sentence([MapScore(symbol="BTC", lift=1.32, lift_long=1.5, lift_short=None,
                                    p_value=0.004, events=12)], DAY)
    assert "BTC lift 1.32× (longs 1.50×, shorts —), p = 0.004 (12 events)." in line


def test_the_adapter_scores_only_the_maps_symbol_within_its_horizon(tmp_path: Path) -> None:
    """Through the stored 2025-06-10 sample map: other symbols and events past the horizon
    are left out by the check the adapter calls."""
    from reportgen.liquidation.config import LiqConfig
    from reportgen.liquidation.result import StoredMap
    from reportgen.realised.score import score_map

    code, out, output = _run(tmp_path, "--sample", "--date", DAY.isoformat())
    assert code == 0, out
    with Archive(output / "archive.sqlite") as archive:
        stored = archive.results(DAY - timedelta(days=1), "liquidation", StoredMap)
    summary = next(s.result.cex for s in stored.values()
                   if s.result.cex is not None and s.result.cex.symbol == "BTC")
    assert summary.as_of is not None
    hours = (summary.as_of - datetime(2025, 6, 11, tzinfo=UTC)).total_seconds() / 3600
    events = [_event("BTCUSDT", "long", hours + 1), _event("BTC-USDT-SWAP", "short", hours + 2),
              _event("ETHUSDT", "long", hours + 1), _event("BTCUSDT", "long", hours + 30)]
    score = score_map(summary, events, LiqConfig())
    assert score.symbol == "BTC" and score.events <= 2  # the other symbol and the late one out
    assert json.loads(score.model_dump_json())["symbol"] == "BTC"
