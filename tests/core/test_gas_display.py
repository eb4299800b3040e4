"""Sub-gwei gas (issue 10, item 5): since 2025 mainnet fees under 1 gwei are normal; they are
shown with significant digits, never as "0.00 gwei"."""

from __future__ import annotations

import html
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.render.filters import figure_value
from reportgen.sources.gas import GWEI
from reportgen.view import Figure
from tests.conftest import live_config, only_sources, write_config
from tests.fakeupstream import Upstream

DAY = date(2025, 6, 11)


@pytest.mark.parametrize("value, shown", [
    (0.00038, "0.00038"), (0.38, "0.38"), (0.4968, "0.50"), (0.05, "0.050"),
    (0.000000001, "0.000000001"),  # 1 wei
    (1.62, "1.62"), (22.0, "22.00"), (0.0, "0.00"),
])
def test_gas_keeps_significant_digits_below_one_gwei(value: float, shown: str) -> None:
    assert figure_value(Figure("Ethereum gas", GWEI, value, 2)) == f"{shown} gwei"


def _rpc(_query: str, body: bytes) -> tuple[int, bytes]:
    """A node whose wallets are told 0.00038 gwei (380,000 wei); base fee 0.3 gwei."""
    request = json.loads(body)
    if request["method"] == "eth_gasPrice":
        result: object = hex(380_000)
    elif request["method"] == "eth_feeHistory":
        result = {"oldestBlock": hex(22_000_000), "baseFeePerGas": [hex(300_000_000)] * 21,
                  "gasUsedRatio": [0.5] * 20, "reward": [[hex(10_000)]] * 20}
    else:
        return 400, b'{"error":"not in this test"}'
    return 200, json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}).encode()


def test_live_sub_gwei_gas_reaches_every_format(upstream: Upstream, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    upstream.load_day(DAY, ["coingecko", "feargreed", "stablecoins", "etf_farside", "news"])
    upstream.handle("https://ethereum-rpc.publicnode.com", _rpc)
    data = only_sources(live_config(upstream, tmp_path / "out"), "coingecko", "feargreed",
                        "stablecoins", "gas", "etf_farside", "news")
    config = write_config(tmp_path / "c.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", "2025-06-11T23:58:00+00:00")
    result = CliRunner().invoke(app, ["--config", str(config), "run", "--formats", "html,md"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "reports" / DAY.isoformat()
    for name in ("brief.md", "brief.html"):
        text = html.unescape((folder / name).read_text())
        assert "0.00038 gwei" in text, name
        assert "0.00 gwei" not in text, name
