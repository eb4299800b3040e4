"""Build the bundled sample's market payloads for 2025-06-05 … 2025-06-11.

Constructed, not recorded (no recording of those days is at hand), except Bitcoin's and
Ether's prices and market caps: those are CoinGecko's real daily points (see REAL_PRICES),
in the exact shape of
the real recorded payloads in tests/fixtures/market/ (provenance in
tests/fixtures/PROVENANCE.md): CoinGecko /global, /coins/markets and
/coins/{id}/market_chart/range; alternative.me /fng/; DefiLlama /stablecoins; Ethereum
JSON-RPC eth_gasPrice and eth_feeHistory. The last day reproduces the figures of the public
brief for 2025-06-11 (17,411 currencies, 1,281 exchanges, US$3,754 B −1.7 %, US$140.18 B
volume, BTC 61 %, ETH 9.4 %, 1.62 gwei, Altcoin Season 31, Fear & Greed 68, US$254.4 B
stablecoins). Deterministic: run `python scripts/sample/market.py` to rebuild.
"""

from __future__ import annotations

import csv
import math
import random
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_source

DAYS = [date(2025, 6, 5) + timedelta(days=i) for i in range(7)]
CG = "https://api.coingecko.com/api/v3"
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "market"
# CoinGecko's real daily BTC and ETH points (provenance: tests/fixtures/PROVENANCE.md and
# reportgen/sample/PROVENANCE.md). CoinGecko stamps each daily point 00:00 UTC: the point
# of day X is the price at X 00:00, the close of X - 1. The ETH file is CoinGecko's export as
# is ("snapped_at" X); the BTC file is the same export re-labelled by its keeper as the close
# of the day before ("event_date" X - 1 for the point of X), so it is shifted back here.
REAL_PRICES = {
    "bitcoin": ("coingecko_btc_usd_daily_close_2025-03-04_2025-06-11_RobACA2026.csv", 1),
    "ethereum": ("coingecko_eth_usd_max_2025-03-05_2025-06-12_defischolar.csv", 0),
}


def real_points(coin: str) -> dict[date, tuple[float, float]]:
    """(price, market cap) of CoinGecko's daily point stamped 00:00 UTC of each day."""
    name, shift = REAL_PRICES[coin]
    points = {}
    with (FIXTURES / name).open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            stamp = next(iter(row.values()))
            day = date.fromisoformat(stamp[:10]) + timedelta(days=shift)
            price, cap = (float(v) for v in list(row.values())[1:3])
            points[day] = (price, cap)
    return points

# Per day: currencies, markets, total cap (B), 24h change %, volume (B), btc %, eth %,
# gas (gwei), fear & greed, stablecoins (B), coins beating BTC (of 42 compared).
FIGURES = {
    date(2025, 6, 5): (17384, 1279, 3521.4, -2.31, 128.62, 62.1, 8.6, 2.41, 54, 252.3, 11),
    date(2025, 6, 6): (17389, 1279, 3609.8, 2.51, 121.07, 61.9, 8.7, 1.87, 51, 252.6, 12),
    date(2025, 6, 7): (17392, 1280, 3640.2, 0.84, 84.55, 61.8, 8.8, 1.12, 60, 252.9, 12),
    date(2025, 6, 8): (17396, 1280, 3655.7, 0.43, 79.31, 61.7, 8.8, 0.97, 63, 253.2, 12),
    date(2025, 6, 9): (17401, 1280, 3770.4, 3.14, 118.94, 61.6, 8.9, 1.35, 71, 253.6, 11),
    date(2025, 6, 10): (17406, 1281, 3818.9, 1.29, 151.33, 61.2, 9.2, 2.07, 71, 254.1, 12),
    date(2025, 6, 11): (17411, 1281, 3754.0, -1.70, 140.18, 61.0, 9.4, 1.62, 68, 254.4, 13),
}

