"""The typer wrapper of `reportgen liqmap`; call `register(app)` from reportgen.cli.

Imports of numpy/matplotlib happen inside the command, so `reportgen --help` stays fast.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer


def register(app: typer.Typer, config_loader: Any = None) -> None:
    """Add `liqmap` to `app`. `config_loader()` may return the main config (its
    `liquidation` and `http` sections are used) or just a LiqConfig; without it the defaults
    apply."""

    @app.command("liqmap")
    def liqmap(
        symbol: Annotated[str, typer.Option(help="Base coin, e.g. BTC or ETH.")] = "BTC",
        venue: Annotated[str, typer.Option(help="cex (estimated), hyperliquid (reported) "
                                                "or all.")] = "all",
        date_: Annotated[str | None, typer.Option("--date", help=(
            "Day YYYY-MM-DD (default: today by the clock; REPORTGEN_NOW is honoured). Sample "
            "days use the bundled sample; other past days the venues' history (Binance "
            "open interest: 30 days; Hyperliquid: none)."))] = None,
        bucket: Annotated[float | None, typer.Option(help=(
            "Bucket size in US$: the JSON and text keep it; the chart may sum buckets to "
            "stay legible and says so."))] = None,
        json_file: Annotated[Path | None, typer.Option("--json", help="Write the map JSON "
                                                       "here ('-': to stdout, the text to "
                                                       "stderr).")] = None,
        chart: Annotated[Path | None, typer.Option(help="Write the chart (.svg/.png/.pdf).")]
        = None,
        check_against: Annotated[Path | None, typer.Option(
            help="Recorded liquidation events (Binance forceOrder / Bybit allLiquidation / "
                 "OKX liquidation-orders, stream or REST) to score the map against: lift "
                 "over the map's own distance profile and a p-value; unreadable lines and "
                 "other symbols are counted and left out. docs/liquidation-check.md.")] = None,
        horizon: Annotated[float | None, typer.Option(
            help="With --check-against: hours after the map's as-of whose events count "
                 "(default 24, config liquidation.check_horizon_hours).")] = None,
        positions: Annotated[Path | None, typer.Option(
            help="Saved clearinghouseState responses (JSON array); needs --venue "
                 "hyperliquid and --mark.")] = None,
        mark: Annotated[float | None, typer.Option(help="Mark price for --positions.")] = None,
    ) -> None:
        """Liquidation map: estimated CEX levels and Hyperliquid's reported positions."""
        from reportgen.errors import ConfigError, UsageError
        from reportgen.liquidation.command import run_liqmap

        try:
            day = date.fromisoformat(date_) if date_ else None
        except ValueError:
            raise typer.BadParameter(f"--date must be YYYY-MM-DD, got {date_!r}") from None
        loaded = config_loader() if config_loader else None
        config = getattr(loaded, "liquidation", loaded)
        try:
            outcome = run_liqmap(symbol=symbol, venue=venue, day=day, bucket=bucket,
                                 json_path=json_file, chart_path=chart,
                                 check_against=check_against, horizon=horizon,
                                 positions=positions, mark=mark,
                                 config=config, http_settings=getattr(loaded, "http", None),
                                 echo=partial(typer.echo, err=str(json_file) == "-"))
        except (UsageError, ConfigError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        raise typer.Exit(outcome.exit_code)
