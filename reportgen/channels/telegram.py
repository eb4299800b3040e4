"""Telegram: the day's brief posted to a chat or channel by a bot, through the Bot API
(https://core.telegram.org/bots/api).

What a day posts, in order, each one part of the delivery:

    message   sendMessage, parse_mode HTML: the brief's title, the headline (bold) with the
              summary, a "sample data" note on a sample day, and the link to the brief's
              page on the site
    document  sendDocument: the PDF, its caption the headline
    charts    sendPhoto (one chart) or sendMediaGroup (2-10 charts an album): the PNG charts

Text goes out as Telegram's HTML: only `<`, `>`, `&` (and `"` inside an attribute) are
escaped, as `&lt;` `&gt;` `&amp;` `&quot;`, the only named entities the API knows. A
message holds at most 4,096 characters and a caption 1,024 (counted as the API counts,
in UTF-16 units): the summary, then the headline, is shortened on a character boundary
before escaping, so no entity or tag is ever cut.

Idempotency is the archive's delivery log, one row per (day, "telegram", chat#part): a
part is claimed ("sending") before its request leaves and marked with what happened. A
POST is never sent twice by the HTTP policy once it may have been received (there is no
idempotency key in the Bot API), so:

    ok             sent
    429            the API did not take it: wait `parameters.retry_after` (at most the HTTP
                   policy's MAX_RETRY_AFTER_S) and try again, up to http.attempts tries;
                   then failed
    400/403/404    refused (a bad request, the bot not in the chat): not retried
    5xx, timeout   unknown: it may have been posted; never reposted without --force
    no connection  failed: nothing left; the next run tries again

The bot token comes from the environment (`token_env`, default TELEGRAM_BOT_TOKEN). It is
part of every request's path, so every line this module logs, records or returns is
scrubbed of it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pydantic import Field, field_validator

from reportgen.archive import DELIVERY_DONE, MIN_SECRET_LEN, Archive
from reportgen.channels.base import (
    Channel,
    ChannelSettings,
    Delivery,
    Outcome,
    Status,
    first_names,
    status_of,
)
from reportgen.errors import ConfigError, FetchError
from reportgen.manifest import ReportManifest, report_dir
from reportgen.render.filters import chart_look, chart_variant
from reportgen.settings import check_url

if TYPE_CHECKING:
    from reportgen.http import Files, Http
    from reportgen.models import RawPayload

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096  # characters of a message's text, after entities are parsed
CAPTION_LIMIT = 1024  # characters of a caption
ALBUM_MAX = 10  # photos in one sendMediaGroup
ELLIPSIS = "…"
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_CHAT = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{4,31}|-?[0-9]{1,20})$")
_REFUSED = frozenset({400, 401, 403, 404})


class TelegramSettings(ChannelSettings):
    """`channels.telegram:` in the config."""

    chat_id: str = Field("", description="@channelusername, or a chat's numeric id "
                                         "(-100… for a channel or supergroup)")
    token_env: str = Field("TELEGRAM_BOT_TOKEN",
                           description="environment variable holding the bot's token")
    api_url: str = "https://api.telegram.org"
    send_pdf: bool = True
    send_charts: bool = True
    max_charts: int = Field(4, ge=0, le=20)
    disable_notification: bool = False

    _url = field_validator("api_url")(check_url)

    @field_validator("chat_id")
    @classmethod
    def _chat(cls, value: str) -> str:
        if value and not _CHAT.match(value):
            raise ValueError(f"{value!r} is neither @channelusername nor a numeric chat id")
        return value

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not an environment variable name (A-Z, 0-9, _)")
        return value


# -- Telegram's HTML ----------------------------------------------------------------------


def escape(text: str) -> str:
    """`text` as Telegram HTML text: only &lt; &gt; &amp; &quot; (the named entities the
    Bot API supports)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def units(text: str) -> int:
    """Length as the Bot API counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _shorten(text: str, by: int) -> str:
    """`text` cut on a character boundary (a character outside the BMP is two units, never
    split), ending with an ellipsis, so that escaped it is at least `by` units shorter."""
    budget = units(escape(text)) - by - units(ELLIPSIS)
    kept: list[str] = []
    for char in text:
        budget -= units(escape(char))
        if budget < 0:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ELLIPSIS


def fit(render: Callable[[str, str], str], first: str, second: str, limit: int) -> str:
    """`render(first, second)` within `limit` units, shortening the plain `second`, then
    `first`, before they are escaped (so no entity or tag is cut)."""
    text = render(first, second)
    while units(text) > limit:
        over = units(text) - limit
        if len(second) > 1:
            second = _shorten(second, over)
        elif len(first) > 1:
            first = _shorten(first, over)
        else:
            raise ValueError(f"the fixed part of a Telegram text is over {limit} characters")
        text = render(first, second)
    return text


def message_text(manifest: ReportManifest, page_url: str | None) -> str:
    """The day's message (Telegram HTML): the brief's title, the headline in bold followed
    by the rest of the summary (or the summary under it, when it does not begin with the
    headline), a sample-data note on a sample day, and the link to the brief's page."""
    title = f"<i>{escape(manifest.title)}</i>\n\n"
    sample = ("\n\n<i>Sample data, not live figures.</i>"
              if manifest.sample and "sample" not in manifest.title.lower() else "")
    link = f'\n\n<a href="{escape(page_url)}">Read the full brief</a>' if page_url else ""

    def render(headline: str, summary: str) -> str:
        if summary.startswith(headline):  # the headline is the summary's first clause
            body = escape(summary[len(headline):])
        else:
            body = f"\n\n{escape(summary)}" if summary else ""
        return f"{title}<b>{escape(headline)}</b>{body}{sample}{link}"

    return fit(render, manifest.lead or manifest.title, manifest.summary, MESSAGE_LIMIT)


