"""Plausibility and staleness (issue 10, item 4): an impossible or stale figure is never shown
as the day's; it is unavailable, the rule it broke is named, and the run exits 3."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from reportgen.brief.build import stale_reason
from reportgen.cli import app
from reportgen.models import RawPayload, SourceSnapshot
from reportgen.sources.coingecko import parse_global
from reportgen.sources.gas import parse_gas
from reportgen.sources.stablecoins import parse_chart, parse_current
from tests.conftest import live_config, write_config
from tests.fakeupstream import SAMPLE_ROOT, Upstream

DAY = date(2025, 6, 11)
NOW = "2025-06-11T23:58:00+00:00"
GLOBAL_URL = "https://api.coingecko.com/api/v3/global"
STABLES_URL = "https://stablecoins.llama.fi/stablecoins?includePrices=true"


def _sample(source: str, name: str) -> Any:
    return json.loads((SAMPLE_ROOT / DAY.isoformat() / source / name).read_text())


def _raw(body: Any, source: str = "test") -> RawPayload:
    return RawPayload(source=source, url="https://example.test/x", status=200,
                      body=json.dumps(body).encode(),
                      fetched_at=datetime(2025, 6, 11, 23, 58, tzinfo=UTC))


def _hostile_global(**changes: Any) -> dict[str, Any]:
    body = _sample("coingecko", "global.json")
    for key, value in changes.items():
        if key in ("btc", "eth"):
            body["data"]["market_cap_percentage"][key] = value
        else:
            body["data"][key] = value
    return body


def _stables(total_tether: float) -> dict[str, Any]:
    """The sample /stablecoins answer with Tether's circulating supply replaced."""
    body = _sample("stablecoins", "stablecoins.json")
    tether = next(a for a in body["peggedAssets"] if a["symbol"] == "USDT")
    tether["circulating"] = {"peggedUSD": total_tether}
    return body


# -- the rules, on the parsed models ------------------------------------------------------


def test_coingecko_rejects_each_impossible_figure_by_name() -> None:
    g = parse_global(_raw(_hostile_global(active_cryptocurrencies=-5, markets=1e308, btc=250)))
    assert g.active_cryptocurrencies is None and g.markets is None and g.btc_dominance_pct is None
    assert g.rejected == {
        "active_cryptocurrencies": "Listed currencies −5 outside 0–1,000,000",
        "markets": "Exchanges (markets) 1e+308 outside 0–1,000,000",
        "btc_dominance_pct": "BTC dominance 250 outside 0–100",
    }
    # The plausible figures of the same answer stay.
    assert g.total_market_cap_usd == 3.754e12 and g.eth_dominance_pct == 9.4


def test_coingecko_dominance_shares_cannot_add_up_past_100() -> None:
    g = parse_global(_raw(_hostile_global(btc=80.0, eth=30.0)))
    assert g.btc_dominance_pct is None and g.eth_dominance_pct is None
    assert g.rejected["eth_dominance_pct"] == "BTC + ETH dominance 110 is above 100"


def test_stablecoin_total_negative_or_infinite_is_rejected() -> None:
    negative = parse_current(_raw(_stables(-371e9)), _stables(-371e9))
    assert negative.total_usd is None and negative.prev_day_usd is not None
    assert negative.rejected == {"total_usd": "USD-stablecoin market cap US$−271.1 B is not above 0"}
    # Two finite supplies whose sum overflows to infinity.
    body = _stables(1.7e308)
    body["peggedAssets"][1]["circulating"] = {"peggedUSD": 1.7e308}
    infinite = parse_current(_raw(body), body)
    assert infinite.total_usd is None
    assert infinite.rejected["total_usd"] == "USD-stablecoin market cap inf is not a finite number"


def test_stablecoin_chart_day_that_halves_overnight_is_rejected() -> None:
    rows = [{"date": str(int(datetime(2025, 6, d, tzinfo=UTC).timestamp())),
             "totalCirculatingUSD": {"peggedUSD": 250e9 if d < 11 else 100e9}}
            for d in range(1, 12)]
    s = parse_chart(_raw(rows), rows, DAY)
    assert s.total_usd is None
    assert s.rejected["total_usd"] == ("USD-stablecoin market cap US$100.0 B is ×0.4 the "
                                       "previous day's US$250.0 B, outside ×0.5–×2")


def test_negative_gas_is_rejected() -> None:
    g = parse_gas([_raw({"status": "1", "message": "OK", "result": {
        "LastBlock": "1", "ProposeGasPrice": "-3", "suggestBaseFee": "0.4"}})])
    assert g.gas_gwei is None and g.base_fee_gwei == 0.4
    assert g.rejected == {"gas_gwei": "Ethereum gas (gwei) −3 outside 0–100,000"}


