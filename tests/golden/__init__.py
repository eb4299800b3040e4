"""Golden files: the 2025-06-11 sample brief as HTML, Markdown and PDF text.

The PDF's text is read by two independent extractors (tests/pdftext.py): pypdf
(brief.pdf.txt) and poppler's pdftotext (brief.pdf.pdftotext.txt). Text with garbled
characters in either, or a known marker the two do not read alike, is refused: by the test,
and by `make golden` (python -m tests.golden), which then writes nothing.

`make golden` rebuilds them on purpose after an intended change of output;
tests/core/test_golden.py fails on any unintended one.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

from tests.pdftext import extracted, problems

GOLDEN = Path(__file__).parent
DAY = date(2025, 6, 11)


class GarbledPdf(Exception):
    """The PDF's text layer is not readable text (or the extractors disagree)."""


def build(output: Path) -> dict[str, str]:
    """Render the sample day into `output`; return the golden texts by file name, or raise
    GarbledPdf saying what is wrong with the PDF's text."""
    from reportgen.config import config_from_mapping
    from reportgen.pipeline import run

    config = config_from_mapping({"output": str(output)})
    run(config, DAY, sample=True, formats=["html", "md", "pdf"], send=False, publish=False)
    folder = output / "reports" / DAY.isoformat()
    texts = extracted(folder / "brief.pdf")
    found = problems(texts)
    if found:
        raise GarbledPdf("the PDF's text layer is garbled:\n  " + "\n  ".join(found))
    return {
        "brief.html": (folder / "brief.html").read_text(encoding="utf-8"),
        "brief.md": (folder / "brief.md").read_text(encoding="utf-8"),
        "brief.pdf.txt": texts["pypdf"] + "\n",
        "brief.pdf.pdftotext.txt": texts["pdftotext"],
    }


def regenerate() -> None:
    """Rewrite the golden files, or refuse (writing none) when the PDF's text is garbled."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            texts = build(Path(tmp))
        except GarbledPdf as exc:
            sys.exit(f"golden files NOT written: {exc}")
        for name, text in texts.items():
            (GOLDEN / name).write_text(text, encoding="utf-8")
            print(f"wrote tests/golden/{name}")
