"""The charts' looks (issue 21): at a phone's width every text of the figure is at least
PHONE_MIN_PT, which stays >= 10 px where the phone look is shown; the dark look is the same
figure recoloured (its texts light, its ground dark), and every look of a sample day says
"SAMPLE DATA" on the image."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from matplotlib.colors import to_hex, to_rgb

from reportgen import sample
from reportgen.liquidation import chart
from reportgen.liquidation.config import LiqConfig
from reportgen.liquidation.section import SOURCES, build_liquidation_section
from reportgen.render.etf_chart import draw
from reportgen.render.filters import chart_look, chart_variant
from reportgen.view import EtfTable

# The phone look is shown at least this wide: the site's column at 390 px (390 - 2 x 20 px of
# padding - its border); the email's is 366 px. The browser tests measure the real widths.
PHONE_SHOWN_PX = 348


@pytest.fixture(scope="module")
def result() -> Any:
    day = sample.SAMPLE_LAST
    raws = {src: sample.load_raws(src, day) for src in SOURCES.values()}
    return build_liquidation_section(raws, "BTC", LiqConfig(), sample.fetched_at(day))


def _table() -> EtfTable:
    first = date(2025, 4, 30)
    recent = [(first + timedelta(days=i), (-1) ** i * 100.0 * (i % 7)) for i in range(30)]
    return EtfTable(asset="BTC", label="2025-06-11", total=164.6, cumulative=45_200.0,
                    recent=recent, chart="charts/etf_btc.svg")


class Saved:
    """save_figure, recording each figure's texts (size, colour) as saved, light and dark."""

    def __init__(self) -> None:
        self.light: list[tuple[float, str, str]] = []
        self.dark: list[tuple[float, str, str]] = []
        self.widths: list[float] = []
        self.grounds: list[str] = []

    def __call__(self, fig: Any, paths: list[Path], dark: Any = ()) -> list[Path]:
        from matplotlib.text import Text

        def texts() -> list[tuple[float, str, str]]:
            fig.draw_without_rendering()  # sets the tick labels, as a save does
            return [(float(t.get_fontsize()), to_hex(t.get_color()), t.get_text())
                    for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]

        self.widths.append(fig.get_figwidth())
        self.light += texts()
        if dark:
            chart.to_dark(fig)
            self.dark += texts()
            self.grounds.append(to_hex(fig.patch.get_facecolor()))
        return [*paths, *dark]


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance."""
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
               for c in to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("what", ["liquidation", "etf"])
def test_phone_look_text_reads_at_ten_px_on_a_390_px_screen(
        what: str, result: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = Saved()
    monkeypatch.setattr(chart, "save_figure", saved)
    phone = chart.Look(phone=True)
    if what == "liquidation":
        chart._pair(result, [tmp_path / "a.svg"], [tmp_path / "a-dark.svg"], True, phone)
    else:
        draw(_table(), [tmp_path / "a.svg"], sample=True, dark=[tmp_path / "a-dark.svg"],
             look=phone)
    assert saved.widths == [chart.PHONE_WIDTH_IN]
    smallest = min(size for size, _colour, _text in saved.light)
    assert smallest >= chart.PHONE_MIN_PT, [t for t in saved.light if t[0] < chart.PHONE_MIN_PT]
    # a point is 1/72 in; the figure, PHONE_WIDTH_IN wide, is shown PHONE_SHOWN_PX wide
    assert smallest * PHONE_SHOWN_PX / chart.PHONE_WIDTH_IN / 72 >= 10
    for look in (saved.light, saved.dark):
        assert any(text == "SAMPLE DATA" for _s, _c, text in look)


@pytest.mark.parametrize("what", ["liquidation", "etf"])
def test_dark_look_is_light_text_on_the_dark_ground(
        what: str, result: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = Saved()
    monkeypatch.setattr(chart, "save_figure", saved)
    if what == "liquidation":
        chart._pair(result, [], [tmp_path / "a-dark.svg"], True, chart.Look())
    else:
        draw(_table(), [], sample=True, dark=[tmp_path / "a-dark.svg"])
    assert saved.grounds == [chart.DARK_GROUND]
    ground = _luminance(chart.DARK_GROUND)
    for size, colour, text in saved.dark:
        if text == "SAMPLE DATA":
            assert colour == "#ffffff"  # white on its orange mark, as in the light look
            continue
        # WCAG contrast of the text against the dark ground: at least 4.5:1
        assert (_luminance(colour) + 0.05) / (ground + 0.05) >= 4.5, (text, colour, size)


def test_render_writes_every_look_the_pages_ask_for(tmp_path: Path) -> None:
    """The files the web page's <picture> names (the page-width SVGs, the phone's PNGs), and
    the PNGs the PDF and the email use, from the render jobs themselves."""
    from reportgen.render.charts import draw_etf

    table = _table()
    files = {**draw_etf(table, "svg", True), **draw_etf(table, "png", True)}
    page = "charts/etf_btc.svg"
    assert set(files) == {chart_variant(page, "-dark"), page, chart_variant(page, "", ".png"),
                          chart_variant(page, "-phone", ".png"),
                          chart_variant(page, "-phone-dark", ".png")}
    for name in (chart_variant(page, "-phone", ".png"), chart_variant(page, "-phone-dark", ".png")):
        assert int.from_bytes(files[name][16:20], "big") == 960  # 2x the email's 480 px


def test_chart_variant_names_only_the_looks_render_draws() -> None:
    assert chart_variant("charts/etf_eth.svg", "-phone-dark", ".png") == "charts/etf_eth-phone-dark.png"
    with pytest.raises(ValueError, match="no chart look"):
        chart_variant("charts/etf_eth.svg", "-tablet")


def test_chart_look_names_each_look_and_is_the_inverse_of_chart_variant() -> None:
    page = "charts/liqmap_btc.png"
    assert chart_look(page) == ""
    for look in ("-dark", "-phone", "-phone-dark"):
        assert chart_look(chart_variant(page, look)) == look
    assert chart_look("charts/dark-pool.png") == ""  # a name merely containing a look's word
