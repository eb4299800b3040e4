"""Hermetic tests: no proxies, no credentials, no user config; loopback servers only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakeupstream import Upstream, start_upstream

FIXTURES = Path(__file__).parent / "fixtures"

_CLEARED = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
            "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("REPORTGEN_") or name in _CLEARED:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray ./config.yaml is picked up


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = start_upstream()
    yield server
    server.close()


def live_config(upstream: Upstream, output: Path, **overrides: Any) -> dict[str, Any]:
    """A config dict whose every upstream URL points at the fake upstream."""
    u = upstream.url_for
    config: dict[str, Any] = {
        "output": str(output),
        "http": {"timeout_s": 1.0, "attempts": 2, "backoff_s": 0.05},
        "sources": {
            "coingecko": {"base_url": u("https://api.coingecko.com/api/v3/")},
            "feargreed": {"base_url": u("https://api.alternative.me/fng/")},
            "stablecoins": {"base_url": u("https://stablecoins.llama.fi")},
            "gas": {"rpc_url": u("https://ethereum-rpc.publicnode.com"),
                    "etherscan_url": u("https://api.etherscan.io/v2/api")},
            "altseason": {"max_calls_per_minute": 500},
        },
        "liquidation": {
            "interval": "1h",  # the bundled sample carries 1-hour bars
            "binance_url": u("https://fapi.binance.com"), "bybit_url": u("https://api.bybit.com"),
            "okx_url": u("https://www.okx.com"), "hyperliquid_url": u("https://api.hyperliquid.xyz"),
            "hyperliquid_leaderboard_url": u("https://stats-data.hyperliquid.xyz/Mainnet/leaderboard"),
        },
        "etf": {"farside_btc_url": u("https://farside.co.uk/bitcoin-etf-flow-all-data/"),
                "farside_eth_url": u("https://farside.co.uk/ethereum-etf-flow-all-data/")},
        "news": {"feeds": [{"name": "BlockBeats", "kind": "blockbeats", "url": u(
            "https://api.theblockbeats.news/v1/open-api/open-flash?page=1&size=50&type=push&lang=en")}]},
    }
    for key, value in overrides.items():
        config[key] = value
    return config


def write_config(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path
