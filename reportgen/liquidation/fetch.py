"""Live I/O for the liquidation map: every request goes through the run's `reportgen.http.Http`.

One job per (venue, symbol), so a failing page costs that symbol on that venue and nothing
else; every failed request is kept as a payload with `.error` (the archive and the map's
caption name it: venue, symbol, path, error). Within a job:

- open interest first (newest page first, stopping at the first failed page, so what arrives
  is one contiguous stretch ending at the window's end); without any, the symbol's klines are
  not asked — except on OKX, whose `/api/v5/public/open-interest` then gives the current open
  interest (counted in coverage, not mapped);
- price bars: mark-price klines for the sweeps; where a page fails, last-price klines for it
  and the rest of the window (Binance asks last-price klines anyway, for the taker split);
- Hyperliquid: `metaAndAssetCtxs`, then the leaderboard's top accounts *and* the configured
  `hyperliquid_addresses` — a failed or unreadable leaderboard leaves the configured ones.

Returned payloads carry the full request in their URL so the pure parsers (and the archive)
can tell them apart: the query for GETs (these public endpoints take no keys), and for
Hyperliquid's POST /info the request body as a fragment (`…/info#type=clearinghouseState&
user=0x…`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlencode

from reportgen.errors import FetchError, ParseError
from reportgen.http import Http, RateLimiter
from reportgen.liquidation.config import INTERVAL_MS, LiqConfig
from reportgen.liquidation.parsers import (
    listed_coin,
    parse_leaderboard,
    top_addresses,
    venue_symbol,
)
from reportgen.models import RawPayload

BYBIT_OI_INTERVAL = {"5m": "5min", "15m": "15min", "30m": "30min", "1h": "1h"}
BYBIT_KLINE_INTERVAL = {"5m": "5", "15m": "15", "30m": "30", "1h": "60"}
OKX_BAR = {"5m": "5m", "15m": "15m", "30m": "30m", "1h": "1H"}
HL_WEIGHT = {"clearinghouseState": 2, "metaAndAssetCtxs": 20}
SOURCE = {"binance": "liq_binance", "bybit": "liq_bybit", "okx": "liq_okx",
          "hyperliquid": "liq_hyperliquid"}


def unreadable(venue: str, body: bytes) -> str | None:
    """Why an HTTP 200 answer of `venue` cannot be used (not JSON, an error object, no rows
    list), or None. Checked as it arrives, so a fallback is asked in its place."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"not JSON ({exc})"[:200]
    if venue == "binance":
        if isinstance(doc, dict):
            return f"error {doc.get('code')}: {doc.get('msg')}"[:200]
        return None if isinstance(doc, list) else "not a list of rows"
    if venue == "bybit":
        if not isinstance(doc, dict) or doc.get("retCode") != 0:
            return f"retCode {doc.get('retCode') if isinstance(doc, dict) else '?'}: " \
                   f"{doc.get('retMsg') if isinstance(doc, dict) else 'not an object'}"[:200]
        result = doc.get("result")
        ok = isinstance(result, dict) and isinstance(result.get("list"), list)
        return None if ok else "no result.list"
    if not isinstance(doc, dict) or str(doc.get("code")) != "0":
        return f"code {doc.get('code') if isinstance(doc, dict) else '?'}: " \
               f"{doc.get('msg') if isinstance(doc, dict) else 'not an object'}"[:200]
    return None if isinstance(doc.get("data"), list) else "no data list"


class _Job:
    """The payloads of one (venue, symbol) job, failed ones included."""

    def __init__(self, http: Http, source: str, venue: str) -> None:
        self.http, self.source, self.venue = http, source, venue
        self.out: list[RawPayload] = []

    async def get(self, url: str, params: Mapping[str, Any]) -> RawPayload | None:
        """GET under the run's policy; None (and the failure kept) when it fails or its
        answer is unreadable. The payload's URL is the one asked, query included. A timeout
        marks only this endpoint down, not the host: the fallbacks on the same host are
        other endpoints and are still asked."""
        try:
            raw = await self.http.get(self.source, url, params=params, down_scope="path")
        except FetchError as exc:
            self.out.append(_failed(self.http, self.source, f"{url}?{urlencode(params)}", exc))
            return None
        why = unreadable(self.venue, raw.body)
        if why is not None:
            self.out.append(replace(raw, error=f"unreadable answer: {why}"))
            return None
        self.out.append(raw)
        return raw

    async def pages(self, url: str, pages: Sequence[Mapping[str, Any]]) -> int:
        """Ask `pages` in order, stopping at the first failure; how many answered."""
        for n, params in enumerate(pages):
            if await self.get(url, params) is None:
                return n
        return len(pages)


