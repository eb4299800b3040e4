"""A backdated run uses only historical answers: the fake upstream's "current" endpoints
carry different numbers, and none of them may appear in the brief for the past date."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from tests.conftest import live_config, only_sources, write_config
from tests.fakeupstream import SAMPLE_ROOT, Upstream

TODAY = date(2025, 6, 20)
DAY = date(2025, 6, 11)
GENESIS = int(datetime(2025, 6, 1, tzinfo=UTC).timestamp())


def _unix(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _fng(query: str, _body: bytes) -> tuple[int, bytes]:
    limit = int(parse_qs(query)["limit"][0])
    rows = []
    for back in range(limit):
        d = TODAY - timedelta(days=back)
        value = {DAY: 68, DAY - timedelta(days=1): 71}.get(d, 12)  # today: 12, Extreme Fear
        label = "Greed" if value > 55 else "Extreme Fear"
        rows.append({"value": str(value), "value_classification": label, "timestamp": str(_unix(d))})
    body = {"name": "Fear and Greed Index", "data": rows, "metadata": {"error": None}}
    return 200, json.dumps(body).encode()


def _rpc(_query: str, body: bytes) -> tuple[int, bytes]:
    """A chain with one block every 12 s from GENESIS; base fee 1.0 gwei + 0.62 gwei tip
    historically, while "now" eth_gasPrice says 77.7 gwei."""
    request = json.loads(body)
    method, params = request["method"], request["params"]
    head = (_unix(TODAY) + 12 * 3600 - GENESIS) // 12
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


def _chart(_query: str, _body: bytes) -> tuple[int, bytes]:
    rows = [{"date": str(_unix(DAY + timedelta(days=k))),
             "totalCirculatingUSD": {"peggedUSD": (254.4 + 0.1 * k) * 1e9, "peggedEUR": 2e8}}
            for k in range(-10, 10)]
    return 200, json.dumps(rows).encode()


def _hashrate(_query: str, _body: bytes) -> tuple[int, bytes]:
    """mempool.space's trailing month up to TODAY: only D and D − 1 carry the day's numbers."""
    rows = [{"timestamp": _unix(TODAY - timedelta(days=back)),
             "avgHashrate": {DAY: 924_500, DAY - timedelta(days=1): 887_200}.get(
                 TODAY - timedelta(days=back), 999_900) * 10**15}
            for back in range(30, -1, -1)]
    return 200, json.dumps({"hashrates": rows, "difficulty": [], "currentHashrate": 1,
                            "currentDifficulty": 1}).encode()


@pytest.fixture
def past_upstream(upstream: Upstream) -> Upstream:
    # Funding answers a past date from the same history request a run on the day makes.
    upstream.load_day(DAY, ["altseason", "etf_farside", "funding"])
    # A past date ranks 100 candidates by their market cap on D; the recorded list of 50
    # answers that request as well (CoinGecko returns fewer rows when it has fewer).
    markets = (SAMPLE_ROOT / DAY.isoformat() / "altseason" / "00-coins_markets.json").read_bytes()
    upstream.add("https://api.coingecko.com/api/v3/coins/markets?vs_currency=usd"
                 "&order=market_cap_desc&per_page=100&page=1", markets)
    # A past date's BTC and ETH charts run to D + 1 00:59: their point of D + 1 00:00 is the
    # close of D. The sample's charts end at D; the close added here is CoinGecko's real one
    # (the sample's /coins/markets current_price, tests/fixtures/market/coingecko_*.csv).
    rows = {row["id"]: row for row in json.loads(markets)}
    for coin in ("bitcoin", "ethereum"):
        chart = json.loads((SAMPLE_ROOT / DAY.isoformat() / "altseason" / f"chart-{coin}.json")
                           .read_bytes())
        close = rows[coin]["current_price"]
        chart["prices"].append([_unix(DAY + timedelta(days=1)) * 1000, close])
        upstream.add(f"https://api.coingecko.com/api/v3/coins/{coin}/market_chart/range"
                     f"?vs_currency=usd&from={_unix(DAY - timedelta(days=91))}"
                     f"&to={_unix(DAY + timedelta(days=1)) + 3599}", json.dumps(chart).encode())
    upstream.handle("https://api.alternative.me/fng/", _fng)
    upstream.handle("https://ethereum-rpc.publicnode.com", _rpc)
    upstream.handle("https://stablecoins.llama.fi/stablecoincharts/all", _chart)
    upstream.handle("https://mempool.space/api/v1/mining/hashrate/1m", _hashrate)
    # "Current" answers whose numbers must never show up for a past date.
    current = {"data": {"active_cryptocurrencies": 99999, "markets": 9999,
                        "total_market_cap": {"usd": 9.999e12}, "total_volume": {"usd": 8.888e11},
                        "market_cap_percentage": {"btc": 11.1, "eth": 22.2},
                        "market_cap_change_percentage_24h_usd": 5.55, "updated_at": 1750000000}}
    upstream.add("https://api.coingecko.com/api/v3/global", json.dumps(current).encode())
    assets = [{"pegType": "peggedUSD", "circulating": {"peggedUSD": 999.9e9}}]
    upstream.add("https://stablecoins.llama.fi/stablecoins",
                 json.dumps({"peggedAssets": assets}).encode())
    return upstream


def test_backdated_run_shows_only_historical_numbers(
    past_upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = live_config(past_upstream, tmp_path / "out")
    data["liquidation"] = {"enabled": False}
    config = write_config(tmp_path / "c.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", f"{TODAY.isoformat()}T12:00:00+00:00")
    result = CliRunner().invoke(app, ["--config", str(config), "run", "--date", DAY.isoformat(),
                                      "--formats", "html,md"])
    assert result.exit_code == 3, result.output  # CoinGecko /global has no history
    md = (tmp_path / "out" / "reports" / DAY.isoformat() / "brief.md").read_text()

    # Historical answers are used …
    assert "68 (Greed)" in md and "▼ −3 pts" in md
    assert "US$254.4 B" in md
    assert "1.62 gwei" in md  # base fee 1.0 + median tip 0.62 at the block of the cut-off
    assert "31 (Neither)" in md
    assert "| BTC price[^" in md and "$108,680" in md and "−1.39%" in md  # close of D (chart)
    assert "+164.6" in md  # ETF total for 2025-06-11
    assert "historical endpoint" in md
    assert "| BTC funding, Binance[^" in md and "0.0070% (7.66% a year" in md  # 16:00 of D
    # … and nothing from the present.
    for current in ("Extreme Fear", "999.9", "77.7", "70.62", "9,999", "99,999", "11.1%", "5.55"):
        assert current not in md, current
    assert "has no free history" in md
    hosts = [path for _, path in past_upstream.requests]
    assert not any(p.endswith("/stablecoins") for p in hosts)
    assert not any("/api/v3/global" in p for p in hosts)


def test_past_headlines_come_from_later_fetches_in_the_archive(
    upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Feeds have no history, but the day after still lists the day's items: a backdated run
    finds them in the archive (fetched on D+1), never from a live fetch for D."""
    upstream.load_day(DAY, ["news"])
    data = only_sources(live_config(upstream, tmp_path / "out"), "news")
    config = write_config(tmp_path / "c.yaml", data)
    runner = CliRunner()
    next_day = DAY + timedelta(days=1)
    monkeypatch.setenv("REPORTGEN_NOW", f"{next_day.isoformat()}T08:00:00+00:00")
    first = runner.invoke(app, ["--config", str(config), "run", "--formats", "md"])
    assert first.exit_code == 3, first.output  # D+1 itself has no headlines of its own
    feed_calls = len(upstream.requests)
    monkeypatch.setenv("REPORTGEN_NOW", f"{(DAY + timedelta(days=2)).isoformat()}T08:00:00+00:00")
    result = runner.invoke(app, ["--config", str(config), "run", "--date", DAY.isoformat(),
                                 "--formats", "md"])
    assert result.exit_code == 0, result.output  # news alone, and it is complete
    md = (tmp_path / "out" / "reports" / DAY.isoformat() / "brief.md").read_text()
    assert "HYPE surpasses $42" in md and "Divergence Between U.S. Institutional" in md
    assert "archived earlier" in md
    assert len(upstream.requests) == feed_calls  # nothing fetched for the past date


