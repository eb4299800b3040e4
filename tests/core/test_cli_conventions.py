"""Command-line conventions: --version, `python -m reportgen`, JSON for scripts, plain
untruncated output when piped, and an empty --output refused."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportgen.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"reportgen {version('reportgen')}\n"


def test_python_dash_m_is_the_same_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "reportgen", "--version"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"reportgen {version('reportgen')}\n"
    done = subprocess.run([sys.executable, "-m", "reportgen", "--help"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, check=False)
    assert done.returncode == 0 and "backfill" in done.stdout


@pytest.mark.parametrize("value", ["", "  "])
def test_empty_output_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        value: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["--output", value, "run", "--sample", "--formats", "md"])
    assert result.exit_code == 2
    assert "--output is empty" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written into the current folder


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(app, ["-o", str(output), "run", "--sample", "--formats", "md",
                                      "--no-send", "--no-publish"])
    assert result.exit_code == 0, result.output
    return output


def test_status_json(ran: Path) -> None:
    result = CliRunner().invoke(app, ["-o", str(ran), "status", "--days", "100000", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["archive"] == str(ran / "archive.sqlite")
    [record] = answer["runs"]
    assert record["report_date"] == "2025-06-11" and record["status"] == "complete"
    assert record["sample"] and record["sections"]["liquidation"] == "ok"
    assert record["channels"]["md"]["status"] == "ok"
    # whole timestamps, with their zone
    assert record["started_at"].endswith("+00:00") and len(record["started_at"]) > 19


def test_piped_output_is_plain_and_not_cut_at_80_columns(ran: Path) -> None:
    # CliRunner's stdout is not a terminal, as when piped to another program.
    result = CliRunner().invoke(app, ["-o", str(ran), "status", "--days", "100000"],
                                env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "\x1b[" not in result.stdout  # no colour codes
    row = next(line for line in result.stdout.splitlines() if "2025-06-11" in line)
    assert "complete (sample)" in row and "html:ok" not in row  # md only
    assert "md:ok" in row and "…" not in result.stdout  # nothing elided
    assert max(len(line) for line in result.stdout.splitlines()) > 80
