"""Write the bundled sample's liquidation payloads (deterministic; run from the repo root).

    .venv/bin/python scripts/sample/liquidation.py [OUT_DIR]   # default: the package data

For each sample day 2025-06-05 … 2025-06-11 it writes, under
reportgen/sample/data/<day>/{liq_binance,liq_bybit,liq_okx,liq_hyperliquid}/, constructed
payloads in the exact shape of the real recorded ones (tests/fixtures/liquidation/), each
recorded against the exact request the live fetch makes for that day with `interval: 1h`,
`lookback_days: 7` (5-minute bars for seven days would be ~30 MB over the week): open-interest
history, klines and mark-price klines of the window ending at the day's end, as the venue
had them at the 23:55 UTC fetch, and Hyperliquid metaAndAssetCtxs + leaderboard +
clearinghouseState of 48 accounts. One seeded price path runs
through the daily closes below (BTC 2025-06-11 ≈ $108,600, ETH ≈ $2,770), so consecutive days
agree where their windows overlap.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "reportgen" / "sample" / "data"
DAYS = [date(2025, 6, 5) + timedelta(days=i) for i in range(7)]
START = date(2025, 5, 28)  # path start: seven days before the first sample day's window
HOUR = 3_600_000

# Daily closes (UTC) the path passes through, 2025-05-27 … 2025-06-11.
CLOSES = {
    "BTC": [108_900, 107_700, 107_800, 104_000, 104_600, 105_700, 105_900, 105_400, 104_700, 101_600,
            104_300, 105_600, 105_800, 110_300, 110_200, 108_600],
    "ETH": [2_660, 2_680, 2_630, 2_530, 2_525, 2_540, 2_605, 2_595, 2_610, 2_415, 2_480, 2_525,
            2_510, 2_680, 2_815, 2_770],
}
OI_ONE_SIDED = {  # base coin, one side
    "binance": {"BTC": 80_000.0, "ETH": 2_000_000.0},
    "bybit": {"BTC": 52_000.0, "ETH": 1_050_000.0},
    "okx": {"BTC": 26_000.0, "ETH": 620_000.0},
}
OKX_CT_VAL = {"BTC": 0.01, "ETH": 0.1}


def _path(coin: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Hourly OHLC + taker share through the daily closes (Brownian bridges)."""
    closes = np.array(CLOSES[coin], dtype=float)
    n_days = len(closes) - 1
    logp = [np.log(closes[0])]
    for d in range(n_days):
        a, b = np.log(closes[d]), np.log(closes[d + 1])
        steps = rng.normal(0, 0.0035, 24)
        walk = np.cumsum(steps)
        bridge = walk - np.arange(1, 25) / 24 * walk[-1]
        logp.extend(a + (b - a) * np.arange(1, 25) / 24 + bridge)
    close = np.exp(np.array(logp[1:]))
    open_ = np.exp(np.array(logp[:-1]))
    wick = np.abs(rng.normal(0, 0.0022, (2, len(close))))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    ret = np.log(close / open_)
    buy = np.clip(0.5 + 6.0 * ret + rng.normal(0, 0.02, len(close)), 0.3, 0.7)
    # bridges end at 23:00 UTC, the close of the last bar a 23:55 fetch sees
    t0 = int(datetime(START.year, START.month, START.day, tzinfo=UTC).timestamp() * 1000) - HOUR
    ts = np.array([t0 + i * HOUR for i in range(len(close))], dtype=np.int64)
    return {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "buy": buy,
            "ret": ret}


