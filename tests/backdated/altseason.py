"""CoinGecko for the index and the BTC/ETH prices of D: the recorded top-50 list and
charts of the sample day, with the close of D added."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.backdated import DAY, unix
from tests.fakeupstream import SAMPLE_ROOT, Upstream

SHOWN = ("31 (Neither)", "| BTC price[^", "$108,680", "−1.39%")  # close of D (chart)
NEVER: tuple[str, ...] = ()
NEVER_ASKED: tuple[str, ...] = ()


def serve(upstream: Upstream, output: Path) -> None:
    upstream.load_day(DAY, ["altseason"])
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
        chart["prices"].append([unix(DAY + timedelta(days=1)) * 1000, close])
        upstream.add(f"https://api.coingecko.com/api/v3/coins/{coin}/market_chart/range"
                     f"?vs_currency=usd&from={unix(DAY - timedelta(days=91))}"
                     f"&to={unix(DAY + timedelta(days=1)) + 3599}", json.dumps(chart).encode())
