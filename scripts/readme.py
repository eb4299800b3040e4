"""Write README.md's generated parts from the project as it is: the `make demo` transcript
(a real sample run), the number of tests, and the commands list checked against the CLI.

Run `make readme` after changing what a sample run prints or adding tests;
tests/core/test_readme.py fails while README.md is out of date.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BEGIN, END = "<!-- generated: make readme -->", "<!-- end generated -->"
# Timings differ from run to run: compared as this mask.
TIMING = re.compile(r"\b\d+\.\d+s\b")


def demo_transcript() -> str:
    """What `make demo` prints on a fresh checkout: a real `run --sample`, plain (not a
    terminal), into a throwaway folder named `output` like the Makefile's."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "PYTHONPATH": str(ROOT)}
    env = {k: v for k, v in env.items() if not k.startswith("REPORTGEN_")}
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run([sys.executable, "-m", "reportgen", "--output", "output", "run",
                               "--sample"], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=600, check=False)
        printed = (done.stderr + done.stdout).replace(str(Path(folder).resolve()) + "/", "")
    if done.returncode not in (0, 3):
        raise SystemExit(f"the sample run failed (exit {done.returncode}):\n{done.stderr}")
    lines = [line.rstrip() for line in printed.splitlines()]
    return "\n".join([*lines, "open output/reports/2025-06-11/brief.html (also brief.pdf, brief.md)"])


def test_count() -> int:
    """How many tests pytest collects (parametrised cases counted one by one)."""
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)
    found = re.search(r"^(\d+) tests? collected", done.stdout, re.MULTILINE)
    if not found:
        raise SystemExit(f"pytest --collect-only said:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return int(found[1])


def block(transcript: str, tests: int) -> str:
    """The README's generated block: the two commands and what they print."""
    return "\n".join([
        BEGIN,
        "```console",
        "$ make demo      # sets up .venv, builds the 2025-06-11 sample brief: no network, no keys",
        transcript,
        "",
        f"$ make test      # sets up .venv; ruff, mypy, markdown lint, then the {tests} tests",
        "```",
        END,
    ])


def current() -> str:
    """README.md with its generated block made anew."""
    text = README.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + block(demo_transcript(), test_count()) + text[end:]


def masked(text: str) -> str:
    return TIMING.sub("N.NNs", text)


if __name__ == "__main__":
    README.write_text(current(), encoding="utf-8")
    print(f"wrote {README.relative_to(ROOT)}")
