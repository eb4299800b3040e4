"""Text from outside (upstream error bodies, feed titles, exception messages) made safe to
print: no terminal escape sequences, no control characters.

An upstream can put `ESC[2J` or `ESC]0;…BEL` in an error message; printed raw it clears or
retitles the operator's terminal, and in brief.html or brief.md it is an invisible byte in
the middle of a sentence. `printable` removes whole escape sequences (so no stray `[31m` is
left behind) and every other C0/C1 control character; it is applied where such text enters
a model (a snapshot's reason, an error's message, a feed's title), so every output — the
terminal, HTML, Markdown, PDF, email — gets the same clean text.
"""

from __future__ import annotations

import re

# ANSI/ECMA-48 sequences: CSI (ESC [ … final byte), OSC/DCS/PM/APC/SOS strings (ended by BEL
# or ESC \), the 8-bit CSI (0x9b), and two-byte escapes (ESC plus one character).
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x9d\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[@-Z\\-_]?"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\n\r]+")


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` without escape sequences or control characters; tabs and line breaks are kept,
    or with `one_line` become single spaces (a reason printed in a table cell)."""
    clean = _CONTROLS.sub("", _ESCAPES.sub("", text))
    if one_line:
        clean = _LINE_BREAKS.sub(" ", clean).strip()
    return clean