def _oi(base: float, ret: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """OI at each bar close: grows on trending hours, sheds on sharp reversals."""
    steps = 0.0004 * rng.normal(0, 1, len(ret)) + 0.5 * np.abs(ret) - 0.006 * (np.abs(ret) > 0.012)
    steps += 0.0004  # slow build-up, as OI did into the June 9-10 rally
    oi = base * np.exp(np.cumsum(steps) - np.cumsum(steps)[-1] * 0.6)
    return oi


def _write(folder: Path, entries: list[tuple[str, str, object]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    index = []
    for name, url, body in entries:
        (folder / name).write_text(json.dumps(body, separators=(",", ":")), encoding="utf-8")
        index.append({"file": name, "url": url, "status": 200,
                      "headers": {"content-type": "application/json"}})
    (folder / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")


def _f(x: float, d: int) -> str:
    return f"{x:.{d}f}"


def _window(p: dict[str, np.ndarray], day: date) -> np.ndarray:
    end = int(datetime(day.year, day.month, day.day, 23, tzinfo=UTC).timestamp() * 1000)
    return np.flatnonzero((p["ts"] + HOUR <= end) & (p["ts"] >= end - 7 * 86_400_000))


# What the live fetch asks for a sample day (config `interval: 1h`, `lookback_days: 7`, the
# window ending at the report day's end, 00:00 UTC next day), written out here so the
# recordings are data, not derived from the code under test. Each answer holds what the
# venue had at the fetch, 23:55 UTC: bars closed by then (the last opens 22:00) and
# open-interest readings up to 23:00.
def _asked(day: date) -> tuple[int, int]:
    """(start, stop) of the window in ms: [end − 7 d − 1 h, end)."""
    stop = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000) \
        + 86_400_000
    return stop - 7 * 86_400_000 - HOUR, stop


def _known(p: dict[str, np.ndarray], day: date) -> tuple[np.ndarray, np.ndarray]:
    """Indexes of the bars closed, and of the OI readings taken (at bar closes), by the fetch."""
    fetched = int(datetime(day.year, day.month, day.day, 23, 55, tzinfo=UTC).timestamp() * 1000)
    closed = np.flatnonzero(p["ts"] + HOUR <= fetched)
    return closed, closed  # a bar's close is also when its OI reading is taken


def _bars_in(p: dict[str, np.ndarray], day: date, lo: int, hi: int) -> np.ndarray:
    """Bars (ascending) known at the fetch with lo <= open time <= hi."""
    closed, _ = _known(p, day)
    return closed[(p["ts"][closed] >= lo) & (p["ts"][closed] <= hi)]


def _readings_in(p: dict[str, np.ndarray], day: date, lo: int, hi: int) -> np.ndarray:
    """OI readings (ascending; reading i is taken at bar i's close) with lo <= time <= hi."""
    _, taken = _known(p, day)
    at = p["ts"][taken] + HOUR
    return taken[(at >= lo) & (at <= hi)]


def binance(day: date, paths: dict, ois: dict, rng: np.random.Generator) -> list:
    out = []
    base = "https://fapi.binance.com"
    start, stop = _asked(day)
    for coin in ("BTC", "ETH"):
        p, sym = paths[coin], f"{coin}USDT"
        dec = 2
        oi = ois["binance"][coin]
        q = urlencode({"symbol": sym, "period": "1h", "limit": 500, "startTime": start,
                       "endTime": stop})
        rows = [{"symbol": sym, "sumOpenInterest": _f(oi[i], 8),
                 "sumOpenInterestValue": _f(oi[i] * p["close"][i], 8),
                 "timestamp": int(p["ts"][i] + HOUR)} for i in _readings_in(p, day, start, stop)]
        out.append((f"openInterestHist_{sym}.json", f"{base}/futures/data/openInterestHist?{q}",
                    rows))
        q = urlencode({"symbol": sym, "interval": "1h", "limit": 1500, "startTime": start,
                       "endTime": stop - 1})
        idx = _bars_in(p, day, start, stop - 1)
        krows = []
        for i in idx:
            last = [p[k][i] * (1 + rng.normal(0, 0.0002)) for k in ("open", "high", "low", "close")]
            last[1], last[2] = max(last), min(last)
            vol = oi[i] * rng.uniform(0.010, 0.03)
            buy = vol * p["buy"][i]
            vwap = (last[1] + last[2] + last[3]) / 3
            krows.append([int(p["ts"][i]), *(_f(v, dec) for v in last), _f(vol, 3),
                          int(p["ts"][i] + HOUR - 1), _f(vol * vwap, 5),
                          int(vol * 14), _f(buy, 3), _f(buy * vwap, 5), "0"])
        out.append((f"klines_{sym}.json", f"{base}/fapi/v1/klines?{q}", krows))
        mrows = [[int(p["ts"][i]), *(_f(p[k][i], 8) for k in ("open", "high", "low", "close")),
                  "0", int(p["ts"][i] + HOUR - 1), "0", 3600, "0", "0", "0"] for i in idx]
        out.append((f"markPriceKlines_{sym}.json", f"{base}/fapi/v1/markPriceKlines?{q}", mrows))
    return out


def bybit(day: date, paths: dict, ois: dict, rng: np.random.Generator) -> list:
    out = []
    base = "https://api.bybit.com"
    start, stop = _asked(day)
    stamp = int(datetime(day.year, day.month, day.day, 23, 55, tzinfo=UTC).timestamp() * 1000)
    for coin in ("BTC", "ETH"):
        p, sym = paths[coin], f"{coin}USDT"
        oi = ois["bybit"][coin]
        # 2025 responses carry only `openInterest`, the sum of both sides (v5 docs; the
        # `singleOpenInterest` field came later);
        # all rows fit one page of 200, so there is no next page
        rows = [{"openInterest": _f(oi[i], 8), "timestamp": str(int(p["ts"][i] + HOUR))}
                for i in _readings_in(p, day, start, stop)[::-1]]  # newest first
        rng.integers(1e7, 9e7)  # (once drawn for a page cursor; kept so later payloads stay)
        q = urlencode({"category": "linear", "symbol": sym, "intervalTime": "1h",
                       "startTime": start, "endTime": stop, "limit": 200})
        out.append((f"open-interest_{sym}.json", f"{base}/v5/market/open-interest?{q}",
                    {"retCode": 0, "retMsg": "OK",
                     "result": {"symbol": sym, "category": "linear", "list": rows,
                                "nextPageCursor": ""},
                     "retExtInfo": {}, "time": stamp}))
        q = urlencode({"category": "linear", "symbol": sym, "interval": "60", "start": start,
                       "end": stop - 1, "limit": 1000})
        mrows = [[str(int(p["ts"][i])), *(_f(p[k][i], 2) for k in ("open", "high", "low", "close"))]
                 for i in _bars_in(p, day, start, stop - 1)[::-1]]
        out.append((f"mark-price-kline_{sym}.json", f"{base}/v5/market/mark-price-kline?{q}",
                    {"retCode": 0, "retMsg": "OK",
                     "result": {"symbol": sym, "category": "linear", "list": mrows},
                     "retExtInfo": {}, "time": stamp}))
    return out


def okx(day: date, paths: dict, ois: dict, rng: np.random.Generator) -> list:
    out = []
    base = "https://www.okx.com"
    start, stop = _asked(day)
    ends = list(range(stop, start, -100 * HOUR))  # 100 rows a page, newest first
    for coin in ("BTC", "ETH"):
        p, inst = paths[coin], f"{coin}-USDT-SWAP"
        oi = ois["okx"][coin]
        for page, end in enumerate(ends):
            q = urlencode({"instId": inst, "period": "1H", "end": end, "limit": 100})
            taken = _readings_in(p, day, 0, end)[::-1][:100]  # readings up to `end`
            rows = [[str(int(p["ts"][i] + HOUR)), _f(oi[i] / OKX_CT_VAL[coin], 2),
                     _f(oi[i], 4), _f(oi[i] * p["close"][i], 4)] for i in taken]
            out.append((f"open-interest-history_{inst}_{page}.json",
                        f"{base}/api/v5/rubik/stat/contracts/open-interest-history?{q}",
                        {"code": "0", "data": rows, "msg": ""}))
        for page, end in enumerate(ends):
            q = urlencode({"instId": inst, "bar": "1H", "after": end, "limit": 100})
            bars = _bars_in(p, day, 0, end - 1)[::-1][:100]  # candles opened before `after`
            crow = [[str(int(p["ts"][i])), *(_f(p[k][i], 1) for k in
                                             ("open", "high", "low", "close")), "1"]
                    for i in bars]
            out.append((f"history-mark-price-candles_{inst}_{page}.json",
                        f"{base}/api/v5/market/history-mark-price-candles?{q}",
                        {"code": "0", "msg": "", "data": crow}))
    return out


def _address(i: int) -> str:
    return "0x" + hashlib.sha256(f"reportgen-sample-{i}".encode()).hexdigest()[:40]


def hyperliquid(day: date, paths: dict, rng: np.random.Generator) -> list:
    base = "https://api.hyperliquid.xyz/info"
    i_end = _window(paths["BTC"], day)[-1]
    marks = {c: float(paths[c]["close"][i_end]) for c in ("BTC", "ETH")}
    marks.update({"SOL": 158.0 + rng.normal(0, 3), "HYPE": 38.5 + rng.normal(0, 1)})
    max_lev = {"BTC": 40, "ETH": 25, "SOL": 20, "HYPE": 10}
    table = {"BTC": 56, "ETH": 55, "SOL": 54, "HYPE": 52}
    dec = {"BTC": 5, "ETH": 4, "SOL": 2, "HYPE": 2}
    oi_coins = {"BTC": 29_000.0, "ETH": 560_000.0, "SOL": 3_900_000.0, "HYPE": 24_000_000.0}
    meta = {"universe": [{"szDecimals": dec[c], "name": c, "maxLeverage": max_lev[c],
                          "marginTableId": table[c]} for c in marks],
            "marginTables": [[56, {"description": "tiered 40x", "marginTiers": [
                {"lowerBound": "0.0", "maxLeverage": 40},
                {"lowerBound": "150000000.0", "maxLeverage": 20}]}],
                [55, {"description": "tiered 25x", "marginTiers": [
                    {"lowerBound": "0.0", "maxLeverage": 25},
                    {"lowerBound": "100000000.0", "maxLeverage": 15}]}]],
            "collateralToken": 0}
    ctxs = []
    for c, m in marks.items():
        ctxs.append({"funding": "0.0000125", "openInterest": _f(oi_coins[c] * rng.uniform(.95, 1.05), 5),
                     "prevDayPx": _f(m * (1 + rng.normal(0, 0.01)), 1),
                     "dayNtlVlm": _f(oi_coins[c] * m * rng.uniform(0.6, 1.2), 10),
                     "premium": _f(rng.normal(0, 0.0002), 10), "oraclePx": _f(m * 1.0002, 1),
                     "markPx": _f(m, 1), "midPx": _f(m * 1.00005, 1),
                     "impactPxs": [_f(m * 0.99995, 1), _f(m * 1.00005, 1)],
                     "dayBaseVlm": _f(oi_coins[c] * rng.uniform(0.3, 0.6), 5)})
    out: list = [("metaAndAssetCtxs.json", f"{base}#type=metaAndAssetCtxs", [meta, ctxs])]
    n_acc = 48
    values = np.sort(np.exp(rng.normal(15.2, 1.1, n_acc)))[::-1]
    rows = []
    for i in range(n_acc):
        perf = [[w, {"pnl": _f(values[i] * rng.normal(0, k), 6), "roi": _f(rng.normal(0, k), 10),
                     "vlm": _f(values[i] * rng.uniform(5, 50) * m, 10)}]
                for w, k, m in (("day", .01, 1), ("week", .04, 5), ("month", .08, 20),
                                ("allTime", .2, 100))]
        rows.append({"ethAddress": _address(i), "accountValue": _f(values[i], 10),
                     "windowPerformances": perf, "prize": 0, "displayName": None})
    out.append(("leaderboard.json", "https://stats-data.hyperliquid.xyz/Mainnet/leaderboard",
                {"leaderboardRows": rows}))
    t_ms = int(datetime(day.year, day.month, day.day, 23, 55, tzinfo=UTC).timestamp() * 1000)
    for i in range(n_acc):
        av = float(values[i])
        n_pos = int(rng.integers(1, 4))
        coins = list(rng.choice(["BTC", "BTC", "ETH", "ETH", "SOL", "HYPE"], n_pos, replace=False))
        positions = []
        ntl_total = 0.0
        for c in dict.fromkeys(coins):
            mark = marks[c]
            lev = int(rng.choice([3, 5, 10, 10, 15, 20, 25, 40]))
            lev = min(lev, max_lev[c])
            iso = bool(rng.random() < 0.35)
            side = 1 if rng.random() < 0.55 else -1
            ntl = av * rng.uniform(0.2, 1.6) * min(lev, 8) / 3
            szi = side * round(ntl / mark, dec[c])
            entry = mark * (1 - side * rng.normal(0.01, 0.02))
            pv = abs(szi) * mark
            l_m = 1 / (2 * max_lev[c])
            if iso:
                margin = abs(szi) * entry / lev + side * (mark - entry) * abs(szi)
                avail = abs(szi) * entry / lev - l_m * pv
                liq = mark - side * avail / abs(szi) / (1 - l_m * side)
            else:
                margin = pv / lev
                # cross: the whole account backs the position; big accounts often have none
                cushion = av * rng.uniform(0.1, 0.9) / max(n_pos, 1)
                liq = mark - side * cushion / abs(szi) / (1 - l_m * side)
                if liq <= 0 or rng.random() < 0.2:
                    liq = None
            upnl = side * (mark - entry) * abs(szi)
            ntl_total += pv
            positions.append({"type": "oneWay", "position": {
                "coin": c, "szi": str(szi),
                "leverage": ({"type": "isolated", "value": lev, "rawUsd": _f(-szi * entry + margin, 6)}
                             if iso else {"type": "cross", "value": lev}),
                "entryPx": _f(entry, 1 if c in ("BTC", "ETH") else 4),
                "positionValue": _f(pv, 6), "unrealizedPnl": _f(upnl, 6),
                "returnOnEquity": _f(upnl / (pv / lev), 10),
                "liquidationPx": None if liq is None else _f(liq, 8),
                "marginUsed": _f(pv / lev, 6), "maxLeverage": max_lev[c],
                "cumFunding": {"allTime": _f(rng.normal(0, av * 0.01), 6),
                               "sinceOpen": _f(rng.normal(0, pv * 0.001), 6),
                               "sinceChange": _f(rng.normal(0, pv * 0.0005), 6)}}})
        summary = {"accountValue": _f(av, 10), "totalNtlPos": _f(ntl_total, 10),
                   "totalRawUsd": _f(av + ntl_total * 0.1, 10),
                   "totalMarginUsed": _f(sum(float(p["position"]["marginUsed"]) for p in positions), 6)}
        state = {"marginSummary": summary, "crossMarginSummary": summary,
                 "crossMaintenanceMarginUsed": _f(ntl_total * 0.01, 6),
                 "withdrawable": _f(av * 0.6, 10), "assetPositions": positions, "time": t_ms}
        out.append((f"clearinghouseState_{i:02d}.json",
                    f"{base}#type=clearinghouseState&user={_address(i)}", state))
    return out


def main(out: Path = DATA) -> None:
    rng = np.random.default_rng(20250611)
    paths = {c: _path(c, rng) for c in ("BTC", "ETH")}
    ois = {v: {c: _oi(base, paths[c]["ret"], rng) for c, base in per.items()}
           for v, per in OI_ONE_SIDED.items()}
    for day in DAYS:
        day_rng = np.random.default_rng(int(day.strftime("%Y%m%d")))
        for source, entries in (
            ("liq_binance", binance(day, paths, ois, day_rng)),
            ("liq_bybit", bybit(day, paths, ois, day_rng)),
            ("liq_okx", okx(day, paths, ois, day_rng)),
            ("liq_hyperliquid", hyperliquid(day, paths, day_rng)),
        ):
            folder = out / day.isoformat() / source
            if folder.exists():
                shutil.rmtree(folder)
            _write(folder, entries)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()
                and f.parent.name.startswith("liq_"))
    print(f"wrote liquidation sample for {DAYS[0]} … {DAYS[-1]}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    import sys

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
