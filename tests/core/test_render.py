"""Rendering: the sample brief's figures, determinism, escaping, and the PDF's URL fetcher."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from reportgen.archive import Archive
from reportgen.config import config_from_mapping
from reportgen.models import SourceSnapshot
from reportgen.news.rank import NewsStory
from reportgen.pipeline import render_day, run
from reportgen.render.environment import assets_dir
from reportgen.render.pdf import safe_url_fetcher
from reportgen.sources.news import NewsDigest

DAY = date(2025, 6, 11)
FIGURES = ["17,411", "1,281", "US$3,754 B", "▼ −1.70%", "US$140.2 B", "61.0%", "9.4%",
           "1.62 gwei", "31", "68", "Greed", "US$254.4 B"]
SECTION_ORDER = ["Indicators", "Stablecoins", "Liquidation map", "Spot ETF flows",
                 "Macro & policy", "Market highlights", "Disclaimer", "Sources"]


@pytest.fixture
def sample_output(tmp_path: Path) -> Path:
    config = config_from_mapping({"output": str(tmp_path / "out")})
    run(config, DAY, sample=True, formats=["html", "md"])
    return tmp_path / "out"


def test_sample_brief_shows_the_public_figures_in_order(sample_output: Path) -> None:
    for name in ("brief.html", "brief.md"):
        text = html.unescape((sample_output / "reports" / DAY.isoformat() / name).read_text())
        for figure in FIGURES:
            assert figure in text, (name, figure)
        positions = [text.find(title) for title in SECTION_ORDER]
        assert all(p >= 0 for p in positions) and positions == sorted(positions), name
        assert text.lower().count("sample data") >= 2  # banner and footer
        assert "not investment advice" in text.lower()


def test_rendering_an_archived_day_twice_is_identical(sample_output: Path) -> None:
    config = config_from_mapping({"output": str(sample_output)})
    folder = sample_output / "reports" / DAY.isoformat()
    first = {n: (folder / n).read_bytes() for n in ("brief.html", "brief.md")}
    for n in first:
        (folder / n).unlink()
    render_day(config, DAY, formats=["html", "md"])
    assert {n: (folder / n).read_bytes() for n in first} == first


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("workers", [0, None], ids=["in-process", "render-workers"])
def test_render_never_touches_the_network(sample_output: Path, workers: int | None) -> None:
    # In process, the guard also sees the charts and the PDF being made.
    config = config_from_mapping({"output": str(sample_output),
                                  "report": {"render_workers": workers}})
    result = render_day(config, DAY, formats=["html", "md", "pdf"])
    assert sorted(f.name for f in result.files if f.name.startswith("brief.")) == [
        "brief.html", "brief.md", "brief.pdf"]
    assert any(f.suffix == ".svg" for f in result.files)
    # No link in the PDF points at the machine that rendered it.
    from pypdf import PdfReader

    pdf = next(f for f in result.files if f.name == "brief.pdf")
    uris = [annot.get_object()["/A"]["/URI"] for page in PdfReader(pdf).pages
            for annot in page.get("/Annots") or [] if "/URI" in annot.get_object().get("/A", {})]
    assert uris and all(u.startswith("https://") for u in uris), uris


def test_hostile_text_is_escaped_in_html_and_markdown(tmp_path: Path) -> None:
    config = config_from_mapping({"output": str(tmp_path)})
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    with Archive(config.archive_path) as archive:
        archive.put_snapshot(SourceSnapshot.unavailable("coingecko", DAY, f"upstream said {evil}"))
        story = NewsStory(title=evil + "[x](javascript:alert(3))", link=None,
                          sources=["Evil <b>Feed</b>"], summary=evil, coverage=[], macro=False,
                          score=1.0, published=datetime(2025, 6, 11, 10, 0, tzinfo=UTC))
        archive.put_snapshot(SourceSnapshot(
            source="news", report_date=DAY, ok=True, method="live",
            data=NewsDigest(report_date=DAY, zone="UTC", highlights=[story]),
        ))
    render_day(config, DAY, formats=["html", "md"])
    html = (tmp_path / "reports" / DAY.isoformat() / "brief.html").read_text()
    md = (tmp_path / "reports" / DAY.isoformat() / "brief.md").read_text()
    assert "<script>" not in html and "onerror=" not in html.replace("onerror=&#34;", "")
    assert "&lt;script&gt;" in html
    # Markdown keeps the text but escapes the "<" (GitHub shows "\\<script>" as text)
    assert not re.search(r"(?<!\\)<script>", md)
    assert not re.search(r"(?<!\\)\]\(javascript:", md)


def test_pdf_fetcher_serves_only_allowed_files(tmp_path: Path) -> None:
    report = tmp_path / "report"
    report.mkdir()
    (report / "chart.svg").write_text("<svg/>")
    secret = tmp_path / "secret.txt"
    secret.write_text("do not leak")
    fetch = safe_url_fetcher([assets_dir(), report]).fetch
    response = fetch((report / "chart.svg").as_uri())
    assert response.read() == b"<svg/>"
    for url in (secret.as_uri(), "file:///etc/passwd", "http://127.0.0.1:9/x.png",
                "https://example.com/a.png", (report / ".." / "secret.txt").as_uri()):
        with pytest.raises(ValueError, match="blocked"):
            fetch(url)


def test_pdf_with_hostile_image_urls_renders_without_them(tmp_path: Path) -> None:
    from reportgen.render.pdf import html_to_pdf

    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n")
    html = f'<p>x</p><img src="{secret.as_uri()}"><img src="http://127.0.0.1:9/a.png">'
    pdf = html_to_pdf(html, base_dir=tmp_path / "r", allowed=[tmp_path / "r"], stylesheets=[])
    assert pdf.startswith(b"%PDF")


def test_past_date_with_nothing_available_exits_3_and_says_why(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from reportgen.cli import app

    config = tmp_path / "c.yaml"
    # Every upstream is a closed loopback port: no network, and nothing archived.
    config.write_text(
        "http: {timeout_s: 1, attempts: 1, backoff_s: 0}\n"
        "sources:\n"
        "  coingecko: {base_url: 'http://127.0.0.1:9/cg/'}\n"
        "  feargreed: {base_url: 'http://127.0.0.1:9/fng/'}\n"
        "  stablecoins: {base_url: 'http://127.0.0.1:9/llama'}\n"
        "  gas: {rpc_url: 'http://127.0.0.1:9/rpc'}\n"
        "etf: {farside_btc_url: 'http://127.0.0.1:9/btc', farside_eth_url: 'http://127.0.0.1:9/eth'}\n"
        "news: {feeds: [{name: X, url: 'http://127.0.0.1:9/rss'}]}\n"
    )
    result = CliRunner().invoke(app, ["--config", str(config), "--output", str(tmp_path / "o"),
                                      "run", "--date", "2024-01-15", "--formats", "html,md"])
    assert result.exit_code == 3, result.output
    md = (tmp_path / "o" / "reports" / "2024-01-15" / "brief.md").read_text()
    assert md.count("unavailable") >= 6
    assert "has no free history" in md  # CoinGecko /global
    assert "365-day" in md  # the Altcoin Season Index window
    assert "connection failed" in md
