"""Pure parsers of the recorded payload shapes (Binance, Bybit, OKX, Hyperliquid).

Shapes follow the real recordings in tests/fixtures/liquidation/ (see PROVENANCE.md there):
numbers arrive as strings, Bybit and OKX lists are newest first, all times are ms UTC.
Payloads are told apart by URL path (plus the query for the symbol); Hyperliquid's POST
bodies by their shape, since every request goes to the same `/info` URL.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from reportgen.errors import ParseError
from reportgen.liquidation.model import MarketSeries
from reportgen.liquidation.venues import bybit_one_sided
from reportgen.models import RawPayload


def _fail(raw: RawPayload | None, message: str) -> ParseError:
    err = ParseError(message)
    err.raw = raw
    return err


def load_json(raw: RawPayload) -> Any:
    """The JSON body of `raw`, or ParseError naming the URL."""
    try:
        return json.loads(raw.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(raw, f"{raw.source}: {raw.url} is not JSON ({exc})") from None


def request_params(raw: RawPayload) -> dict[str, str]:
    """Query (GET) or fragment (our record of a POST body) parameters of `raw.url`."""
    parts = urlsplit(raw.url)
    out = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    out.update({k: v[-1] for k, v in parse_qs(parts.fragment).items()})
    return out


def base_coin(venue_symbol: str) -> str:
    """'BTCUSDT' / 'BTC-USDT-SWAP' / 'BTC' -> 'BTC'."""
    s = venue_symbol.upper()
    if "-" in s:
        return s.split("-")[0]
    for quote in ("USDT", "USDC"):
        if s.endswith(quote) and len(s) > len(quote):
            return s[: -len(quote)]
    return s


# Coins a venue lists under another name at the same price scale (None: not listed at that
# scale). Hyperliquid's kPEPE is 1,000 PEPE, as Binance's and Bybit's 1000PEPEUSDT; OKX
# lists PEPE-USDT-SWAP, priced per PEPE (1,000 times lower), so it has no kPEPE market.
VENUE_NAMES: dict[str, dict[str, str | None]] = {
    "KPEPE": {"binance": "1000PEPE", "bybit": "1000PEPE", "okx": None},
}


def listed_coin(venue: str, coin: str) -> str | None:
    """`coin` (as the map names it, e.g. KPEPE) as `venue` spells its base (1000PEPE), or
    None when the venue lists no market of it at the same price scale."""
    names = VENUE_NAMES.get(coin.upper(), {})
    return names[venue] if venue in names else coin.upper()


def venue_symbol(venue: str, coin: str) -> str:
    """The linear USDT perpetual of `coin` on `venue` (see `listed_coin`)."""
    coin = listed_coin(venue, coin) or coin.upper()
    if venue == "okx":
        return f"{coin}-USDT-SWAP"
    if venue == "hyperliquid":
        return coin
    return f"{coin}USDT"


# ---------------------------------------------------------------- row containers


@dataclass
class Bars:
    """Kline rows (ascending): open time, OHLC, taker-buy share (NaN when unknown)."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    buy_share: np.ndarray


@dataclass
class OiRows:
    """Open-interest rows (ascending): time and one-sided OI in base coin."""

    ts: np.ndarray
    oi: np.ndarray


def _bars(rows: list[list[Any]], buy_col: int | None, vol_col: int | None) -> Bars:
    by_ts: dict[int, list[Any]] = {int(r[0]): r for r in rows}  # pages overlap: dedupe
    ordered = [by_ts[k] for k in sorted(by_ts)]
    a = np.array([[float(x) for x in r[1:5]] for r in ordered]).reshape(-1, 4)
    share = np.full(len(ordered), np.nan)
    if buy_col is not None and vol_col is not None:
        vol = np.array([float(r[vol_col]) for r in ordered])
        buy = np.array([float(r[buy_col]) for r in ordered])
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(vol > 0, buy / vol, np.nan)
    return Bars(np.array(sorted(by_ts), dtype=np.int64), a[:, 0], a[:, 1], a[:, 2], a[:, 3],
                share)


