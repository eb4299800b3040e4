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
from dataclasses import dataclass
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


def venue_symbol(venue: str, coin: str) -> str:
    """The linear USDT perpetual of `coin` on `venue`."""
    coin = coin.upper()
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


def _binance(raws: list[RawPayload], kinds: dict[tuple[str, str], list[Any]]) -> None:
    for raw in raws:
        path = urlsplit(raw.url).path
        body = load_json(raw)
        if isinstance(body, dict) and "code" in body and "msg" in body:
            raise _fail(raw, f"binance: error {body['code']}: {body['msg']}")
        if path.endswith("/futures/data/openInterestHist"):
            for row in body:
                coin = base_coin(row["symbol"])
                kinds[("oi", coin)].append((int(row["timestamp"]), float(row["sumOpenInterest"])))
        elif path.endswith(("/fapi/v1/klines", "/fapi/v1/markPriceKlines")):
            sym = request_params(raw).get("symbol")
            if not sym:
                raise _fail(raw, f"binance: {raw.url} does not name its symbol")
            kind = "mark" if path.endswith("markPriceKlines") else "last"
            kinds[(kind, base_coin(sym))].extend(body)


def _bybit(raws: list[RawPayload], kinds: dict[tuple[str, str], list[Any]],
           halve: bool = True) -> None:
    for raw in raws:
        path = urlsplit(raw.url).path
        body = load_json(raw)
        if not isinstance(body, dict) or body.get("retCode") != 0:
            msg = body.get("retMsg") if isinstance(body, dict) else "not an object"
            raise _fail(raw, f"bybit: {raw.url} answered {msg!r}")
        result = body["result"]
        coin = base_coin(result.get("symbol") or request_params(raw).get("symbol", ""))
        if path.endswith("/v5/market/open-interest"):
            for row in result["list"]:
                single = row.get("singleOpenInterest")
                oi = float(row["openInterest"])
                if halve:
                    oi = bybit_one_sided(oi, float(single) if single is not None else None)
                kinds[("oi", coin)].append((int(row["timestamp"]), oi))
        elif path.endswith("/v5/market/mark-price-kline"):
            kinds[("mark", coin)].extend(result["list"])
        elif path.endswith("/v5/market/kline"):
            kinds[("last", coin)].extend(result["list"])


def okx_contract_values(raw: RawPayload) -> dict[str, float]:
    """`ctVal` per linear USDT swap from `/api/v5/public/instruments?instType=SWAP`."""
    body = load_json(raw)
    out = {}
    for inst in body.get("data", []):
        if inst.get("ctType") == "linear" and inst.get("instId", "").endswith("-USDT-SWAP"):
            out[base_coin(inst["instId"])] = float(inst["ctVal"])
    return out


def _okx(raws: list[RawPayload], kinds: dict[tuple[str, str], list[Any]]) -> None:
    for raw in raws:
        path = urlsplit(raw.url).path
        body = load_json(raw)
        if not isinstance(body, dict) or str(body.get("code")) != "0":
            msg = body.get("msg") if isinstance(body, dict) else "not an object"
            raise _fail(raw, f"okx: {raw.url} answered {msg!r}")
        if path.endswith("/public/instruments"):
            continue
        inst = request_params(raw).get("instId")
        if not inst:
            raise _fail(raw, f"okx: {raw.url} does not name its instId")
        coin = base_coin(inst)
        if path.endswith("/rubik/stat/contracts/open-interest-history"):
            # rows [ts, oi (contracts), oiCcy (coin), oiUsd]; oiCcy is already in coin
            for row in body["data"]:
                kinds[("oi", coin)].append((int(row[0]), float(row[2])))
        elif "mark-price-candles" in path:
            kinds[("mark", coin)].extend(body["data"])
        elif path.endswith(("/market/candles", "/market/history-candles")):
            kinds[("last", coin)].extend(body["data"])


def align(venue: str, coin: str, oi: OiRows, bars: Bars, buy: Bars | None,
          interval_ms: int | None = None) -> MarketSeries:
    """Pair each bar with the OI reading at its close (the last reading at or before it)."""
    if len(bars.ts) == 0:
        raise _fail(None, f"{venue} {coin}: no price bars")
    if interval_ms is None:
        interval_ms = int(np.median(np.diff(bars.ts))) if len(bars.ts) > 1 else 300_000
    close_ts = bars.ts + interval_ms
    idx = np.searchsorted(oi.ts, close_ts, side="right") - 1
    oi_at = np.where(idx >= 0, oi.oi[np.clip(idx, 0, None)], np.nan) if len(oi.ts) else \
        np.full(len(bars.ts), np.nan)
    share = bars.buy_share
    if buy is not None and len(buy.ts):
        j = np.searchsorted(buy.ts, bars.ts)
        j = np.clip(j, 0, len(buy.ts) - 1)
        share = np.where(buy.ts[j] == bars.ts, buy.buy_share[j], np.nan)
    return MarketSeries(venue=venue, symbol=coin, ts_ms=bars.ts, oi=oi_at, open=bars.open,
                        high=bars.high, low=bars.low, close=bars.close, taker_buy_share=share)


_VENUE_COLS: dict[str, tuple[int | None, int | None]] = {
    "binance": (9, 5),   # taker buy base volume / volume
    "bybit": (None, None),
    "okx": (None, None),
}


def parse_market_series(venue: str, raws: list[RawPayload],
                        bybit_open_interest: str = "halve") -> dict[str, MarketSeries]:
    """Every symbol's aligned MarketSeries found in one venue's payloads. Bybit's two-sided
    open interest is halved unless `bybit_open_interest` is "raw" (see LiqConfig)."""
    kinds: dict[tuple[str, str], list[Any]] = defaultdict(list)
    ok = [r for r in raws if r.error is None and r.status in (None, 200)]
    if venue == "bybit":
        _bybit(ok, kinds, halve=bybit_open_interest == "halve")
    else:
        {"binance": _binance, "okx": _okx}[venue](ok, kinds)
    coins = sorted({c for (_, c) in kinds})
    buy_col, vol_col = _VENUE_COLS[venue]
    out: dict[str, MarketSeries] = {}
    for coin in coins:
        last = kinds.get(("last", coin))
        mark = kinds.get(("mark", coin))
        oi_rows = kinds.get(("oi", coin))
        if not oi_rows or not (last or mark):
            continue  # a coin with OI but no bars (or the reverse) cannot be modelled
        last_bars = _bars(last, buy_col, vol_col) if last else None
        # crossing tests use the mark price (a last-price wick may not liquidate)
        price = _bars(mark, None, None) if mark else last_bars
        assert price is not None
        out[coin] = align(venue, coin, _oi(oi_rows), price, last_bars)
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
