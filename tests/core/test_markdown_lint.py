"""The Markdown brief is markdownlint-clean (pymarkdownlnt, rules in pyproject.toml), on the
sample day and on a day whose sections are all unavailable, and cites every footnote."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from reportgen.config import config_from_mapping
from reportgen.pipeline import render_day, run

DAY = date(2025, 6, 11)
ROOT = Path(__file__).resolve().parents[2]


def _lint(path: Path) -> list[str]:
    api = pytest.importorskip("pymarkdown.api", reason="pymarkdownlnt is in the [test] extra")
    result = api.PyMarkdownApi().configuration_file_path(str(ROOT / "pyproject.toml")) \
        .scan_path(str(path))
    return [f"{f.line_number}:{f.column_number} {f.rule_id} {f.rule_description}"
            for f in result.scan_failures]


def _footnotes_all_cited(md: str) -> None:
    defined = set(re.findall(r"^\[\^(\d+)\]:", md, re.M))
    cited = set(re.findall(r"\[\^(\d+)\](?!:)", md))
    assert defined == cited, (defined, cited)


def test_sample_markdown_is_lint_clean(tmp_path: Path) -> None:
    config = config_from_mapping({"output": str(tmp_path)})
    run(config, DAY, sample=True, formats=["md"], send=False, publish=False)
    path = tmp_path / "reports" / DAY.isoformat() / "brief.md"
    assert _lint(path) == []
    md = path.read_text(encoding="utf-8")
    _footnotes_all_cited(md)
    assert "\\(" not in md and "\\+" not in md  # no needless escapes in prose


def test_markdown_of_a_day_without_data_is_lint_clean(tmp_path: Path) -> None:
    config = config_from_mapping({"output": str(tmp_path)})
    render_day(config, DAY, formats=["md"])
    path = tmp_path / "reports" / DAY.isoformat() / "brief.md"
    assert _lint(path) == []
    _footnotes_all_cited(path.read_text(encoding="utf-8"))
