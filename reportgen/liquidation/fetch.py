"""Live I/O for the liquidation map: every request goes through the run's `reportgen.http.Http`.

Returned payloads carry the full request in their URL so the pure parsers (and the archive)
can tell them apart: the query for GETs (these public endpoints take no keys), and for
Hyperliquid's POST /info the request body as a fragment (`…/info#type=clearinghouseState&
user=0x…`). Failed account fetches are kept (with `.error`) so the archive shows them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from reportgen.errors import FetchError, ParseError
from reportgen.http import Http, RateLimiter
from reportgen.liquidation.config import INTERVAL_MS, LiqConfig
from reportgen.liquidation.parsers import parse_leaderboard, top_addresses, venue_symbol
from reportgen.models import RawPayload

BYBIT_OI_INTERVAL = {"5m": "5min", "15m": "15min", "30m": "30min", "1h": "1h"}
BYBIT_KLINE_INTERVAL = {"5m": "5", "15m": "15", "30m": "30", "1h": "60"}
OKX_BAR = {"5m": "5m", "15m": "15m", "30m": "30m", "1h": "1H"}
HL_WEIGHT = {"clearinghouseState": 2, "metaAndAssetCtxs": 20}


def _with_query(raw: RawPayload, url: str, params: Mapping[str, Any]) -> RawPayload:
    return replace(raw, url=f"{url}?{urlencode(params)}")


async def _get(http: Http, source: str, url: str,
               params: Mapping[str, Any]) -> RawPayload:
    raw = await http.get(source, url, params=params)
    return _with_query(raw, url, params)


def _window_ms(config: LiqConfig, end: datetime) -> tuple[int, int, int]:
    step = INTERVAL_MS[config.interval]
    end_ms = int(end.timestamp() * 1000) // step * step
    return end_ms - config.lookback_days * 86_400_000 - step, end_ms, step


def _spans(start: int, stop: int, span: int) -> list[tuple[int, int]]:
    """[start, stop) cut into consecutive pages of at most `span` ms."""
    return [(t, min(t + span, stop)) for t in range(start, stop, span)]


async def fetch_binance(http: Http, config: LiqConfig, symbols: list[str],
                        end: datetime) -> list[RawPayload]:
    """OI history (500 rows a page), klines and mark-price klines (1500 a page)."""
    start, stop, step = _window_ms(config, end)
    base, out = config.binance_url, []
    for coin in symbols:
        sym = venue_symbol("binance", coin)
        for t, t_end in _spans(start, stop, 500 * step):
            out.append(await _get(http, "liq_binance", f"{base}/futures/data/openInterestHist",
                                  {"symbol": sym, "period": config.interval, "limit": 500,
                                   "startTime": t, "endTime": t_end}))
        for path in ("/fapi/v1/klines", "/fapi/v1/markPriceKlines"):
            for t, t_end in _spans(start, stop, 1500 * step):
                out.append(await _get(http, "liq_binance", f"{base}{path}",
                                      {"symbol": sym, "interval": config.interval, "limit": 1500,
                                       "startTime": t, "endTime": t_end - 1}))
    return out


async def fetch_bybit(http: Http, config: LiqConfig, symbols: list[str],
                      end: datetime) -> list[RawPayload]:
    """Linear OI history (200 a page, cursor) and mark-price klines (1000 a page)."""
    start, stop, step = _window_ms(config, end)
    base, out = config.bybit_url, []
    for coin in symbols:
        sym = venue_symbol("bybit", coin)
        cursor = ""
        for _ in range(1000):  # bounded: 30 d of 5-min rows is 44 pages
            params: dict[str, Any] = {"category": "linear", "symbol": sym,
                                      "intervalTime": BYBIT_OI_INTERVAL[config.interval],
                                      "startTime": start, "endTime": stop, "limit": 200}
            if cursor:
                params["cursor"] = cursor
            raw = await _get(http, "liq_bybit", f"{base}/v5/market/open-interest", params)
            out.append(raw)
            try:
                result = json.loads(raw.body).get("result") or {}
            except (ValueError, AttributeError):
                break  # an unreadable page is kept; the parser reports it
            previous, cursor = cursor, result.get("nextPageCursor") or ""
            # Stop at an empty page, and at a cursor that does not move (a misbehaving
            # upstream must not make us page a thousand times over the same rows).
            if not cursor or cursor == previous or not result.get("list"):
                break
        for t, t_end in _spans(start, stop, 1000 * step):
            out.append(await _get(http, "liq_bybit", f"{base}/v5/market/mark-price-kline",
                                  {"category": "linear", "symbol": sym,
                                   "interval": BYBIT_KLINE_INTERVAL[config.interval],
                                   "start": t, "end": t_end - 1, "limit": 1000}))
    return out


async def fetch_okx(http: Http, config: LiqConfig, symbols: list[str],
                    end: datetime) -> list[RawPayload]:
    """Per-instrument OI history and mark-price candles, 100 rows a page, newest first."""
    start, stop, step = _window_ms(config, end)
    base, out = config.okx_url, []
    for coin in symbols:
        inst = venue_symbol("okx", coin)
        t = stop
        while t > start:
            out.append(await _get(
                http, "liq_okx", f"{base}/api/v5/rubik/stat/contracts/open-interest-history",
                {"instId": inst, "period": OKX_BAR[config.interval], "end": t, "limit": 100}))
            out.append(await _get(
                http, "liq_okx", f"{base}/api/v5/market/history-mark-price-candles",
                {"instId": inst, "bar": OKX_BAR[config.interval], "after": t, "limit": 100}))
            t -= 100 * step
    return out


async def _hl_post(http: Http, url: str, body: dict[str, str],
                   limiter: RateLimiter) -> RawPayload:
    await limiter.take(HL_WEIGHT.get(body["type"], 20))
    raw = await http.post("liq_hyperliquid", url, json=body)
    return replace(raw, url=f"{url}#{urlencode(body)}")


async def fetch_hyperliquid(http: Http, config: LiqConfig) -> list[RawPayload]:
    """metaAndAssetCtxs, the leaderboard, then clearinghouseState of the configured accounts
    plus the leaderboard's top N, concurrently under a semaphore and the weight budget."""
    url = f"{config.hyperliquid_url}/info"
    limiter = RateLimiter(config.hyperliquid_weight_per_minute)
    out = [await _hl_post(http, url, {"type": "metaAndAssetCtxs"}, limiter)]
    addresses = list(config.hyperliquid_addresses)
    if config.leaderboard_top_n:
        board = await http.get("liq_hyperliquid", config.hyperliquid_leaderboard_url)
        out.append(board)
        try:
            rows = parse_leaderboard(json.loads(board.body))
        except (ValueError, TypeError, KeyError, ParseError) as exc:
            # Without the leaderboard there are no accounts to ask: fail this venue only,
            # keeping the unreadable body for the archive.
            err = FetchError(f"Hyperliquid leaderboard unreadable ({type(exc).__name__}: {exc})"[:300])
            err.raw = replace(board, error=str(err))
            raise err from None
        addresses += top_addresses(rows, config.leaderboard_top_n,
                                   config.leaderboard_min_account_value)
    addresses = list(dict.fromkeys(addresses))
    sem = asyncio.Semaphore(config.hyperliquid_concurrency)

    async def one(user: str) -> RawPayload:
        async with sem:
            try:
                return await _hl_post(http, url, {"type": "clearinghouseState", "user": user},
                                      limiter)
            except FetchError as exc:
                failed = exc.raw
                assert isinstance(failed, RawPayload)
                return replace(failed, url=f"{url}#type=clearinghouseState&user={user}")

    out += await asyncio.gather(*(one(a) for a in addresses))
    return out


async def fetch_all(http: Http, config: LiqConfig, end: datetime,
                    symbols: list[str] | None = None) -> dict[str, list[RawPayload]]:
    """Payloads of every enabled venue, keyed by source name (liq_binance, …). A venue that
    fails is left out, with its error payload under `<source>_error` for the archive."""
    symbols = symbols or config.symbols
    jobs: dict[str, Any] = {}
    if "binance" in config.venues:
        jobs["liq_binance"] = fetch_binance(http, config, symbols, end)
    if "bybit" in config.venues:
        jobs["liq_bybit"] = fetch_bybit(http, config, symbols, end)
    if "okx" in config.venues:
        jobs["liq_okx"] = fetch_okx(http, config, symbols, end)
    if config.hyperliquid:
        jobs["liq_hyperliquid"] = fetch_hyperliquid(http, config)
    results = await asyncio.gather(*jobs.values(), return_exceptions=True)
    out: dict[str, list[RawPayload]] = {}
    for name, res in zip(jobs, results, strict=True):
        if isinstance(res, FetchError):
            out[f"{name}_error"] = [res.raw] if isinstance(res.raw, RawPayload) else []
        elif isinstance(res, BaseException):
            raise res
        else:
            out[name] = res
    return out
