"""A PDF's text layer as two independent extractors read it, and what garbled text is.

pypdf (pure Python, pinned in the test extra) and poppler's `pdftotext` (C++, the Debian
package poppler-utils, which `make test` installs) decode fonts and encodings each their own
way: a text layer both read the same is one a reader's copy-paste and search will get. A
font without a glyph once made pypdf read a whole page as NULs between letters while
pdftotext read it fine (tests/core/test_pdf_glyphs.py), so the golden test and
`make golden` read both and refuse garbled text.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

# Text of the sample brief both extractors must find, as often as each other.
MARKERS = ("Daily Crypto Research Brief", "The day in brief", "Risk warning", "17,411",
           "1,281", "US$3,754 B", "−1.70%", "US$140.2 B", "61.0%", "9.4%", "−0.2 pp",
           "1.62 gwei", "FEAR & GREED INDEX", "924 EH/s", "US$254.4 B", "Liquidation map",
           "US$56.38 M", "Spot ETF flows", "+164.6", "+240.3", "Macro & policy",
           "Market highlights", "HYPE surpasses $42", "Disclaimer", "Sources", "Page 1 of")
_CID = re.compile(r"\(cid:\d+\)")
_LAYOUT = frozenset("\n\r\t\f")


def pypdf_text(pdf: Path) -> str:
    """The text pypdf extracts, pages joined by a newline."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(pdf).pages)


def pdftotext_text(pdf: Path) -> str:
    """The text poppler's pdftotext extracts (UTF-8, reading order)."""
    tool = shutil.which("pdftotext")
    if tool is None:
        raise RuntimeError("pdftotext is not installed: install the Debian package "
                           "poppler-utils (`make poppler` does, as root)")
    return subprocess.run([tool, "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          check=True, timeout=120).stdout.decode("utf-8")


def extracted(pdf: Path) -> dict[str, str]:
    """{extractor: text} of both extractors."""
    return {"pypdf": pypdf_text(pdf), "pdftotext": pdftotext_text(pdf)}


def garbled(text: str) -> list[str]:
    """What in `text` is not readable text: replacement characters, private-use,
    surrogate or unassigned code points, control characters (layout whitespace aside),
    and "(cid:NN)" glyph ids an extractor could not map. Each with a count and a sample."""
    kinds: dict[str, list[int]] = {}
    for i, char in enumerate(text):
        category = unicodedata.category(char)
        if char == "\ufffd":
            kind = "replacement character U+FFFD"
        elif category == "Co":
            kind = "private-use code point"
        elif category in ("Cs", "Cn"):
            kind = "surrogate or unassigned code point"
        elif category == "Cc" and char not in _LAYOUT:
            kind = "control character"
        else:
            continue
        kinds.setdefault(kind, []).append(i)
    for match in _CID.finditer(text):
        kinds.setdefault("(cid:NN) glyph id", []).append(match.start())
    return [f"{len(at)} × {kind}, first at {at[0]}: {text[max(0, at[0] - 30):at[0] + 30]!r}"
            for kind, at in kinds.items()]


def disagreements(texts: dict[str, str], markers: tuple[str, ...] = MARKERS) -> list[str]:
    """Markers some extractor misses, or finds a different number of times than another."""
    found = []
    for marker in markers:
        counts = {name: text.count(marker) for name, text in texts.items()}
        if min(counts.values()) == 0 or len(set(counts.values())) > 1:
            found.append(f"{marker!r}: {counts}")
    return found


def problems(texts: dict[str, str], markers: tuple[str, ...] = MARKERS) -> list[str]:
    """Everything wrong with a PDF's extracted texts, in words (empty: readable)."""
    return ([f"{name}: {problem}" for name, text in texts.items() for problem in garbled(text)]
            + [f"extractors disagree on {d}" for d in disagreements(texts, markers)])