def _failed(http: Http, source: str, url: str, exc: FetchError) -> RawPayload:
    """The payload of a failed request (Http attaches one; a bare error gets a stub)."""
    if isinstance(exc.raw, RawPayload):
        return replace(exc.raw, error=exc.raw.error or str(exc))
    return RawPayload(source=source, url=url, status=None, body=b"",
                      fetched_at=http.clock.now(), error=str(exc))


def _window_ms(config: LiqConfig, end: datetime) -> tuple[int, int, int]:
    step = INTERVAL_MS[config.interval]
    end_ms = int(end.timestamp() * 1000) // step * step
    return end_ms - config.lookback_days * 86_400_000 - step, end_ms, step


def _spans(start: int, stop: int, span: int) -> list[tuple[int, int]]:
    """[start, stop) cut into pages of at most `span` ms, newest first."""
    return [(t, min(t + span, stop)) for t in range(start, stop, span)][::-1]


async def _klines(job: _Job, mark: tuple[str, Sequence[Mapping[str, Any]]],
                  last: tuple[str, Sequence[Mapping[str, Any]]] | None) -> None:
    """Mark-price pages; from the first failed one on, last-price pages for the same spans
    (when `last` is None they are asked anyway, e.g. Binance's taker split)."""
    answered = await job.pages(*mark)
    if last is not None and answered < len(mark[1]):
        await job.pages(last[0], last[1][answered:])


async def fetch_binance_symbol(http: Http, config: LiqConfig, coin: str,
                               end: datetime) -> list[RawPayload]:
    """OI history (500 rows a page); last-price klines (taker split) and mark-price klines
    (1500 a page); either kind of kline stands in for the other."""
    start, stop, step = _window_ms(config, end)
    base, sym = config.binance_url, venue_symbol("binance", coin)
    job = _Job(http, SOURCE["binance"], "binance")
    oi = [{"symbol": sym, "period": config.interval, "limit": 500, "startTime": t,
           "endTime": t_end} for t, t_end in _spans(start, stop, 500 * step)]
    if not await job.pages(f"{base}/futures/data/openInterestHist", oi):
        return job.out
    kl = [{"symbol": sym, "interval": config.interval, "limit": 1500, "startTime": t,
           "endTime": t_end - 1} for t, t_end in _spans(start, stop, 1500 * step)]
    await job.pages(f"{base}/fapi/v1/klines", kl)
    await job.pages(f"{base}/fapi/v1/markPriceKlines", kl)
    return job.out


async def fetch_bybit_symbol(http: Http, config: LiqConfig, coin: str,
                             end: datetime) -> list[RawPayload]:
    """Linear OI history (200 a page, by cursor); mark-price klines (1000 a page), else
    last-price klines (`/v5/market/kline`) for the spans the mark-price ones did not give."""
    start, stop, step = _window_ms(config, end)
    base, sym = config.bybit_url, venue_symbol("bybit", coin)
    job = _Job(http, SOURCE["bybit"], "bybit")
    cursor, answered = "", 0
    for _ in range(1000):  # bounded: 30 d of 5-min rows is 44 pages
        params: dict[str, Any] = {"category": "linear", "symbol": sym,
                                  "intervalTime": BYBIT_OI_INTERVAL[config.interval],
                                  "startTime": start, "endTime": stop, "limit": 200}
        if cursor:
            # Bybit hands the cursor out already percent-encoded ("lastid%3D…"); decoded
            # here, it goes back exactly as given instead of as "lastid%253D…".
            params["cursor"] = unquote(cursor)
        raw = await job.get(f"{base}/v5/market/open-interest", params)
        if raw is None:
            break
        answered += 1
        result = json.loads(raw.body)["result"]  # checked by _Job.get
        previous, cursor = cursor, result.get("nextPageCursor") or ""
        # Stop at an empty page, and at a cursor that does not move (a misbehaving
        # upstream must not make us page a thousand times over the same rows).
        if not cursor or cursor == previous or not result.get("list"):
            break
    if not answered:
        return job.out
    pages = [{"category": "linear", "symbol": sym, "interval": BYBIT_KLINE_INTERVAL[config.interval],
              "start": t, "end": t_end - 1, "limit": 1000}
             for t, t_end in _spans(start, stop, 1000 * step)]
    await _klines(job, (f"{base}/v5/market/mark-price-kline", pages),
                  (f"{base}/v5/market/kline", pages))
    return job.out


