"""LiqConfig validation and the live fetch over a mock transport (no network)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from reportgen.config import HttpSettings
from reportgen.http import Http
from reportgen.liquidation.config import LiqConfig, nice_step
from reportgen.liquidation.fetch import fetch_all, fetch_hyperliquid
from reportgen.liquidation.parsers import parse_hyperliquid, request_params


def test_defaults() -> None:
    c = LiqConfig()
    assert c.lookback_days == 7 and c.side_rule == "aggressor"
    assert c.tier_weights == {5: 0.25, 10: 0.30, 25: 0.25, 50: 0.15, 100: 0.05}
    assert c.bucket_for("BTC", 1.0) == 100 and c.bucket_for("SOL", 158.0) == 0.2
    assert nice_step(0.0123) == 0.01


@pytest.mark.parametrize(("update", "message"), [
    ({"tier_weights": {5: 0.5, 10: 0.3}}, "sum to 1"),
    ({"tier_weights": {1: 1.0}}, "between 2 and 200"),
    ({"side_rule": "random"}, "aggressor"),
    ({"lookback_days": 31}, "less than or equal to 30"),
    ({"hyperliquid_addresses": ["0x123"]}, "40 hex"),
    ({"bucket_size": {"BTC": 0}}, "positive"),
    ({"binance_url": "fapi.binance.com"}, "http"),
    ({"symbols": ["SOL"], "okx_contract_value": {}}, "okx_contract_value"),
    ({"unknown_key": 1}, "Extra inputs"),
])
def test_validation_messages(update, message) -> None:
    with pytest.raises(ValidationError, match=message):
        LiqConfig(**update)


def test_tier_keys_from_yaml_strings() -> None:
    c = LiqConfig(tier_weights={"10": 0.5, "20": 0.5})
    assert c.tier_weights == {10: 0.5, 20: 0.5}


async def test_hyperliquid_fetch_concurrent_with_fragments(fixtures) -> None:
    meta = (fixtures / "hyperliquid/metaAndAssetCtxs_trimmed_4_assets_2026-09-27.json").read_bytes()
    board = (fixtures / "hyperliquid/leaderboard_sample_60_rows_2026.json").read_bytes()
    whale = (fixtures / "hyperliquid/clearinghouseState_cross_whale_2026-09-27.json").read_bytes()
    users: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "stats.test":
            return httpx.Response(200, content=board)
        body = json.loads(request.content)
        if body["type"] == "metaAndAssetCtxs":
            return httpx.Response(200, content=meta)
        users.append(body["user"])
        if body["user"] == "0x" + "f" * 40:
            return httpx.Response(400, content=b'{"error":"bad user"}')
        return httpx.Response(200, content=whale)

    config = LiqConfig(hyperliquid_url="http://hl.test", hyperliquid_leaderboard_url=
                       "http://stats.test/leaderboard", leaderboard_top_n=5,
                       hyperliquid_addresses=["0x" + "f" * 40],
                       hyperliquid_weight_per_minute=600_000)
    async with Http(HttpSettings(), transport=httpx.MockTransport(handler)) as client:
        raws = await fetch_hyperliquid(client, config)
    assert len(users) == 6 and len(set(users)) == 6
    failed = [r for r in raws if r.error]
    assert len(failed) == 1 and request_params(failed[0])["user"] == "0x" + "f" * 40
    data = parse_hyperliquid(raws)
    assert data.accounts == 5 and "BTC" in data.assets


async def test_fetch_all_cex_pages_carry_queries() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        path = request.url.path
        if path.startswith("/v5/"):
            return httpx.Response(200, json={"retCode": 0, "retMsg": "OK", "result": {
                "symbol": request.url.params["symbol"], "category": "linear", "list": [],
                "nextPageCursor": ""}})
        if path.startswith("/api/v5/"):
            return httpx.Response(200, json={"code": "0", "msg": "", "data": []})
        return httpx.Response(200, json=[])

    config = LiqConfig(binance_url="http://b.test", bybit_url="http://y.test",
                       okx_url="http://o.test", hyperliquid=False, symbols=["BTC"],
                       lookback_days=1, interval="1h")
    async with Http(HttpSettings(), transport=httpx.MockTransport(handler)) as client:
        out = await fetch_all(client, config, datetime(2025, 6, 11, 23, 55, tzinfo=UTC))
    assert set(out) == {"liq_binance", "liq_bybit", "liq_okx"}
    assert all("symbol=BTCUSDT" in r.url for r in out["liq_binance"])
    assert any("instId=BTC-USDT-SWAP" in r.url for r in out["liq_okx"])
    assert {u.path for u in seen} >= {"/futures/data/openInterestHist", "/fapi/v1/klines",
                                      "/fapi/v1/markPriceKlines", "/v5/market/open-interest",
                                      "/v5/market/mark-price-kline",
                                      "/api/v5/rubik/stat/contracts/open-interest-history",
                                      "/api/v5/market/history-mark-price-candles"}


async def test_bybit_cursor_goes_back_exactly_as_given() -> None:
    """Bybit's nextPageCursor is already percent-encoded; it used to go back as %253D."""
    from reportgen.liquidation.fetch import fetch_bybit_symbol

    asked: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v5/market/open-interest":
            asked.append(request.url.query)
            first = b"cursor=" not in request.url.query
            rows = [{"openInterest": "100", "timestamp": str(1749682800000 - len(asked) * 3_600_000)}]
            return httpx.Response(200, json={"retCode": 0, "retMsg": "OK", "result": {
                "symbol": "BTCUSDT", "category": "linear", "list": rows,
                "nextPageCursor": "lastid%3D1672738826962%26lastTime%3D1672738800" if first else ""}})
        return httpx.Response(200, json={"retCode": 0, "retMsg": "OK", "result": {"list": []}})

    config = LiqConfig(bybit_url="http://y.test", hyperliquid=False, symbols=["BTC"],
                       lookback_days=1, interval="1h")
    async with Http(HttpSettings(), transport=httpx.MockTransport(handler)) as http:
        await fetch_bybit_symbol(http, config, "BTC", datetime(2025, 6, 11, 23, 55, tzinfo=UTC))
    assert len(asked) == 2
    assert b"cursor=lastid%3D1672738826962%26lastTime%3D1672738800" in asked[1]
