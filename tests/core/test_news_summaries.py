"""A news item's summary, as its feed publishes it, reaches every output: CoinDesk's real
recorded feed served over loopback, run for its day, rendered, mailed (dry run) and
published. The summary is plain text of at most two sentences under the item's headline."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from reportgen.cli import app
from tests.conftest import FIXTURES, live_config, only_sources, write_config
from tests.fakeupstream import Upstream

DAY = "2026-09-30"
FEED_URL = "https://www.coindesk.com/arc/outboundfeeds/rss/"
# Two items of the recording, published on 30 Sep 2026, whose `<description>` is followed by
# an empty `<dc:description/>` (which used to erase it).
LOBBYING = ("In the first half of this year, the sector poured millions into lobbying, with most "
            "of it tied to pushing the U.S. market structure bill to a goal it never reached.")
ZCASH = ("Three transfers pushed about 15% of the stolen ZEC into Ironwood, where payments hide "
         "their senders, recipients and amounts.")


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def outputs(upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    body = (FIXTURES / "news" / "coindesk_rss_2026-09-30.xml").read_bytes()
    upstream.add(FEED_URL, body, headers={"content-type": "application/rss+xml"})
    data = only_sources(live_config(upstream, tmp_path / "out"), "news")
    data["news"]["feeds"] = [{"name": "CoinDesk", "url": upstream.url_for(FEED_URL)}]
    data["email"] = {"from_addr": "Brief <brief@example.org>", "to": ["alice@example.org"]}
    data["site"] = {"url": "https://briefs.example.org/daily/"}
    config = write_config(tmp_path / "c.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", f"{DAY}T23:58:00+00:00")
    run = CliRunner().invoke(app, ["--config", str(config), "run", "--no-send"])
    assert run.exit_code == 0, run.output
    published = CliRunner().invoke(app, ["--config", str(config), "publish"])
    assert published.exit_code == 0, published.output
    send = CliRunner().invoke(app, ["--config", str(config), "send", "--date", DAY, "--dry-run"],
                              env={"REPORTGEN_SMTP_HOST": "127.0.0.1", "REPORTGEN_SMTP_PORT": "9",
                                   "REPORTGEN_SMTP_TLS": "none"})
    assert send.exit_code == 0, send.output
    folder = tmp_path / "out" / "reports" / DAY
    mail = BytesParser(policy=policy.default).parsebytes((folder / "brief.eml").read_bytes())
    parts = {p.get_content_type(): p.get_content() for p in mail.walk()
             if p.get_content_type() in ("text/plain", "text/html")}
    day_page = tmp_path / "out" / "site" / "2026" / "09" / "30" / "index.html"
    return {
        "html": (folder / "brief.html").read_text(), "md": (folder / "brief.md").read_text(),
        "pdf": "\n".join(p.extract_text() for p in PdfReader(folder / "brief.pdf").pages),
        "email.html": parts["text/html"], "email.txt": parts["text/plain"],
        "site": day_page.read_text(),
    }


def test_every_format_shows_the_feeds_summary(outputs: dict[str, str]) -> None:
    for fmt, text in outputs.items():
        flat = _flat(text.replace("\\", ""))  # Markdown escapes "." after a number, etc.
        assert ZCASH in flat, fmt
        assert "goal it never reached" in flat, fmt


def test_summary_sits_under_its_headline_in_html(outputs: dict[str, str]) -> None:
    html = outputs["html"]
    item = re.search(r"<li>\s*<p class=\"headline\"><a href=\"([^\"]+)\"[^>]*>Crypto industry "
                     r"gave \$8 million to Clarity Act lobbyists.*?</li>", html, re.S)
    assert item, html[:2000]
    assert item.group(1).startswith("https://www.coindesk.com/news-analysis/2026/09/30/")
    assert f'<p class="summary">{LOBBYING}</p>' in item.group(0)
