"""The channel registry: what it finds, how config validates a channel's settings, and how
the core (the run's publish phase, its summary, exit code and run record) iterates it
without naming a channel. A fake channel, registered for one test, stands in for any."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

import reportgen.channels as registry
from reportgen.archive import Archive
from reportgen.channels.base import (
    Channel,
    ChannelSettings,
    Delivery,
    Outcome,
    Status,
    first_names,
    status_of,
)
from reportgen.cli import app
from reportgen.config import config_from_mapping
from reportgen.errors import DeliveryError
from reportgen.publish.phase import active_channels, needed_formats
from tests.importgraph import PACKAGE


def test_the_registry_finds_every_channel_in_delivery_order() -> None:
    names = [cls.name for cls in registry.channel_classes()]
    assert names[:3] == ["site", "object_store", "email"]  # the site before what links it
    assert len(set(names)) == len(names)
    for cls in registry.channel_classes():
        assert cls.commands and cls.commands <= {"run", "send", "publish"}, cls.name
        assert "enabled" in cls.settings_model.model_fields, cls.name


def test_the_core_names_no_channel() -> None:
    # (output / "site" is the site's folder, a path, not the channel.)
    core = ["cli.py", "pipeline.py", "publish/phase.py"]
    for cls in registry.channel_classes():
        for path in core:
            text = (PACKAGE / path).read_text(encoding="utf-8")
            assert not re.search(rf'(?<!/ )"{cls.name}"', text), (path, cls.name)


def test_existing_config_keys_still_configure_their_channels() -> None:
    config = config_from_mapping({"email": {"enabled": True, "to": ["a@example.org"]},
                                  "site": {"enabled": True}})
    active = [c.name for c in active_channels(config, "run")]
    assert active == ["site", "email"]  # object_store: no site.target
    assert needed_formats(active_channels(config, "run")) == {"pdf"}  # email attaches it
    assert [c.name for c in active_channels(config, "run", skip=["send"])] == ["site"]
    assert [c.name for c in active_channels(config, "run", skip=["publish"])] == ["email"]


def test_a_bad_channel_setting_is_a_config_error_naming_the_key() -> None:
    from reportgen.errors import ConfigError

    with pytest.raises(ConfigError, match=r"channels\.nosuch: unknown key"):
        config_from_mapping({"channels": {"nosuch": {"enabled": True}}})


def test_an_outcome_says_ok_partial_or_failed_and_keeps_few_names() -> None:
    assert status_of(3, 0) is Status.OK
    assert status_of(2, 1) is Status.PARTIAL
    assert status_of(0, 1) is Status.FAILED
    many = first_names({f"r{i}": "refused" for i in range(120)})
    assert len(many) == 51 and "70 more" in many["…"]
    record = Outcome("x", Status.PARTIAL, "x: 1 sent, 1 failed", counts={"sent": 1},
                     needs_look={"b": "HTTP 500"}).as_record()
    assert record["ok"] is False and record["status"] == "partial"
    assert record["needs_look"] == {"b": "HTTP 500"}


class _FakeSettings(ChannelSettings):
    enabled: bool = True


class _Broken(Channel[_FakeSettings]):
    """A channel whose every recipient fails."""

    name = "broken"
    title = "A channel that fails"
    order = 90
    settings_model = _FakeSettings
    commands = frozenset({"run", "send"})
    delivered: ClassVar[list[Delivery]] = []

    def deliver(self, job: Delivery) -> Outcome:
        self.delivered.append(job)
        return Outcome(self.name, Status.FAILED, "broken: 0 posted, 2 failed",
                       counts={"posted": 0, "failed": 2},
                       needs_look={"room-1": "HTTP 500", "room-2": "HTTP 500"})


class _Raising(_Broken):
    name = "raising"
    order = 80

    def deliver(self, job: Delivery) -> Outcome:
        raise DeliveryError("the far side refused the connection")


@pytest.fixture
def fake_channels(monkeypatch: pytest.MonkeyPatch) -> list[type[Channel[Any]]]:
    extra: list[type[Channel[Any]]] = [_Raising, _Broken]
    found = registry.channel_classes()
    monkeypatch.setattr(registry, "channel_classes", lambda: (*found, *extra))
    _Broken.delivered.clear()
    return extra


def test_a_failing_channel_makes_run_exit_non_zero_with_its_summary_line(
        tmp_path: Path, fake_channels: list[type[Channel[Any]]]) -> None:
    output = tmp_path / "out"
    result = CliRunner().invoke(app, ["-o", str(output), "run", "--sample", "--formats", "md"])
    assert result.exit_code == 1, result.output
    assert "broken: 0 posted, 2 failed" in result.output
    assert "room-1: HTTP 500" in result.output
    # A channel that raised is a failed outcome too, and did not stop the one after it.
    assert "raising: failed: the far side refused the connection" in result.output
    [job] = _Broken.delivered
    assert job.command == "run" and job.manifest.day == job.brief.day
    with Archive(output / "archive.sqlite") as archive:
        [run] = archive.runs()
    assert run["channels"]["broken"]["status"] == "failed"
    assert run["channels"]["broken"]["counts"] == {"posted": 0, "failed": 2}
    assert run["channels"]["raising"]["ok"] is False


def test_no_send_skips_the_channels_that_send(
        tmp_path: Path, fake_channels: list[type[Channel[Any]]]) -> None:
    output = tmp_path / "out"
    result = CliRunner().invoke(app, ["-o", str(output), "run", "--sample", "--formats", "md",
                                      "--no-send"])
    assert result.exit_code == 0, result.output
    assert not _Broken.delivered and "broken" not in result.output
