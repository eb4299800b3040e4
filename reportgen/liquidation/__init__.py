"""Liquidation map: estimated CEX levels (Binance, Bybit, OKX) and Hyperliquid's reported
positions, with charts, words and a realised-vs-predicted check.

Callers import the submodules directly (section, chart, command, cli, fetch, config,
result); this package module imports nothing, so `reportgen --help` does not load numpy.
"""
