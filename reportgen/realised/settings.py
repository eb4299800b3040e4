"""Settings of realised liquidations (config key `sources.liquidation_realised`): the
venues' stream endpoints the recorder follows, and OKX's REST endpoint that fills what the
stream missed. Light on purpose: loading the config imports this, never a network library."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from reportgen.realised.frames import OKX_CONTRACT_VALUES, VENUES, Venue
from reportgen.settings import SourceSettings, check_url


def check_ws_url(value: str) -> str:
    """A validator: `value` unchanged when it is an absolute ws:// or wss:// URL."""
    parts = urlsplit(value)
    if parts.scheme not in ("ws", "wss") or not parts.netloc or any(
            ord(c) <= 32 for c in value):
        raise ValueError("a stream URL must start with wss:// (or ws://) and name a host")
    return value


class RealisedSettings(SourceSettings):
    """Config key `sources.liquidation_realised`."""

    record: bool = Field(True, description="`reportgen schedule` runs the recorder beside "
                                           "the daily job")
    venues: tuple[Venue, ...] = Field(VENUES, description="streams the recorder follows")
    # Binance USD-M futures: the all-market liquidation stream, as a combined stream (frames
    # arrive as {"stream": "!forceOrder@arr", "data": {...}}); nothing to send.
    binance_ws: str = "wss://fstream.binance.com/stream?streams=!forceOrder@arr"
    # Bybit v5 public linear: one topic per symbol, allLiquidation.{symbol}.
    bybit_ws: str = "wss://stream.bybit.com/v5/public/linear"
    bybit_symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT")
    # OKX v5 public: liquidation-orders with instType SWAP carries every swap.
    okx_ws: str = "wss://ws.okx.com:8443/ws/v5/public"
    # OKX REST: GET /api/v5/public/liquidation-orders, per instrument family, to fill what the
    # stream missed (it keeps recent orders only; what it reaches is used).
    okx_url: str = "https://www.okx.com"
    okx_rest_families: tuple[str, ...] = ("BTC-USDT", "ETH-USDT")
    okx_rest_pages: int = Field(3, ge=0, le=50, description="pages of 100 asked per family")
    okx_rest_days: int = Field(7, ge=0, le=90, description=(
        "asked only for windows ending this many days ago at most: the endpoint serves "
        "recent orders, not an archive"))
    okx_contract_values: dict[str, float] = Field(
        default_factory=lambda: dict(OKX_CONTRACT_VALUES),
        description="instId → contract value (coin, or US$ for -USD-SWAP)")
    # Keep-alive: Bybit asks for {"op":"ping"} every 20 s; OKX closes a connection silent
    # for 30 s, so "ping" is sent after `okx_ping_s` without a message.
    bybit_ping_s: float = Field(20.0, gt=0, le=60)
    okx_ping_s: float = Field(25.0, gt=0, le=29)
    # Reconnecting: exponential back-off from backoff_s, capped, with full jitter.
    backoff_s: float = Field(1.0, gt=0, le=60)
    backoff_max_s: float = Field(60.0, gt=0, le=900)
    # Frames waiting for the archive; when full, reading pauses (no frame is dropped).
    queue_frames: int = Field(1000, ge=1, le=100_000)

    _ws = field_validator("binance_ws", "bybit_ws", "okx_ws")(check_ws_url)
    _url = field_validator("okx_url")(check_url)

    @field_validator("okx_contract_values")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, v in value.items() if not v > 0)
        if bad:
            raise ValueError(f"contract values must be more than 0: {', '.join(bad)}")
        return value
