"""Hostile feed entries end to end: <script>, event handlers, javascript: links and a
10,000-character title, fetched over loopback and rendered to HTML, Markdown and PDF."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from reportgen.cli import app
from tests.conftest import live_config, only_sources, write_config
from tests.fakeupstream import Upstream

DAY = date(2025, 6, 11)
LONG = "Bitcoin " + "very " * 2000 + "long title"
FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Evil feed</title><link>https://evil.example/</link>
<item><title><![CDATA[SEC approves <script>alert('t')</script> ETF options]]></title>
  <link>https://evil.example/a</link><pubDate>Wed, 11 Jun 2025 09:00:00 GMT</pubDate>
  <description><![CDATA[<p onclick="steal()">Fed <img src=x onerror="alert(1)"> rates</p>
  <script>alert(2)</script>]]></description></item>
<item><title>Click me for SOL gains</title><link>javascript:alert(document.cookie)</link>
  <pubDate>Wed, 11 Jun 2025 10:00:00 GMT</pubDate><description>harmless text</description></item>
<item><title>{LONG}</title><link>https://evil.example/long</link>
  <pubDate>Wed, 11 Jun 2025 11:00:00 GMT</pubDate></item>
</channel></rss>""".encode()


@pytest.fixture
def outputs(upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    upstream.add("https://evil.example/rss", FEED, headers={"content-type": "application/rss+xml"})
    data = only_sources(live_config(upstream, tmp_path / "out"), "news")
    data["news"]["feeds"] = [{"name": "Evil <b>Feed</b>", "url": upstream.url_for("https://evil.example/rss")}]
    config = write_config(tmp_path / "c.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", "2025-06-11T23:58:00+00:00")
    result = CliRunner().invoke(app, ["--config", str(config), "run"])
    assert result.exit_code == 0, result.output  # the other sources are switched off
    folder = tmp_path / "out" / "reports" / DAY.isoformat()
    pdf = PdfReader(folder / "brief.pdf")
    return {"html": (folder / "brief.html").read_text(), "md": (folder / "brief.md").read_text(),
            "pdf": "\n".join(p.extract_text() for p in pdf.pages)}


def test_script_tags_never_reach_any_output(outputs: dict[str, str]) -> None:
    for fmt, text in outputs.items():
        assert "<script" not in text.lower().replace("&lt;script", ""), fmt
        assert "alert(" not in text, fmt
    assert "SEC approves" in outputs["html"] and "SEC approves" in outputs["pdf"]


def test_event_handlers_are_gone(outputs: dict[str, str]) -> None:
    for fmt, text in outputs.items():
        assert "onerror" not in text and "onclick" not in text, fmt
    assert "Fed" in outputs["md"] and "rates" in outputs["md"]


def test_javascript_links_are_dropped(outputs: dict[str, str]) -> None:
    for fmt, text in outputs.items():
        assert "javascript:" not in text, fmt
    assert "Click me for SOL gains" in outputs["md"]  # the item stays, without its link
    assert 'href="https://evil.example/a"' in outputs["html"]


def test_ten_thousand_character_title_is_truncated(outputs: dict[str, str]) -> None:
    for fmt, text in outputs.items():
        assert "very " * 100 not in text.replace("\n", " "), fmt
    assert "…" in outputs["md"]
