"""Realised liquidations: what the venues actually liquidated, from their public streams.

- `frames`: the venues' frames (Binance `!forceOrder@arr`, Bybit `allLiquidation.{symbol}`,
  OKX `liquidation-orders` pushes and REST answers) → typed `RealisedLiquidation` events.
  Pure; the one parser of these frames.
- `tally`: events → the day's figures (`RealisedDay`: total, longs/shorts, by venue, the
  largest single order), over a time window. Pure.
- `streams`: each venue's WebSocket endpoint, its subscribe messages and heartbeat.
- `recorder`: connects to the streams and writes each frame to the archive as it arrives
  (`reportgen liqrecord`, and beside the daily job in `reportgen schedule`).

The brief's figures come from the `liquidation_realised` source (reportgen/sources/), which
reads what the recorder archived for the report's window.
"""
