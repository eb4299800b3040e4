"""Golden files: the 2025-06-11 sample brief as HTML, Markdown and PDF text.

`make golden` (python -m tests.golden) rebuilds them on purpose after an intended change of
output; tests/core/test_golden.py fails on any unintended one.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

GOLDEN = Path(__file__).parent
DAY = date(2025, 6, 11)


def build(output: Path) -> dict[str, str]:
    """Render the sample day into `output`; return the golden texts by file name."""
    from pypdf import PdfReader

    from reportgen.config import config_from_mapping
    from reportgen.pipeline import run

    config = config_from_mapping({"output": str(output)})
    run(config, DAY, sample=True, formats=["html", "md", "pdf"], send=False, publish=False)
    folder = output / "reports" / DAY.isoformat()
    pdf = PdfReader(folder / "brief.pdf")
    return {
        "brief.html": (folder / "brief.html").read_text(encoding="utf-8"),
        "brief.md": (folder / "brief.md").read_text(encoding="utf-8"),
        "brief.pdf.txt": "\n".join(page.extract_text() for page in pdf.pages) + "\n",
    }


def regenerate() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in build(Path(tmp)).items():
            (GOLDEN / name).write_text(text, encoding="utf-8")
            print(f"wrote tests/golden/{name}")
