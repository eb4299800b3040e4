"""Ethereum gas price in gwei (decimals kept: since 2025 it is often below 1 gwei).

Default, keyless: JSON-RPC on a public node. Today: `eth_gasPrice` (what wallets are told to
pay) plus `eth_feeHistory` for the base fee. A past date D: binary-search block timestamps
for the last block before D's cut-off, then `eth_feeHistory` ending there; the figure is
that block's base fee plus the median priority fee of the last 20 blocks.
With `REPORTGEN_ETHERSCAN_KEY` set and a current date: Etherscan's gas oracle
(`ProposeGasPrice`); Etherscan's gas history is a paid endpoint, so past dates use RPC.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, field_validator

from reportgen.clock import day_end
from reportgen.errors import ParseError
from reportgen.figures import Indicator
from reportgen.models import RawPayload
from reportgen.settings import SourceSettings, check_url
from reportgen.sources._json import dig, load_json, number
from reportgen.sources.base import FetchContext, ParseContext, Source
from reportgen.sources.checks import Checks, Range
from reportgen.units import Unit, grouped

WEI_PER_GWEI = 1e9
FEE_BLOCKS = 20


class Gas(BaseModel):
    gas_gwei: float | None  # None: failed its plausibility rule (named in `rejected`)
    base_fee_gwei: float | None
    measure: str
    block: int | None = None
    as_of: datetime | None = None  # the block's timestamp, or when we asked the node/oracle
    rejected: dict[str, str] = {}


# Gas above this (gwei) is a broken answer, not a busy chain (the 2021 peaks were ~2,000).
MAX_GWEI = 100_000.0


def _checked(gas: float, base_fee: float | None, measure: str, block: int | None,
             as_of: datetime | None) -> Gas:
    checks = Checks()
    return Gas(
        gas_gwei=checks.keep("gas_gwei", gas, Range("Ethereum gas (gwei)", 0, MAX_GWEI)),
        base_fee_gwei=checks.keep("base_fee_gwei", base_fee, Range("Base fee (gwei)", 0, MAX_GWEI)),
        measure=measure, block=block, as_of=as_of, rejected=checks.rejected,
    )


def gwei(value: float, decimals: int = 2) -> str:
    """A gas price: `decimals` places from 1 gwei up ("1.62"), two significant digits below
    ("0.38", "0.00038"): since 2025 mainnet fees under 1 gwei are normal, and a fixed two
    decimals would print a priority fee of 0.00038 gwei as "0.00". At most 9 places (1 wei)."""
    magnitude = abs(value)
    if magnitude >= 1 or magnitude == 0 or not math.isfinite(value):
        return grouped(value, decimals)
    places = min(9, max(decimals, 1 - math.floor(math.log10(magnitude))))
    return grouped(value, places)


GWEI = Unit("gwei", lambda value, decimals: f"{gwei(value, decimals)} gwei")


class GasSettings(SourceSettings):
    """Config key `sources.gas`."""

    rpc_url: str = "https://ethereum-rpc.publicnode.com"
    etherscan_url: str = "https://api.etherscan.io/v2/api"

    _url = field_validator("rpc_url", "etherscan_url")(check_url)


class GasSource(Source[GasSettings]):
    name = "gas"
    title = "Ethereum gas"
    credit = "Ethereum JSON-RPC / Etherscan gas oracle"
    link = "https://etherscan.io/gastracker"
    history = "any date: block at the date's cut-off found by timestamp search, then eth_feeHistory"
    supports_past = True
    order = 20
    settings_model = GasSettings
    model = Gas
    secrets = (("etherscan_key", "REPORTGEN_ETHERSCAN_KEY"),)
    # The block at the cut-off (or the head when asked): a node hours behind is stale.
    stale_after = timedelta(hours=2)
    # The change is against the previous day's snapshot (collected for it when missing).
    indicators = (
        Indicator("Ethereum gas", Gas, "gas_gwei", lambda m: m.gas_gwei, GWEI, decimals=2),
    )

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        settings = self.settings
        if not ctx.is_past and ctx.secrets.get("etherscan_key"):
            raw = await ctx.http.get(
                self.name, settings.etherscan_url,
                params={"chainid": 1, "module": "gastracker", "action": "gasoracle",
                        "apikey": ctx.secrets["etherscan_key"]},
            )
            return [raw]
        rpc = _Rpc(ctx, self.name, settings.rpc_url)
        if not ctx.is_past:
            price, fees = await asyncio.gather(
                rpc.call("eth_gasPrice", []),
                rpc.call("eth_feeHistory", [hex(FEE_BLOCKS), "latest", [50]]),
            )
            return [price, fees]
        cutoff = int(day_end(ctx.report_date, ctx.config.timezone).timestamp())
        block = await _last_block_before(rpc, cutoff)
        fees = await rpc.call("eth_feeHistory", [hex(FEE_BLOCKS), hex(block), [50]])
        return [*rpc.lookups, fees]

    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> Gas:
        return parse_gas(raws)


class _Rpc:
    """Minimal JSON-RPC over the run's Http; keeps every exchange."""

    def __init__(self, ctx: FetchContext, source: str, url: str) -> None:
        self.ctx, self.source, self.url = ctx, source, url
        self.ids = itertools.count(1)
        self.lookups: list[RawPayload] = []

    async def call(self, method: str, params: list[Any]) -> RawPayload:
        payload = {"jsonrpc": "2.0", "id": next(self.ids), "method": method, "params": params}
        # JSON-RPC reads (eth_feeHistory, eth_getBlockByNumber): safe to send again.
        return await self.ctx.http.post(self.source, self.url, json=payload, idempotent=True)

    async def result(self, method: str, params: list[Any]) -> Any:
        raw = await self.call(method, params)
        self.lookups.append(raw)
        return _rpc_result(raw)


