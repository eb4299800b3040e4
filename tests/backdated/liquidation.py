"""The liquidation maps of a past date ask ~80 open-interest and kline pages by time range
(Binance keeps 30 days); the sample records the live requests of its days only."""

from __future__ import annotations

DISABLED = ("its past-date requests (open interest and klines by time range) have no "
            "recordings; tests/liquidation/test_liqmap_dates.py checks what a past date asks")
