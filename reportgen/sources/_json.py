"""Shared helpers for parsers of JSON payloads: one place for the error messages."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from reportgen.errors import ParseError
from reportgen.models import RawPayload
from reportgen.plain import printable


def load_json(raw: RawPayload) -> Any:
    """The JSON body of `raw`, or ParseError saying what was wrong (truncated, HTML, empty)."""
    if not raw.body.strip():
        raise ParseError(f"{raw.source}: empty body from {raw.url}")
    if _looks_like_html(raw):
        # A login wall, a CDN challenge or a maintenance page, answered with status 200.
        title = _HTML_TITLE.search(raw.body[:4096])
        if title:
            named = f" titled {printable(title[1].decode('utf-8', 'replace'), one_line=True)[:80]!r}"
        else:
            text = _TAG.sub(b" ", raw.body[:2048]).decode("utf-8", "replace")
            named = f" reading {' '.join(printable(text).split())[:80]!r}"
        raise ParseError(f"{raw.source}: an HTML page{named}, not JSON, from {raw.url} "
                         f"(HTTP {raw.status}, Content-Type "
                         f"{_content_type(raw)})")
    try:
        return json.loads(raw.body)
    except ValueError as exc:  # bad JSON, bad UTF-8, an integer of over 4,300 digits
        start = raw.body[:60].decode("utf-8", errors="replace")
        raise ParseError(
            f"{raw.source}: malformed JSON from {raw.url} ({exc.__class__.__name__} at "
            f"byte {getattr(exc, 'pos', '?')} of {len(raw.body)}: {str(exc)[:80]}; starts {start!r})"
        ) from None


_HTML_START = re.compile(rb"^\s*(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html|head|body|!--)",
                         re.IGNORECASE)
_HTML_TITLE = re.compile(rb"<title[^>]*>([^<]{1,200})", re.IGNORECASE)
_TAG = re.compile(rb"<[^>]*>")


def _looks_like_html(raw: RawPayload) -> bool:
    """Judged by the body, never the Content-Type: some JSON APIs label JSON text/html."""
    return bool(_HTML_START.match(raw.body[:512]))


def _content_type(raw: RawPayload) -> str:
    return {k.lower(): v for k, v in raw.headers.items()}.get("content-type", "not given")


def dig(obj: Any, *path: str | int, source: str) -> Any:
    """obj[path[0]][path[1]]…, or ParseError naming the missing key."""
    current = obj
    walked: list[str] = []
    for key in path:
        walked.append(str(key))
        try:
            current = current[key]
        except (KeyError, IndexError, TypeError):
            raise ParseError(f"{source}: missing field {'.'.join(walked)}") from None
    return current


def number(value: Any, field: str, source: str) -> float:
    """A finite float from a JSON number or numeric string ("0.4968", "1e-7")."""
    if isinstance(value, bool) or value is None:
        raise ParseError(f"{source}: field {field} is {value!r}, not a number")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ParseError(f"{source}: field {field} is {value!r}, not a number") from None
    if result != result or result in (float("inf"), float("-inf")):
        raise ParseError(f"{source}: field {field} is not finite")
    return result


def mapping(value: Any, field: str, source: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ParseError(f"{source}: field {field} should be an object, got {type(value).__name__}")
    return value