async def fetch_okx_symbol(http: Http, config: LiqConfig, coin: str,
                           end: datetime) -> list[RawPayload]:
    """Per-instrument OI history (100 rows a page, newest first), else the current OI;
    mark-price candles, else last-price candles (`history-candles`) for the rest."""
    start, stop, step = _window_ms(config, end)
    base, inst = config.okx_url, venue_symbol("okx", coin)
    job = _Job(http, SOURCE["okx"], "okx")
    ends = list(range(stop, start, -100 * step))
    oi = [{"instId": inst, "period": OKX_BAR[config.interval], "end": t, "limit": 100}
          for t in ends]
    if not await job.pages(f"{base}/api/v5/rubik/stat/contracts/open-interest-history", oi):
        # No history: the current open interest still counts in the coverage.
        await job.get(f"{base}/api/v5/public/open-interest", {"instType": "SWAP", "instId": inst})
        return job.out
    candles = [{"instId": inst, "bar": OKX_BAR[config.interval], "after": t, "limit": 100}
               for t in ends]
    await _klines(job, (f"{base}/api/v5/market/history-mark-price-candles", candles),
                  (f"{base}/api/v5/market/history-candles", candles))
    return job.out


async def _hl_post(http: Http, url: str, body: dict[str, str],
                   limiter: RateLimiter) -> RawPayload:
    """POST /info under the weight budget; a failure comes back as its payload (`.error`)."""
    await limiter.take(HL_WEIGHT.get(body["type"], 20))
    shown = f"{url}#{urlencode(body)}"
    try:
        raw = await http.post(SOURCE["hyperliquid"], url, json=body,
                              idempotent=True)  # /info is a read
    except FetchError as exc:
        return replace(_failed(http, SOURCE["hyperliquid"], shown, exc), url=shown)
    return replace(raw, url=shown)


async def _leaderboard(http: Http, config: LiqConfig) -> tuple[RawPayload, list[str]]:
    """The leaderboard's payload and its top accounts ([] when it failed or is unreadable)."""
    url = config.hyperliquid_leaderboard_url
    try:
        board = await http.get(SOURCE["hyperliquid"], url)
    except FetchError as exc:
        return _failed(http, SOURCE["hyperliquid"], url, exc), []
    try:
        rows = parse_leaderboard(json.loads(board.body))
    except (ValueError, TypeError, KeyError, ParseError) as exc:
        error = f"leaderboard unreadable ({type(exc).__name__}: {exc})"[:300]
        return replace(board, error=error), []
    return board, top_addresses(rows, config.leaderboard_top_n,
                                config.leaderboard_min_account_value)


async def fetch_hyperliquid(http: Http, config: LiqConfig) -> list[RawPayload]:
    """metaAndAssetCtxs, then clearinghouseState of the configured accounts plus the
    leaderboard's top N, concurrently under a semaphore and the weight budget. Without the
    venue's marks no account is asked; without the leaderboard the configured ones are."""
    url = f"{config.hyperliquid_url}/info"
    limiter = RateLimiter(config.hyperliquid_weight_per_minute)
    meta = await _hl_post(http, url, {"type": "metaAndAssetCtxs"}, limiter)
    out = [meta]
    if meta.error is not None:
        return out
    addresses = list(config.hyperliquid_addresses)
    if config.leaderboard_top_n:
        board, top = await _leaderboard(http, config)
        out.append(board)
        addresses += top
    addresses = list(dict.fromkeys(addresses))
    sem = asyncio.Semaphore(config.hyperliquid_concurrency)

    async def one(user: str) -> RawPayload:
        async with sem:
            return await _hl_post(http, url, {"type": "clearinghouseState", "user": user},
                                  limiter)

    out += await asyncio.gather(*(one(a) for a in addresses))
    return out


VENUE_JOBS = {"binance": fetch_binance_symbol, "bybit": fetch_bybit_symbol,
              "okx": fetch_okx_symbol}


async def fetch_all(http: Http, config: LiqConfig, end: datetime,
                    symbols: list[str] | None = None) -> dict[str, list[RawPayload]]:
    """Payloads of every enabled venue, keyed by source name (liq_binance, …): one job per
    (venue, symbol), all concurrent; failed requests are in the lists with `.error` set."""
    symbols = symbols or config.symbols
    jobs: list[tuple[str, Any]] = [(SOURCE[v], VENUE_JOBS[v](http, config, coin, end))
                                   for v in config.venues for coin in symbols
                                   if listed_coin(v, coin) is not None]
    if config.hyperliquid:
        jobs.append((SOURCE["hyperliquid"], fetch_hyperliquid(http, config)))
    results = await asyncio.gather(*(job for _, job in jobs))
    out: dict[str, list[RawPayload]] = {}
    for (source, _), payloads in zip(jobs, results, strict=True):
        out.setdefault(source, []).extend(payloads)
    return out
