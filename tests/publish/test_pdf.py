"""The sample day's PDF as issue 12 asked for it: compact, flagged, tagged, with an Author."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from tests.publish.conftest import LAST


def test_sample_pdf_is_compact_tagged_and_says_sample_on_every_page(rendered_last: Path) -> None:
    reader = PdfReader(rendered_last / "reports" / LAST.isoformat() / "brief.pdf")
    # 9 pages before, a chart a page; then 4 A4 pages; the realised-liquidations section
    # (issue 20) adds half a page, the derivatives line (issue 21) ten cards and two notes,
    # which carry the first map to the next page: at most 6
    assert len(reader.pages) <= 6
    for number, page in enumerate(reader.pages, 1):
        assert "SAMPLE DATA" in page.extract_text(), f"page {number} lacks the sample flag"
    assert reader.metadata.author == "reportgen"  # report.author's default
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root
    assert str(root["/Lang"]).startswith("en")
