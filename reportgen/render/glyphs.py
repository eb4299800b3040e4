"""Only characters the installed fonts can draw go into the PDF.

Pango draws a character no installed font has as the `.notdef` box, and WeasyPrint then
embeds the font with a custom encoding whose text layer pypdf (and so copy-paste in some
readers, and our golden test) reads as garbage — the whole page, not the one character.
One "Ⓢ" in Binance's own product name, "USDⓈ-M", was enough. So before layout, each such
character in the print HTML's text becomes its compatibility form when the fonts have that
("Ⓢ" → "S", "①" → "1", "ﬁ" → "fi"), an invisible format character is dropped, and anything
else becomes "?" (a CJK or emoji character with no font installed: the HTML and Markdown
keep it).

What the fonts cover is fontconfig's own answer (`fc-list`, installed with Pango, which
falls back across every installed font the same way); without fontconfig the HTML is left
as it is.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from functools import cache

# A tag, comment or the body of <style>/<script>: markup, never text to draw.
_MARKUP = re.compile(r"(<style\b.*?</style>|<script\b.*?</script>|<!--.*?-->|<[^>]*>)",
                     re.DOTALL | re.IGNORECASE)
MISSING = "?"
_ALWAYS = frozenset("\n\r\t")


def parse_charsets(lines: str) -> list[tuple[int, int]]:
    """fontconfig `%{charset}` lines ("20-7e a0-17f 192 …", hex) → merged (first, last)
    code-point ranges."""
    spans: list[tuple[int, int]] = []
    for token in lines.split():
        first, _, last = token.partition("-")
        spans.append((int(first, 16), int(last or first, 16)))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for low, high in spans:
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def covers(ranges: list[tuple[int, int]]) -> Callable[[str], bool]:
    """Whether one character falls in `ranges` (sorted, merged)."""
    starts = [first for first, _ in ranges]

    def covered(char: str) -> bool:
        i = bisect_right(starts, ord(char)) - 1
        return i >= 0 and ranges[i][0] <= ord(char) <= ranges[i][1]

    return covered


@cache
def installed_coverage() -> Callable[[str], bool] | None:
    """What the installed fonts, together, can draw (None: fontconfig is not there to ask)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        found = subprocess.run([fc_list, "--format", "%{charset}\n"], capture_output=True,
                               text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    ranges = parse_charsets(found)
    return covers(ranges) if ranges else None


def substitute(char: str, covered: Callable[[str], bool]) -> str:
    """What to draw for a character the fonts lack."""
    compatible = unicodedata.normalize("NFKC", char)
    if compatible != char and compatible and all(covered(c) for c in compatible):
        return compatible
    if unicodedata.category(char) in ("Cf", "Mn", "Me", "Cc"):  # nothing to see anyway
        return ""
    return MISSING


def drawable(text: str, covered: Callable[[str], bool]) -> str:
    """`text` with every character `covered` lacks replaced (see the module's doc)."""
    lacking = {c for c in set(text) if c not in _ALWAYS and not covered(c)}
    if not lacking:
        return text
    return text.translate({ord(c): substitute(c, covered) for c in lacking})


def drawable_html(html: str, covered: Callable[[str], bool] | None = None) -> str:
    """`html` whose text (not its markup) the installed fonts can draw in full."""
    covered = covered or installed_coverage()
    if covered is None or all(c in _ALWAYS or covered(c) for c in set(html)):
        return html
    parts = _MARKUP.split(html)
    # split() with one group: text at even indexes, markup at odd ones
    return "".join(part if i % 2 else drawable(part, covered) for i, part in enumerate(parts))
