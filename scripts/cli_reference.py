"""Write docs/cli.md from the real `--help` output of every command.

Run `make docs` after changing a command; tests/core/test_cli_reference.py fails while the
file is out of date.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "cli.md"


def render() -> str:
    """The reference as Markdown: `reportgen --help`, then each command's `--help`."""
    os.environ.update({"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"})
    import typer.main
    from typer.testing import CliRunner

    from reportgen.cli import app

    runner = CliRunner()
    group = typer.main.get_command(app)
    parts = ["# reportgen command reference\n",
             "Generated from the real `--help` output by `make docs` "
             "(scripts/cli_reference.py); do not edit by hand.\n"]
    commands: list[list[str]] = [[]]
    for name, command in sorted(group.commands.items()):  # type: ignore[attr-defined]
        commands.append([name])
        # a group of subcommands (`reportgen archive check`): each one's help too
        commands += [[name, sub] for sub in sorted(getattr(command, "commands", {}))]
    for args in commands:
        result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1"},
                               terminal_width=100)
        title = " ".join(["reportgen", *args])
        text = "\n".join(line.rstrip() for line in result.output.strip().splitlines())
        parts.append(f"## `{title}`\n\n```text\n$ {title} --help\n{text}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}", file=sys.stderr)