def _oi(pairs: list[tuple[int, float]]) -> OiRows:
    by_ts = dict(pairs)
    keys = sorted(by_ts)
    return OiRows(np.array(keys, dtype=np.int64), np.array([by_ts[k] for k in keys], dtype=float))


# ---------------------------------------------------------------- per venue

INTERVAL_WORDS = {"5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000,
                  "1H": 3_600_000, "5": 300_000, "15": 900_000, "30": 1_800_000,
                  "60": 3_600_000, "5min": 300_000, "15min": 900_000, "30min": 1_800_000}
# Where a payload's symbol sits in its request, per venue.
_SYMBOL_PARAM = {"binance": "symbol", "bybit": "symbol", "okx": "instId"}

Kinds = dict[str, list[Any]]


def _binance_one(raw: RawPayload, path: str, kinds: Kinds) -> None:
    body = load_json(raw)
    if isinstance(body, dict) and "code" in body and "msg" in body:
        raise _fail(raw, f"binance: error {body['code']}: {body['msg']}")
    if path.endswith("/futures/data/openInterestHist"):
        kinds["oi"] += [(int(row["timestamp"]), float(row["sumOpenInterest"])) for row in body]
    elif path.endswith("/fapi/v1/markPriceKlines"):
        kinds["mark"] += list(body)
    elif path.endswith("/fapi/v1/klines"):
        kinds["last"] += list(body)


def ms_timestamp(value: Any) -> int:
    """A row's time in ms. Real Bybit pages have carried a 10-digit seconds value on their
    oldest row (BTCUSDT and ETHUSDT probes of 2026-09-15): a 10-digit value is read as
    seconds (in ms it would fall in January 1970)."""
    ts = int(value)
    return ts * 1000 if 10**9 <= ts < 10**10 else ts


def _bybit_one(raw: RawPayload, path: str, kinds: Kinds, halve: bool) -> None:
    body = load_json(raw)
    if not isinstance(body, dict) or body.get("retCode") != 0:
        msg = body.get("retMsg") if isinstance(body, dict) else "not an object"
        raise _fail(raw, f"bybit: {raw.url} answered {msg!r}")
    result = body["result"]
    if path.endswith("/v5/market/open-interest"):
        for row in result["list"]:
            single = row.get("singleOpenInterest")
            oi = bybit_one_sided(float(row["openInterest"]),
                                 float(single) if single is not None else None, halve=halve)
            kinds["oi"].append((ms_timestamp(row["timestamp"]), oi))
    elif path.endswith("/v5/market/mark-price-kline"):
        kinds["mark"] += list(result["list"])
    elif path.endswith("/v5/market/kline"):
        kinds["last"] += list(result["list"])


def _okx_one(raw: RawPayload, path: str, kinds: Kinds, ct_val: float | None) -> None:
    body = load_json(raw)
    if not isinstance(body, dict) or str(body.get("code")) != "0":
        msg = body.get("msg") if isinstance(body, dict) else "not an object"
        raise _fail(raw, f"okx: {raw.url} answered {msg!r}")
    if path.endswith("/rubik/stat/contracts/open-interest-history"):
        # rows [ts, oi (contracts), oiCcy (coin), oiUsd]; oiCcy is already in coin
        kinds["oi"] += [(int(row[0]), float(row[2])) for row in body["data"]]
    elif path.endswith("/public/open-interest"):
        # the current open interest: oiCcy (coin) when given, else contracts × ctVal
        for row in body["data"]:
            coins = row.get("oiCcy")
            if coins is None:
                if ct_val is None:
                    raise _fail(raw, f"okx: {raw.url} gives contracts and no contract value "
                                     "is configured (okx_contract_value)")
                coins = float(row["oi"]) * ct_val
            kinds["oi_now"].append((int(row["ts"]), float(coins)))
    elif "mark-price-candles" in path:
        kinds["mark"] += list(body["data"])
    elif path.endswith(("/market/candles", "/market/history-candles")):
        kinds["last"] += list(body["data"])


