"""Altcoin Season Index, computed (not scraped) from CoinGecko prices.

The rule, exactly:
1. Rank coins by market cap on day D and take the top `top_n` (default 50).
2. Drop from that list: Bitcoin itself, stablecoins, wrapped and bridged tokens, liquid-
   staking/staked tokens and gold-backed tokens (the id lists below, plus any coin whose
   symbol contains "USD" and whose price sat within 3 % of $1 on both ends of the window).
   Coins without a price at D − window (younger than the window) are dropped too.
   N = the coins left.
3. For each coin and for BTC, the return over the window (default 90 days):
   price(D) / price(D − 90 d) − 1, both CoinGecko daily points stamped 00:00 UTC.
4. Index = round(100 × (number of coins whose return beats BTC's) / N), 0–100.
   ≥ 75 "Altcoin season", ≤ 25 "Bitcoin season", otherwise "Neither".

Ranking before dropping follows CoinMarketCap's and blockchaincenter's "top N" wording while
keeping N honest about what was compared. A past date uses the market caps *on that date*
(from the same daily charts) to rank, so today's list does not decide a past top 50 — only the
candidate set (`candidates`, default 100, taken from today's ranking) can miss coins that have
since dropped out (survivorship bias; stated in the brief).

Fetching: `/coins/markets` (candidates) and one `/coins/{id}/market_chart/range` per coin,
rate-limited to `max_calls_per_minute`.

The same answers give the brief its Bitcoin and Ether prices (`CoinPrice`). CoinGecko stamps
each daily point 00:00 UTC: the point of day X is the price at X 00:00, i.e. the close of
X − 1. The price for report date D is the day's close: on the day itself, `/coins/markets`'
`current_price` (the latest price, as of its `last_updated`, when that falls within D); for a
past D, the chart point of D + 1 00:00 (the BTC and ETH charts of a past date are asked up to
D + 1 00:59 for it, never from the price cache). Earlier closes come from the charts.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

from pydantic import BaseModel, Field

from reportgen import trends
from reportgen.errors import FetchError, ParseError
from reportgen.figures import Indicator
from reportgen.models import RawPayload
from reportgen.settings import SourceSettings
from reportgen.sources._json import load_json, number
from reportgen.sources.base import FetchContext, ParseContext, Source
from reportgen.sources.coingecko import CoinGeckoSettings
from reportgen.units import INDEX, PRICE, signed_pct
from reportgen.view import Rank

STABLECOINS = frozenset({
    "tether", "usd-coin", "dai", "ethena-usde", "usds", "first-digital-usd", "true-usd",
    "paypal-usd", "usd1-wlfi", "ethena-staked-usde", "frax", "binance-usd", "paxos-standard",
    "gemini-dollar", "blackrock-usd-institutional-digital-liquidity-fund", "usual-usd",
    "susds", "eurc", "tether-eurt", "terrausd", "ripple-usd", "global-dollar", "falcon-finance",
})
WRAPPED_OR_STAKED = frozenset({
    "wrapped-bitcoin", "weth", "staked-ether", "wrapped-steth", "wrapped-eeth", "rocket-pool-eth",
    "coinbase-wrapped-btc", "binance-staked-sol", "jito-staked-sol", "mantle-staked-ether",
    "wrapped-beacon-eth", "lombard-staked-btc", "solv-btc", "binance-peg-weth",
    "coinbase-wrapped-staked-eth", "renzo-restaked-eth", "kelp-dao-restaked-eth", "msol",
    "wrapped-solana", "bridged-usdc-polygon-pos-bridge", "whitebit", "marinade-staked-sol",
    "stakewise-v3-oseth", "liquid-staked-ethereum", "ether-fi-staked-eth", "wbnb", "wrapped-tron",
})
GOLD = frozenset({"pax-gold", "tether-gold"})
EXCLUDED = STABLECOINS | WRAPPED_OR_STAKED | GOLD
BTC = "bitcoin"
# Coins whose price the brief shows (id → symbol).
PRICED = {"bitcoin": "BTC", "ethereum": "ETH"}


class CoinReturn(BaseModel):
    id: str
    symbol: str
    return_pct: float
    beat_btc: bool


class CoinPrice(BaseModel):
    """A coin's price at the end of the report date and its earlier daily closes."""

    symbol: str
    price: float | None = None          # the close of D (None when no answer had it)
    as_of: datetime | None = None       # the instant `price` describes
    basis: str = ""                     # which answer `price` came from, in words
    closes: dict[date, float] = {}      # close of each earlier day (the next day's 00:00 point)


