"""Ethereum JSON-RPC: a chain with one block every 12 s from GENESIS; base fee 1.0 gwei +
0.62 gwei tip historically, while "now" eth_gasPrice says 77.7 gwei (base 70 + 0.62)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.backdated import TODAY, unix
from tests.fakeupstream import Upstream

GENESIS = int(datetime(2025, 6, 1, tzinfo=UTC).timestamp())
SHOWN = ("1.62 gwei",)  # base fee 1.0 + median tip 0.62 at the block of the cut-off
NEVER = ("77.7", "70.62")
NEVER_ASKED: tuple[str, ...] = ()


def _rpc(_query: str, body: bytes) -> tuple[int, bytes]:
    request: dict[str, Any] = json.loads(body)
    method, params = request["method"], request["params"]
    head = (unix(TODAY) + 12 * 3600 - GENESIS) // 12
    result: object
    if method == "eth_gasPrice":
        result = hex(77_700_000_000)
    elif method == "eth_blockNumber":
        result = hex(head)
    elif method == "eth_getBlockByNumber":
        result = {"number": params[0], "timestamp": hex(GENESIS + 12 * int(params[0], 16))}
    elif method == "eth_feeHistory":
        count, newest = int(params[0], 16), params[1]
        newest_n = head if newest == "latest" else int(newest, 16)
        base = 1_000_000_000 if newest != "latest" else 70_000_000_000
        result = {"oldestBlock": hex(newest_n - count + 1), "baseFeePerGas": [hex(base)] * (count + 1),
                  "gasUsedRatio": [0.5] * count, "reward": [[hex(620_000_000)]] * count}
    else:
        return 400, b'{"error":"unknown method"}'
    return 200, json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}).encode()


def serve(upstream: Upstream, output: Path) -> None:
    upstream.handle("https://ethereum-rpc.publicnode.com", _rpc)
