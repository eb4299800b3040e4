"""`reportgen liqmap` input checks: saved positions must be clearinghouseState answers, and
Hyperliquid's mixed-case coin names (kPEPE) must match however they are typed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reportgen.errors import UsageError
from reportgen.liquidation.command import run_liqmap
from reportgen.liquidation.config import LiqConfig
from reportgen.liquidation.section import build_liquidation_section
from tests.liquidation.conftest import raw

AS_OF = datetime(2026, 9, 27, 14, 12, tzinfo=UTC)


def kpepe_state() -> dict:
    """One account in the clearinghouseState shape (as in the recorded fixtures), holding a
    kPEPE short — Hyperliquid's name for 1000 PEPE, spelled with a lower-case k."""
    return {"marginSummary": {"accountValue": "25000.0"}, "assetPositions": [
        {"type": "oneWay", "position": {
            "coin": "kPEPE", "szi": "-1500000.0", "positionValue": "15300.0",
            "liquidationPx": "0.011234", "entryPx": "0.0101",
            "leverage": {"type": "cross", "value": 5}}},
        {"type": "oneWay", "position": {
            "coin": "ETH", "szi": "2.0", "positionValue": "5200.0", "liquidationPx": "2100.5",
            "entryPx": "2600.0", "leverage": {"type": "isolated", "value": 10}}}]}


def write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "positions.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("doc", [
    {"foo": 1},                                   # any JSON object used to pass, as 0 positions
    [{"marginSummary": {}}],                      # no assetPositions
    [{"assetPositions": "none"}],                 # not a list
    [{"assetPositions": [{"coin": "BTC"}]}],      # items without a position
    [],                                           # nothing at all
    [kpepe_state(), 3],
])
def test_positions_that_are_not_clearinghouse_states_are_refused(tmp_path, doc) -> None:
    with pytest.raises(UsageError, match="clearinghouseState"):
        run_liqmap(symbol="BTC", venue="hyperliquid", positions=write(tmp_path, doc),
                   mark=100_000.0, echo=lambda _s: None)


def test_positions_without_the_symbol_are_no_map(tmp_path) -> None:
    lines: list[str] = []
    out = run_liqmap(symbol="BTC", venue="hyperliquid", positions=write(tmp_path, [kpepe_state()]),
                     mark=100_000.0, as_of=AS_OF, echo=lines.append)
    assert out.exit_code == 1
    assert any("no BTC position in the 1 accounts" in line and "ETH, kPEPE" in line
               for line in lines), lines


@pytest.mark.parametrize("typed", ["kPEPE", "KPEPE", "kpepe"])
def test_mixed_case_coin_from_saved_positions(tmp_path, typed) -> None:
    out = run_liqmap(symbol=typed, venue="hyperliquid", positions=write(tmp_path, [kpepe_state()]),
                     mark=0.0102, bucket=0.0001, json_path=tmp_path / "m.json", as_of=AS_OF,
                     echo=lambda _s: None)
    assert out.exit_code == 0
    d = json.loads((tmp_path / "m.json").read_text())
    assert d["symbol"] == "kPEPE"
    assert d["total_short_usd"] == pytest.approx(15300.0)
    assert [b["price_low"] for b in d["buckets"]] == [0.0112]


def test_mixed_case_coin_in_the_section() -> None:
    meta = [{"universe": [{"name": "BTC", "szDecimals": 5, "maxLeverage": 40},
                          {"name": "kPEPE", "szDecimals": 0, "maxLeverage": 10}]},
            [{"markPx": "84981.0", "openInterest": "38359.47984"},
             {"markPx": "0.0102", "openInterest": "9000000000.0"}]]
    url = "https://api.hyperliquid.xyz/info"
    raws = {"liq_hyperliquid": [
        raw("liq_hyperliquid", f"{url}#type=metaAndAssetCtxs", json.dumps(meta)),
        raw("liq_hyperliquid", f"{url}#type=clearinghouseState&user=0x{'a' * 40}",
            json.dumps(kpepe_state()))]}
    config = LiqConfig(venues=[], bucket_size={"KPEPE": 0.0001})
    result = build_liquidation_section(raws, "kPEPE", config, AS_OF)
    assert result.hyperliquid is not None, result.unavailable
    assert result.hyperliquid.symbol == "kPEPE"
    assert result.hyperliquid.total_short_usd == pytest.approx(15300.0)
    # typed in capitals (the brief's config upper-cases symbols) it is still found
    assert build_liquidation_section(raws, "KPEPE", config, AS_OF).hyperliquid is not None