# A realistic top 50 of June 2025: (id, symbol, name, price on 2025-06-11, supply in units).
COINS = [
    ("bitcoin", "btc", "Bitcoin", 108620, 19.88e6), ("ethereum", "eth", "Ethereum", 2770, 120.72e6),
    ("tether", "usdt", "Tether", 1.0, 154.5e9), ("ripple", "xrp", "XRP", 2.29, 58.9e9),
    ("binancecoin", "bnb", "BNB", 668, 140.9e6), ("solana", "sol", "Solana", 164.5, 525e6),
    ("usd-coin", "usdc", "USDC", 1.0, 61.6e9), ("dogecoin", "doge", "Dogecoin", 0.2019, 149.6e9),
    ("tron", "trx", "TRON", 0.2867, 94.8e9), ("cardano", "ada", "Cardano", 0.7141, 36.1e9),
    ("staked-ether", "steth", "Lido Staked Ether", 2768, 9.41e6),
    ("wrapped-bitcoin", "wbtc", "Wrapped Bitcoin", 108500, 128.9e3),
    ("hyperliquid", "hype", "Hyperliquid", 42.1, 333.9e6), ("sui", "sui", "Sui", 3.27, 3.36e9),
    ("wrapped-steth", "wsteth", "Wrapped stETH", 3340, 3.35e6),
    ("chainlink", "link", "Chainlink", 15.38, 657e6), ("avalanche-2", "avax", "Avalanche", 21.04, 422e6),
    ("stellar", "xlm", "Stellar", 0.2807, 31.1e9), ("bitcoin-cash", "bch", "Bitcoin Cash", 431.5, 19.88e6),
    ("leo-token", "leo", "LEO Token", 8.98, 923e6), ("the-open-network", "ton", "Toncoin", 3.23, 2.47e9),
    ("shiba-inu", "shib", "Shiba Inu", 1.318e-5, 589.2e12), ("hedera-hashgraph", "hbar", "Hedera", 0.1739, 42.3e9),
    ("weth", "weth", "WETH", 2771, 2.6e6), ("litecoin", "ltc", "Litecoin", 91.7, 75.9e6),
    ("polkadot", "dot", "Polkadot", 4.21, 1.52e9), ("ethena-usde", "usde", "Ethena USDe", 1.0, 5.3e9),
    ("monero", "xmr", "Monero", 322.4, 18.45e6), ("bitget-token", "bgb", "Bitget Token", 4.62, 1.14e9),
    ("pepe", "pepe", "Pepe", 1.262e-5, 420.7e12), ("pi-network", "pi", "Pi Network", 0.652, 7.55e9),
    ("uniswap", "uni", "Uniswap", 8.49, 600.4e6), ("aave", "aave", "Aave", 292.6, 15.15e6),
    ("near", "near", "NEAR Protocol", 2.62, 1.22e9), ("aptos", "apt", "Aptos", 5.16, 633e6),
    ("okb", "okb", "OKB", 53.4, 60e6), ("internet-computer", "icp", "Internet Computer", 5.93, 535e6),
    ("crypto-com-chain", "cro", "Cronos", 0.1001, 32.5e9), ("ethereum-classic", "etc", "Ethereum Classic", 18.04, 151.9e6),
    ("ondo-finance", "ondo", "Ondo", 0.8766, 3.16e9), ("bittensor", "tao", "Bittensor", 386.5, 8.97e6),
    ("mantle", "mnt", "Mantle", 0.6803, 3.37e9), ("kaspa", "kas", "Kaspa", 0.0842, 26.4e9),
    ("vechain", "vet", "VeChain", 0.02521, 86e9), ("render-token", "render", "Render", 4.01, 518e6),
    ("cosmos", "atom", "Cosmos Hub", 4.67, 438e6), ("filecoin", "fil", "Filecoin", 2.73, 666e6),
    ("algorand", "algo", "Algorand", 0.2111, 8.62e9), ("arbitrum", "arb", "Arbitrum", 0.3969, 4.89e9),
    ("official-trump", "trump", "Official Trump", 10.43, 200e6),
]
assert len(COINS) == 50
STABLE = {"tether", "usd-coin", "ethena-usde"}


def unix(day: date, hour: int = 0) -> int:
    return int(datetime.combine(day, time(hour), tzinfo=UTC).timestamp())


