"""Feed payloads (bytes) → normalised `NewsItem`s.

RSS and Atom go through feedparser, always from the bytes we fetched, wrapped in a stream
(never a URL: feedparser would do its own unguarded network I/O; never raw bytes: it would
first try them as a local file name). BlockBeats' JSON flash API is read
directly. Every item comes out with a plain-text title and summary, an http(s) link or
none, the outlet's name and an aware publication time in the report's zone. Entries
without a usable title or publication time are dropped: an undated item cannot be placed
on a report day.
"""

from __future__ import annotations

import io
import json
import re
import warnings
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from reportgen.errors import ParseError
from reportgen.news.text import clean_summary, clean_title, safe_link

# Entries read from one feed at most: a feed holds ~25–50; this caps a hostile one.
MAX_ENTRIES_PER_FEED = 500
# An empty summary element (`<dc:description/>`, `<summary></summary>`). feedparser maps RSS
# `description`, `dc:description`, Atom `summary` and `abstract` onto one `summary` key, and
# an empty one read after the text replaces it: CoinDesk's items carry their text in
# `<description>` followed by an empty `<dc:description/>`, which erased every summary. An
# empty element says nothing, so it is removed from the bytes before parsing.
_EMPTY_SUMMARY = re.compile(
    rb"<((?:[\w.-]+:)?(?:description|summary|abstract))\b[^<>]*?"
    rb"(?:/>|>\s*(?:<!\[CDATA\[\s*\]\]>)?\s*</\1\s*>)"
)


class NewsItem(BaseModel):
    """One outlet's entry, normalised (plain text only)."""

    model_config = ConfigDict(frozen=True)

    title: str
    link: str | None
    source: str
    published: datetime  # aware, in the report zone
    summary: str = ""
    time_known: bool = True  # False: `published` gives the day only (its time is not shown)


def _aware(parsed: Any) -> datetime | None:
    # feedparser's *_parsed are struct_time already converted to UTC.
    if not parsed:
        return None
    try:
        year, month, day, hour, minute, second = parsed[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _entry_link(entry: Any) -> str | None:
    candidates = [entry.get("link")]
    candidates += [lk.get("href") for lk in entry.get("links", []) if lk.get("rel") == "alternate"]
    guid = entry.get("id")
    if entry.get("guidislink") or (isinstance(guid, str) and guid.startswith("http")):
        candidates.append(guid)
    for candidate in candidates:
        link = safe_link(candidate)
        if link:
            return link
    return None


def items_from_feed(body: bytes, source: str, zone: str) -> list[NewsItem]:
    """Items of an RSS/Atom document. Raises ParseError when the bytes are not a feed
    (feedparser found neither a feed version nor any entry)."""
    with warnings.catch_warnings():
        # feedparser may warn on odd encodings; a bad feed is reported via bozo below.
        warnings.simplefilter("ignore")
        # A stream, not bytes: feedparser tries open(bytes) as a *filename* first, so a
        # hostile body like b"/etc/passwd" would be read from disk.
        import feedparser  # here, not at import: loading the source registry stays light

        doc = feedparser.parse(io.BytesIO(_EMPTY_SUMMARY.sub(b"", body)), sanitize_html=True,
                              resolve_relative_uris=False)
    if not doc.entries and not doc.get("version"):
        why = doc.get("bozo_exception")
        raise ParseError(f"{source}: payload is not an RSS/Atom feed ({why or 'no entries'})")
    tz = ZoneInfo(zone)
    out: list[NewsItem] = []
    for entry in doc.entries[:MAX_ENTRIES_PER_FEED]:
        title = clean_title(entry.get("title"))
        published = _aware(entry.get("published_parsed")) or _aware(entry.get("updated_parsed"))
        if not title or published is None:
            continue
        summary = entry.get("summary") or ""
        if not summary and entry.get("content"):
            summary = entry["content"][0].get("value", "")
        out.append(NewsItem(
            title=title, link=_entry_link(entry), source=source,
            published=published.astimezone(tz), summary=clean_summary(summary),
        ))
    return out


def items_from_blockbeats(body: bytes, source: str, zone: str) -> list[NewsItem]:
    """Items of a BlockBeats open-api answer `{status: 0, data: {page, data: [...]}}` with
    `create_time` a unix-seconds string. Raises ParseError on another shape."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise ParseError(f"{source}: body is not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("status") != 0:
        status = doc.get("status") if isinstance(doc, dict) else type(doc).__name__
        raise ParseError(f"{source}: expected status 0, got {status!r}")
    data = doc.get("data")
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ParseError(f"{source}: 'data.data' missing or not a list")
    tz = ZoneInfo(zone)
    out: list[NewsItem] = []
    for i, entry in enumerate(entries[:MAX_ENTRIES_PER_FEED]):
        if not isinstance(entry, dict):
            raise ParseError(f"{source}: entry {i} is not an object")
        try:
            published = datetime.fromtimestamp(int(str(entry.get("create_time")).strip()), tz=UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            continue  # undated: cannot be placed on a day
        title = clean_title(entry.get("title"))
        if not title:
            continue
        text = entry.get("description") or entry.get("content") or ""
        out.append(NewsItem(
            title=title, link=safe_link(entry.get("link")) or safe_link(entry.get("url")),
            source=source, published=published.astimezone(tz), summary=clean_summary(text),
        ))
    return out
