"""Charts (deterministic bytes), the liqmap command body, and lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from reportgen import sample
from reportgen.errors import UsageError
from reportgen.liquidation.chart import render_charts
from reportgen.liquidation.command import run_liqmap
from reportgen.liquidation.config import LiqConfig
from reportgen.liquidation.section import SOURCES, build_liquidation_section


@pytest.fixture(scope="module")
def result():
    day = sample.SAMPLE_LAST
    raws = {src: sample.load_raws(src, day) for src in SOURCES.values()}
    return build_liquidation_section(raws, "BTC", LiqConfig(), sample.fetched_at(day))


def test_charts_are_byte_identical(result, tmp_path) -> None:
    a = render_charts(result, tmp_path / "a", ("svg", "png"))
    b = render_charts(result, tmp_path / "b", ("svg", "png"))
    assert [p.name for p in a] == ["liqmap_btc.svg", "liqmap_btc.png"]  # both maps, one figure
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    svg = a[0].read_text()
    assert "<dc:date>" not in svg
    png = a[1].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert width == 1120  # 2 × the email's 560 px
    heat = render_charts(result, tmp_path / "c", ("svg",), heatmap=True, sample=True)
    assert [p.name for p in heat] == ["liqmap_btc.svg", "liqheat_btc.svg"]


def test_chart_text_is_readable_in_the_email() -> None:
    """Issue 12: ~7 px tick labels at the email's 560 px. A point is 1/72 in; the figure is
    WIDTH_IN wide, shown 560 px wide."""
    from reportgen.liquidation.chart import RC, RIGHT_TICK_PT, WIDTH_IN

    px_per_pt = 560 / WIDTH_IN / 72
    for size in (RC["xtick.labelsize"], RC["ytick.labelsize"], RIGHT_TICK_PT):
        assert size * px_per_pt >= 10


def test_command_sample_day_json_and_chart(tmp_path) -> None:
    lines: list[str] = []
    out = run_liqmap(symbol="btc", venue="cex", day=sample.SAMPLE_LAST,
                     json_path=tmp_path / "m.json", chart_path=tmp_path / "m.svg",
                     echo=lines.append)
    assert out.exit_code == 0
    d = json.loads((tmp_path / "m.json").read_text())
    # the model runs on $100 buckets; the published grid (JSON, bullets, chart) sums them 5 at
    # a time so that mark ± 30 % holds at most 150 bars
    assert d["symbol"] == "BTC" and d["bucket_size"] == 500.0
    assert d["assumptions"]["tier_weights"] == {"5x": 0.25, "10x": 0.3, "25x": 0.25,
                                                "50x": 0.15, "100x": 0.05}
    assert all(b["price_low"] % 500 == 0 for b in d["buckets"])
    assert d["range_low"] <= min(b["price_low"] for b in d["buckets"])
    assert d["range_high"] >= max(b["price_high"] for b in d["buckets"])
    assert (tmp_path / "m.svg").exists()
    assert any("of longs between" in line for line in lines)


def test_command_bucket_override_and_all(tmp_path) -> None:
    out = run_liqmap(symbol="ETH", venue="all", day=sample.SAMPLE_LAST, bucket=10,
                     json_path=tmp_path / "e.json", echo=lambda _s: None)
    d = json.loads((tmp_path / "e.json").read_text())
    # $10 model buckets, published two at a time: ±30 % of $2,770 is 167 of them
    assert d["cex"]["bucket_size"] == 20 and d["hyperliquid"]["bucket_size"] == 20
    assert out.exit_code == 0


def test_command_saved_positions(tmp_path, fixtures) -> None:
    whale = json.loads((fixtures / "hyperliquid/clearinghouseState_cross_whale_2026-09-27.json")
                       .read_text())
    short = {"assetPositions": [{"type": "oneWay", "position": {
        "coin": "BTC", "szi": "-1.5", "positionValue": "127471.5", "liquidationPx": "90123.4",
        "leverage": {"type": "isolated", "value": 10}, "entryPx": "84000"}}]}
    (tmp_path / "pos.json").write_text(json.dumps([whale, short]))
    out = run_liqmap(symbol="BTC", venue="hyperliquid", positions=tmp_path / "pos.json",
                     mark=84981.0, bucket=100, json_path=tmp_path / "hl.json",
                     as_of=datetime(2026, 9, 27, 14, 12, tzinfo=UTC), echo=lambda _s: None)
    d = json.loads((tmp_path / "hl.json").read_text())
    assert out.exit_code == 0
    assert d["no_liquidation_price_usd"] == pytest.approx(48277.7061)  # the whale's BTC long
    assert d["buckets"] == [{"price_low": 90000.0, "price_high": 90500.0, "long_usd": 0.0,
                             "short_usd": 127471.5, "long_by_tier": [0.0, 0.0, 0.0, 0.0],
                             "short_by_tier": [0.0, 127471.5, 0.0, 0.0]}]


def test_command_check_against(tmp_path) -> None:
    # Two long liquidations in Bybit's documented allLiquidation shape (constructed), stamped
    # 2026-10-09, long after the sample map's as-of: not scored. One an hour after it is.
    recorded = json.dumps({"topic": "allLiquidation.BTCUSDT", "type": "snapshot",
                           "ts": 1791565601482, "data": [
                               {"T": 1791565600992, "s": "BTCUSDT", "S": "Buy", "v": "0.006",
                                "p": "82396.90"},
                               {"T": 1791565601058, "s": "BTCUSDT", "S": "Buy", "v": "0.1",
                                "p": "82390.0"}]})
    t = int(sample.fetched_at(sample.SAMPLE_LAST).timestamp() * 1000) + 3_600_000
    later = {"topic": "allLiquidation.BTCUSDT", "type": "snapshot", "ts": t,
             "data": [{"T": t, "s": "BTCUSDT", "S": "Buy", "v": "0.5", "p": "98300.0"}]}
    events = tmp_path / "events.jsonl"
    events.write_text(recorded.strip() + "\n" + json.dumps(later) + "\n")
    out = run_liqmap(symbol="BTC", venue="cex", day=sample.SAMPLE_LAST, check_against=events,
                     json_path=tmp_path / "c.json", echo=lambda _s: None)
    d = json.loads((tmp_path / "c.json").read_text())
    assert d["check"]["events_after"] == 2 and d["check"]["events_in_horizon"] == 1
    assert d["check"]["long"]["events"] == 1 and d["check"]["long"]["lift"] > 0
    assert d["check"]["horizon_hours"] == 24
    # scored at the model's $100 buckets, not the published $500 grid
    assert d["check"]["bucket_size"] == 100 and d["bucket_size"] == 500
    assert out.check is not None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"venue": "cexx"}, "--venue"),
    ({"venue": "cex", "positions": "x.json", "mark": 1.0}, "--positions needs --venue"),
    ({"venue": "hyperliquid", "positions": "x.json"}, "--mark"),
    ({"venue": "cex", "bucket": -5, "day": sample.SAMPLE_LAST}, "--bucket"),
    ({"venue": "cex", "chart_path": "m.gif"}, "--chart"),
])
def test_command_usage_errors(kwargs, message, tmp_path) -> None:
    from pathlib import Path

    for key in ("positions", "chart_path"):
        if key in kwargs:
            kwargs[key] = Path(tmp_path / kwargs[key])
    with pytest.raises(UsageError, match=message):
        run_liqmap(symbol="BTC", echo=lambda _s: None, **kwargs)


def test_cli_import_is_light() -> None:
    code = ("import sys, typer; from reportgen.liquidation.cli import register; "
            "register(typer.Typer()); print('numpy' in sys.modules, 'matplotlib' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.split() == ["False", "False"]


def test_title_states_the_data_span_not_the_window() -> None:
    # two bars came back for a 7-day window: the title says so (it used to say "7 d")
    from reportgen.liquidation.chart import map_title
    from reportgen.liquidation.summary import MapSummary

    s = MapSummary(symbol="BTC", venue="Binance+Bybit", kind="estimated", mark_price=63026.3,
                   bucket_size=100, tiers=[], buckets=[], no_liquidation_price_usd=0,
                   beyond_range_long_usd=0, beyond_range_short_usd=0, total_long_usd=0,
                   total_short_usd=0, clusters=[], cascade=[], sentences=[],
                   assumptions={"window_days": 7, "data_hours": 2.0})
    assert map_title(s).endswith("· 2 h")
    assert map_title(s.model_copy(update={"assumptions": {"window_days": 7,
                                                          "data_hours": 167.0}})).endswith("· 7 d")
