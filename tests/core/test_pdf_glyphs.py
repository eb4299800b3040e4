"""The PDF's text layer stays readable when the text holds a character no installed font
has: "Ⓢ" in Binance's own product name ("USDⓈ-M") made WeasyPrint embed the font with a
custom encoding that pypdf read, for the whole page, as letters between NULs. The garbling
checks the golden files use (tests/pdftext.py) catch it; the fix (reportgen.render.glyphs)
draws "USDS-M" instead, and the HTML and Markdown keep the name as written."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import reportgen.render.glyphs
import tests.golden
from reportgen.archive import Archive
from reportgen.config import config_from_mapping
from reportgen.models import SourceSnapshot
from reportgen.news.rank import NewsStory
from reportgen.pipeline import render_day
from reportgen.render.glyphs import MISSING, covers, drawable_html, installed_coverage, parse_charsets
from reportgen.sources.news import NewsDigest
from tests.pdftext import disagreements, extracted, garbled, problems

DAY = date(2025, 6, 11)
TITLE = "Binance USDⓈ-M futures saw US$1.2 B of longs liquidated"
FEED = "Binance USDⓈ-M announcements"
# Latin-1, Latin Extended-A, "−" and "·": a stand-in for a font without "Ⓢ", "中", "🚀".
LATIN = covers(parse_charsets("20-7e a0-17f b7 2212"))


def test_fontconfig_charsets_parse_into_merged_ranges() -> None:
    assert parse_charsets("20-7e a0-17f 192 180-191\n41-5a 2212") == [
        (0x20, 0x7E), (0xA0, 0x192), (0x2212, 0x2212)]
    assert LATIN("A") and LATIN("é") and LATIN("−") and not LATIN("Ⓢ") and not LATIN("€")


def test_characters_without_a_glyph_become_their_compatible_form_or_a_mark() -> None:
    html = ('<p title="USDⓈ-M">USDⓈ-M ① ﬁ − 中 🚀 a\u200db</p>'
            '<style>.x::after { content: "Ⓢ"; }</style><!-- Ⓢ --><a href="/Ⓢ">Ⓢ</a>')
    assert drawable_html(html, LATIN) == (
        f'<p title="USDⓈ-M">USDS-M 1 fi − {MISSING} {MISSING} ab</p>'
        '<style>.x::after { content: "Ⓢ"; }</style><!-- Ⓢ --><a href="/Ⓢ">S</a>')
    plain = "<p>Plain text: nothing to change.</p>"
    assert drawable_html(plain, LATIN) is plain


def test_the_installed_fonts_are_read() -> None:
    covered = installed_coverage()
    assert covered is not None, "fontconfig's fc-list (installed with Pango) is missing"
    assert covered("A") and covered("−") and covered("▲")


# The project installs fonts-dejavu-core alone, which has no "Ⓢ"; a machine with a font that
# draws it cannot show the garbling.
no_circled_s = pytest.mark.skipif(
    (installed_coverage() or LATIN)("Ⓢ"), reason="an installed font draws Ⓢ here")


def test_garbled_text_is_named() -> None:
    # what pypdf read from the page that held "USDⓈ-M", before the fix
    pypdf_read = "\x00B\x00i\x00n\x00a\x00n\x00c\x00e\x00 \x00U\x00S\x00D\x18m\x00-\x00M"
    assert garbled(pypdf_read) == [
        "14 × control character, first at 0: "
        + repr(pypdf_read[:30])]
    assert [p.split(",")[0] for p in garbled("a\ufffdb \ue000 (cid:12) x\U000f0000")] == [
        "1 × replacement character U+FFFD", "2 × private-use code point", "1 × (cid:NN) glyph id"]
    assert garbled("Plain text — with “quotes”, −1.70% and ▲\n\f") == []
    assert disagreements({"a": "US$3 B US$3 B", "b": "US$3 B"}, ("US$3 B",)) == [
        "'US$3 B': {'a': 2, 'b': 1}"]
    assert disagreements({"a": "x", "b": "x"}, ("y",)) == ["'y': {'a': 0, 'b': 0}"]


def _render_news_day(output: Path) -> dict[str, str]:
    config = config_from_mapping({"output": str(output), "report": {"render_workers": 0}})
    story = NewsStory(title=TITLE, link="https://www.binance.com/en/support/announcement",
                      sources=[FEED], summary="Forced selling hit USDⓈ-M perpetuals.",
                      coverage=[], macro=False, score=1.0,
                      published=datetime(2025, 6, 11, 10, 0, tzinfo=UTC))
    with Archive(config.archive_path) as archive:
        archive.put_snapshot(SourceSnapshot(
            source="news", report_date=DAY, ok=True, method="live",
            data=NewsDigest(report_date=DAY, zone="UTC", highlights=[story]),
        ))
    render_day(config, DAY, formats=["html", "md", "pdf"])
    folder = output / "reports" / DAY.isoformat()
    texts = extracted(folder / "brief.pdf")
    texts["html"] = (folder / "brief.html").read_text(encoding="utf-8")
    texts["md"] = (folder / "brief.md").read_text(encoding="utf-8")
    return texts


@no_circled_s
def test_a_headline_with_the_circled_s_leaves_the_pdf_text_readable(tmp_path: Path) -> None:
    texts = _render_news_day(tmp_path / "out")
    pdf = {name: texts[name] for name in ("pypdf", "pdftotext")}
    assert problems(pdf, markers=("USDS-M futures saw US$1.2 B", "Binance USDS-M announcements",
                                  "Market highlights", "Page 1 of")) == []
    assert "USDⓈ-M futures" in texts["html"] and "USDⓈ-M futures" in texts["md"]


@no_circled_s
def test_without_the_fix_the_garbling_is_caught_and_the_golden_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is not vacuous: with the substitution off, the same day's PDF reads as
    garbage to pypdf, and `make golden` would refuse it and write nothing."""
    monkeypatch.setattr(reportgen.render.glyphs, "drawable_html", lambda html, covered=None: html)
    texts = _render_news_day(tmp_path / "out")
    found = problems({name: texts[name] for name in ("pypdf", "pdftotext")},
                     markers=("Market highlights",))
    assert any(p.startswith("pypdf: ") and "control character" in p for p in found), found
    assert any("extractors disagree on 'Market highlights'" in p for p in found), found

    golden = tmp_path / "golden"
    golden.mkdir()
    monkeypatch.setattr(tests.golden, "GOLDEN", golden)

    def garbled_build(_output: Path) -> dict[str, str]:
        raise tests.golden.GarbledPdf("the PDF's text layer is garbled:\n  " + found[0])

    monkeypatch.setattr(tests.golden, "build", garbled_build)
    with pytest.raises(SystemExit, match=r"(?s)golden files NOT written: .*control character"):
        tests.golden.regenerate()
    assert list(golden.iterdir()) == []
