"""README.md tells the truth: its `make demo` transcript is what a sample run prints, its
test count is the suite's, and every command is listed (regenerate with `make readme`)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import typer.main

from reportgen.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("readme", ROOT / "scripts" / "readme.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _generated() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    script = _script()
    return text[text.index(script.BEGIN):text.index(script.END)]


def test_the_demo_transcript_is_what_a_sample_run_prints() -> None:
    script = _script()
    shown = _generated()
    transcript = script.demo_transcript()
    assert script.masked(transcript) in script.masked(shown), (
        "README.md's `make demo` transcript is out of date: run `make readme`")


def test_the_test_count_is_the_suites() -> None:
    script = _script()
    claimed = re.search(r"then the (\d+) tests", _generated())
    assert claimed, "README.md does not say how many tests there are"
    assert int(claimed[1]) == script.test_count(), "README.md's test count is stale: run `make readme`"


def test_every_command_is_listed() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = text[text.index("## Commands"):]
    listed = listed[:listed.index("\n## ", 1)]
    group = typer.main.get_command(app)
    missing = [name for name in group.commands  # type: ignore[attr-defined]
               if not re.search(rf"reportgen (\S+ )?{name}\b|\| {name}\b", listed)]
    assert not missing, f"README.md's Commands section does not list: {missing}"
