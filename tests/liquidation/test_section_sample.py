"""The bundled sample: every day carries both maps for BTC and ETH."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reportgen import sample
from reportgen.liquidation.config import LiqConfig
from reportgen.liquidation.section import SOURCES, build_liquidation_section


@pytest.mark.parametrize("day", sample.sample_days())
def test_every_sample_day_has_both_maps(day) -> None:
    raws = {src: sample.load_raws(src, day) for src in SOURCES.values()}
    assert all(raws.values()), f"sample {day} lacks a liquidation source"
    for symbol, (lo, hi) in (("BTC", (100_000, 112_000)), ("ETH", (2_350, 2_900))):
        r = build_liquidation_section(raws, symbol, LiqConfig(), sample.fetched_at(day))
        assert r.unavailable == {}
        assert r.cex is not None and r.hyperliquid is not None
        assert lo < r.cex.mark_price < hi
        assert r.cex.total_long_usd > 0 and r.cex.total_short_usd > 0
        assert r.cex.assumptions["venues"] == ["binance", "bybit", "okx"]
        assert r.hyperliquid.coverage["accounts"] > 0
        assert r.heatmap is not None and len(r.heatmap.times) > 100
        assert "heatmap" not in r.model_dump(mode="json")


def test_last_sample_day_prices() -> None:
    day = sample.SAMPLE_LAST
    raws = {src: sample.load_raws(src, day) for src in SOURCES.values()}
    btc = build_liquidation_section(raws, "BTC", LiqConfig(), sample.fetched_at(day))
    eth = build_liquidation_section(raws, "ETH", LiqConfig(), sample.fetched_at(day))
    assert btc.cex.mark_price == pytest.approx(108_600, rel=0.002)
    assert eth.cex.mark_price == pytest.approx(2_770, rel=0.002)
    # estimate and positions are labelled for what they are
    assert btc.cex.kind == "estimated" and btc.hyperliquid.kind == "reported"
    assert "Estimated" in btc.captions["cex"] and "Reported" in btc.captions["hyperliquid"]


def test_missing_venue_is_named_not_fatal() -> None:
    day = sample.SAMPLE_LAST
    raws = {src: sample.load_raws(src, day) for src in SOURCES.values()}
    raws["liq_okx"] = []
    r = build_liquidation_section(raws, "BTC", LiqConfig(), sample.fetched_at(day))
    assert r.unavailable == {"okx": "no payloads"}
    assert r.cex is not None and r.cex.venue == "Binance+Bybit"


def test_generator_reproduces_the_bundled_files(tmp_path) -> None:
    # regenerating into a scratch folder gives the shipped bytes (nothing hand-edited)
    root = Path(sample.__file__).resolve().parents[2]
    subprocess.run([sys.executable, str(root / "scripts/sample/liquidation.py"), str(tmp_path)],
                   check=True, capture_output=True)
    data = Path(sample.__file__).resolve().parent / "data"
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert len(made) > 7 * 4
    for rel in made:
        assert (tmp_path / rel).read_bytes() == (data / rel).read_bytes(), rel


@pytest.mark.parametrize("day", sample.sample_days())
def test_text_and_chart_share_one_grid_and_range(day) -> None:
    """Issue 12: the bullets cited a cluster the chart did not show, and bucketed BTC at
    $500 while the chart drew $300 bars over a $100 map. Now one grid per symbol: both maps
    share its bucket and range, every cited cluster lies inside it on whole bars, and what
    lies outside is said to be outside."""
    raws = {src: sample.load_raws(src, day) for src in SOURCES.values()}
    for symbol in ("BTC", "ETH"):
        r = build_liquidation_section(raws, symbol, LiqConfig(), sample.fetched_at(day))
        assert r.cex.bucket_size == r.hyperliquid.bucket_size
        for s in (r.cex, r.hyperliquid):
            n = round((s.range_high - s.range_low) / s.bucket_size)
            assert n <= LiqConfig().max_buckets
            assert s.range_low <= s.mark_price * 0.7 + s.bucket_size
            assert s.range_high >= s.mark_price * 1.3 - s.bucket_size
            for c in s.clusters:
                assert s.range_low <= c.price_low < c.price_high <= s.range_high
                bars = (c.price_high - c.price_low) / s.bucket_size  # whole bars of the grid
                assert bars == pytest.approx(round(bars)) and 1 <= round(bars) <= 5
            for b in s.buckets:
                assert (b.price_low / s.bucket_size) == pytest.approx(round(b.price_low / s.bucket_size))
            beyond = s.beyond_range_long_usd + s.beyond_range_short_usd
            said = [t for t in s.sentences if "outside the map's range" in t]
            assert bool(said) == (beyond >= 1), (symbol, s.venue, beyond, said)
