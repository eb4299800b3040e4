"""News: the configured RSS/Atom feeds and BlockBeats' JSON flash API.

Fetch: every feed concurrently, each with its own time budget; one feed failing does not
sink the others (its error payload is returned for the archive). Conditional GET: give the
source the payloads archived by an earlier run (`previous=`); their ETag / Last-Modified
become If-None-Match / If-Modified-Since, and a 304 answer is replaced by the archived body
(header `x-reportgen-not-modified: 1`, original fetch time kept), so parse always sees a
full body. Feeds hold only the latest ~25–50 items, so a past date is answered only from
the archive (supports_past=False).

Parse: items of the report day (in the report zone), merged across outlets, ranked, split
into "Macro & policy" and "Market highlights" (see `reportgen.news.rank`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from reportgen.errors import FetchError, ParseError
from reportgen.figures import CustomSection
from reportgen.models import RawPayload
from reportgen.news.items import NewsItem, items_from_blockbeats, items_from_feed
from reportgen.news.rank import DEDUPE_THRESHOLD, NewsStory, on_day, rank, split
from reportgen.settings import SourceSettings
from reportgen.sources.base import FetchContext, ParseContext, Source, SourceConfig
from reportgen.view import Section, SourceRef, Story

NOT_MODIFIED_HEADER = "x-reportgen-not-modified"
# A payload may carry a sentence for the section when it holds no headline (the bundled
# sample uses it: "no headlines recorded for this sample day").
NOTE_HEADER = "x-reportgen-note"
# A payload whose items' times give only the day (the bundled sample's headlines come from a
# brief that printed the day, not the minute): the parser keeps the day and shows no time.
DATE_ONLY_HEADER = "x-reportgen-date-only"


class FeedConfig(BaseModel):
    """One feed: its outlet name, URL and kind."""

    model_config = ConfigDict(extra="forbid")

    name: str
    url: str
    kind: Literal["rss", "blockbeats"] = "rss"


DEFAULT_FEEDS = [
    FeedConfig(name="CoinDesk", url="https://www.coindesk.com/arc/outboundfeeds/rss/"),
    FeedConfig(name="Cointelegraph", url="https://cointelegraph.com/rss"),
    FeedConfig(name="Decrypt", url="https://decrypt.co/feed"),
    FeedConfig(name="The Block", url="https://www.theblock.co/rss.xml"),
    FeedConfig(
        name="BlockBeats", kind="blockbeats",
        url="https://api.theblockbeats.news/v1/open-api/open-flash?page=1&size=50&type=push&lang=en",
    ),
]


class NewsConfig(SourceSettings):
    """Config key `news`."""

    feeds: list[FeedConfig] = Field(default_factory=lambda: list(DEFAULT_FEEDS))
    max_highlights: int = Field(default=8, ge=1, le=10)
    max_macro: int = Field(default=5, ge=1, le=10)
    timeout_s: float = Field(default=20.0, gt=0)
    dedupe_threshold: float = Field(default=DEDUPE_THRESHOLD, gt=0, le=1)


class NewsDigest(BaseModel):
    """The news sections' data for one report date."""

    report_date: date
    zone: str
    macro: list[NewsStory] = []
    highlights: list[NewsStory] = []
    feeds_ok: list[str] = []
    feeds_failed: dict[str, str] = {}
    items_seen: int = 0
    items_on_day: int = 0
    note: str | None = None
    as_of: datetime | None = None  # the newest headline kept (published on the report day)


