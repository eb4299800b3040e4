"""The end-to-end contract check (tests/sourcecontract.py) catches a broken source by name.

A throwaway source module is put in the registry's package path for one test, exactly as a
new source would be added; a live run against the fake upstream then has it raise on
every answer, or parse garbage. The check the live and backdated end-to-end tests use must
report it, with why, and nothing else; and the registry-built config and fake upstream
must pick it up with no test edited.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

import reportgen.sources
from reportgen import config as config_module
from reportgen.cli import app
from reportgen.config import load_config
from reportgen.registry import source_classes
from tests.backdated import missing_answers
from tests.conftest import live_config, only_sources, write_config
from tests.fakeupstream import Upstream
from tests.sourcecontract import enabled_sources, labels_missing, shortfalls

DAY = date(2025, 6, 11)
NAME = "zz_throwaway"
URL = "https://throwaway.invalid/api/v1/answer"

MODULE = '''
"""A throwaway source for tests/core/test_contract.py: MODE says how it breaks."""

from datetime import UTC, datetime

from pydantic import BaseModel, field_validator

from reportgen.errors import ParseError
from reportgen.figures import Indicator
from reportgen.settings import SourceSettings, check_url
from reportgen.sources.base import Source
from reportgen.units import COUNT

MODE = "{mode}"


class ThrowawaySettings(SourceSettings):
    base_url: str = "{url}"
    _url = field_validator("base_url")(check_url)


class Throwaway(BaseModel):
    answer: float | None
    as_of: datetime


class ThrowawaySource(Source[ThrowawaySettings]):
    name = "{name}"
    title = "Throwaway test source"
    history = "none"
    supports_past = {past}
    order = 99
    settings_model = ThrowawaySettings
    model = Throwaway
    indicators = (Indicator("Throwaway answer", Throwaway, "answer", lambda m: m.answer, COUNT),)

    async def fetch(self, ctx):
        return [await ctx.http.get(self.name, self.settings.base_url)]

    def parse(self, raws, ctx):
        if MODE == "raises":
            raise ParseError(f"{{self.name}}: every answer is refused on purpose")
        # garbage: a model that parses but carries no figure
        return Throwaway(answer=None, as_of=datetime(2025, 6, 11, 12, tzinfo=UTC))
'''


def _forget() -> None:
    sys.modules.pop(f"reportgen.sources.{NAME}", None)
    source_classes.cache_clear()  # rebuilt from the same, already imported classes


@pytest.fixture(params=["raises", "garbage", "history"])
def throwaway(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A source module added beside the real ones (a second folder of the package path);
    "history" raises too, and declares that it answers past dates."""
    folder = tmp_path / "extra_sources"
    folder.mkdir()
    mode = "raises" if request.param == "history" else request.param
    (folder / f"{NAME}.py").write_text(MODULE.format(
        mode=mode, url=URL, name=NAME, past=request.param == "history"))
    saved = list(reportgen.sources.__path__)
    reportgen.sources.__path__.append(str(folder))
    # The config's classes are built once from the registry and pickled by name: the test
    # gets its own, and the real ones (with their identity) come back after it.
    real_classes = config_module._config_classes
    config_module._config_classes = cache(real_classes.__wrapped__)
    _forget()
    try:
        yield str(request.param)
    finally:
        reportgen.sources.__path__[:] = saved
        config_module._config_classes = real_classes
        _forget()


def test_a_broken_source_fails_the_contract_check_by_name(
        throwaway: str, upstream: Upstream, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert NAME in [c.name for c in source_classes()]
    upstream.load_day(DAY, ["feargreed"])
    upstream.add(URL, b'{"answer": "not a number"}')
    data = only_sources(live_config(upstream, tmp_path / "out"), "feargreed", NAME)
    data["report"] = {"render_workers": 0}
    assert data["sources"][NAME]["base_url"] == upstream.url_for(URL)  # pointed by the registry
    path = write_config(tmp_path / "config.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", "2025-06-11T23:58:00+00:00")
    result = CliRunner().invoke(app, ["--config", str(path), "run", "--formats", "html,md"])
    assert result.exit_code == 3, result.output

    config = load_config(path, env={})
    assert enabled_sources(config) == ["feargreed", NAME]
    found = shortfalls(config, DAY)
    assert found, "the contract check passed a source that answers nothing"
    assert {s.source for s in found} == {NAME}  # the healthy source is not blamed
    said = "\n".join(map(str, found))
    assert f"{NAME}: figure 'Throwaway answer': partial: Throwaway answer" in said
    if throwaway != "garbage":
        assert f"{NAME}: snapshot not ok:" in said and "refused on purpose" in said
    else:  # parsed, but the figure is not there
        assert "snapshot not ok" not in said
    # The figure's label is still printed (as unavailable), so the text check alone would not
    # catch it: the snapshot and section statuses do.
    md = (tmp_path / "out" / "reports" / DAY.isoformat() / "brief.md").read_text()
    assert labels_missing(config, {"md": md}) == []
    # What is expected to be down is said, not waved through.
    assert shortfalls(config, DAY, expected_unavailable={NAME}) == []


def test_a_new_source_with_history_fails_the_backdated_test_until_it_has_answers(
        throwaway: str) -> None:
    """The backdated test serves every history source's past answers from
    tests/backdated/<name>.py: a source without one is named, not silently skipped."""
    with_history = [c.name for c in source_classes() if c.supports_past]
    assert (NAME in with_history) == (throwaway == "history")
    assert missing_answers(with_history) == ([NAME] if throwaway == "history" else [])


def test_the_real_registry_is_back_after_the_throwaway() -> None:
    assert NAME not in [c.name for c in source_classes()]
    assert NAME not in config_module.config_model().model_fields["sources"].annotation.model_fields
