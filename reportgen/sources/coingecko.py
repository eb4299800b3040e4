"""CoinGecko `/global`: total market cap and its 24 h change, 24 h volume, BTC/ETH
dominance, number of listed currencies and of markets (our "exchanges" figure).

No free history: `/global/market_cap_chart` is paid-only, so a past date is answered from
the archive or not at all — never estimated.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, field_validator

from reportgen.errors import ParseError
from reportgen.figures import Indicator
from reportgen.models import RawPayload
from reportgen.settings import SourceSettings, check_url
from reportgen.sources._json import dig, load_json, mapping, number
from reportgen.sources.base import FetchContext, ParseContext, Source
from reportgen.sources.checks import Checks, Range, count, share, usd
from reportgen.units import COUNT, PERCENT, USD

# Ceiling of any US$ market-wide total we accept (US$1,000 T): above it the answer is broken.
MAX_USD = 1e15


class GlobalMarket(BaseModel):
    """/global's figures; a figure that failed its plausibility rule is None and named in
    `rejected` (field → rule), see `reportgen.sources.checks`."""

    total_market_cap_usd: float | None
    market_cap_change_24h_pct: float | None
    total_volume_usd: float | None
    btc_dominance_pct: float | None
    eth_dominance_pct: float | None
    active_cryptocurrencies: int | None
    markets: int | None
    updated_at: datetime
    rejected: dict[str, str] = {}

    @property
    def as_of(self) -> datetime:
        """The moment the figures describe: CoinGecko's own `updated_at`."""
        return self.updated_at


class CoinGeckoSettings(SourceSettings):
    """Config key `sources.coingecko` (the Altcoin Season Index uses the same API)."""

    base_url: str = "https://api.coingecko.com/api/v3/"
    pro_base_url: str = "https://pro-api.coingecko.com/api/v3/"

    _url = field_validator("base_url", "pro_base_url")(check_url)


class CoinGeckoGlobal(Source[CoinGeckoSettings]):
    name = "coingecko"
    title = "CoinGecko /global"
    link = "https://www.coingecko.com/en/global-charts"
    history = "none on free plans (/global has no history): past days come only from the archive"
    supports_past = False
    order = 10
    settings_model = CoinGeckoSettings
    model = GlobalMarket
    secrets = (("coingecko_demo_key", "REPORTGEN_COINGECKO_DEMO_KEY"),
               ("coingecko_pro_key", "REPORTGEN_COINGECKO_PRO_KEY"))
    # /global is cached ~10 min upstream; an updated_at hours old is a stuck answer.
    stale_after = timedelta(hours=3)
    # Changes vs the previous day's snapshot (from the archive: /global has no history),
    # except the market cap's, which CoinGecko reports itself.
    indicators = (
        Indicator("Listed currencies", GlobalMarket, "active_cryptocurrencies",
                  lambda m: m.active_cryptocurrencies, COUNT),
        Indicator("Exchanges (markets)", GlobalMarket, "markets", lambda m: m.markets, COUNT),
        Indicator("Total market cap", GlobalMarket, "total_market_cap_usd",
                  lambda m: m.total_market_cap_usd, USD,
                  reported_change=lambda m: m.market_cap_change_24h_pct),
        Indicator("24 h volume", GlobalMarket, "total_volume_usd", lambda m: m.total_volume_usd,
                  USD, decimals=2),
        Indicator("BTC dominance", GlobalMarket, "btc_dominance_pct",
                  lambda m: m.btc_dominance_pct, PERCENT, decimals=1, change="pts"),
        Indicator("ETH dominance", GlobalMarket, "eth_dominance_pct",
                  lambda m: m.eth_dominance_pct, PERCENT, decimals=1, change="pts"),
    )

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        from reportgen.sources._coingecko_client import CoinGeckoSession

        session = CoinGeckoSession(ctx, self.name, base_url=self.settings.base_url,
                                   pro_base_url=self.settings.pro_base_url)
        # ValueError: pycoingecko could not decode the body; the raw payload is kept and
        # parse() reports exactly what was wrong with it.
        with contextlib.suppress(ValueError):
            await session.call(session.api.get_global)
        return session.captured

    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> GlobalMarket:
        return parse_global(raws[-1])


def parse_global(raw: RawPayload) -> GlobalMarket:
    """Parse a `/global` body (pure); implausible figures are rejected one by one."""
    src = raw.source
    data = mapping(dig(load_json(raw), "data", source=src), "data", src)
    caps = mapping(dig(data, "total_market_cap", source=src), "total_market_cap", src)
    volumes = mapping(dig(data, "total_volume", source=src), "total_volume", src)
    shares = mapping(dig(data, "market_cap_percentage", source=src), "market_cap_percentage", src)
    if "btc" not in shares or "eth" not in shares:
        raise ParseError(f"{src}: market_cap_percentage lacks btc or eth")
    checks = Checks()
    cap = checks.keep("total_market_cap_usd",
                      number(caps.get("usd"), "total_market_cap.usd", src),
                      Range("Total market cap", 0, MAX_USD, lo_open=True, fmt=usd))
    change = checks.keep(
        "market_cap_change_24h_pct",
        number(data.get("market_cap_change_percentage_24h_usd"),
               "market_cap_change_percentage_24h_usd", src),
        Range("Total market cap 24 h change (%)", -100, 100, lo_open=True))
    volume = checks.keep("total_volume_usd", number(volumes.get("usd"), "total_volume.usd", src),
                         Range("24 h volume", 0, MAX_USD, fmt=usd))
    btc = checks.keep("btc_dominance_pct",
                      number(shares["btc"], "market_cap_percentage.btc", src),
                      share("BTC dominance"))
    eth = checks.keep("eth_dominance_pct",
                      number(shares["eth"], "market_cap_percentage.eth", src),
                      share("ETH dominance"))
    if btc is not None and eth is not None and btc + eth > 100:
        why = f"BTC + ETH dominance {btc + eth:.6g} is above 100"
        checks.reject("btc_dominance_pct", why)
        checks.reject("eth_dominance_pct", why)
        btc = eth = None
    coins = checks.keep("active_cryptocurrencies",
                        number(data.get("active_cryptocurrencies"), "active_cryptocurrencies", src),
                        count("Listed currencies"))
    markets = checks.keep("markets", number(data.get("markets"), "markets", src),
                          count("Exchanges (markets)"))
    return GlobalMarket(
        total_market_cap_usd=cap, market_cap_change_24h_pct=change, total_volume_usd=volume,
        btc_dominance_pct=btc, eth_dominance_pct=eth,
        active_cryptocurrencies=None if coins is None else int(coins),
        markets=None if markets is None else int(markets),
        updated_at=datetime.fromtimestamp(number(data.get("updated_at"), "updated_at", src), UTC),
        rejected=checks.rejected,
    )