def align(venue: str, coin: str, oi: OiRows, bars: Bars, buy: Bars | None,
          interval_ms: int | None = None, is_mark: np.ndarray | None = None) -> MarketSeries:
    """Pair each bar with the OI reading taken at its close: the last reading in
    (open, close]. A bar without one gets NaN (unknown), never an older reading carried
    forward; the reading at the first bar's open is kept as `oi_before`."""
    if len(bars.ts) == 0:
        raise _fail(None, f"{venue} {coin}: no price bars")
    if interval_ms is None:
        interval_ms = int(np.median(np.diff(bars.ts))) if len(bars.ts) > 1 else 300_000

    def reading_at(t: np.ndarray) -> np.ndarray:
        if not len(oi.ts):
            return np.full(len(t), np.nan)
        idx = np.searchsorted(oi.ts, t, side="right") - 1
        found = oi.oi[np.clip(idx, 0, None)]
        fresh = (idx >= 0) & (oi.ts[np.clip(idx, 0, None)] > t - interval_ms)
        return np.where(fresh, found, np.nan)

    share = bars.buy_share
    if buy is not None and len(buy.ts):
        j = np.searchsorted(buy.ts, bars.ts)
        j = np.clip(j, 0, len(buy.ts) - 1)
        share = np.where(buy.ts[j] == bars.ts, buy.buy_share[j], np.nan)
    return MarketSeries(venue=venue, symbol=coin, ts_ms=bars.ts,
                        oi=reading_at(bars.ts + interval_ms), open=bars.open, high=bars.high,
                        low=bars.low, close=bars.close, taker_buy_share=share,
                        oi_before=float(reading_at(bars.ts[:1])[0]),
                        interval_ms=interval_ms,
                        is_mark=is_mark if is_mark is not None else np.ones(len(bars.ts), bool))


_VENUE_COLS: dict[str, tuple[int | None, int | None]] = {
    "binance": (9, 5),   # taker buy base volume / volume
    "bybit": (None, None),
    "okx": (None, None),
}


@dataclass
class VenueData:
    """What one venue's payloads give for one symbol, and what went wrong on the way."""

    venue: str
    coin: str
    series: MarketSeries | None = None
    oi_now: tuple[int, float] | None = None   # (ms, coins): current OI without its history
    oi: OiRows | None = None  # the open-interest history as read, with or without bars
    problems: list[str] = field(default_factory=list)  # "<error> on <path>", in request order


def _raw_coin(venue: str, raw: RawPayload) -> str:
    """The coin a payload is about: from its request, else from its body (an answer stored
    without its query still names its symbol: Bybit's `result.symbol`, Binance's OI rows)."""
    asked = request_params(raw).get(_SYMBOL_PARAM[venue])
    if asked:
        return base_coin(asked)
    if raw.error is not None:
        return ""
    try:
        body = json.loads(raw.body)
    except (ValueError, UnicodeDecodeError):
        return ""
    if isinstance(body, dict) and isinstance(body.get("result"), dict):
        return base_coin(str(body["result"].get("symbol") or ""))
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return base_coin(str(body[0].get("symbol") or ""))
    return ""


def _interval_of(raws: list[RawPayload]) -> int | None:
    """The bar length the requests asked for (a one-bar answer cannot show it)."""
    for raw in raws:
        params = request_params(raw)
        for key in ("interval", "period", "bar", "intervalTime"):
            if params.get(key) in INTERVAL_WORDS:
                return INTERVAL_WORDS[params[key]]
    return None


def _path(raw: RawPayload) -> str:
    return urlsplit(raw.url).path


def api_path(url: str) -> str:
    """The venue's API path of `url` ("/api/v5/…", "/fapi/v1/…"), whatever host or prefix
    serves it (a proxy, or the test suite's loopback upstream)."""
    path = urlsplit(url).path
    for marker in ("/api/v5/", "/v5/", "/fapi/", "/futures/"):
        at = path.find(marker)
        if at >= 0:
            return path[at:]
    return path


