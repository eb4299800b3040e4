"""Hermetic tests: no proxies, no credentials, no user config; loopback servers only."""

from __future__ import annotations

import ipaddress
import socket
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


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback_only(address: Any) -> None:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        try:
            if ipaddress.ip_address(host.split("%")[0]).is_loopback:
                return
        except ValueError:
            if host == "localhost":
                return
        raise OSError(f"test tried to reach {address!r}: only loopback connections are allowed")


@pytest.fixture(autouse=True)
def socket_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a non-loopback address is an error: no test reaches the internet."""

    def connect(sock: socket.socket, address: Any) -> None:
        _loopback_only(address)
        return _real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        _loopback_only(address)
        return _real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """The fake upstream; a request it has no recording for fails the test."""
    server = start_upstream()
    yield server
    server.close()
    if server.strict and server.unmatched:
        pytest.fail("the fake upstream has no recording for:\n  " + "\n  ".join(server.unmatched))


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


MARKET_SOURCES = ("coingecko", "feargreed", "stablecoins", "gas", "altseason")
CLOSED_PORT = "http://127.0.0.1:9/"  # nothing listens there: the request fails at once


def only_sources(config: dict[str, Any], *names: str) -> dict[str, Any]:
    """`config` (from live_config) with every source but `names` switched off, or, for those
    that cannot be (ETF, news), pointed at a closed port so they fail fast without asking
    the fake upstream."""
    for name in MARKET_SOURCES:
        config["sources"][name]["enabled"] = name in names
    if "liquidation" not in names:
        config["liquidation"] = {"enabled": False}
    if "etf_farside" not in names:
        config["etf"] = {"farside_btc_url": CLOSED_PORT, "farside_eth_url": CLOSED_PORT}
    if "news" not in names:
        config["news"] = {"feeds": [{"name": "none", "url": CLOSED_PORT}]}
    return config


def write_config(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path