class AltSeason(BaseModel):
    index: int
    previous_index: int | None = None  # the same rule on D − 1, from the same charts
    label: str
    compared: int
    beat_btc: int
    btc_return_pct: float
    window_days: int
    top_n: int
    excluded: list[str]
    coins: list[CoinReturn]
    rule: str
    as_of: datetime | None = None  # the charts' daily point used for D (00:00 UTC)
    prices: dict[str, CoinPrice] = {}  # "BTC", "ETH" → price at the end of D


def season_label(index: int) -> str:
    if index >= 75:
        return "Altcoin season"
    if index <= 25:
        return "Bitcoin season"
    return "Neither"


def _unix(day: date) -> int:
    return int(datetime.combine(day, dtime(0), tzinfo=UTC).timestamp())


class AltseasonSettings(SourceSettings):
    """Config key `sources.altseason` (CoinGecko's URLs are `sources.coingecko`'s)."""

    top_n: int = Field(50, ge=10, le=250, description="coins ranked by market cap, before exclusions")
    window_days: int = Field(90, ge=7, le=365)
    candidates: int = Field(100, ge=10, le=250, description="coins fetched to rank a past date")
    max_calls_per_minute: int = Field(25, ge=1, le=500)


def _detail(m: AltSeason) -> str:
    return (f"Altcoin Season Index: {m.beat_btc} of {m.compared} coins beat BTC "
            f"({signed_pct(m.btc_return_pct, 1)}) over {m.window_days} days — {m.rule}.")


def _price(symbol: str) -> Callable[[AltSeason], float | None]:
    def read(model: AltSeason) -> float | None:
        found = model.prices.get(symbol)
        return found.price if found else None
    return read


def _close(symbol: str, days_before: int) -> Callable[[AltSeason], float | None]:
    """The close `days_before` days before the report date (the 24 h and 7 d changes)."""
    def read(model: AltSeason) -> float | None:
        found = model.prices.get(symbol)
        if found is None or model.as_of is None:
            return None
        return found.closes.get(model.as_of.date() - timedelta(days=days_before))
    return read


def _move(symbol: str, model: AltSeason) -> tuple[float, list[tuple[date, float]]] | None:
    """The day's % move of `symbol` and the dated daily % moves of the closes before it."""
    found = model.prices.get(symbol)
    before = _close(symbol, 1)(model)
    if found is None or found.price is None or not before:
        return None
    return (found.price / before - 1.0) * 100.0, trends.daily_changes(found.closes)


def _remark(symbol: str) -> Callable[[AltSeason], str | None]:
    """How unusual the day's move is against the closes before it (`reportgen.trends`)."""
    def read(model: AltSeason) -> str | None:
        move = _move(symbol, model)
        return None if move is None else trends.move_remark(*move)
    return read


def _rank(symbol: str) -> Callable[[AltSeason], Rank | None]:
    """The day's move ranked against the closes before it (`reportgen.trends.rank`)."""
    def read(model: AltSeason) -> Rank | None:
        move = _move(symbol, model)
        return None if move is None else trends.rank(*move)
    return read


