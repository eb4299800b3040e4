"""Realised liquidations, last 24 h: what Binance, Bybit and OKX reported liquidating.

The figures are read from what the recorder (`reportgen liqrecord`, or `reportgen schedule`
beside the daily job; see `reportgen.realised.recorder`) archived from the venues' public
streams, plus OKX's REST `GET /api/v5/public/liquidation-orders` for what its stream missed
(it keeps recent orders only; what it reaches is used, filtered to the window).

The window: the 24 h ending at the report day's cut-off, or at the fetch when the report is
made during the day (`reportgen schedule` at 07:00 shows 07:00 the day before → 07:00). A
backdated report uses only the frames recorded for its window; with none, the section says
"nothing recorded for that window", never today's figures.

`fetch` bundles the archived frames per venue into one payload (JSON lines, each a frame as
received; the window in the `x-reportgen-window` header), with OKX's REST pages beside them;
`parse` (pure) reads them with `reportgen.realised.frames` and sums them
(`reportgen.realised.tally`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from reportgen.clock import day_end
from reportgen.errors import FetchError, ParseError
from reportgen.figures import DERIVATIVES, FigureSection, Indicator
from reportgen.models import LiquidationFrame, RawPayload
from reportgen.realised.frames import VENUE_NAMES, base_coin, parse_frame
from reportgen.realised.settings import RealisedSettings
from reportgen.realised.tally import Frame, RealisedDay, VenueTally, tally
from reportgen.sources.base import FetchContext, ParseContext, Source
from reportgen.units import USD, grouped, price

SECTION = "liquidation_realised"
TITLE = "Realised liquidations, last 24 h"
WINDOW = timedelta(hours=24)
# Frames are selected a little beyond the window: one frame may carry events either side.
MARGIN = timedelta(minutes=1)
REST_PATH = "/api/v5/public/liquidation-orders"
REST_LIMIT = 100
WINDOW_HEADER = "x-reportgen-window"
VENUE_HEADER = "x-reportgen-venue"
BUNDLE_TYPE = "application/x-ndjson"
UNDERCOUNT = ("Binance pushes at most one liquidation per symbol per second (the latest), so "
              "its figure, and the total, undercount.")


def window_for(end: datetime) -> tuple[datetime, datetime]:
    return end - WINDOW, end


def _window_text(start: datetime, end: datetime) -> str:
    return f"{start.isoformat()}/{end.isoformat()}"


def bundle(venue: str, frames: list[LiquidationFrame], start: datetime, end: datetime,
           now: datetime) -> RawPayload:
    """One venue's recorded frames as one payload: JSON lines, one frame a line."""
    lines = [f.body.replace("\r", " ").replace("\n", " ") for f in frames]
    return RawPayload(
        source=SECTION, url=frames[0].url, status=None,
        body=("\n".join(lines) + "\n").encode("utf-8"), fetched_at=now,
        headers={"content-type": BUNDLE_TYPE, VENUE_HEADER: venue,
                 WINDOW_HEADER: _window_text(start, end), "x-reportgen-frames": str(len(lines))})


def _share(part: float, whole: float) -> str | None:
    return f"{part / whole * 100:.0f}% of the total" if whole > 0 else None


def _venue(name: str) -> Indicator[RealisedDay]:
    def value(m: RealisedDay) -> float | None:
        found = m.venue(name)
        return None if found is None else found.usd

    def note(m: RealisedDay) -> str | None:
        found: VenueTally | None = m.venue(name)
        if found is None:
            return None
        longs = f" · {found.long_usd / found.usd * 100:.0f}% longs" if found.usd > 0 else ""
        return f"{grouped(found.orders, 0)} orders{longs}"

    return Indicator(VENUE_NAMES[name], RealisedDay, "venues", value, USD, section=SECTION,
                     change="none", note=note,
                     missing=f"nothing recorded from {VENUE_NAMES[name]} for that window")


def _largest(m: RealisedDay) -> str | None:
    """The largest single order, as a sentence (under the cards: it would make a third row)."""
    e = m.largest
    if e is None:
        return None
    when = e.time.astimezone(m.end.tzinfo)
    return (f"Largest single order: {USD.format(e.notional_usd, 0)}, {VENUE_NAMES[e.venue]} "
            f"{e.symbol}, a {e.side} of {grouped(e.quantity, 3)} {base_coin(e.symbol)} "
            f"liquidated at {price(e.price)}, {when:%H:%M} {when.tzname() or ''}.").replace(
                " .", ".")


def _method(m: RealisedDay) -> str:
    zone = m.end.tzname() or "UTC"
    text = (f"Forced liquidations the venues reported from {m.start:%Y-%m-%d %H:%M} to "
            f"{m.end:%Y-%m-%d %H:%M} {zone}, summed at the price each gave (Binance: average "
            "fill; Bybit, OKX: bankruptcy price), by the side of the position liquidated. "
            + UNDERCOUNT)
    left = []
    if m.rejected_frames:
        left.append(f"{m.rejected_frames} unreadable frame(s)")
    if m.skipped:
        left.append(f"{m.skipped} OKX order(s) of instruments without a known contract value")
    if left:
        text += " Left out: " + "; ".join(left) + "."
    return text


