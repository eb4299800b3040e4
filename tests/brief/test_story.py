""""The day in brief": one constructed day per rule (docs/the-day-in-brief.md), and the
sample day's story against its body (every number in the story appears in the body)."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from reportgen import trends
from reportgen.brief import story
from reportgen.units import INDEX, PRICE, USD
from reportgen.view import (
    Brief,
    CascadeStep,
    EtfTable,
    Figure,
    LiqMap,
    LiqPart,
    Rank,
    Section,
    Story,
)

DAY = date(2025, 6, 11)  # a Wednesday


def brief(*sections: Section) -> Brief:
    return Brief(title="Brief", day=DAY, zone="UTC", sample=False,
                 generated_at=datetime(2025, 6, 11, 23, 55, tzinfo=UTC),
                 sections=list(sections), sources=[])


def indicators(*figures: Figure) -> Section:
    return Section(id="indicators", title="Indicators", figures=list(figures))


def price(symbol: str, value: float, change: float | None = None, week: float | None = None,
          remark: str | None = None, rank: Rank | None = None) -> Figure:
    return Figure(label=f"{symbol} price", unit=PRICE, value=value, change_pct=change,
                  change_7d_pct=week, remark=remark, rank=rank)


def etf_section(*tables: EtfTable) -> Section:
    return Section(id="etf", title="Spot ETF flows", kind="etf", tables=list(tables))


def table(asset: str, total: float, history: list[float], *, flow_day: date = DAY,
          launched: date | None = None) -> EtfTable:
    days = [flow_day - timedelta(days=len(history) - i) for i in range(len(history))]
    before = list(zip(days, history, strict=True))
    return EtfTable(asset=asset, label=flow_day.isoformat(), total=total, flow_date=flow_day,
                    remarks=trends.flow_remarks(total, before, launched=launched),
                    rank=trends.rank(total, before))


def liq_section(*parts: LiqPart) -> Section:
    return Section(id="liquidation", title="Liquidation map", kind="liquidation",
                   maps=[LiqMap(title="BTC liquidation map", symbol="BTC", parts=list(parts))])


def liq_map(kind: str, venue: str, down: float, up: float) -> LiqPart:
    rows = [CascadeStep("long", p, 100_000 * (1 - p / 100), down * p) for p in (2, 5)]
    rows += [CascadeStep("short", p, 100_000 * (1 + p / 100), up * p) for p in (2, 5)]
    return LiqPart(kind=kind, label=kind, venue=venue, cascade=rows, mark=100_000.0)


# -- rule 1: the lead --------------------------------------------------------------------


def ranked(change: float, *, larger: int, record_since: date | None = None) -> Rank:
    return Rank(larger=larger, seen=30, record=record_since is not None, since=record_since,
                span=90)


def test_lead_names_a_record_and_the_other_coins_close() -> None:
    closes = {DAY - timedelta(days=40 - i): 100.0 + (i % 2) for i in range(40)}
    closes[DAY - timedelta(days=30)] = 150.0  # a 47% jump 30 days back, then calm
    history = [(d, c) for d, c in trends.daily_changes(closes) if d < DAY]
    rank = trends.rank(-8.0, history)
    assert rank is not None and rank.record and rank.since is not None
    told = story.day_in_brief(brief(indicators(price("BTC", 100_000.0, -8.0, rank=rank),
                                               price("ETH", 2000.0, 1.0))))
    since = rank.since.isoformat()
    assert told.sentences[:2] == [
        f"Bitcoin slid 8.00% to $100,000, its largest daily drop since {since}.",
        "Ether closed at $2,000 (+1.00% in 24 h)."]
    assert told.title == f"Bitcoin slid 8.00% to $100,000, largest daily drop since {since}"


def test_a_move_few_days_beat_is_not_called_ordinary() -> None:
    """ETH +4.60% on 2025-06-10, when only 4 of the previous 30 days moved more."""
    told = story.day_in_brief(brief(indicators(
        price("BTC", 110_213.0, -0.04, rank=ranked(-0.04, larger=29)),
        price("ETH", 2809.0, 4.60, rank=ranked(4.60, larger=4)))))
    assert told.sentences[0] == ("Ether rose 4.60% to $2,809, a move only 4 of the previous 30 "
                                 "days beat.")
    assert "not unusual" not in " ".join(told.sentences)


def test_a_rare_move_behind_another_lead_is_still_said() -> None:
    eth_etf = table("ETH", 125.0, [300.0, *[-5.0] * 11])
    told = story.day_in_brief(brief(
        indicators(price("BTC", 110_213.0, -0.04, rank=ranked(-0.04, larger=29)),
                   price("ETH", 2809.0, 4.60, rank=ranked(4.60, larger=4))),
        etf_section(eth_etf)))
    assert told.sentences[0].startswith("US spot ETH ETFs took in US$125.0 M, their largest")
    assert told.sentences[1] == ("Bitcoin closed at $110,213 (−0.04% in 24 h) and Ether at "
                                 "$2,809 (+4.60%, a move only 4 of the previous 30 days beat).")


@pytest.mark.parametrize(("larger", "words"), [
    (10, "; 10 of the previous 30 days moved more."),
    (18, ", not unusual: 18 of the previous 30 days moved more."),
    (0, ", larger than any of the previous 30 days."),
])
def test_how_ordinary_a_move_is(larger: int, words: str) -> None:
    told = story.day_in_brief(brief(indicators(
        price("ETH", 2000.0, -1.0, rank=ranked(-1.0, larger=larger)))))
    quiet = "A quiet day for prices: " if larger * 2 >= 30 else ""
    assert told.sentences[0] == f"{quiet}Ether eased 1.00% to $2,000{words}"


def test_a_record_reaching_further_back_leads() -> None:
    told = story.day_in_brief(brief(indicators(
        price("BTC", 101_651.0, -3.02, rank=ranked(-3.02, larger=0,
                                                   record_since=date(2025, 5, 23))),
        price("ETH", 2422.0, -7.23, rank=ranked(-7.23, larger=1,
                                                record_since=date(2025, 4, 10))))))
    assert told.sentences[0] == (
        "Ether slid 7.23% to $2,422, its largest daily drop since 2025-04-10; Bitcoin fell "
        "3.02% to $101,651, its largest daily drop since 2025-05-23.")
    assert len(told.sentences) == 1  # both coins said: no prices sentence repeats them


def test_move_remark_in_the_whole_history() -> None:
    history = [(DAY - timedelta(days=90 - i), 1.0) for i in range(90)]
    assert trends.move_remark(5.0, history) == "largest daily gain in at least 90 days"
    found = trends.rank(5.0, history)
    assert found == Rank(larger=0, seen=30, record=True, since=None, span=90)


def test_a_short_history_ranks_nothing() -> None:
    history = [(DAY - timedelta(days=5 - i), 1.0) for i in range(5)]
    assert trends.rank(5.0, history) is None


def test_an_etf_record_leads_with_its_news() -> None:
    # ETH: a bigger inflow 12 trading days back, then smaller ones; the last 4 days inflows.
    eth = table("ETH", 240.3, [300.0, *[-5.0] * 7, 10.0, 20.0, 30.0, 40.0])
    btc = table("BTC", 164.6, [*[100.0] * 9, 300.0, -50.0, 20.0])
    news = Section(id="highlights", title="Market highlights", kind="news", items=[
        Story(title="HYPE surpasses $42", link=None, sources=["BlockBeats"], summary="",
              published=None),
        Story(title="Ethereum ETFs extend their run", link=None, sources=["The Block"],
              summary="", published=None)])
    told = story.day_in_brief(brief(
        indicators(price("BTC", 108_680.0, -1.39, rank=ranked(-1.39, larger=9))),
        etf_section(btc, eth), news))
    assert told.sentences[:3] == [
        "US spot ETH ETFs took in US$240.3 M, their largest daily inflow since 2025-05-30 "
        "(5th straight day of inflows).",
        "In the news: “Ethereum ETFs extend their run” (The Block).",
        "Bitcoin closed at $108,680 (−1.39% in 24 h)."]
    assert "BTC funds took in US$164.6 M" in told.sentences[3]
    assert "ETH funds" not in told.sentences[3]


def test_etf_rule_outflow_record_since_launch() -> None:
    btc = table("BTC", -1200.5, [100.0, -300.0, 50.0] * 4, launched=date(2024, 1, 11))
    told = story.day_in_brief(brief(etf_section(btc)))
    assert told.sentences == ["US spot BTC ETFs lost US$1.200 B, their largest daily "
                              "outflow since launch (2024-01-11)."]


def test_etf_rule_last_trading_day() -> None:
    friday = date(2025, 6, 6)
    btc = table("BTC", -47.8, [10.0, 20.0], flow_day=friday)
    told = story.day_in_brief(brief(etf_section(btc)))
    assert told.sentences == ["US spot ETFs: BTC funds lost US$47.8 M on 2025-06-06, the last "
                              "trading day."]


def test_a_zero_flow_breaks_a_streak() -> None:
    assert trends.streak([5.0, 5.0, 0.0, 5.0, 5.0]) == 2
    assert trends.streak([5.0, 0.0]) == 0


# -- liquidation: the mark is named --------------------------------------------------------


def test_liquidation_rule_prefers_the_cex_estimate() -> None:
    section = liq_section(liq_map("hyperliquid", "hyperliquid", 5e6, 4e6),
                          liq_map("cex", "Binance+Bybit+OKX", 82e6, 20.85e6))
    told = story.day_in_brief(brief(section))
    assert told.sentences == [
        "Nearest to the price, a 2% drop in BTC from the $100,000 perp mark (to $98,000) would "
        "liquidate an estimated US$164 M of longs on Binance+Bybit+OKX, and a 2% rise (to "
        "$102,000) US$41.7 M of shorts."]


def test_liquidation_rule_falls_back_to_hyperliquid() -> None:
    told = story.day_in_brief(brief(liq_section(liq_map("hyperliquid", "hyperliquid", 5e6, 4e6))))
    assert told.sentences == [
        "Nearest to the price, a 2% drop in BTC from the $100,000 perp mark (to $98,000) would "
        "liquidate US$10.0 M of longs on hyperliquid, and a 2% rise (to $102,000) US$8.0 M of "
        "shorts."]


# -- sentiment ---------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "words"), [
    (-3.0, ", down 3 points from the day before"),
    (1.0, ", up 1 point from the day before"),
    (0.0, ", unchanged from the day before"),
    (None, ""),
])
def test_sentiment_rule(change: float | None, words: str) -> None:
    fng = Figure(label="Fear & Greed Index", unit=INDEX, value=68.0, note="Greed",
                 change_pts=change)
    told = story.day_in_brief(brief(indicators(fng)))
    assert told.sentences == [f"The Fear & Greed Index stands at 68 (Greed){words}."]


# -- gaps --------------------------------------------------------------------------------


def test_missing_figures_drop_their_sentences() -> None:
    unavailable = Figure(label="BTC price", unit=PRICE, value=None, reason="no data")
    fng = Figure(label="Fear & Greed Index", unit=INDEX, value=20.0, note="Extreme Fear")
    gone = Section(id="etf", title="Spot ETF flows", kind="etf",
                   reason="unavailable for 2025-06-11: 503")
    told = story.day_in_brief(brief(indicators(unavailable, fng), gone))
    assert told.sentences == ["The Fear & Greed Index stands at 20 (Extreme Fear)."]
    assert told.title == "The Fear & Greed Index stands at 20 (Extreme Fear)"


def test_a_day_without_figures_says_so(tmp_path: Path) -> None:
    from reportgen.render import render_html, render_markdown

    empty = brief(Section(id="etf", title="Spot ETF flows", kind="etf", reason="unavailable: 503"))
    told = story.day_in_brief(empty)
    assert told.sentences == [] and told.title == ""
    assert "No figure of this day could be had" in render_markdown(empty)
    assert "No figure of this day could be had" in render_html(empty)


def test_the_same_brief_gives_the_same_story() -> None:
    day = brief(indicators(price("BTC", 1.0, 2.0, 3.0), price("ETH", 4.0, -5.0, 6.0)))
    assert story.day_in_brief(day) == story.day_in_brief(day)


# -- the sample day ----------------------------------------------------------------------

NUMBER = re.compile(r"[+−-]?(?:US)?\$?\d[\d,]*(?:\.\d+)?(?: ?[TBMK]\b|%)?")


def test_sample_story_numbers_all_appear_in_the_body(tmp_path: Path) -> None:
    from reportgen.config import config_from_mapping
    from reportgen.pipeline import run

    config = config_from_mapping({"output": str(tmp_path)})
    result = run(config, DAY, sample=True, formats=["md"], send=False, publish=False)
    assert 3 <= len(result.brief.story) <= 5
    md = (tmp_path / "reports" / DAY.isoformat() / "brief.md").read_text(encoding="utf-8")
    body = md.split("## 1. Indicators", 1)[1]
    for sentence in result.brief.story:
        for number in NUMBER.findall(sentence):
            core = re.search(r"\d[\d,]*(?:\.\d+)?", number).group()
            assert (core + "%" if number.endswith("%") else core) in body, (number, sentence)
    assert md.count(" ".join(result.brief.story)) == 1


def test_the_story_is_the_email_preheader() -> None:
    from reportgen.publish.email import render_email_html

    day = brief(indicators(price("BTC", 108_680.0, -1.39, 3.69)))
    day.story = story.day_in_brief(day).sentences
    html = render_email_html(day, chart_by_path={}, extra_charts=[], web_url=None,
                             history_url=None, unsubscribe_url=None)
    preheader = re.search(r'<div class="preheader"[^>]*>([^<]*)</div>', html)
    assert preheader and preheader.group(1).startswith("Bitcoin eased 1.39% to $108,680")


def test_a_day_with_only_market_figures_leads_with_them() -> None:
    """Issue 21: 2022-04-06 from real answers opened "No figure of this day could be had"
    while the body showed the market cap ▼ −5.54 %."""
    cap = Figure(label="Total market cap", unit=USD, value=1.98e12, change_pct=-5.54)
    told = story.day_in_brief(brief(indicators(cap)))
    assert told.sentences == ["The total crypto market cap fell 5.54% to US$1,980 B."]
    assert told.title == "Crypto market cap fell 5.54% to US$1,980 B"


def test_the_lead_is_the_move_that_beat_more_of_its_window() -> None:
    """Random ranks: the lead is always the coin whose move beat more of its 30 days (a
    record first), never one picked by order alone."""
    rng = random.Random(21)
    for _ in range(200):
        larger = {s: rng.randint(0, 30) for s in ("BTC", "ETH")}
        figs = [price(s, 1000.0 + i, rng.choice([-1, 1]) * rng.uniform(0.1, 9),
                      rank=ranked(0.0, larger=larger[s])) for i, s in enumerate(larger)]
        told = story.day_in_brief(brief(indicators(*figs)))
        expected = "Bitcoin" if larger["BTC"] <= larger["ETH"] else "Ether"
        assert expected in told.sentences[0].split(",")[0], (larger, told.sentences[0])


def test_headline_and_summary_fit_where_they_are_shown() -> None:
    """The headline (email subject, og:title) is cut at a word to 90 characters; the
    summary (preheader, og:description, feed, index) holds the leading sentences that fit
    in 200, or the headline when the first sentence alone is longer."""
    long_title = " ".join(["word"] * 40)
    assert story._fit(long_title, story.HEADLINE_MAX).endswith("…")
    assert len(story._fit(long_title, story.HEADLINE_MAX)) <= story.HEADLINE_MAX
    sentences = ["A" * 120 + ".", "B" * 70 + ".", "C" * 10 + "."]
    assert story.summary(sentences, "Head") == sentences[0] + " " + sentences[1]
    assert story.summary(["X" * 250 + "."], "Head line") == "Head line"
    day = brief(indicators(price("BTC", 108_680.0, -1.39, rank=ranked(-1.39, larger=9)),
                           price("ETH", 2776.0, -1.15, rank=ranked(-1.15, larger=17))))
    told = story.day_in_brief(day)
    assert len(told.title) <= story.HEADLINE_MAX and len(told.summary) <= story.SUMMARY_MAX
    assert told.summary.startswith(told.sentences[0])