class AltSeasonSource(Source[AltseasonSettings]):
    name = "altseason"
    title = "Altcoin Season Index (computed from CoinGecko)"
    credit = "CoinGecko prices (BTC, ETH, and the Altcoin Season Index computed from them)"
    link = "https://www.coingecko.com/"
    history = ("within CoinGecko's free 365-day window (market_chart/range per coin); "
               "older dates only from the archive")
    supports_past = True
    order = 30
    settings_model = AltseasonSettings
    model = AltSeason
    # Daily 00:00 UTC chart points: the day's point is at most a day before the cut-off.
    stale_after = timedelta(hours=36)
    # The charts cover D − 1 too: the previous day's index comes from the same answer.
    indicators = (
        *(Indicator(f"{symbol} price", AltSeason, "prices", _price(symbol), PRICE,
                    previous=_close(symbol, 1), week_ago=_close(symbol, 7),
                    remark=_remark(symbol), rank=_rank(symbol),
                    missing=f"CoinGecko's answers hold no {symbol} price for the end of the day")
          for symbol in PRICED.values()),
        Indicator("Altcoin Season Index", AltSeason, "index", lambda m: m.index, INDEX,
                  change="pts", previous=lambda m: m.previous_index, note=lambda m: m.label,
                  detail=_detail),
    )

    def coingecko(self) -> CoinGeckoSettings:
        return self.config.settings_for("sources.coingecko", CoinGeckoSettings)

    def enabled(self) -> tuple[bool, str]:
        on, why = super().enabled()
        if not on:
            return on, why
        if not self.coingecko().enabled:
            return False, "needs CoinGecko, which is disabled (sources.coingecko.enabled)"
        return True, "enabled"

    def probe_url(self) -> str | None:
        return self.coingecko().base_url  # market_chart on the same API

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        from reportgen.http import RateLimiter
        from reportgen.sources._coingecko_client import CoinGeckoSession

        settings = self.settings
        start = ctx.report_date - timedelta(days=settings.window_days)
        if (ctx.today - start).days > 365 and not ctx.secrets.get("coingecko_pro_key"):
            raise FetchError(
                f"the {settings.window_days}-day window starts {start}, beyond CoinGecko's "
                "free 365-day history"
            )
        cg = self.coingecko()
        session = CoinGeckoSession(ctx, self.name, base_url=cg.base_url,
                                   pro_base_url=cg.pro_base_url)
        limiter = RateLimiter(settings.max_calls_per_minute)
        await limiter.take()
        try:
            markets = await session.call(
                session.api.get_coins_markets, vs_currency="usd", order="market_cap_desc",
                per_page=settings.candidates if ctx.is_past else settings.top_n, page=1,
            )
        except ValueError:  # undecodable body: kept in `captured`, parse() explains
            return session.captured
        ids = [row["id"] for row in markets if isinstance(row, dict) and "id" in row]
        # Charts for every candidate, excluded ones too: ranking on D needs their caps.
        wanted = [BTC, *(i for i in ids if i != BTC)]

        day = ctx.report_date
        needed = [day, day - timedelta(days=1), start, start - timedelta(days=1)]
        from_cache: list[RawPayload] = []

        async def chart(coin: str) -> None:
            priced = coin in PRICED
            cached = ctx.prices.prices(coin, needed) if ctx.prices and not priced else {}
            if len(cached) == len(needed) and all(cap is not None for _, cap in cached.values()):
                from_cache.append(_cached_chart(self.name, coin, cached, day,
                                                ctx.http.clock.now()))
                return
            # Daily points are stamped 00:00 UTC; stop right after D's, never later — except
            # for a past date's BTC and ETH, whose close of D is the point of D + 1 00:00.
            last = day + timedelta(days=1) if priced and ctx.is_past else day
            await limiter.take()
            await session.call(
                session.api.get_coin_market_chart_range_by_id, coin, "usd",
                _unix(start - timedelta(days=1)), _unix(last) + 3599,
            )

        await asyncio.gather(*(chart(coin) for coin in wanted))
        if ctx.prices:
            ctx.prices.put_prices(_price_rows(session.captured))
        return [*session.captured, *from_cache]

    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> AltSeason:
        settings = self.settings
        result = parse_altseason(raws, ctx.report_date, top_n=settings.top_n,
                                 window_days=settings.window_days)
        return result.model_copy(update={"prices": parse_prices(raws, ctx.report_date,
                                                                is_past=ctx.is_past)})


CACHE_URL = "archive:daily_prices"