def global_payload(day: date) -> dict:
    cur, mkts, cap, chg, vol, btc, eth, *_ = FIGURES[day]
    cap_usd, vol_usd = cap * 1e9, vol * 1e9
    shares = {"btc": btc, "eth": eth, "usdt": 4.11, "xrp": 3.59, "bnb": 2.51, "sol": 2.30,
              "usdc": 1.64, "doge": 0.80, "trx": 0.72, "steth": 0.69}
    # Real /global answers carry every vs-currency; a few suffice for the shape.
    fx = {"usd": 1.0, "btc": 1 / 108620, "eth": 1 / 2770, "eur": 0.8751, "gbp": 0.7406, "jpy": 144.8}
    return {"data": {
        "active_cryptocurrencies": cur, "upcoming_icos": 0, "ongoing_icos": 49, "ended_icos": 3376,
        "markets": mkts,
        "total_market_cap": {k: cap_usd * v for k, v in fx.items()},
        "total_volume": {k: vol_usd * v for k, v in fx.items()},
        "market_cap_percentage": shares,
        "market_cap_change_percentage_24h_usd": chg,
        "updated_at": unix(day, 23) + 50 * 60,
    }}


FNG_LABELS = [(24, "Extreme Fear"), (46, "Fear"), (54, "Neutral"), (75, "Greed"), (100, "Extreme Greed")]


def fng_label(value: int) -> str:
    return next(label for top, label in FNG_LABELS if value <= top)


def fng_payload(day: date) -> dict:
    rows = []
    for back in range(2):
        d = day - timedelta(days=back)
        value = FIGURES[d][8] if d in FIGURES else 52
        row = {"value": str(value), "value_classification": fng_label(value), "timestamp": str(unix(d))}
        if back == 0:
            row["time_until_update"] = "300"
        rows.append(row)
    return {"name": "Fear and Greed Index", "data": rows, "metadata": {"error": None}}


def stablecoin_payload(day: date) -> dict:
    total = FIGURES[day][9] * 1e9
    prev_day = (FIGURES.get(day - timedelta(days=1), FIGURES[day])[9] - (0 if day - timedelta(days=1) in FIGURES else 0.3)) * 1e9
    prev_week = total - 2.1e9 - (day.toordinal() % 3) * 1e8
    shares = [("1", "Tether", "USDT", "peggedUSD", 0.6075), ("2", "USD Coin", "USDC", "peggedUSD", 0.2421),
              ("146", "Ethena USDe", "USDe", "peggedUSD", 0.0211), ("209", "Sky Dollar", "USDS", "peggedUSD", 0.0297),
              ("5", "Dai", "DAI", "peggedUSD", 0.0214), ("262", "World Liberty Financial USD", "USD1", "peggedUSD", 0.0087),
              ("120", "First Digital USD", "FDUSD", "peggedUSD", 0.0070), ("6", "Frax", "FRAX", "peggedUSD", 0.0013)]
    rest = 1 - sum(s[4] for s in shares)
    shares.append(("7", "TrueUSD", "TUSD", "peggedUSD", rest))
    assets = []
    for ident, name, symbol, peg, share in shares:
        assets.append({"id": ident, "name": name, "symbol": symbol, "pegType": peg,
                       "pegMechanism": "fiat-backed" if symbol in {"USDT", "USDC", "FDUSD", "TUSD", "USD1"} else "crypto-backed",
                       "circulating": {peg: total * share}, "circulatingPrevDay": {peg: prev_day * share},
                       "circulatingPrevWeek": {peg: prev_week * share}, "circulatingPrevMonth": {peg: (total - 6.8e9) * share},
                       "price": 1.0})
    # Non-USD pegs appear in the real list and must not be counted.
    assets.append({"id": "50", "name": "Euro Coin", "symbol": "EURC", "pegType": "peggedEUR", "pegMechanism": "fiat-backed",
                   "circulating": {"peggedEUR": 214e6}, "circulatingPrevDay": {"peggedEUR": 213e6},
                   "circulatingPrevWeek": {"peggedEUR": 209e6}, "circulatingPrevMonth": {"peggedEUR": 196e6}, "price": 1.14})
    assets.append({"id": "166", "name": "Tether Gold", "symbol": "XAUT", "pegType": "peggedVAR", "pegMechanism": "fiat-backed",
                   "circulating": {"peggedVAR": 246e3}, "circulatingPrevDay": {"peggedVAR": 246e3},
                   "circulatingPrevWeek": {"peggedVAR": 246e3}, "circulatingPrevMonth": {"peggedVAR": 246e3}, "price": 3340.0})
    return {"peggedAssets": assets, "chains": []}


