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