def _cached_chart(source: str, coin: str, points: dict[date, tuple[float, float | None]],
                  day: date, now: datetime) -> RawPayload:
    """Archived daily prices of `coin` in the shape of a market_chart/range answer, so the
    parser treats cached and fetched prices alike (and the archive shows which was used)."""
    ordered = sorted(points.items())
    body = {
        "prices": [[_unix(d) * 1000, price] for d, (price, _cap) in ordered],
        "market_caps": [[_unix(d) * 1000, cap] for d, (_price, cap) in ordered],
    }
    return RawPayload(source=source, url=f"{CACHE_URL}/coins/{coin}/market_chart/range?to={day}",
                      status=200, body=json.dumps(body).encode(), fetched_at=now)


def _price_rows(raws: list[RawPayload]) -> list[tuple[str, date, float, float | None]]:
    """(coin, day, price, cap) rows from fetched charts, for the archive's price cache."""
    rows: list[tuple[str, date, float, float | None]] = []
    for raw in raws:
        if "/market_chart/range" not in raw.url or raw.status != 200:
            continue
        coin = raw.url.split("/coins/")[1].split("/")[0]
        try:
            prices, caps = _daily(raw, "prices"), _daily(raw, "market_caps")
        except ParseError:
            continue  # parse() will report it
        rows.extend((coin, d, p, caps.get(d)) for d, p in prices.items())
    return rows


def _daily(raw: RawPayload, key: str) -> dict[date, float]:
    body = load_json(raw)
    if not isinstance(body, dict) or key not in body:
        raise ParseError(f"{raw.source}: market chart from {raw.url} lacks {key}")
    series: dict[date, float] = {}
    for point in body[key]:
        if not isinstance(point, list) or len(point) != 2 or point[1] is None:
            continue
        stamp = datetime.fromtimestamp(number(point[0], key, raw.source) / 1000, UTC)
        # Daily points are 00:00 UTC; keep the first point of each day (the close of the one before).
        series.setdefault(stamp.date(), number(point[1], key, raw.source))
    return series


def _points(raw: RawPayload) -> list[tuple[datetime, float]]:
    body = load_json(raw)
    if not isinstance(body, dict) or not isinstance(body.get("prices"), list):
        raise ParseError(f"{raw.source}: market chart from {raw.url} lacks prices")
    out = []
    for point in body["prices"]:
        if isinstance(point, list) and len(point) == 2 and point[1] is not None:
            stamp = datetime.fromtimestamp(number(point[0], "prices", raw.source) / 1000, UTC)
            out.append((stamp, number(point[1], "prices", raw.source)))
    return out


def parse_prices(raws: list[RawPayload], day: date, *, is_past: bool) -> dict[str, CoinPrice]:
    """Bitcoin's and Ether's close of `day` and their earlier daily closes (pure; see the
    module docstring for which answer gives which)."""
    markets_raw = next((r for r in raws if "/coins/markets" in r.url and r.status == 200), None)
    markets = load_json(markets_raw) if markets_raw is not None else []
    rows = {row.get("id"): row for row in markets if isinstance(row, dict)} \
        if isinstance(markets, list) else {}
    start = datetime.combine(day, dtime(0), tzinfo=UTC)
    end = start + timedelta(days=1)
    out: dict[str, CoinPrice] = {}
    for coin, symbol in PRICED.items():
        closes: dict[date, float] = {}
        for raw in raws:
            if f"/coins/{coin}/market_chart/range" not in raw.url or raw.status != 200:
                continue
            try:
                points = _points(raw)
            except ParseError:
                continue  # the index's own parse reports a bad chart
            for stamp, value in points:
                if stamp.time() == dtime(0):  # a daily point: the close of the day before
                    closes.setdefault(stamp.date() - timedelta(days=1), value)
        found = CoinPrice(symbol=symbol, closes={d: p for d, p in closes.items() if d < day})
        row = rows.get(coin) or {}
        updated = _instant(row.get("last_updated"))
        current = row.get("current_price")
        if (not is_past and isinstance(current, int | float) and not isinstance(current, bool)
                and updated is not None and start <= updated <= end):
            found.price, found.as_of = float(current), updated
            found.basis = "CoinGecko /coins/markets current_price"
        elif day in closes:
            found.price, found.as_of = closes[day], end
            found.basis = "CoinGecko daily price (00:00 UTC the next day)"
        if found.price is not None or found.closes:
            out[symbol] = found
    return out