class RealisedLiquidationsSource(Source[RealisedSettings]):
    name = SECTION
    title = "Realised liquidations (Binance, Bybit, OKX streams)"
    credit = "Binance, Bybit and OKX public liquidation streams, as recorded"
    history = ("the frames the recorder archived for the window; OKX's REST "
               "liquidation-orders for recent days")
    supports_past = True
    required = False
    order = 61  # right after the liquidation map (60)
    settings_model = RealisedSettings
    model = RealisedDay
    figure_sections = (FigureSection(SECTION, TITLE), DERIVATIVES)
    indicators = (
        Indicator("Total liquidated", RealisedDay, "total_usd", lambda m: m.total_usd, USD,
                  section=SECTION, change="none", essential=True,
                  note=lambda m: f"{grouped(m.orders, 0)} orders", detail=_largest),
        Indicator("Longs liquidated", RealisedDay, "long_usd", lambda m: m.long_usd, USD,
                  section=SECTION, change="none", note=lambda m: _share(m.long_usd, m.total_usd),
                  detail=_method),
        Indicator("Shorts liquidated", RealisedDay, "short_usd", lambda m: m.short_usd, USD,
                  section=SECTION, change="none",
                  note=lambda m: _share(m.short_usd, m.total_usd)),
        _venue("binance"), _venue("bybit"), _venue("okx"),
        # The same figures in the derivatives line (read from the same tally).
        Indicator("Longs liquidated, 24 h", RealisedDay, "long_usd", lambda m: m.long_usd, USD,
                  section=DERIVATIVES.id, change="none",
                  note=lambda m: _share(m.long_usd, m.total_usd)),
        Indicator("Shorts liquidated, 24 h", RealisedDay, "short_usd", lambda m: m.short_usd,
                  USD, section=DERIVATIVES.id, change="none",
                  note=lambda m: _share(m.short_usd, m.total_usd)),
    )

    def probe_url(self) -> str | None:
        family = self.settings.okx_rest_families[:1]
        if not family:
            return None
        return (f"{self.settings.okx_url.rstrip('/')}{REST_PATH}?instType=SWAP"
                f"&instFamily={family[0]}&state=filled&limit=1")

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        now = ctx.http.clock.now()
        start, end = window_for(min(day_end(ctx.report_date, ctx.config.timezone), now))
        frames = (ctx.recorded.liquidation_frames(start - MARGIN, end + MARGIN)
                  if ctx.recorded is not None else [])
        raws = []
        for venue in VENUE_NAMES:
            mine = [f for f in frames if f.venue == venue]
            if mine:
                raws.append(bundle(venue, mine, start, end, now))
        if end >= now - timedelta(days=self.settings.okx_rest_days):
            for family in self.settings.okx_rest_families:
                raws += await self._okx_rest(ctx, family, start, end)
        if not any(r.error is None for r in raws):
            failed = "; ".join(f"OKX REST: {r.error}" for r in raws if r.error)
            error = FetchError(nothing_recorded(start, end) + (f" ({failed})" if failed else ""))
            error.raws = list(raws)
            raise error
        return raws

    async def _okx_rest(self, ctx: FetchContext, family: str, start: datetime,
                        end: datetime) -> list[RawPayload]:
        """OKX's filled liquidation orders of one instrument family, newest first, paged
        back (`after`: older than a time) until the window's start or the page limit."""
        out: list[RawPayload] = []
        after: int | None = None
        base = f"{self.settings.okx_url.rstrip('/')}{REST_PATH}"
        for _ in range(self.settings.okx_rest_pages):
            params: dict[str, str | int] = {"instType": "SWAP", "instFamily": family,
                                            "state": "filled", "limit": REST_LIMIT}
            if after is not None:
                params["after"] = after
            try:
                raw = await ctx.http.get(self.name, base, params=params)
            except FetchError as exc:
                if isinstance(exc.raw, RawPayload):
                    out.append(exc.raw)
                break  # the stream's frames still count; the archive keeps the failure
            headers = {**raw.headers, VENUE_HEADER: "okx",
                       WINDOW_HEADER: _window_text(start, end)}
            out.append(replace(raw, headers=headers))
            parsed = parse_frame("okx", raw.body, self.settings.okx_contract_values)
            stamps = [int(e.time.timestamp() * 1000) for e in parsed.events]
            if parsed.kind != "events" or len(stamps) + parsed.skipped < REST_LIMIT or not stamps:
                break
            oldest = min(stamps)
            if oldest < start.timestamp() * 1000 or oldest == after:
                break
            after = oldest
        return out

    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> RealisedDay:
        return parse_realised(raws, self.settings)


def parse_realised(raws: list[RawPayload], settings: RealisedSettings) -> RealisedDay:
    """The window's figures from bundled stream frames and OKX REST pages (pure)."""
    window = next((r.headers[WINDOW_HEADER] for r in raws if WINDOW_HEADER in r.headers), None)
    if window is None:
        raise ParseError(f"{SECTION}: no payload names its window ({WINDOW_HEADER})")
    try:
        start, end = (datetime.fromisoformat(part) for part in window.split("/"))
    except ValueError:
        raise ParseError(f"{SECTION}: window {window!r} is not two ISO times") from None
    frames: list[Frame] = []
    for raw in raws:
        venue = raw.headers.get(VENUE_HEADER, "")
        if raw.error is not None or venue not in VENUE_NAMES:
            continue
        if raw.headers.get("content-type") == BUNDLE_TYPE:
            frames += [Frame(venue, line) for line in raw.text().splitlines() if line.strip()]
        else:
            frames.append(Frame(venue, raw.text()))
    day = tally(frames, start, end, contract_values=settings.okx_contract_values)
    if not day.venues:
        raise ParseError(nothing_recorded(start, end))
    return day


def nothing_recorded(start: datetime, end: datetime) -> str:
    zone = end.tzname() or "UTC"
    return (f"nothing recorded for that window ({start:%Y-%m-%d %H:%M} to "
            f"{end:%Y-%m-%d %H:%M} {zone}): the recorder (`reportgen liqrecord`, or "
            "`reportgen schedule`) was not running then, and OKX's REST answer does not "
            "reach it")
