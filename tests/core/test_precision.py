"""Issue 21: the seed's precision — caps and volumes to four significant digits, one rule
for M/B/T (never "US$45,204.8 M"), and chart labels in the text's style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reportgen import numbers, units


@pytest.mark.parametrize(("value", "text"), [
    (3.7542e12, "US$3,754 B"),      # the seed's total market cap
    (140.18e9, "US$140.2 B"),       # its 24 h volume
    (254.43e9, "US$254.4 B"),       # its stablecoins
    (254.73e9, "US$254.7 B"),       # +0.12%: a change three digits could not show
    (99.96e9, "US$99.96 B"),
    (99.996e9, "US$100.0 B"),       # rounding carries into a new digit: still four
    (0.5e9, "US$500.0 M"),
])
def test_caps_and_volumes_have_four_significant_digits(value: float, text: str) -> None:
    assert units.usd(value) == text


def test_sums_in_millions_follow_the_same_scale() -> None:
    assert numbers.usd_millions(45_204.8) == "US$45.20 B"
    assert numbers.usd_millions(3_763.0) == "US$3.763 B"
    assert numbers.usd_millions(164.6) == "US$164.6 M"  # as Farside publishes a day
    assert numbers.usd_millions(-278.4, signed=True) == "−US$278.4 M"


def test_estimates_keep_their_coarser_style() -> None:
    assert numbers.usd(191e6) == "US$191 M" and numbers.usd(44.5e6) == "US$44.5 M"
    assert numbers.usd(1.5e9) == "US$1.5 B"


def test_chart_annotations_read_like_the_text(tmp_path: Path) -> None:
    """The biggest clusters are labelled on the chart as the text writes them."""
    from reportgen.config import config_from_mapping
    from reportgen.pipeline import run
    from reportgen.sample import SAMPLE_LAST

    run(config_from_mapping({"output": str(tmp_path)}), SAMPLE_LAST, sample=True,
        formats=["html"], send=False, publish=False)
    folder = tmp_path / "reports" / SAMPLE_LAST.isoformat()
    text = (folder / "charts" / "liqmap_btc.svg").read_text(encoding="utf-8")
    # the two largest estimated clusters, as the brief's text words them
    html = (folder / "brief.html").read_text(encoding="utf-8")
    clusters = re.findall(r"(US\$[\d.,]+ [MB]) of (?:longs|shorts) between", html)[:2]
    assert len(clusters) == 2 and all(c in text for c in clusters), (clusters, "not in the SVG")
    assert "US$165 M" in clusters  # the sample's largest, Bybit counted once


def test_the_seed_precision_in_every_format(tmp_path: Path) -> None:
    """The sample 2025-06-11 in HTML, Markdown and PDF shows the seed's figures."""
    from pypdf import PdfReader

    from reportgen.config import config_from_mapping
    from reportgen.pipeline import run
    from reportgen.sample import SAMPLE_LAST

    run(config_from_mapping({"output": str(tmp_path)}), SAMPLE_LAST, sample=True,
        formats=["html", "md", "pdf"], send=False, publish=False)
    folder = tmp_path / "reports" / SAMPLE_LAST.isoformat()
    pdf = " ".join(p.extract_text() for p in PdfReader(folder / "brief.pdf").pages)
    texts = {"html": (folder / "brief.html").read_text(encoding="utf-8"),
             "md": (folder / "brief.md").read_text(encoding="utf-8"), "pdf": pdf}
    for name, text in texts.items():
        for figure in ("US$3,754 B", "US$140.2 B", "US$254.4 B"):
            assert figure in re.sub(r"\s+", " ", text), (name, figure)
        assert not re.search(r"US\$\d{1,3},\d{3}\.\d M", text), name  # no "US$45,204.8 M"
        assert "US$45.20 B" in text, name  # the BTC ETFs' running total
