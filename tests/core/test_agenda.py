"""The calendar file (`calendar:` in the config) and the brief's "What to watch"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from reportgen.agenda import SAMPLE_CALENDAR, load_calendar, parse_calendar
from reportgen.brief.watch import event_line, in_window, levels, watch_section
from reportgen.config import config_from_mapping
from reportgen.errors import ConfigError
from reportgen.pipeline import run
from reportgen.view import CalendarEvent, ClusterLevel, LiqMap, LiqPart, Section

GOOD = """
- date: 2025-06-18
  time: "14:00 America/New_York"
  name: FOMC statement
  kind: central bank
  source: Federal Reserve
- date: 2025-06-12
  name: Something all day
"""


def test_a_good_file_parses_to_typed_events_in_order() -> None:
    events = parse_calendar(GOOD, "cal.yaml")
    assert [e.name for e in events] == ["Something all day", "FOMC statement"]
    fomc = events[1]
    assert fomc.day == date(2025, 6, 18) and fomc.kind == "central bank"
    assert fomc.source == "Federal Reserve"
    assert fomc.at is not None and fomc.at.astimezone(UTC) == datetime(2025, 6, 18, 18, 0,
                                                                          tzinfo=UTC)
    assert events[0].at is None and events[0].kind == "" and events[0].source is None
    assert parse_calendar("", "empty.yaml") == []


@pytest.mark.parametrize(("text", "message"), [
    ("- date: 2025-06-18\n  name: A\n- date: 2025-13-01\n  name: CPI\n",
     "calendar file cal.yaml: entry 2 (CPI): date:"),
    ("- date: 2025-06-18\n  time: '25:00 America/New_York'\n  name: CPI\n",
     "entry 1 (CPI): time: '25:00 America/New_York': no such time of day"),
    ("- date: 2025-06-18\n  time: '08:30 ET'\n  name: CPI\n",
     "entry 1 (CPI): time: '08:30 ET': unknown time zone 'ET'"),
    ("- date: 2025-06-18\n  time: '08:30'\n  name: CPI\n",
     "entry 1 (CPI): time: '08:30' is not HH:MM followed by an IANA zone"),
    ("- date: 2025-06-18\n", "entry 1: name: Field required"),
    ("- date: 2025-06-18\n  name: CPI\n  when: soon\n", "entry 1 (CPI): when: unknown key"),
    ("- just a string\n", "entry 1: must be a mapping with date and name"),
    ("date: 2025-06-18\nname: CPI\n", "the top level must be a list of events"),
    ("- [unclosed\n", "calendar file cal.yaml: not valid YAML"),
])
def test_a_bad_file_is_a_config_error_naming_file_and_entry(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_calendar(text, "cal.yaml")
    assert message in str(caught.value)


def test_the_config_refuses_a_bad_calendar_naming_the_key_file_and_entry(tmp_path: Path) -> None:
    bad = tmp_path / "events.yaml"
    bad.write_text("- date: 2025-06-18\n  name: FOMC\n  time: '2pm'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"calendar": str(bad)}, "config.yaml")
    assert str(caught.value).startswith(f"config.yaml: calendar: calendar file {bad}: "
                                        "entry 1 (FOMC): time:")
    with pytest.raises(ConfigError, match=r"calendar file .*missing\.yaml: cannot be read"):
        config_from_mapping({"calendar": str(tmp_path / "missing.yaml")})
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    assert config_from_mapping({"calendar": str(good)}).calendar == good


def test_the_window_is_the_report_day_to_seven_days_after_in_the_report_zone() -> None:
    events = load_calendar(SAMPLE_CALENDAR)
    names = [e.name for e in in_window(events, date(2025, 6, 11), "UTC")]
    assert names == ["US CPI for May", "US PPI for May", "FOMC meeting begins (ends 18 June)",
                     "US retail sales for May (advance)", "FOMC statement and rate decision"]
    # a backdated brief: relative to its own day
    assert [e.name for e in in_window(events, date(2025, 6, 5), "UTC")] == [
        "US CPI for May", "US PPI for May"]
    assert [e.name for e in in_window(events, date(2025, 6, 4), "UTC")] == ["US CPI for May"]
    assert [e.name for e in in_window(events, date(2025, 6, 3), "UTC")] == []
    assert [e.day for e in in_window(events, date(2025, 6, 18), "UTC")] == [date(2025, 6, 18)]
    # 18:00 UTC on the 18th is already the 19th in Tokyo: the day counts in the report zone
    late = [CalendarEvent(day=date(2025, 6, 18), name="x",
                          at=datetime(2025, 6, 18, 18, 0, tzinfo=UTC))]
    assert in_window(late, date(2025, 6, 12), "Asia/Tokyo") == late
    assert in_window(late, date(2025, 6, 11), "Asia/Tokyo") == []
    assert in_window(late, date(2025, 6, 11), "UTC") == late


def test_an_event_line_gives_its_own_time_and_the_report_zone_s() -> None:
    fomc = parse_calendar(GOOD, "cal.yaml")[1]
    assert event_line(fomc, date(2025, 6, 11), "UTC") == \
        "Wed 18 Jun, 14:00 EDT (18:00 UTC): FOMC statement · central bank"
    assert event_line(fomc, date(2025, 6, 18), "America/New_York") == \
        "Today, 14:00 EDT: FOMC statement · central bank"


def _liquidation(*parts: LiqPart) -> Section:
    return Section(id="liquidation", title="Liquidation map", kind="liquidation",
                   maps=[LiqMap(title="BTC liquidation map", symbol="BTC", parts=list(parts))])


def test_levels_are_the_nearest_of_the_listed_clusters_on_each_side() -> None:
    cex = LiqPart(kind="cex", label="CEX", mark=100_000.0, clusters=[
        ClusterLevel(side="long", usd=2e8, price_low=90_000, price_high=91_000),
        ClusterLevel(side="short", usd=1e8, price_low=103_000, price_high=104_000)])
    hl = LiqPart(kind="hyperliquid", label="HL", mark=100_000.0, clusters=[
        ClusterLevel(side="long", usd=5e7, price_low=95_000, price_high=96_000),
        ClusterLevel(side="short", usd=9e7, price_low=110_000, price_high=111_000)])
    found = levels([_liquidation(cex, hl)])
    assert [(lv.side, lv.price_low, lv.panel) for lv in found] == [
        ("long", 95_000, "Hyperliquid positions"), ("short", 103_000, "CEX estimate")]
    assert found[0].text == ("BTC longs: US$50.0 M between $95,000 and $96,000, 4.5% below "
                             "the $100,000 mark (Hyperliquid positions)")


def test_no_levels_and_no_calendar_is_no_section() -> None:
    assert watch_section(date(2025, 6, 11), "UTC", [], None) is None
    alone = watch_section(date(2025, 6, 11), "UTC", [], [])
    assert alone is not None and alone.events == [] and alone.levels == []
    assert "No scheduled event in the calendar from 2025-06-11 to 2025-06-18." in alone.notes


def _markdown(tmp_path: Path, day: date, **config: object) -> str:
    settings = config_from_mapping({"output": str(tmp_path / "out"), **config})
    run(settings, day, sample=True, formats=["md"], send=False, publish=False)
    return (tmp_path / "out" / "reports" / day.isoformat() / "brief.md").read_text("utf-8")


def _watch(markdown: str) -> str:
    start = markdown.index(". What to watch\n")
    return markdown[start:markdown.index("\n## ", start)]


def test_the_sample_day_s_section_in_markdown(tmp_path: Path) -> None:
    text = _markdown(tmp_path, date(2025, 6, 11))
    assert "## 7. What to watch" in text and text.index("What to watch") < text.index(
        "Macro & policy")
    watch = _watch(text)
    assert ("- BTC shorts: US$153 M between $112,500 and $113,000, 3.8% above the $108,600 "
            "mark (CEX estimate)") in watch
    # the level is one of the clusters the liquidation section lists
    assert "- US$153 M of shorts between $112,500 and $113,000" in text
    assert ("- BTC longs: US$98.6 M between $100,000 and $100,500, 7.7% below the $108,600 "
            "mark (Hyperliquid positions)") in watch
    assert "- Today, 08:30 EDT (12:30 UTC): US CPI for May · US data" in watch
    assert ("- Wed 18 Jun, 14:00 EDT (18:00 UTC): FOMC statement and rate decision · central "
            "bank") in watch
    assert "Federal Reserve, FOMC meeting calendar" in watch


def test_a_backdated_sample_day_and_a_configured_calendar(tmp_path: Path) -> None:
    watch = _watch(_markdown(tmp_path / "a", date(2025, 6, 5)))
    assert "- Wed 11 Jun, 08:30 EDT (12:30 UTC): US CPI for May · US data" in watch
    assert "- Thu 12 Jun, 08:30 EDT (12:30 UTC): US PPI for May · US data" in watch
    assert "FOMC" not in watch and "Today" not in watch
    own = tmp_path / "mine.yaml"
    own.write_text("- {date: 2025-06-07, name: Desk offsite}\n", encoding="utf-8")
    watch = _watch(_markdown(tmp_path / "b", date(2025, 6, 5), calendar=str(own)))
    assert "- Sat 7 Jun: Desk offsite" in watch and "CPI" not in watch
