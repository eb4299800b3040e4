"""Liquidation map: estimated CEX levels (Binance, Bybit, OKX) and Hyperliquid's reported
positions, with charts, words and a realised-vs-predicted check.

Public API (imported lazily so `reportgen --help` does not load numpy):

    build_liquidation_section(raws_by_source, symbol, config, as_of) -> LiquidationResult
    render_charts(result, out_dir, formats=("svg", "png")) -> list[Path]
    run_liqmap(...) -> LiqmapOutcome          # body of `reportgen liqmap`
    register(app)                              # adds the typer command
    fetch_all(http, config, end) -> dict[str, list[RawPayload]]
    LiqConfig                                  # config section `liquidation`
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "LiqConfig": "reportgen.liquidation.config",
    "LiquidationResult": "reportgen.liquidation.result",
    "StoredMap": "reportgen.liquidation.result",
    "build_liquidation_section": "reportgen.liquidation.section",
    "SOURCES": "reportgen.liquidation.section",
    "render_charts": "reportgen.liquidation.chart",
    "run_liqmap": "reportgen.liquidation.command",
    "LiqmapOutcome": "reportgen.liquidation.command",
    "register": "reportgen.liquidation.cli",
    "fetch_all": "reportgen.liquidation.fetch",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