def caption(manifest: ReportManifest, what: str) -> str:
    """A file's caption: the headline, and what the file is."""
    return fit(lambda headline, _: f"<b>{escape(headline)}</b>\n{escape(what)}",
               manifest.lead or manifest.title, "", CAPTION_LIMIT)


# -- the parts of a day's post -----------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One request: its name in the delivery log, the API method, form fields and files."""

    name: str  # "message", "document", "charts", "charts-2" …
    method: str
    fields: dict[str, str]
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)


def parts(settings: TelegramSettings, manifest: ReportManifest, folder: Path,
          page_url: str | None) -> list[Part]:
    """What a day posts, in order (see the module docstring)."""
    common = {"chat_id": settings.chat_id, "parse_mode": "HTML"}
    if settings.disable_notification:
        common["disable_notification"] = "true"
    found = [Part("message", "sendMessage",
                  {**common, "text": message_text(manifest, page_url)})]
    if settings.send_pdf and manifest.has("brief.pdf"):
        found.append(Part("document", "sendDocument",
                          {**common, "caption": caption(manifest, f"{manifest.day} · PDF")},
                          {"document": (f"brief-{manifest.day}.pdf",
                                        (folder / "brief.pdf").read_bytes(), "application/pdf")}))
    charts = [_phone_look(manifest, n) for n in manifest.charts
              if n.endswith(".png") and not chart_look(n)][:settings.max_charts]
    if settings.send_charts:
        found += _chart_parts(common, manifest, folder, charts)
    return found


def _phone_look(manifest: ReportManifest, chart: str) -> str:
    """`chart` in its phone look where render drew one: a chat is mostly read on a phone,
    where that look's text stays legible; a report rendered before there was one keeps its
    page-width chart."""
    phone = chart_variant(chart, "-phone")
    return phone if manifest.has(phone) else chart


