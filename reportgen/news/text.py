"""Plain text and safe links from untrusted feed content.

Feed titles and summaries may carry HTML (Cointelegraph puts `<p><img>` in descriptions),
entities, scripts, event-handler attributes or absurd lengths. Everything leaving here is
plain text: tags removed (the contents of script/style dropped entirely), entities
unescaped once, whitespace collapsed, length capped on a word boundary with an ellipsis.
Templates autoescape as well; this layer makes sure the model never holds markup.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import nh3

from reportgen.plain import printable

TITLE_MAX = 300
SUMMARY_MAX = 280  # a summary is at most 280 characters …
SUMMARY_SENTENCES = 2  # … and at most two sentences
ELLIPSIS = "…"
# Elements whose text is code or chrome, never prose.
_DROP_CONTENT = frozenset({"script", "style", "noscript", "iframe", "object", "svg", "template"})
# Elements after which a space keeps words of adjacent blocks apart.
_BLOCK = frozenset({"p", "br", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5",
                    "h6", "blockquote", "section", "article", "figure", "figcaption", "ul", "ol"})


_ANY_TAG = re.compile(r"<[^>]*>")


def strip_html(text: str) -> str:
    """Text content of an HTML fragment: tags removed, script/style contents dropped,
    entities unescaped, whitespace collapsed.

    nh3 (the ammonia HTML sanitiser) parses the untrusted markup as a browser would and
    keeps only bare block tags; those are then plain `<p>`-like tokens that become spaces,
    so words of adjacent blocks stay apart."""
    if not text:
        return ""
    safe = nh3.clean(text, tags=set(_BLOCK), attributes={}, clean_content_tags=set(_DROP_CONTENT),
                     strip_comments=True, link_rel=None)
    plain = html.unescape(_ANY_TAG.sub(" ", safe))
    # Leftover angle brackets of a tag cut off at the end ("<scr") are not prose.
    if "<" in plain:
        head, _, tail = plain.rpartition("<")
        if tail and " " not in tail and ">" not in tail:
            plain = head
    return " ".join(printable(plain).replace("\u00a0", " ").split())


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters on a word boundary, ellipsis appended."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space >= limit // 2:  # don't throw away most of the text for one long word
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + ELLIPSIS


def clean_title(raw: str | None, limit: int = TITLE_MAX) -> str:
    """A headline as plain text, at most `limit` characters."""
    return truncate(strip_html(raw or ""), limit)


# A sentence ends with . ! or ? (and any closing quote or bracket) before a space and an
# upper-case letter, digit or opening quote; or with a full-width 。！？ (CJK text has no space).
_SENTENCE_END = re.compile(
    r"(?<=[.!?])[\"'”’)\]]?\s+(?=[\"'“‘(\[]?[A-Z0-9])|(?<=[。！？])[”’」』)）]?\s*(?=\S)"
)
# Words whose full stop does not end a sentence: initials and dotted acronyms ("J. Powell",
# "U.S.", "U.K."), "e.g."/"i.e.", titles, company suffixes, month and number abbreviations
# ("Sept. 30", "No. 2"). Merging two sentences at one of these costs only length (the cap
# still holds); cutting one in two would drop the half that carries the news.
_NOT_AN_END = re.compile(
    r"(?:^|[\s(\"'“‘])(?:[A-Z]|(?:[A-Za-z]\.)+[A-Za-z]|Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|St|"
    r"Jr|Sr|vs|etc|approx|est|No|Nos|Inc|Ltd|Corp|Co|Bros|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|"
    r"Sept|Oct|Nov|Dec|Mon|Tue|Tues|Wed|Thu|Thurs|Fri|Sat|Sun|Fig|Vol|Op|cf)\.$"
)


def first_sentences(text: str, count: int = SUMMARY_SENTENCES) -> str:
    """The first `count` sentences of `text`. "U.S.", "e.g.", "Sept. 30", "Mr. Powell" and
    "$3.5" do not end one (see `_NOT_AN_END`); "。" does."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)
            if not _NOT_AN_END.search(text[: m.start()].rstrip("\"'”’)]"))]
    return text if len(ends) < count else text[: ends[count - 1]].rstrip()


def clean_summary(raw: str | None, limit: int = SUMMARY_MAX) -> str:
    """A summary as plain text: its first two sentences, at most `limit` characters."""
    return truncate(first_sentences(strip_html(raw or "")), limit)


def safe_link(raw: str | None) -> str | None:
    """`raw` when it is an absolute http(s) URL with a host and no whitespace or control
    characters; None otherwise (javascript:, data:, relative paths, junk)."""
    if not raw:
        return None
    url = raw.strip()
    if not url or len(url) > 2048 or any(c.isspace() or ord(c) < 32 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(c in url for c in "<>\"'`"):
        return None
    return url