def problem(raw: RawPayload) -> str:
    """Why a venue's answer is unusable, with its API path ("HTTP 500 on /fapi/v1/…")."""
    why = raw.error or f"answered HTTP {raw.status}"
    return f"{why} on {api_path(raw.url)}"


def parse_venue(venue: str, raws: list[RawPayload], coin: str, *,
                bybit_open_interest: str = "halve",
                okx_ct_val: float | None = None, strict: bool = False) -> VenueData:
    """One symbol's series from one venue's payloads, each payload on its own: a failed or
    unreadable one is named in `problems` and the others still count. Price bars are the
    mark-price ones where present, else last-price ones (per bar)."""
    out = VenueData(venue, coin)
    listed = listed_coin(venue, coin)
    mine = [r for r in raws if _raw_coin(venue, r) == listed]
    kinds: Kinds = defaultdict(list)
    for raw in mine:
        if raw.error is not None or raw.status not in (None, 200):
            out.problems.append(problem(raw))
            continue
        path = _path(raw)
        try:
            if venue == "binance":
                _binance_one(raw, path, kinds)
            elif venue == "bybit":
                _bybit_one(raw, path, kinds, bybit_open_interest == "halve")
            else:
                _okx_one(raw, path, kinds, okx_ct_val)
        except (ParseError, KeyError, TypeError, ValueError, IndexError) as exc:
            if strict:
                if isinstance(exc, ParseError):
                    raise
                raise _fail(raw, f"{venue}: unexpected shape at {raw.url}: {exc!r}") from None
            out.problems.append(f"unreadable answer on {api_path(raw.url)} ({str(exc)[:160]})")
    if kinds["oi_now"]:
        out.oi_now = max(kinds["oi_now"])
    if kinds["oi"]:
        out.oi = _oi(kinds["oi"])
    if not kinds["oi"] or not (kinds["mark"] or kinds["last"]):
        return out  # a coin with OI but no bars (or the reverse) cannot be modelled
    buy_col, vol_col = _VENUE_COLS[venue]
    last = _bars(kinds["last"], buy_col, vol_col) if kinds["last"] else None
    # crossing tests use the mark price (a last-price wick may not liquidate); bars only the
    # last-price klines gave (a failed mark-price page) fill in
    rows = {int(r[0]): (r, False) for r in kinds["last"]}
    rows.update({int(r[0]): (r, True) for r in kinds["mark"]})
    ordered = [rows[k] for k in sorted(rows)]
    price = _bars([r for r, _ in ordered], None, None)
    is_mark = np.array([m for _, m in ordered], dtype=bool)
    out.series = align(venue, coin, _oi(kinds["oi"]), price, last, _interval_of(mine), is_mark)
    return out


def parse_market_series(venue: str, raws: list[RawPayload],
                        bybit_open_interest: str = "halve") -> dict[str, MarketSeries]:
    """Every symbol's aligned MarketSeries found in one venue's payloads (strict: the first
    unreadable payload raises ParseError). Bybit's open interest: `singleOpenInterest` where
    given, else half of `openInterest` (both sides), or `openInterest` as published with
    `bybit_open_interest="single"` (see LiqConfig)."""
    ok = [r for r in raws if r.error is None and r.status in (None, 200)]
    coins = sorted({_raw_coin(venue, r) for r in ok})
    out: dict[str, MarketSeries] = {}
    for coin in coins:  # "" gathers payloads that do not name a symbol: only errors count
        data = parse_venue(venue, ok, coin, bybit_open_interest=bybit_open_interest, strict=True)
        if data.series is not None and coin:
            out[coin] = data.series
    return out


# ---------------------------------------------------------------- Hyperliquid


@dataclass(frozen=True)
class AssetCtx:
    """One Hyperliquid perp from metaAndAssetCtxs."""

    name: str
    mark_px: float
    open_interest: float    # coins
    max_leverage: int