def _chart_parts(common: Mapping[str, str], manifest: ReportManifest, folder: Path,
                 charts: list[str]) -> list[Part]:
    """One photo, or albums of up to ALBUM_MAX (a lone last photo goes as sendPhoto)."""
    found = []
    text = caption(manifest, f"{manifest.day} · charts")
    for start in range(0, len(charts), ALBUM_MAX):
        batch = charts[start:start + ALBUM_MAX]
        name = "charts" if start == 0 else f"charts-{start // ALBUM_MAX + 1}"
        files = {f"chart{i}": (Path(n).name, (folder / n).read_bytes(), "image/png")
                 for i, n in enumerate(batch)}
        if len(batch) == 1:
            photo = files.pop("chart0")
            found.append(Part(name, "sendPhoto", {**common, "caption": text}, {"photo": photo}))
            continue
        media = [{"type": "photo", "media": f"attach://chart{i}",
                  **({"caption": text, "parse_mode": "HTML"} if i == 0 else {})}
                 for i in range(len(batch))]
        fields = {k: v for k, v in common.items() if k != "parse_mode"}
        found.append(Part(name, "sendMediaGroup", {**fields, "media": json.dumps(media)}, files))
    return found


# -- posting --------------------------------------------------------------------------------


Sleep = Callable[[float], Awaitable[None]]


@dataclass
class _Tally:
    """What a delivery did, per part (keyed chat#part, as in the delivery log)."""

    posted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # key → earlier outcome

    def note(self, key: str, outcome: str, detail: str) -> None:
        {"refused": self.refused, "failed": self.failed, "unknown": self.unknown}[outcome][key] = detail


class TelegramChannel(Channel[TelegramSettings]):
    name = "telegram"
    title = "Telegram (Bot API)"
    order = 40  # after the site (the message links the day's page)
    settings_model = TelegramSettings
    commands = frozenset({"run", "send"})

    def secret_env(self) -> tuple[str, ...]:
        return (self.settings.token_env,)

    def enabled(self) -> tuple[bool, str]:
        if not self.settings.enabled:
            return False, "channels.telegram.enabled is false"
        if not self.settings.chat_id:
            return False, "channels.telegram.chat_id is not set"
        return True, ""

    def formats(self) -> frozenset[str]:
        return frozenset({"pdf"}) if self.settings.send_pdf else frozenset()

    def deliver(self, job: Delivery) -> Outcome:
        env = os.environ if job.env is None else job.env
        token = env.get(self.settings.token_env, "")
        if not token:
            raise ConfigError(f"channels.telegram is enabled but {self.settings.token_env} is "
                              "not set: put the bot's token (from @BotFather) in that "
                              "environment variable (channels.telegram.token_env names it)")
        if len(token) < MIN_SECRET_LEN:  # too short to be blanked reliably, and to be a token
            raise ConfigError(f"{self.settings.token_env} is {len(token)} characters: a Bot API "
                              "token (from @BotFather) is a number, a colon and 35 characters")
        folder = self.config.output / report_dir(job.manifest.day)
        todo = parts(self.settings, job.manifest, folder, job.page_url)
        chat = self.settings.chat_id
        if job.dry_run:
            names = ", ".join(f"{p.name} ({p.method})" for p in todo)
            return Outcome(self.name, Status.SKIPPED,
                           f"telegram {chat}: dry run, nothing posted; would post {names}")
        sleep = cast("Sleep", job.seams.get("sleep", asyncio.sleep))
        with Archive(self.config.archive_path, clock=job.clock, secrets=[token]) as archive:
            # The archive blanks the token (raw and URL-encoded) in what it stores; the same
            # redaction keeps it out of what is logged and returned.
            poster = _Poster(self, token, job, sleep, archive.redact)
            tally = asyncio.run(poster.post_all(archive, todo))
        return _outcome(self.name, chat, tally)


