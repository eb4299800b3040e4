"""The sample brief against its golden files (regenerate with `make golden`)."""

from __future__ import annotations

import difflib
from pathlib import Path

from tests.golden import GOLDEN, build


def test_sample_brief_matches_golden_files(tmp_path: Path) -> None:
    for name, text in build(tmp_path).items():
        expected = (GOLDEN / name).read_text(encoding="utf-8")
        if text != expected:
            diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                                f"golden/{name}", f"new/{name}", n=1))
            raise AssertionError(f"{name} differs from its golden file "
                                 f"(run `make golden` if intended):\n{diff[:3000]}")