def gas_payloads(day: date) -> list[dict]:
    gwei = FIGURES[day][7]
    price_wei = round(gwei * 1e9)
    base = round(price_wei * 0.62)
    block = 22_680_000 + (day - DAYS[0]).days * 7150
    fees = [hex(base + ((i * 7919) % 97) * 1_000_000) for i in range(21)]
    rewards = [[hex(round(price_wei * 0.38) + ((i * 104729) % 53) * 100_000)] for i in range(20)]
    ratios = [round(0.35 + ((i * 37) % 60) / 100, 6) for i in range(20)]
    rpc = "https://ethereum-rpc.publicnode.com"
    return [
        {"file": "01-eth_gasPrice.json", "url": rpc, "request": {"method": "POST", "json": {"method": "eth_gasPrice", "params": []}},
         "body": {"jsonrpc": "2.0", "id": 1, "result": hex(price_wei)}},
        {"file": "02-eth_feeHistory.json", "url": rpc, "request": {"method": "POST", "json": {"method": "eth_feeHistory", "params": ["0x14", "latest", [50]]}},
         "body": {"jsonrpc": "2.0", "id": 2, "result": {
            "oldestBlock": hex(block - 19), "reward": rewards, "baseFeePerGas": fees,
            "gasUsedRatio": ratios, "baseFeePerBlobGas": ["0x1"] * 21, "blobGasUsedRatio": [0.0] * 20}}},
    ]


def price_series(rng: random.Random) -> dict[str, dict[date, float]]:
    """Daily 00:00 UTC prices from 2025-03-05 to 2025-06-12 for every coin.

    Bitcoin and Ether are CoinGecko's real points (REAL_PRICES). The other coins are
    constructed so that on each sample day D exactly FIGURES[D][-1] of the 42 compared coins
    (Ether, with its real return, among them) beat BTC over 90 days: coin c's 90-day return
    is BTC's plus (strength_c − threshold_D)."""
    first = DAYS[0] - timedelta(days=92)
    span = [first + timedelta(days=i) for i in range((DAYS[-1] - first).days + 2)]
    compared = [c for c in COINS[1:] if c[0] not in {"tether", "usd-coin", "staked-ether",
                "wrapped-bitcoin", "wrapped-steth", "weth", "ethena-usde"}]
    assert len(compared) == 42
    constructed = [c for c in compared if c[0] != "ethereum"]
    strengths = sorted((rng.uniform(-0.55, 0.6) for _ in constructed), reverse=True)
    rng.shuffle(order := list(range(len(constructed))))
    strength = {constructed[i][0]: strengths[rank] for rank, i in enumerate(order)}

    series: dict[str, dict[date, float]] = {}
    for coin in REAL_PRICES:
        points = real_points(coin)
        series[coin] = {d: points[d][0] for d in span}
    btc, eth = series["bitcoin"], series["ethereum"]
    for ident, _sym, _name, end_price, _supply in COINS[1:]:
        if ident in REAL_PRICES:
            continue
        if ident in STABLE:
            series[ident] = {d: 1.0 + rng.uniform(-0.0008, 0.0008) for d in span}
            continue
        if ident in {"staked-ether", "wrapped-steth", "weth", "wrapped-bitcoin"}:
            ratio = end_price / (2770 if ident != "wrapped-bitcoin" else 108620)
            base = "ethereum" if ident != "wrapped-bitcoin" else "bitcoin"
            series[ident] = {}  # filled after the base coin
            series[ident]["__ratio__"] = (base, ratio)  # type: ignore[index]
            continue
        prices: dict[date, float] = {}
        # Early window (D-90 for sample days): a random walk around end_price / 1.2.
        level = end_price / rng.uniform(0.9, 1.5)
        for d in span:
            level *= math.exp(rng.gauss(0, 0.025))
            prices[d] = level
        # Pin the sample days so the 90-day excess return over BTC is strength − threshold.
        for day in DAYS:
            then = day - timedelta(days=90)
            btc_ret = btc[day] / btc[then] - 1
            eth_beats = eth[day] / eth[then] - 1 > btc_ret
            beat = FIGURES[day][-1] - int(eth_beats)  # of the constructed coins
            ranked = sorted(strength.values(), reverse=True)
            threshold = (ranked[beat - 1] + ranked[beat]) / 2
            prices[day] = prices[then] * max(0.05, 1 + btc_ret + strength[ident] - threshold)
        # Scale so the last day matches the coin's real-looking price.
        scale = end_price / prices[DAYS[-1]]
        series[ident] = {d: p * scale for d, p in prices.items()}
    for ident, values in list(series.items()):
        if "__ratio__" in values:
            base, ratio = values["__ratio__"]  # type: ignore[misc]
            series[ident] = {d: p * ratio for d, p in series[base].items()}
    return series


