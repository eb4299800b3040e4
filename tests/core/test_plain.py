"""Upstream text reaches no output with escape sequences or control characters."""

from __future__ import annotations

from datetime import date

import pytest

from reportgen.errors import FetchError, ParseError
from reportgen.models import SourceSnapshot
from reportgen.news.text import clean_title
from reportgen.plain import printable


@pytest.mark.parametrize(("text", "clean"), [
    ("ok \x1b[31mred\x1b[0m", "ok red"),                      # colour (CSI)
    ("x\x1b[2J\x1b[Hy", "xy"),                                 # clear screen, cursor home
    ("a\x1b]0;new title\x07b", "ab"),                         # OSC: retitle the terminal
    ("a\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),  # OSC 8 hyperlink
    ("bell\x07 nul\x00 del\x7f", "bell nul del"),
    ("accents é ü, CJK 中, symbols ✓ Ⓢ", "accents é ü, CJK 中, symbols ✓ Ⓢ"),
])
def test_printable(text: str, clean: str) -> None:
    assert printable(text) == clean


def test_line_breaks_kept_or_folded() -> None:
    assert printable("a\nb\tc") == "a\nb\tc"
    assert printable(" a\r\n\tb ", one_line=True) == "a b"


def test_error_messages_and_reasons_are_clean() -> None:
    assert str(FetchError("host: \x1b[2Jboom", status=500)) == "host: boom"
    assert str(ParseError("said \x1b]0;x\x07hi")) == "said hi"
    snap = SourceSnapshot.unavailable("gas", date(2025, 6, 11), "rpc said:\n\x1b[31mno\x1b[0m")
    assert snap.reason == "rpc said: no"


def test_feed_titles_are_clean() -> None:
    assert clean_title("Bitcoin \x1b[5mflashes\x1b[0m \x07new high") == "Bitcoin flashes new high"