async def _last_block_before(rpc: _Rpc, cutoff: int) -> int:
    """Binary search: the highest block whose timestamp is < cutoff (unix seconds)."""
    high = int(await rpc.result("eth_blockNumber", []), 16)

    async def stamp(number_: int) -> int:
        block = await rpc.result("eth_getBlockByNumber", [hex(number_), False])
        if not isinstance(block, dict) or "timestamp" not in block:
            raise ParseError(f"{rpc.source}: block {number_} not returned by the node")
        return int(block["timestamp"], 16)

    if await stamp(high) < cutoff:
        return high
    low = 0
    while high - low > 1:  # invariant: stamp(low) < cutoff <= stamp(high)
        middle = (low + high) // 2
        if await stamp(middle) < cutoff:
            low = middle
        else:
            high = middle
    return low


def _rpc_result(raw: RawPayload) -> Any:
    body = load_json(raw)
    if isinstance(body, dict) and body.get("error"):
        raise ParseError(f"{raw.source}: RPC error {json.dumps(body['error'])[:200]}")
    return dig(body, "result", source=raw.source)


def _hex_wei(value: Any, field: str) -> float:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ParseError(f"gas: {field} is {value!r}, not a hex quantity")
    try:
        return int(value, 16) / WEI_PER_GWEI
    except ValueError:
        raise ParseError(f"gas: {field} is {value!r}, not a hex quantity") from None


def parse_gas(raws: list[RawPayload]) -> Gas:
    """Parse an Etherscan gas-oracle answer, or RPC eth_gasPrice/eth_feeHistory answers (pure)."""
    last = raws[-1]
    body = load_json(last)
    if isinstance(body, dict) and "status" in body and "message" in body:
        return _parse_etherscan(last, body)
    fee_history = _rpc_result(last)
    base_fees = dig(fee_history, "baseFeePerGas", source=last.source)
    if not isinstance(base_fees, list) or len(base_fees) < 2:
        raise ParseError(f"{last.source}: baseFeePerGas has fewer than 2 entries")
    # The last entry is the *next* block's base fee; the one before is the newest block's.
    newest_base = _hex_wei(base_fees[-2], "baseFeePerGas")
    oldest = int(dig(fee_history, "oldestBlock", source=last.source), 16)
    newest_block = oldest + len(base_fees) - 2
    if len(raws) == 2:  # a current-day RPC fetch: [eth_gasPrice, eth_feeHistory]
        # eth_feeHistory carries no block times: the figures are as of when we asked.
        return _checked(_hex_wei(_rpc_result(raws[0]), "eth_gasPrice"), newest_base,
                        "eth_gasPrice", newest_block, last.fetched_at)
    # A past date: [block lookups…, eth_feeHistory ending at the block at the cut-off].
    rewards = fee_history.get("reward") or []
    tips = [_hex_wei(r[0], "reward") for r in rewards if isinstance(r, list) and r]
    tip = statistics.median(tips) if tips else 0.0
    return _checked(newest_base + tip, newest_base,
                    f"base fee + median tip of {len(tips)} blocks", newest_block,
                    _block_time(raws[:-1], newest_block))


def _block_time(lookups: list[RawPayload], number_: int) -> datetime | None:
    """The timestamp of block `number_` among the eth_getBlockByNumber answers of the
    search (the search always looks at the block it settles on, except at genesis)."""
    for raw in lookups:
        try:
            block = _rpc_result(raw)
        except ParseError:
            continue
        if not isinstance(block, dict) or "timestamp" not in block or "number" not in block:
            continue
        try:
            if int(block["number"], 16) == number_:
                return datetime.fromtimestamp(int(block["timestamp"], 16), UTC)
        except (TypeError, ValueError):
            continue
    return None


def _parse_etherscan(raw: RawPayload, body: dict[str, Any]) -> Gas:
    if str(body.get("status")) != "1":
        raise ParseError(f"{raw.source}: Etherscan said {body.get('message')}: {body.get('result')}")
    result = dig(body, "result", source=raw.source)
    if not isinstance(result, dict):
        raise ParseError(f"{raw.source}: Etherscan result is not an object: {result!r}"[:200])
    return _checked(
        number(result.get("ProposeGasPrice"), "ProposeGasPrice", raw.source),
        number(result.get("suggestBaseFee"), "suggestBaseFee", raw.source)
        if result.get("suggestBaseFee") is not None else None,
        "Etherscan ProposeGasPrice",
        int(number(result.get("LastBlock"), "LastBlock", raw.source))
        if result.get("LastBlock") else None,
        raw.fetched_at,  # the oracle gives no time: as of when we asked
    )