class _Poster:
    """Posts a day's parts under the run's HTTP policy, recording each in the delivery log."""

    def __init__(self, channel: TelegramChannel, token: str, job: Delivery, sleep: Sleep,
                 redact: Callable[[str], str]) -> None:
        self.settings, self.http_settings = channel.settings, channel.config.http
        self.name, self.job, self.sleep, self.redact = channel.name, job, sleep, redact
        self.base = f"{self.settings.api_url.rstrip('/')}/bot{token}/"

    async def post_all(self, archive: Archive, todo: list[Part]) -> _Tally:
        from reportgen.http import Http

        day, tally = self.job.manifest.day, _Tally()
        earlier = {} if self.job.force else archive.deliveries(day, self.name)
        async with Http(self.http_settings, clock=self.job.clock) as http:
            for part in todo:
                key = f"{self.settings.chat_id}#{part.name}"
                done = earlier.get(key)
                if done is not None and done.outcome in DELIVERY_DONE:
                    tally.skipped[key] = done.outcome
                    continue
                archive.claim_delivery(day, self.name, key, part.method)
                outcome, detail = await self.post(http, part)
                archive.mark_delivery(day, self.name, key, part.method, outcome,
                                      detail or None)
                if outcome == "sent":
                    tally.posted.append(key)
                else:
                    log.warning("%s: telegram %s: %s (%s)", day, key, outcome, detail)
                    tally.note(key, outcome, detail)
        return tally

    async def post(self, http: Http, part: Part) -> tuple[str, str]:
        """(outcome, detail) of one part: 429s waited out and tried again (the API did not
        take the request); anything that may have been received is never sent twice."""
        from reportgen.http import MAX_RETRY_AFTER_S

        attempts = self.http_settings.attempts
        for attempt in range(1, attempts + 1):
            try:
                raw = await self._send(http, part)
            except FetchError as exc:
                answer = _answer(exc)
                wait = _retry_after(answer)
                if exc.status == 429 and wait is not None and wait <= MAX_RETRY_AFTER_S \
                        and attempt < attempts:
                    log.info("telegram %s: rate limited, waiting %g s", part.method, wait)
                    await self.sleep(wait)
                    continue
                return _failure(exc, answer, part, self.redact)
            answer = _json(raw.body)
            if answer.get("ok") is True:
                return "sent", ""
            return "refused", self.redact(f"{part.method}: {answer.get('description', 'not ok')}")
        return "failed", f"{part.method}: still rate limited after {attempts} tries"

    async def _send(self, http: Http, part: Part) -> RawPayload:
        url = self.base + part.method
        if part.files:
            files: Files = part.files
            return await http.post(self.name, url, data=part.fields, files=files)
        return await http.post(self.name, url, json=part.fields)


def _json(body: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(body)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _answer(exc: FetchError) -> dict[str, Any]:
    raw = getattr(exc, "raw", None)
    return _json(raw.body) if raw is not None else {}


def _retry_after(answer: Mapping[str, Any]) -> float | None:
    """ResponseParameters.retry_after: seconds to wait before the request may be repeated."""
    params = answer.get("parameters")
    value = params.get("retry_after") if isinstance(params, dict) else None
    return float(value) if isinstance(value, int | float) and value >= 0 else None


def _failure(exc: FetchError, answer: Mapping[str, Any], part: Part,
             redact: Callable[[str], str]) -> tuple[str, str]:
    """What a failed request means for the part (see the module docstring)."""
    said = answer.get("description")
    detail = redact(f"{part.method}: {said or exc}")
    if exc.status in _REFUSED:
        return "refused", detail
    if exc.status == 429 or not exc.maybe_received:
        return "failed", detail  # the API did not take it: the next run tries again
    return "unknown", detail + "; it may have been posted: not reposted without --force"


def _outcome(channel: str, chat: str, tally: _Tally) -> Outcome:
    troubled = {**tally.refused, **tally.failed, **tally.unknown}
    words = [f"{len(tally.posted)} posted"]
    for label, group in (("refused", tally.refused), ("failed (will retry next time)",
                                                      tally.failed),
                         ("unknown (not reposted without --force)", tally.unknown)):
        if group:
            words.append(f"{len(group)} {label}")
    if tally.skipped:
        words.append(f"{len(tally.skipped)} already done earlier (use --force to post again)")
    lines = [f"  {outcome}: {key}: {why}" for outcome, group in
             (("refused", tally.refused), ("failed", tally.failed), ("unknown", tally.unknown))
             for key, why in group.items()]
    lines += [f"  skipped: {key} ({was} earlier)" for key, was in tally.skipped.items()]
    return Outcome(channel, status_of(len(tally.posted), len(troubled)),
                   f"telegram {chat}: " + ", ".join(words),
                   counts={"posted": len(tally.posted), "refused": len(tally.refused),
                           "failed": len(tally.failed), "unknown": len(tally.unknown),
                           "skipped": len(tally.skipped)},
                   needs_look=first_names(troubled), lines=tuple(lines))