def _instant(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_altseason(
    raws: list[RawPayload], day: date, *, top_n: int = 50, window_days: int = 90
) -> AltSeason:
    """Compute the index from a `/coins/markets` payload and per-coin range charts (pure).
    The charts also cover D − 1, so the previous day's index comes from the same payloads."""
    result = _index_on(raws, day, top_n=top_n, window_days=window_days)
    try:
        before = _index_on(raws, day - timedelta(days=1), top_n=top_n, window_days=window_days)
    except ParseError:
        return result
    return result.model_copy(update={"previous_index": before.index})


def _index_on(raws: list[RawPayload], day: date, *, top_n: int, window_days: int) -> AltSeason:
    markets_raw = next((r for r in raws if "/coins/markets" in r.url), None)
    if markets_raw is None:
        raise ParseError("altseason: no /coins/markets payload")
    markets = load_json(markets_raw)
    if not isinstance(markets, list) or not markets:
        raise ParseError("altseason: /coins/markets answer is not a non-empty list")
    symbols = {row["id"]: str(row.get("symbol", "")).upper() for row in markets if "id" in row}
    charts = {}
    for raw in raws:
        if "/market_chart/range" in raw.url:
            coin = raw.url.split("/coins/")[1].split("/")[0]
            charts[coin] = (_daily(raw, "prices"), _daily(raw, "market_caps"))
    if BTC not in charts:
        raise ParseError("altseason: no bitcoin price chart")
    then = day - timedelta(days=window_days)

    # Rank by market cap on D (from the charts), falling back to the markets order.
    def cap_on_day(coin: str) -> float:
        return charts[coin][1].get(day, 0.0) if coin in charts else 0.0

    ranked = sorted(symbols, key=lambda c: -cap_on_day(c) if c in charts else 0.0)
    if not any(c in charts for c in symbols if c != BTC):
        ranked = list(symbols)
    top = ranked[:top_n]

    btc_prices = charts[BTC][0]
    if day not in btc_prices or then not in btc_prices:
        raise ParseError(f"altseason: bitcoin chart lacks {then} or {day}")
    btc_return = btc_prices[day] / btc_prices[then] - 1.0

    excluded: list[str] = []
    coins: list[CoinReturn] = []
    for coin in top:
        if coin == BTC:
            continue
        prices = charts.get(coin, ({}, {}))[0]
        symbol = symbols.get(coin, coin.upper())
        if coin in EXCLUDED:
            excluded.append(coin)
            continue
        if day not in prices or then not in prices or prices[then] <= 0:
            excluded.append(f"{coin} (no price {window_days} d before)")
            continue
        if "USD" in symbol and all(abs(prices[d] - 1.0) < 0.03 for d in (day, then)):
            excluded.append(f"{coin} (USD peg)")
            continue
        change = prices[day] / prices[then] - 1.0
        coins.append(CoinReturn(id=coin, symbol=symbol, return_pct=change * 100,
                                beat_btc=change > btc_return))
    if not coins:
        raise ParseError("altseason: no coin left to compare after exclusions")
    beat = sum(c.beat_btc for c in coins)
    index = round(100 * beat / len(coins))
    return AltSeason(
        index=index, label=season_label(index), compared=len(coins), beat_btc=beat,
        btc_return_pct=btc_return * 100, window_days=window_days, top_n=top_n,
        excluded=excluded, coins=sorted(coins, key=lambda c: -c.return_pct),
        as_of=datetime.combine(day, dtime(0), tzinfo=UTC),
        rule=(f"top {top_n} by market cap on {day}, minus BTC, stablecoins, wrapped/staked and "
              f"gold tokens; share of the {len(coins)} left whose {window_days}-day return beat BTC"),
    )