def test_staleness_is_measured_from_the_fetch_or_the_cut_off() -> None:
    def snap(as_of: datetime, fetched: datetime) -> SourceSnapshot:
        return SourceSnapshot(source="coingecko", report_date=DAY, ok=True, method="live",
                              fetched_at=fetched, as_of=as_of)

    limit = timedelta(hours=3)
    fetched = datetime(2025, 6, 11, 23, 58, tzinfo=UTC)
    assert stale_reason(snap(fetched - timedelta(minutes=8), fetched), DAY, "UTC", limit) is None
    why = stale_reason(snap(fetched - timedelta(days=1), fetched), DAY, "UTC", limit)
    assert why == ("stale: the data is as of 2025-06-10 23:58 UTC, 24 h before it was fetched "
                   "(2025-06-11 23:58 UTC); the limit for this source is 3 h")
    # An age past the limit never reads as the limit: 3 h 30 min used to read "3 h".
    why = stale_reason(snap(fetched - timedelta(hours=3, minutes=30), fetched), DAY, "UTC", limit)
    assert why and "3 h 30 min before it was fetched" in why
    why = stale_reason(snap(fetched - timedelta(hours=3, seconds=20), fetched), DAY, "UTC", limit)
    assert why and "3 h 1 min before it was fetched" in why and why.endswith("is 3 h")
    why = stale_reason(snap(fetched - timedelta(days=3, hours=2, minutes=1), fetched), DAY, "UTC",
                       limit)
    assert why and "3 days 3 h before it was fetched" in why
    # A morning run: measured from the fetch, not from the (later) cut-off.
    morning = datetime(2025, 6, 11, 8, 0, tzinfo=UTC)
    assert stale_reason(snap(morning - timedelta(minutes=5), morning), DAY, "UTC", limit) is None
    # Fetched after the day (a backdated run): measured from the cut-off.
    late = datetime(2025, 6, 20, tzinfo=UTC)
    assert stale_reason(snap(datetime(2025, 6, 11, 22, tzinfo=UTC), late), DAY, "UTC",
                        limit) is None
    assert "after the end of 2025-06-11" in (
        stale_reason(snap(late, late), DAY, "UTC", limit) or "")


# -- over the live path -----------------------------------------------------------------


def _serve(upstream: Upstream, url: str, body: Any) -> None:
    """Replace what the fake upstream answers at `url`."""
    parts = urlsplit(url)
    upstream.routes.pop(f"/{parts.netloc}{parts.path}", None)
    upstream.add(url, json.dumps(body).encode())


def _run(upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    data = live_config(upstream, tmp_path / "out")
    data["sources"]["altseason"]["enabled"] = False  # ~50 chart requests, not needed here
    data["liquidation"]["enabled"] = False
    config = write_config(tmp_path / "c.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", NOW)
    result = CliRunner().invoke(app, ["--config", str(config), "run", "--formats", "md"])
    md = (tmp_path / "out" / "reports" / DAY.isoformat() / "brief.md").read_text()
    return result.exit_code, md


def test_impossible_values_are_unavailable_with_the_rule_and_exit_3(
        upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upstream.load_day(DAY)
    _serve(upstream, GLOBAL_URL, _hostile_global(active_cryptocurrencies=-5, markets=1e308,
                                                 btc=250))
    _serve(upstream, STABLES_URL, _stables(-371e9))
    code, md = _run(upstream, tmp_path, monkeypatch)
    assert code == 3
    assert "| Listed currencies | unavailable | unavailable for 2025-06-11: value rejected as " \
           "implausible: Listed currencies −5 outside 0–1,000,000 |" in md
    assert "Exchanges (markets) 1e+308 outside 0–1,000,000" in md  # no needless escapes
    assert "BTC dominance 250 outside 0–100" in md
    assert "−5 " not in md.split("Listed currencies")[1][:20]
    # The stablecoin section is unavailable and says why, instead of "US$−54.7 B ▼ −121.53%".
    assert "## 2. Stablecoins\n\n_Unavailable_ — unavailable for 2025-06-11: value rejected as " \
           "implausible: USD-stablecoin market cap US$−271.1 B is not above 0" in md
    assert "▼ −" not in md.split("## 2. Stablecoins")[1].split("## 3.")[0]
    # The figures that were fine are still there.
    assert "US$3,754 B" in md and "9.4%" in md and "68 (Greed)" in md


def test_yesterdays_coingecko_answer_served_today_is_stale(
        upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upstream.load_day(DAY)
    yesterday = int(datetime(2025, 6, 10, 23, 50, tzinfo=UTC).timestamp())
    _serve(upstream, GLOBAL_URL, _hostile_global(updated_at=yesterday))
    code, md = _run(upstream, tmp_path, monkeypatch)
    assert code == 3
    assert "US$3,754 B" not in md and "17,411" not in md
    assert ("| Total market cap | unavailable | unavailable for 2025-06-11: stale: the data is "
            "as of 2025-06-10 23:50 UTC, 24 h 8 min before it was fetched (2025-06-11 23:58 UTC); "
            "the limit for this source is 3 h |") in md
