"""One check of a time-zone name (`reportgen.settings.zone_info`): the report zone, the
schedule's zone and a calendar entry's zone accept and refuse the same names, in the same
words, and nothing else in the configuration constructs a zone to validate it."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

from reportgen.agenda import parse_time
from reportgen.config import config_from_mapping
from reportgen.errors import ConfigError
from reportgen.settings import check_zone, zone_info

REPO = Path(__file__).resolve().parents[2]
REFUSED = ["Mars/Olympus", "", "../etc/passwd", "/etc/localtime", "Europe/", "UTC\x00"]


@pytest.mark.parametrize("name", REFUSED)
def test_every_zone_setting_refuses_the_same_names_in_the_same_words(name: str) -> None:
    words = f"unknown time zone {name!r} (use an IANA name like Europe/London)"
    with pytest.raises(ValueError) as direct:
        zone_info(name)
    assert str(direct.value) == words
    with pytest.raises(ConfigError) as report_zone:
        config_from_mapping({"timezone": name})
    assert f"timezone: {words}" in str(report_zone.value)
    with pytest.raises(ConfigError) as schedule_zone:
        config_from_mapping({"schedule": {"timezone": name}})
    assert f"schedule.timezone: {words}" in str(schedule_zone.value)
    if name.strip() and "\x00" not in name:  # a calendar time is "HH:MM <zone>"
        with pytest.raises(ValueError) as calendar:
            parse_time(f"08:30 {name}", date(2025, 6, 11))
        assert str(calendar.value).endswith(words)


@pytest.mark.parametrize("name", ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata"])
def test_every_zone_setting_accepts_iana_names(name: str) -> None:
    assert check_zone(name) == name
    config = config_from_mapping({"timezone": name, "schedule": {"timezone": name}})
    assert config.timezone == name and config.schedule.timezone == name
    assert parse_time(f"08:30 {name}", date(2025, 6, 11)).tzinfo == zone_info(name)


def test_only_the_settings_module_validates_a_zone() -> None:
    """A second hand-written check (ZoneInfo inside try/except ZoneInfoNotFoundError) in
    the configuration modules drifts apart from the first: there is one."""
    checking = []
    for module in ("config.py", "agenda.py", "settings.py"):
        tree = ast.parse((REPO / "reportgen" / module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler) and "ZoneInfoNotFoundError" in ast.unparse(
                    node.type or ast.Constant(None)):
                checking.append(module)
    assert checking == ["settings.py"]