@dataclasses.dataclass(frozen=True)
class Validators:
    """What a conditional GET sends back: the ETag and Last-Modified of the archived copy."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


def _header(raw: RawPayload, name: str) -> str | None:
    return next((v for k, v in raw.headers.items() if k.lower() == name), None)


def validators_from(raws: Iterable[RawPayload]) -> dict[str, Validators]:
    """Validators per URL from earlier payloads (the latest successful one per URL)."""
    out: dict[str, Validators] = {}
    for raw in sorted(raws, key=lambda r: r.fetched_at):
        if raw.status == 200 and raw.body:
            etag, modified = _header(raw, "etag"), _header(raw, "last-modified")
            if etag or modified:
                out[_key(raw.url)] = Validators(etag=etag, last_modified=modified)
    return out


def _key(url: str) -> str:
    import httpx

    return str(httpx.URL(url).copy_with(query=None))


def resolve_not_modified(raw: RawPayload, previous: Mapping[str, RawPayload]) -> RawPayload:
    """A 304 payload replaced by the archived copy of the same URL ("unchanged, use the
    archived copy"); any other payload unchanged. Raises FetchError for a 304 with no
    archived copy (the server believes we have one; we do not)."""
    if raw.status != 304:
        return raw
    old = previous.get(_key(raw.url))
    if old is None:
        raise FetchError(f"{raw.source}: {raw.url} answered 304 but no archived copy exists",
                         status=304)
    return dataclasses.replace(
        old, headers={**old.headers, NOT_MODIFIED_HEADER: "1"}, source=raw.source,
    )


TITLES = {"macro": "Macro & policy", "highlights": "Market highlights"}


def _stories(stories: list[NewsStory]) -> list[Story]:
    return [Story(title=s.title, link=s.link, sources=list(s.sources), summary=s.summary or "",
                  published=s.published, time_known=s.time_known) for s in stories]


def news_section(kind: Literal["macro", "highlights"],
                 ) -> Callable[[date, NewsDigest, SourceRef | None], Section]:
    """The builder of one of the two news sections from the day's digest."""
    def build(day: date, digest: NewsDigest, ref: SourceRef | None) -> Section:
        title = TITLES[kind]
        stories = digest.macro if kind == "macro" else digest.highlights
        if not stories:
            note = digest.note or f"no {title.lower()} headlines published on {day}"
            return Section(id=kind, title=title, kind="news", source=ref,
                           reason=f"no headlines for {day}: {note}")
        text = []
        if digest.feeds_failed:
            text.append("Feeds that did not answer: " + "; ".join(
                f"{k} ({v})" for k, v in digest.feeds_failed.items()))
        return Section(id=kind, title=title, kind="news", items=_stories(stories), text=text,
                       source=ref)

    return build


class NewsSource(Source[NewsConfig]):
    """Crypto news feeds (RSS/Atom + BlockBeats JSON)."""

    name: ClassVar[str] = "news"
    title: ClassVar[str] = "News feeds (CoinDesk, Cointelegraph, Decrypt, The Block, BlockBeats)"
    history: ClassVar[str] = "feeds hold only the latest items; past days come from the archive"
    supports_past: ClassVar[bool] = False
    required: ClassVar[bool] = False
    order: ClassVar[int] = 80
    settings_model = NewsConfig
    settings_key: ClassVar[str | None] = "news"
    model = NewsDigest
    sections = (
        CustomSection("macro", TITLES["macro"], "news", NewsDigest, news_section("macro"), "News"),
        CustomSection("highlights", TITLES["highlights"], "news", NewsDigest,
                      news_section("highlights"), "News"),
    )

    def __init__(self, config: SourceConfig, *, previous: Iterable[RawPayload] = ()) -> None:
        super().__init__(config)
        self.remember(list(previous))

    def remember(self, previous: list[RawPayload]) -> None:
        """Keep the validators and bodies of earlier fetches for conditional GET (304)."""
        prev = list(previous)
        self._validators = validators_from(prev)
        self._previous = {
            _key(r.url): r for r in sorted(prev, key=lambda r: r.fetched_at)
            if r.status == 200 and r.body
        }

    def probe_url(self) -> str | None:
        return self.settings.feeds[0].url if self.settings.feeds else None

    def archive_days(self, day: date) -> tuple[date, ...]:
        """A day's headlines are still in the feeds fetched up to two days later."""
        return (day, day + timedelta(days=1), day + timedelta(days=2))

    async def _one(self, ctx: FetchContext, feed: FeedConfig, timeout_s: float) -> RawPayload:
        validators = self._validators.get(_key(feed.url))
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml, "
                             "application/json;q=0.9, */*;q=0.5"}
        if validators:
            headers.update(validators.headers())
        try:
            async with asyncio.timeout(timeout_s):
                raw = await ctx.http.get(self.name, feed.url, headers=headers,
                                         ok_statuses=frozenset({200, 304}))
        except TimeoutError:
            err = FetchError(f"{feed.name}: timed out after {timeout_s:g} s")
            err.raw = RawPayload(source=self.name, url=feed.url, status=None, body=b"",
                                 fetched_at=ctx.http.clock.now(), error=str(err))
            raise err from None
        return resolve_not_modified(raw, self._previous)

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        """Every configured feed; failed ones come back as error payloads. Raises FetchError
        only when every feed failed."""
        cfg = self.settings
        results = await asyncio.gather(
            *(self._one(ctx, feed, cfg.timeout_s) for feed in cfg.feeds), return_exceptions=True,
        )
        raws: list[RawPayload] = []
        errors: list[str] = []
        for feed, result in zip(cfg.feeds, results, strict=True):
            if isinstance(result, RawPayload):
                raws.append(result)
            elif isinstance(result, FetchError):
                errors.append(f"{feed.name}: {result}")
                if isinstance(result.raw, RawPayload):
                    raws.append(result.raw)
            elif isinstance(result, BaseException):
                raise result
        if not any(r.status == 200 for r in raws):
            err = FetchError("news: every feed failed (" + "; ".join(errors) + ")")
            err.raw = raws[-1] if raws else None
            raise err
        return raws

    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> NewsDigest:
        """The day's digest. Raises ParseError only when no feed payload could be read."""
        cfg = self.settings
        by_url = {_key(f.url): f for f in cfg.feeds}
        digest = NewsDigest(report_date=ctx.report_date, zone=ctx.zone)
        items: list[NewsItem] = []
        notes: list[str] = []
        for raw in raws:
            feed = by_url.get(_key(raw.url)) or _guess_feed(raw)
            if raw.status != 200 or raw.error:
                digest.feeds_failed[feed.name] = raw.error or f"HTTP {raw.status}"
                continue
            try:
                if feed.kind == "blockbeats":
                    got = items_from_blockbeats(raw.body, feed.name, ctx.zone)
                else:
                    got = items_from_feed(raw.body, feed.name, ctx.zone)
                if _header(raw, DATE_ONLY_HEADER):
                    got = [i.model_copy(update={"time_known": False}) for i in got]
            except ParseError as exc:
                digest.feeds_failed[feed.name] = str(exc)
                continue
            digest.feeds_ok.append(feed.name)
            items.extend(got)
            note = _header(raw, NOTE_HEADER)
            if note:
                notes.append(note)
        if not digest.feeds_ok:
            raise ParseError("news: no feed could be read (" + "; ".join(
                f"{k}: {v}" for k, v in digest.feeds_failed.items()) + ")")
        digest.items_seen = len(items)
        digest.items_on_day = len(on_day(items, ctx.report_date, ctx.zone))
        stories = rank(items, ctx.report_date, ctx.zone, cfg.dedupe_threshold)
        digest.macro, digest.highlights = split(stories, cfg.max_macro, cfg.max_highlights)
        # A headline dated to the day only says nothing of the time: it does not date the digest.
        kept = [s.published for s in (*digest.macro, *digest.highlights) if s.time_known]
        digest.as_of = max(kept) if kept else None
        if not stories:
            digest.note = notes[0] if notes else (
                f"No headlines published on {ctx.report_date.isoformat()} ({ctx.zone}) "
                "in the configured feeds."
            )
        return digest


def _guess_feed(raw: RawPayload) -> FeedConfig:
    import httpx

    # A payload whose URL is no longer configured (config changed since it was archived).
    host = httpx.URL(raw.url).host or raw.url
    kind: Literal["rss", "blockbeats"] = "blockbeats" if "theblockbeats" in host else "rss"
    return FeedConfig(name=host, url=raw.url, kind=kind)

