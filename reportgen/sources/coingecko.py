"""CoinGecko `/global`: total market cap and its 24 h change, 24 h volume, BTC/ETH
dominance, number of listed currencies and of markets (our "exchanges" figure).

No free history: `/global/market_cap_chart` is paid-only, so a past date is answered from
the archive or not at all — never estimated.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from pydantic import BaseModel

from reportgen.errors import ParseError
from reportgen.models import RawPayload
from reportgen.sources._json import dig, load_json, mapping, number
from reportgen.sources.base import FetchContext, ParseContext, Source
from reportgen.sources.coingecko_client import CoinGeckoSession


class GlobalMarket(BaseModel):
    total_market_cap_usd: float
    market_cap_change_24h_pct: float
    total_volume_usd: float
    btc_dominance_pct: float
    eth_dominance_pct: float
    active_cryptocurrencies: int
    markets: int
    updated_at: datetime

    @property
    def as_of(self) -> datetime:
        """The moment the figures describe: CoinGecko's own `updated_at`."""
        return self.updated_at


class CoinGeckoGlobal(Source):
    name = "coingecko"
    title = "CoinGecko /global"
    history = "none on free plans (/global has no history): past days come only from the archive"
    supports_past = False
    config_section = "sources.coingecko"

    def secret_names(self) -> tuple[str, ...]:
        return ("REPORTGEN_COINGECKO_DEMO_KEY", "REPORTGEN_COINGECKO_PRO_KEY")

    async def fetch(self, ctx: FetchContext) -> list[RawPayload]:
        session = CoinGeckoSession(ctx, self.name)
        # ValueError: pycoingecko could not decode the body; the raw payload is kept and
        # parse() reports exactly what was wrong with it.
        with contextlib.suppress(ValueError):
            await session.call(session.api.get_global)
        return session.captured

    def parse(self, raws: list[RawPayload], ctx: ParseContext) -> GlobalMarket:
        return parse_global(raws[-1])


def parse_global(raw: RawPayload) -> GlobalMarket:
    """Parse a `/global` body (pure)."""
    src = raw.source
    data = mapping(dig(load_json(raw), "data", source=src), "data", src)
    caps = mapping(dig(data, "total_market_cap", source=src), "total_market_cap", src)
    volumes = mapping(dig(data, "total_volume", source=src), "total_volume", src)
    shares = mapping(dig(data, "market_cap_percentage", source=src), "market_cap_percentage", src)
    if "btc" not in shares or "eth" not in shares:
        raise ParseError(f"{src}: market_cap_percentage lacks btc or eth")
    cap = number(caps.get("usd"), "total_market_cap.usd", src)
    if cap <= 0:
        raise ParseError(f"{src}: total_market_cap.usd is {cap}, not positive")
    return GlobalMarket(
        total_market_cap_usd=cap,
        market_cap_change_24h_pct=number(
            data.get("market_cap_change_percentage_24h_usd"),
            "market_cap_change_percentage_24h_usd", src,
        ),
        total_volume_usd=number(volumes.get("usd"), "total_volume.usd", src),
        btc_dominance_pct=number(shares["btc"], "market_cap_percentage.btc", src),
        eth_dominance_pct=number(shares["eth"], "market_cap_percentage.eth", src),
        active_cryptocurrencies=int(number(data.get("active_cryptocurrencies"),
                                           "active_cryptocurrencies", src)),
        markets=int(number(data.get("markets"), "markets", src)),
        updated_at=datetime.fromtimestamp(number(data.get("updated_at"), "updated_at", src), UTC),
    )
