"""Issue 21, "a brief with judgement", checked on the seven rendered sample days: each day
leads with its own most unusual move, in frames that follow the facts, under a headline and
a summary that fit where they are shown."""

from __future__ import annotations

import json
import re
from collections import Counter
from itertools import pairwise
from pathlib import Path

from reportgen.brief.story import HEADLINE_MAX, SUMMARY_MAX
from tests.publish.conftest import DAYS

NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def _manifest(output: Path, day: str) -> dict[str, object]:
    return json.loads((output / "reports" / day / "manifest.json").read_text(encoding="utf-8"))


def _lede(output: Path, day: str) -> list[str]:
    md = (output / "reports" / day / "brief.md").read_text(encoding="utf-8")
    paragraph = md.split("## The day in brief", 1)[1].strip().split("\n\n", 1)[0]
    # Sentences end with ". " before a capital (numbers such as "3.02%" keep their point).
    return re.split(r"(?<=[.”)])\s+(?=[A-Z“])", paragraph.replace("\\", ""))


def _frame(text: str) -> str:
    """A sentence with its numbers, dates and coin names taken out: its template."""
    text = re.sub(r"\bBitcoin\b|\bEther\b|\bBTC\b|\bETH\b", "COIN", text)
    return NUMBER.sub("N", text)


def test_openings_and_headlines_vary_across_the_week(rendered_week: Path) -> None:
    days = [d.isoformat() for d in DAYS]
    firsts = [_lede(rendered_week, d)[0] for d in days]
    openings = Counter(" ".join(first.split()[:2]) for first in firsts)
    assert max(openings.values()) <= 2, openings
    assert all(len(first.split()) <= 30 for first in firsts), firsts
    headlines = [str(_manifest(rendered_week, d)["lead"]) for d in days]
    assert all(0 < len(h) <= HEADLINE_MAX for h in headlines), headlines
    frames = Counter(_frame(h) for h in headlines)
    assert len(frames) >= 4 and max(frames.values()) <= 2, frames


def test_summary_fits_and_starts_the_lede(rendered_week: Path) -> None:
    for day in DAYS:
        manifest = _manifest(rendered_week, day.isoformat())
        summary = str(manifest["summary"])
        assert 0 < len(summary) <= SUMMARY_MAX, (day, summary)
        first = _lede(rendered_week, day.isoformat())[0]
        assert summary.startswith(first.replace("\\", "")[:40]), (day, summary, first)


def test_no_figure_repeats_in_consecutive_sentences(rendered_week: Path) -> None:
    for day in DAYS:
        sentences = _lede(rendered_week, day.isoformat())
        for before, after in pairwise(sentences):
            shared = {n for n in NUMBER.findall(before) if "." in n or "," in n} & set(
                NUMBER.findall(after))
            assert not shared, (day, shared, before, after)


def test_every_lede_number_is_in_the_body(rendered_week: Path) -> None:
    for day in DAYS:
        md = (rendered_week / "reports" / day.isoformat() / "brief.md").read_text(
            encoding="utf-8")
        body = md.split("## 1. ", 1)[1]
        for sentence in _lede(rendered_week, day.isoformat()):
            for number in NUMBER.findall(sentence):
                assert number in body, (day, number, sentence)


CASCADE = re.compile(r"(falls|rises) (\d+(?:\.\d+)?)% from the \$([\d,]+) mark \(to \$([\d,]+)\)")
LEDE_CASCADE = re.compile(r"a (\d+(?:\.\d+)?)% drop in BTC from the \$([\d,]+) perp mark "
                          r"\(to \$([\d,]+)\).* a \1% rise \(to \$([\d,]+)\)")


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def test_every_cascade_level_comes_from_a_price_the_brief_names(rendered_week: Path) -> None:
    """One price per coin: the lede's prices are the closes of the price cards, and every
    cascade level is worked from the mark it names ("If BTC falls 2% from the $108,600 mark
    (to $106,428)"), never from an unnamed price."""
    for day in DAYS:
        md = (rendered_week / "reports" / day.isoformat() / "brief.md").read_text(
            encoding="utf-8")
        assert "(to $" in md
        lede = " ".join(_lede(rendered_week, day.isoformat()))
        for line in md.splitlines():
            if "(to $" not in line or line.startswith("## ") or line in lede:
                continue
            found = CASCADE.findall(line)
            assert found, (day, line)
            for way, pct, mark, level in found:
                sign = -1 if way in ("falls", "drop") else 1
                worked = _num(mark) * (1 + sign * float(pct) / 100)
                assert abs(worked - _num(level)) <= 1, (day, line)
        for sentence in _lede(rendered_week, day.isoformat()):
            if "(to $" in sentence:
                found = LEDE_CASCADE.search(sentence)
                assert found, (day, sentence)
                pct, mark, low, high = found.groups()
                assert abs(_num(mark) * (1 - float(pct) / 100) - _num(low)) <= 1, sentence
                assert abs(_num(mark) * (1 + float(pct) / 100) - _num(high)) <= 1, sentence
        cards = dict(re.findall(r"^\| (BTC|ETH) price\[\^\d+\] \| (\$[\d,.]+)", md, re.M))
        # Any coin-sized price in the lede that is neither a named mark nor a level worked
        # from one is a close the price cards show.
        lede_prices = re.findall(r"(?<!\(to )(?<!US)\$\d{1,3}(?:,\d{3})+\b(?! (?:perp )?mark)", lede)
        assert lede_prices, (day, lede)
        assert set(lede_prices) <= set(cards.values()), (day, lede_prices, cards)
        for symbol, close in cards.items():
            name = {"BTC": "Bitcoin", "ETH": "Ether"}[symbol]
            if name in lede:
                assert close in lede, (day, symbol, close, lede)
