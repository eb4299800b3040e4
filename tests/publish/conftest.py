"""Shared fixtures for the publish tests: the seven sample days rendered once per session
(HTML and Markdown; the PDF only for the last day, where the email attaches it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from reportgen import sample as sample_data
from reportgen.config import config_from_mapping
from tests.publish.smtpserver import Inbox, serving

LAST = sample_data.SAMPLE_LAST
DAYS = [sample_data.SAMPLE_FIRST + timedelta(days=i)
        for i in range((LAST - sample_data.SAMPLE_FIRST).days + 1)]


def _render(out: Path, days: list[date]) -> Path:
    from reportgen.pipeline import run

    config = config_from_mapping({"output": str(out)})
    for day in days:
        formats = ["html", "md", "pdf"] if day == LAST else ["html", "md"]
        run(config, day, sample=True, formats=formats, send=False, publish=False)
    return out


@pytest.fixture(scope="session")
def rendered_last(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder with the last sample day rendered, PDF included (never modified)."""
    return _render(tmp_path_factory.mktemp("rendered-last") / "output", [LAST])


@pytest.fixture(scope="session")
def rendered_week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder with the seven sample briefs rendered (never modified by tests)."""
    return _render(tmp_path_factory.mktemp("rendered-week") / "output", DAYS)


@pytest.fixture
def output(rendered_last: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the last day's output, for tests that send."""
    copy = tmp_path / "output"
    shutil.copytree(rendered_last, copy, symlinks=True)
    yield copy


@pytest.fixture
def week(rendered_week: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the week's output, for tests that publish."""
    copy = tmp_path / "output"
    shutil.copytree(rendered_week, copy, symlinks=True)
    yield copy


def day_path(day: date) -> str:
    return f"{day:%Y/%m/%d}/index.html"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1: its inbox and port."""
    inbox = Inbox()
    with serving(inbox) as port:
        yield inbox, port
