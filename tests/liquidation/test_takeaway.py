"""The one-line takeaway under each liquidation chart: where the largest long and short
clusters the text lists sit against the mark the text names."""

from __future__ import annotations

import re

import pytest

from reportgen import sample
from reportgen.liquidation.config import LiqConfig
from reportgen.liquidation.section import SOURCES, build_liquidation_section
from reportgen.sources.liquidation import LiquidationMaps, SymbolMaps, liquidation_section, takeaway
from reportgen.view import ClusterLevel, LiqPart

_CLUSTER = re.compile(r"of (longs|shorts) between \$([\d,.]+) and \$([\d,.]+)")


def _part(kind: str, mark: float, *clusters: ClusterLevel) -> LiqPart:
    return LiqPart(kind=kind, label=kind, mark=mark, clusters=list(clusters))


def test_distances_are_from_the_middle_of_each_cluster_to_the_named_mark() -> None:
    cex = _part("cex", 100_000.0,
                ClusterLevel(side="long", usd=2e8, price_low=90_500, price_high=91_500),
                ClusterLevel(side="short", usd=1e8, price_low=103_400, price_high=103_800))
    hl = _part("hyperliquid", 100_000.0,
               ClusterLevel(side="long", usd=5e7, price_low=97_000, price_high=97_400))
    assert takeaway([cex, hl]) == (
        "Largest clusters against the $100,000 mark: longs 9.0% below, shorts 3.6% above "
        "(CEX estimate); longs 2.8% below (Hyperliquid).")


def test_panels_with_different_marks_name_each_mark() -> None:
    a = _part("cex", 2_000.0, ClusterLevel(side="short", usd=1.0, price_low=2_100,
                                           price_high=2_120))
    b = _part("hyperliquid", 2_010.0, ClusterLevel(side="long", usd=1.0, price_low=1_900,
                                                   price_high=1_910))
    text = takeaway([a, b])
    assert text == ("Largest clusters against the mark: shorts 5.5% above (CEX estimate, mark "
                    "$2,000); longs 5.2% below (Hyperliquid, mark $2,010).")


def test_no_cluster_or_no_mark_means_no_takeaway() -> None:
    assert takeaway([]) is None
    assert takeaway([_part("cex", 100.0)]) is None
    assert takeaway([LiqPart(kind="cex", label="x", reason="unavailable")]) is None


@pytest.mark.parametrize("day", [sample.SAMPLE_LAST, *sample.sample_days()[:1]])
def test_sample_takeaway_matches_the_clusters_the_brief_lists(day) -> None:
    raws = {src: sample.load_raws(src, day) for src in SOURCES.values()}
    symbols = {}
    for symbol in ("BTC", "ETH"):
        result = build_liquidation_section(raws, symbol, LiqConfig(), sample.fetched_at(day))
        symbols[symbol] = SymbolMaps.model_validate(result.model_dump(mode="json"))
    section = liquidation_section(day, LiquidationMaps(symbols=symbols), None)
    charts = [m for m in section.maps if m.parts]
    assert [m.symbol for m in charts] == ["BTC", "ETH"]
    for chart in charts:
        assert chart.takeaway is not None
        expected = []
        for part in chart.parts:
            assert part.mark is not None
            # the mark the takeaway names is the one the cascade lines name
            assert any(f"from the ${part.mark:,.0f} mark" in line for line in part.lines)
            words = []
            for line in part.lines:
                found = _CLUSTER.search(line)
                if found is None:
                    continue
                side, low, high = found.groups()
                middle = (float(low.replace(",", "")) + float(high.replace(",", ""))) / 2
                where = "below" if side == "longs" else "above"
                words.append(f"{side} {abs(middle / part.mark - 1) * 100:.1f}% {where}")
            assert len(words) == 2
            who = "CEX estimate" if part.kind == "cex" else "Hyperliquid"
            expected.append(f"{', '.join(words)} ({who})")
        mark = chart.parts[0].mark
        assert chart.takeaway == (f"Largest clusters against the ${mark:,.0f} mark: "
                                  + "; ".join(expected) + ".")
