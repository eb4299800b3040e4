"""How far back each venue can answer, and what that leaves for a window (pure).

A map as of `end` needs open interest from `end − lookback` on. Binance's
`/futures/data/openInterestHist` keeps the last 30 days only; Bybit's open-interest history
and every venue's klines go back to the symbol's launch; Hyperliquid publishes current
positions only. "Now" comes from the caller (the run's clock, so REPORTGEN_NOW replays work).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reportgen.liquidation.config import LiqConfig

# Days of open-interest history a venue keeps (absent: back to the symbol's launch).
OI_HISTORY_DAYS: dict[str, int] = {"binance": 30}
TITLES = {"binance": "Binance", "bybit": "Bybit", "okx": "OKX", "hyperliquid": "Hyperliquid"}
# A report "for today" fetched a few minutes after the cut-off is still current.
CURRENT_SLACK = timedelta(hours=1)


def window_limits(config: LiqConfig, end: datetime, now: datetime) -> dict[str, str]:
    """Venues (and "hyperliquid") that cannot answer for the window ending at `end`, each
    with the reason naming the limit; the rest can be asked."""
    start = (end - timedelta(days=config.lookback_days)).astimezone(UTC)
    now = now.astimezone(UTC)
    out: dict[str, str] = {}
    for venue in config.venues:
        days = OI_HISTORY_DAYS.get(venue)
        if days is not None and start < now - timedelta(days=days):
            out[venue] = (
                f"{TITLES[venue]} keeps only the last {days} days of open-interest history "
                f"(from {now - timedelta(days=days):%Y-%m-%d %H:%M} UTC); the "
                f"{config.lookback_days}-day window starts {start:%Y-%m-%d %H:%M} UTC"
            )
    if config.hyperliquid and end < now - CURRENT_SLACK:
        out["hyperliquid"] = ("Hyperliquid publishes current positions only: a past day's "
                              "positions come only from a run archived that day")
    return out


def without(config: LiqConfig, limits: dict[str, str]) -> LiqConfig:
    """`config` asking only the venues `limits` does not name."""
    return config.model_copy(update={
        "venues": [v for v in config.venues if v not in limits],
        "hyperliquid": config.hyperliquid and "hyperliquid" not in limits,
    })
