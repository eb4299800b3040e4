"""The pipeline's shape: phases in order, and only `collect` may touch the network."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from reportgen.config import config_from_mapping
from reportgen.pipeline import PHASES, render_day, run

DAY = date(2025, 6, 11)


def test_phases_run_in_order(tmp_path: Path) -> None:
    config = config_from_mapping({"output": str(tmp_path), "site": {"enabled": True}})
    seen: list[str] = []
    result = run(config, DAY, sample=True, formats=["html", "md"], on_phase=seen.append)
    assert result.phases == ["collect", "archive", "build", "render", "publish"] == list(PHASES)
    assert seen == ["collect", "build", "render", "publish"]  # archive happens inside collect


def test_render_and_site_publish_never_touch_the_network(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    config = config_from_mapping({"output": str(tmp_path), "site": {"enabled": True}})
    run(config, DAY, sample=True, formats=["md"], publish=False)
    request.getfixturevalue("no_network")  # from here on
    render_day(config, DAY, formats=["html", "md"])
    from reportgen.publish import build_site

    build_site(config)
    assert (tmp_path / "site" / "index.html").is_file()