def test_as_of_is_the_datas_own_time_and_fetch_time_is_kept_apart(
        past_upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backdated run answered from historical endpoints: the footnotes give each row's
    or block's own time on the report day, never the (later) moment it was fetched."""
    data = live_config(past_upstream, tmp_path / "out")
    data["liquidation"] = {"enabled": False}
    config = write_config(tmp_path / "c.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", "2025-06-20T12:00:00+00:00")
    result = CliRunner().invoke(app, ["--config", str(config), "run", "--date", DAY.isoformat(),
                                      "--formats", "md"])
    assert result.exit_code == 3, result.output  # CoinGecko /global has no history
    md = (tmp_path / "out" / "reports" / DAY.isoformat() / "brief.md").read_text()
    notes = {line.split("]: ")[1].split(" <")[0]: line for line in md.splitlines()
             if line.startswith("[^")}
    assert "as of 2025-06-11 00:00 UTC · historical endpoint" in notes[
        "alternative.me Fear & Greed Index"]
    assert "as of 2025-06-11 00:00 UTC · historical endpoint" in notes["DefiLlama stablecoins"]
    # The last block before the cut-off (one block every 12 s in the fake chain).
    assert "as of 2025-06-11 23:59 UTC · historical endpoint" in notes[
        "Ethereum JSON-RPC / Etherscan gas oracle"]
    # Funding: the last settlement of the day, from the venues' history endpoints.
    (funding,) = [line for line in md.splitlines() if "funding-rate history —" in line]
    assert "as of 2025-06-11 16:00 UTC · historical endpoint" in funding
    assert "2025-06-20" not in "\n".join(notes.values())
    assert "_Generated 2025-06-20 12:00 UTC by reportgen._" in md

    with sqlite3.connect(tmp_path / "out" / "archive.sqlite") as db:
        rows = dict(((s, (f, a)) for s, f, a in db.execute(
            "SELECT source, fetched_at, as_of FROM snapshots WHERE report_date=? AND ok=1",
            (DAY.isoformat(),))))
    assert rows["feargreed"] == ("2025-06-20T12:00:00+00:00", "2025-06-11T00:00:00+00:00")
    assert rows["stablecoins"] == ("2025-06-20T12:00:00+00:00", "2025-06-11T00:00:00+00:00")
    fetched, as_of = rows["gas"]
    assert fetched == "2025-06-20T12:00:00+00:00" and as_of.startswith("2025-06-11T23:59:")
