"""Hermetic tests: no proxies, no credentials, no user config; loopback servers only."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reportgen.registry import source_classes
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
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any network connection at all, loopback included, is an error. Unix-domain sockets
    stay allowed: they are local IPC (the render pool's fork server), not the network."""

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family == socket.AF_UNIX:
            return _real_connect(sock, address)
        raise AssertionError(f"network connection to {address!r} outside the collect phase")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used outside the collect phase")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """The fake upstream; a request it has no recording for fails the test."""
    server = start_upstream()
    yield server
    server.close()
    if server.strict and server.unmatched:
        pytest.fail("the fake upstream has no recording for:\n  " + "\n  ".join(server.unmatched))


def _pointed(value: Any, upstream: Upstream, name: str = "") -> Any:
    """A settings value (as JSON) with every `url`/`*_url` rewritten to the fake upstream."""
    if isinstance(value, dict):
        return {k: _pointed(v, upstream, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_pointed(v, upstream, name) for v in value]
    if isinstance(value, str) and (name == "url" or name.endswith("_url")):
        return upstream.url_for(value)
    return value


def _set(config: dict[str, Any], key: str, value: dict[str, Any]) -> None:
    *path, last = key.split(".")
    node = config
    for part in path:
        node = node.setdefault(part, {})
    node[last] = value


def _get(config: dict[str, Any], key: str) -> dict[str, Any]:
    node = config
    for part in key.split("."):
        node = node.setdefault(part, {})
    return node


def live_config(upstream: Upstream, output: Path, **overrides: Any) -> dict[str, Any]:
    """A config dict whose every upstream URL (every registered source's `*url` settings)
    points at the fake upstream."""
    config: dict[str, Any] = {
        "output": str(output),
        "http": {"timeout_s": 1.0, "attempts": 2, "backoff_s": 0.05},
    }
    for cls in source_classes():
        defaults = cls.settings_model().model_dump(mode="json")
        _set(config, cls.config_key(), _pointed(defaults, upstream))
    # What the bundled sample holds: 1-hour bars, BlockBeats' headlines only; and no rate
    # limit worth waiting for against a loopback server.
    _get(config, "sources.altseason")["max_calls_per_minute"] = 500
    _get(config, "liquidation")["interval"] = "1h"
    news = _get(config, "news")
    news["feeds"] = [f for f in news["feeds"] if f["kind"] == "blockbeats"]
    for key, value in overrides.items():
        config[key] = value
    return config


def only_sources(config: dict[str, Any], *names: str) -> dict[str, Any]:
    """`config` (from live_config) with every registered source but `names` switched off."""
    for cls in source_classes():
        _get(config, cls.config_key())["enabled"] = cls.name in names
    return config


def write_config(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path
