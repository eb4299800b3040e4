"""docs/cli.md is the real --help output of every command (regenerate with `make docs`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cli_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "scripts" / "cli_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert module.render() == expected, "docs/cli.md is out of date: run `make docs`"
