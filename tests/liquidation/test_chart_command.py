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
from tests.liquidation.conftest import FIXTURES


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


def test_sample_day_counts_bybit_once(tmp_path) -> None:
    # `liqmap --symbol BTC --venue cex --date 2025-06-11 --json F`: the sample's Bybit answers
    # carry openInterest only, "the sum of both sides" (v5 docs): half of it is placed, US$3.71 B
    # at the mark, where taking it as one side placed US$7.42 B.
    from typer.testing import CliRunner

    from reportgen.cli import app

    res = CliRunner().invoke(app, ["liqmap", "--symbol", "BTC", "--venue", "cex", "--date",
                                   "2025-06-11", "--json", str(tmp_path / "m.json")])
    assert res.exit_code == 0, res.output
    d = json.loads((tmp_path / "m.json").read_text())
    bybit = d["coverage"]["per_venue"]["bybit"]["open_interest_usd"]
    assert bybit == pytest.approx(3.71e9, rel=0.002)
    assert d["assumptions"]["bybit_open_interest"] == "halve"
    assert "Bybit's open interest counted once" in d["caption"]
    doubled = run_liqmap(symbol="BTC", venue="cex", day=sample.SAMPLE_LAST,
                         config=LiqConfig(bybit_open_interest="single"), echo=lambda _s: None)
    assert doubled.result is not None and doubled.result.cex is not None
    assert doubled.result.cex.coverage["per_venue"]["bybit"]["open_interest_usd"] == \
        pytest.approx(2 * bybit)


def test_json_dash_is_stdout_and_the_text_goes_to_stderr(tmp_path, monkeypatch) -> None:
    # `--json -` used to write a file named "-".
    monkeypatch.chdir(tmp_path)
    done = subprocess.run([sys.executable, "-m", "reportgen", "liqmap", "--symbol", "BTC",
                           "--venue", "cex", "--date", "2025-06-11", "--json", "-"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    d = json.loads(done.stdout)  # stdout is the JSON and nothing else
    assert d["symbol"] == "BTC" and d["coverage"]["per_venue"]["bybit"]["open_interest_usd"] > 0
    assert "BTC · Binance+Bybit+OKX" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_command_hyperliquid_margin_split_in_text() -> None:
    lines: list[str] = []
    run_liqmap(symbol="BTC", venue="hyperliquid", day=sample.SAMPLE_LAST, echo=lines.append)
    margin = [line for line in lines if line.strip().startswith("Margin:")]
    assert len(margin) == 1
    assert margin[0].strip().startswith("Margin: isolated 11 positions, US$35.8 M long / "
                                        "US$38.1 M short (US$66.2 M on the map); cross 19 ")


def test_command_bucket_override_and_all(tmp_path) -> None:
    lines: list[str] = []
    out = run_liqmap(symbol="ETH", venue="all", day=sample.SAMPLE_LAST, bucket=10,
                     json_path=tmp_path / "e.json", chart_path=tmp_path / "e.svg",
                     echo=lines.append)
    d = json.loads((tmp_path / "e.json").read_text())
    # --bucket is honoured in the JSON and the text: $10 buckets, though ±30 % of $2,770 is
    # 167 of them, more than the 150 the chart draws
    assert d["cex"]["bucket_size"] == 10 and d["hyperliquid"]["bucket_size"] == 10
    assert all(b["price_low"] % 10 == 0 for b in d["cex"]["buckets"])
    assert "ETH · Binance+Bybit+OKX · estimated · mark 2,770.00 · $10 buckets" in lines
    # the chart sums them two at a time, and says so on the image and in the text
    note = "Bars of $20 = 2 × the $10 buckets asked (JSON, text: $10)"
    assert f"e.svg: {note}" in lines
    svg = (tmp_path / "e.svg").read_text()
    assert "Bars of $20" in svg
    assert out.exit_code == 0


@pytest.mark.parametrize(("bucket", "chart_bars"), [(250, 500), (100, 500), (500, None),
                                                    (1000, None)])
def test_command_bucket_is_what_the_json_gets(tmp_path, bucket, chart_bars) -> None:
    lines: list[str] = []
    run_liqmap(symbol="BTC", venue="cex", day=sample.SAMPLE_LAST, bucket=bucket,
               json_path=tmp_path / "b.json", chart_path=tmp_path / "b.svg", echo=lines.append)
    d = json.loads((tmp_path / "b.json").read_text())
    assert d["bucket_size"] == bucket
    assert all(b["price_low"] % bucket == 0 for b in d["buckets"])
    notes = [line for line in lines if line.startswith("b.svg: Bars of")]
    if chart_bars is None:
        assert notes == []
    else:
        assert notes == [f"b.svg: Bars of ${chart_bars:,} = {chart_bars // bucket} × the "
                         f"${bucket} buckets asked (JSON, text: ${bucket})"]


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
    assert d["bucket_size"] == 100  # as asked
    assert d["buckets"] == [{"price_low": 90100.0, "price_high": 90200.0, "long_usd": 0.0,
                             "short_usd": 127471.5, "long_by_tier": [0.0, 0.0, 0.0, 0.0],
                             "short_by_tier": [0.0, 127471.5, 0.0, 0.0]}]
    # the whale's BTC long is cross margin (no liquidation price), the short isolated
    assert d["coverage"]["margin"] == {
        "isolated": {"positions": 1, "long_usd": 0.0, "short_usd": 127471.5,
                     "mapped_usd": 127471.5},
        "cross": {"positions": 1, "long_usd": 48277.7061, "short_usd": 0.0,
                  "mapped_usd": 0.0}}


def test_command_check_against(tmp_path) -> None:
    # Two long liquidations in Bybit's allLiquidation frame as recorded on 2026-10-09, long
    # after the sample map's as-of: not scored. One an hour after it (constructed in the
    # same shape) is; so is one at the mark, counted as such.
    recorded = (FIXTURES / "streams/frames_BTCUSDT_2026-10-09.jsonl").read_text().splitlines()[1]
    as_of = sample.fetched_at(sample.SAMPLE_LAST)
    t = int(as_of.timestamp() * 1000) + 3_600_000
    later = {"topic": "allLiquidation.BTCUSDT", "type": "snapshot", "ts": t,
             "data": [{"T": t, "s": "BTCUSDT", "S": "Buy", "v": "0.5", "p": "98300.0"},
                      {"T": t, "s": "BTCUSDT", "S": "Sell", "v": "0.5",
                       "p": f"{108_600 * 1.005:.1f}"}]}
    events = tmp_path / "events.jsonl"
    events.write_text(recorded + "\n" + json.dumps(later) + "\n")
    lines: list[str] = []
    out = run_liqmap(symbol="BTC", venue="cex", day=sample.SAMPLE_LAST, check_against=events,
                     json_path=tmp_path / "c.json", echo=lines.append)
    d = json.loads((tmp_path / "c.json").read_text())
    check = d["check"]
    assert check["events"]["after"] == 2 and check["events"]["scored"] == 2
    assert check["events"]["at_mark"] == 1 and check["events"]["offered"] == 4
    assert check["long"]["events"] == 1 and check["short"]["events"] == 1
    assert check["lift"] > 0 and 0 < check["p_value"] <= 1
    assert check["horizon_hours"] == 24 and check["permutations"] == 999
    # scored at the model's $100 buckets, not the published $500 grid
    assert check["bucket_size"] == 100 and d["bucket_size"] == 500
    assert out.check == check
    assert any(line.startswith("Check against events.jsonl: 2 BTC liquidations in the 24 h")
               for line in lines)


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