@dataclass(frozen=True)
class HlPosition:
    """One position from clearinghouseState."""

    user: str
    coin: str
    szi: float
    position_value: float
    liquidation_px: float | None
    leverage_type: str
    leverage: float
    entry_px: float


def parse_meta_and_asset_ctxs(body: Any) -> dict[str, AssetCtx]:
    """Perps by name from `[meta{universe, …}, ctxs]` (same index order)."""
    if not (isinstance(body, list) and len(body) == 2 and "universe" in body[0]):
        raise _fail(None, "hyperliquid: metaAndAssetCtxs is not [meta, ctxs]")
    meta, ctxs = body
    out = {}
    for asset, ctx in zip(meta["universe"], ctxs, strict=False):
        mark = ctx.get("markPx")
        if mark is None:
            continue
        out[asset["name"]] = AssetCtx(asset["name"], float(mark), float(ctx["openInterest"]),
                                      int(asset.get("maxLeverage", 0)))
    return out


def parse_clearinghouse_state(body: Any, user: str = "") -> list[HlPosition]:
    """Positions of one account; `liquidationPx: null` is kept as None (never dropped)."""
    if not isinstance(body, dict) or "assetPositions" not in body:
        raise _fail(None, "hyperliquid: clearinghouseState has no assetPositions")
    out = []
    for item in body["assetPositions"]:
        p = item["position"]
        liq = p.get("liquidationPx")
        lev = p.get("leverage") or {}
        out.append(HlPosition(
            user=user, coin=p["coin"], szi=float(p["szi"]),
            position_value=float(p["positionValue"]),
            liquidation_px=float(liq) if liq is not None else None,
            leverage_type=str(lev.get("type", "cross")), leverage=float(lev.get("value", 0)),
            entry_px=float(p.get("entryPx") or math.nan),
        ))
    return out


def parse_leaderboard(body: Any) -> list[tuple[str, float]]:
    """(address, accountValue) of every leaderboard row, as listed."""
    if not isinstance(body, dict) or "leaderboardRows" not in body:
        raise _fail(None, "hyperliquid: leaderboard has no leaderboardRows")
    return [(row["ethAddress"].lower(), float(row["accountValue"]))
            for row in body["leaderboardRows"]]


def top_addresses(rows: list[tuple[str, float]], n: int, min_value: float) -> list[str]:
    """The n largest accounts worth at least `min_value` (dust accounts excluded)."""
    kept = sorted((r for r in rows if r[1] >= min_value), key=lambda r: (-r[1], r[0]))
    return [a for a, _ in kept[:n]]


@dataclass
class HyperliquidData:
    """What the Hyperliquid payloads of one run hold."""

    assets: dict[str, AssetCtx]
    positions: list[HlPosition]
    accounts: int
    leaderboard: list[tuple[str, float]]


def parse_hyperliquid(raws: list[RawPayload]) -> HyperliquidData:
    """Sort Hyperliquid payloads by shape: meta+ctxs, account states, leaderboard."""
    assets: dict[str, AssetCtx] = {}
    positions: list[HlPosition] = []
    board: list[tuple[str, float]] = []
    accounts = 0
    for raw in raws:
        if raw.error is not None or raw.status not in (None, 200):
            continue
        body = load_json(raw)
        try:
            if isinstance(body, list):
                assets = parse_meta_and_asset_ctxs(body)
            elif isinstance(body, dict) and "assetPositions" in body:
                positions.extend(parse_clearinghouse_state(body, request_params(raw).get("user", "")))
                accounts += 1
            elif isinstance(body, dict) and "leaderboardRows" in body:
                board = parse_leaderboard(body)
        except (KeyError, TypeError, ValueError) as exc:
            raise _fail(raw, f"hyperliquid: unexpected shape at {raw.url}: {exc!r}") from None
    return HyperliquidData(assets, positions, accounts, board)
