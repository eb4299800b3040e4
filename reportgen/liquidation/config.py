"""Settings of the liquidation map (nested in the main config under `liquidation`).

Defaults: 7-day window of 5-minute bars, tier weights 5x .25 / 10x .30 / 25x .25 / 50x .15 /
100x .05, first-bracket maintenance margin rates per venue (dated: brackets change),
aggressor long/short split.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Venue = Literal["binance", "bybit", "okx"]
ALL_VENUES: tuple[Venue, ...] = ("binance", "bybit", "okx")
SideRule = Literal["aggressor", "candle", "even"]
Interval = Literal["5m", "15m", "30m", "1h"]

INTERVAL_MS: dict[str, int] = {"5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000}

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_SYMBOL = re.compile(r"^[A-Z0-9]{2,12}$")

DEFAULT_TIERS: dict[int, float] = {5: 0.25, 10: 0.30, 25: 0.25, 50: 0.15, 100: 0.05}

# First-bracket maintenance margin rates. Binance: /fapi/v1/leverageBracket as mirrored by ccxt
# (2024-10, bracket 1 ≤ 50 k USDT: 0.40 %); Bybit: help-centre lowest risk tier 0.5 %; OKX:
# tier 1 ≈ 0.4 %. Small positions dominate the tiers we model, hence the first bracket.
DEFAULT_MMR: dict[str, dict[str, float]] = {
    "binance": {"BTC": 0.004, "ETH": 0.004},
    "bybit": {"BTC": 0.005, "ETH": 0.005},
    "okx": {"BTC": 0.004, "ETH": 0.004},
}
DEFAULT_MAX_LEVERAGE: dict[str, dict[str, int]] = {
    "binance": {"BTC": 125, "ETH": 125},
    "bybit": {"BTC": 100, "ETH": 100},
    "okx": {"BTC": 100, "ETH": 100},
}


class LiqConfig(BaseModel):
    """Liquidation-map settings; every field has a documented default."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    symbols: list[str] = Field(default_factory=lambda: ["BTC", "ETH"])
    venues: list[Venue] = Field(default_factory=lambda: list(ALL_VENUES))
    hyperliquid: bool = True
    lookback_days: int = Field(7, ge=1, le=30)  # Binance keeps 30 days of OI history
    interval: Interval = "5m"
    bucket_size: dict[str, float] = Field(default_factory=lambda: {"BTC": 100.0, "ETH": 5.0})
    # price share used for symbols without an explicit bucket size (0.1 % of the mark)
    default_bucket_share: float = Field(0.001, gt=0, lt=0.1)
    tier_weights: dict[int, float] = Field(default_factory=lambda: dict(DEFAULT_TIERS))
    side_rule: SideRule = "aggressor"
    decay_half_life_days: float | None = Field(None, gt=0)
    maintenance_margin: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_MMR.items()}
    )
    maintenance_margin_default: float = Field(0.005, gt=0, lt=0.5)
    max_leverage: dict[str, dict[str, int]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_MAX_LEVERAGE.items()}
    )
    brackets_as_of: str = "2024-10"
    okx_fee_rate: float = Field(0.0005, ge=0, lt=0.01)
    # Bybit's open interest. The v5 `GET /v5/market/open-interest` docs define `openInterest`
    # as "the sum of both sides" and `singleOpenInterest` as "the single side"; the latter is
    # always used where an answer carries it. For answers without it: "halve" (default)
    # counts half of `openInterest`; "single" takes it as published (how some aggregators
    # print it; it counts Bybit twice). Printed with the map.
    bybit_open_interest: Literal["single", "halve"] = "halve"
    okx_contract_value: dict[str, float] = Field(
        default_factory=lambda: {"BTC": 0.01, "ETH": 0.1}
    )
    range_pct: float = Field(0.30, gt=0, le=5.0)  # levels beyond mark ± this go to "beyond range"
    cluster_buckets: int = Field(5, ge=1, le=100)
    # The published map (JSON, bullets and chart share it) has at most this many buckets over
    # mark ± range_pct: the model's buckets are summed 2, 5, 10, … at a time when there are
    # more. A cluster then spans cluster_buckets model buckets, rounded to whole grid buckets.
    max_buckets: int | None = Field(150, ge=10, le=10_000)
    # The time × price heatmap of the estimate under each symbol's map (brief and site).
    heatmaps: bool = False
    cascade_pcts: list[float] = Field(default_factory=lambda: [2.0, 5.0, 10.0])
    heatmap_step_minutes: int = Field(60, ge=5, le=1440)
    # --check-against: the baseline and the randomisation test move each event by up to
    # ± this share of the mark (docs/liquidation-check.md); random moves for the p-value
    check_band_pct: float = Field(0.02, gt=0, le=0.2)
    check_permutations: int = Field(999, ge=19, le=100_000)
    # --check-against scores events of this many hours after the map's as-of
    check_horizon_hours: float = Field(24.0, gt=0, le=720)
    hyperliquid_addresses: list[str] = Field(default_factory=list)
    leaderboard_top_n: int = Field(200, ge=0, le=5000)
    leaderboard_min_account_value: float = Field(10_000.0, ge=0)
    hyperliquid_concurrency: int = Field(8, ge=1, le=64)
    hyperliquid_weight_per_minute: int = Field(1200, ge=10)
    binance_url: str = "https://fapi.binance.com"
    bybit_url: str = "https://api.bybit.com"
    okx_url: str = "https://www.okx.com"
    hyperliquid_url: str = "https://api.hyperliquid.xyz"
    hyperliquid_leaderboard_url: str = "https://stats-data.hyperliquid.xyz/Mainnet/leaderboard"

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str]) -> list[str]:
        out = [s.strip().upper() for s in value]
        bad = [s for s in out if not _SYMBOL.match(s)]
        if bad:
            raise ValueError(f"symbols must be base coins like 'BTC' or 'ETH', got {bad}")
        if not out:
            raise ValueError("symbols must name at least one coin")
        return out

    @field_validator("venues")
    @classmethod
    def _venues(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"venues lists a venue twice: {value}")
        return value

    @field_validator("bucket_size")
    @classmethod
    def _buckets(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if not v > 0}
        if bad:
            raise ValueError(f"bucket sizes must be positive US$ amounts, got {bad}")
        return {k.upper(): float(v) for k, v in value.items()}

    @field_validator("tier_weights")
    @classmethod
    def _tiers(cls, value: dict[int, float]) -> dict[int, float]:
        if not value:
            raise ValueError("tier_weights needs at least one leverage tier, e.g. {10: 1.0}")
        bad_lev = [k for k in value if not 1 < k <= 200]
        if bad_lev:
            raise ValueError(f"tier_weights keys are leverages between 2 and 200, got {bad_lev}")
        if any(w < 0 for w in value.values()):
            raise ValueError(f"tier_weights must not be negative, got {value}")
        total = sum(value.values())
        if abs(total - 1.0) > 0.01:
            raise ValueError(f"tier_weights must sum to 1 (got {total:.4f}): {value}")
        return dict(sorted(value.items()))

    @field_validator("maintenance_margin")
    @classmethod
    def _mmr(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for venue, rates in value.items():
            for sym, rate in rates.items():
                if not 0 < rate < 0.5:
                    raise ValueError(
                        f"maintenance_margin.{venue}.{sym} must be a rate like 0.004, got {rate}"
                    )
        return value

    @field_validator("cascade_pcts")
    @classmethod
    def _cascade(cls, value: list[float]) -> list[float]:
        if any(not 0 < p < 100 for p in value):
            raise ValueError(f"cascade_pcts are percentages between 0 and 100, got {value}")
        return sorted(value)

    @field_validator("hyperliquid_addresses")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if not _ADDRESS.match(a)]
        if bad:
            raise ValueError(f"hyperliquid_addresses must be 0x + 40 hex digits, got {bad}")
        return [a.lower() for a in value]

    @field_validator("binance_url", "bybit_url", "okx_url", "hyperliquid_url",
                     "hyperliquid_leaderboard_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"base URLs start with http:// or https://, got {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _symbols_known(self) -> LiqConfig:
        if "okx" in self.venues:
            missing = [s for s in self.symbols if s not in self.okx_contract_value]
            if missing:
                raise ValueError(
                    f"okx_contract_value has no contract size for {missing}; add e.g. "
                    f"{{'{missing[0]}': 1.0}} (BTC-USDT-SWAP is 0.01 BTC)"
                )
        return self

    def bucket_for(self, symbol: str, price: float) -> float:
        """The bucket size for `symbol`: configured, else a round share of the price."""
        if symbol.upper() in self.bucket_size:
            return self.bucket_size[symbol.upper()]
        return nice_step(price * self.default_bucket_share)

    def grid_for(self, symbol: str, price: float) -> tuple[int, int]:
        """(factor, cluster width): the published grid is the model's bucket × factor; a
        cluster spans that many grid buckets."""
        from reportgen.liquidation.buckets import grid_factor

        size = self.bucket_for(symbol, price)
        factor = grid_factor(round(2 * self.range_pct * price / size) + 1, self.max_buckets)
        return factor, max(1, round(self.cluster_buckets / factor))

    def mmr(self, venue: str, symbol: str) -> float:
        """First-bracket maintenance margin rate of `symbol` on `venue`."""
        return self.maintenance_margin.get(venue, {}).get(
            symbol.upper(), self.maintenance_margin_default
        )

    def venue_max_leverage(self, venue: str, symbol: str) -> int:
        """Highest leverage `venue` allows on `symbol` (tiers above it get weight 0)."""
        return self.max_leverage.get(venue, {}).get(symbol.upper(), 100)


def nice_step(raw: float) -> float:
    """Round `raw` to 1, 2 or 5 times a power of ten (a readable bucket size)."""
    import math

    if raw <= 0:
        return 1.0
    exp = math.floor(math.log10(raw))
    base = raw / 10**exp
    mult = 1 if base < 1.5 else 2 if base < 3.5 else 5 if base < 7.5 else 10
    return float(mult * 10**exp)