def altseason_payloads(day: date, series: dict[str, dict[date, float]]) -> list[dict]:
    supply = {c[0]: c[4] for c in COINS}
    caps_on = {c[0]: series[c[0]][day] * supply[c[0]] for c in COINS}
    ranked = sorted(COINS, key=lambda c: -caps_on[c[0]])
    markets = []
    for rank, (ident, symbol, name, _p, sup) in enumerate(ranked, start=1):
        price_now = series[ident][day]
        prev = series[ident][day - timedelta(days=1)]
        updated = f"{day.isoformat()}T00:00:12.000Z"
        if ident in REAL_PRICES:
            # The run is "fetched" at 23:55 UTC: the price then is the day's close, CoinGecko's
            # real point of 00:00 UTC the next day (its actual time given as last_updated).
            price_now, prev = series[ident][day + timedelta(days=1)], series[ident][day]
            updated = f"{(day + timedelta(days=1)).isoformat()}T00:00:00.000Z"
        markets.append({
            "id": ident, "symbol": symbol, "name": name,
            "image": f"https://coin-images.coingecko.com/coins/images/{rank}/large/{ident}.png",
            "current_price": price_now, "market_cap": caps_on[ident], "market_cap_rank": rank,
            "fully_diluted_valuation": None, "total_volume": caps_on[ident] * 0.04,
            "high_24h": max(price_now, prev) * 1.01, "low_24h": min(price_now, prev) * 0.99,
            "price_change_24h": price_now - prev, "price_change_percentage_24h": (price_now / prev - 1) * 100,
            "market_cap_change_24h": (price_now - prev) * sup,
            "market_cap_change_percentage_24h": (price_now / prev - 1) * 100,
            "circulating_supply": sup, "total_supply": sup, "max_supply": None, "ath": price_now * 1.4,
            "ath_change_percentage": -28.6, "ath_date": "2024-12-17T15:02:41.429Z", "atl": price_now / 50,
            "atl_change_percentage": 4900.0, "atl_date": "2020-03-13T02:22:55.044Z", "roi": None,
            "last_updated": updated,
        })
    frm, to = unix(day - timedelta(days=91)), unix(day) + 3599
    payloads = [{"file": "00-coins_markets.json",
                 "url": f"{CG}/coins/markets?vs_currency=usd&order=market_cap_desc&per_page=50&page=1",
                 "body": markets}]
    for ident, *_rest in COINS:
        days = [d for d in sorted(series[ident]) if day - timedelta(days=91) <= d <= day]
        chart = {
            "prices": [[unix(d) * 1000, series[ident][d]] for d in days],
            "market_caps": [[unix(d) * 1000, series[ident][d] * supply[ident]] for d in days],
            "total_volumes": [[unix(d) * 1000, series[ident][d] * supply[ident] * 0.04] for d in days],
        }
        payloads.append({"file": f"chart-{ident}.json",
                         "url": f"{CG}/coins/{ident}/market_chart/range?vs_currency=usd&from={frm}&to={to}",
                         "body": chart})
    return payloads


def main() -> None:
    rng = random.Random(20250611)
    series = price_series(rng)
    for day in DAYS:
        write_source(day, "coingecko", [{"file": "global.json", "url": f"{CG}/global", "body": global_payload(day)}])
        write_source(day, "feargreed", [{"file": "fng.json", "url": "https://api.alternative.me/fng/?limit=2&format=json",
                                         "body": fng_payload(day)}])
        write_source(day, "stablecoins", [{"file": "stablecoins.json",
                                           "url": "https://stablecoins.llama.fi/stablecoins?includePrices=true",
                                           "body": stablecoin_payload(day)}])
        write_source(day, "gas", gas_payloads(day))
        write_source(day, "altseason", altseason_payloads(day, series))


if __name__ == "__main__":
    main()
