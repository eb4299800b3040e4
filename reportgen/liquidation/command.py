"""Body of `reportgen liqmap` as a library function: plain arguments in, outcome out.

    reportgen liqmap --symbol BTC --venue cex|hyperliquid|all [--date D] [--bucket USD]
                     [--json FILE] [--chart FILE.svg|.png|.pdf] [--check-against EVENTS]
    reportgen liqmap --venue hyperliquid --positions FILE --mark PRICE --symbol BTC
                     [--bucket USD] [--json FILE] [--chart FILE]

Data: `raws_by_source` when the caller has them (archive); else the bundled sample for
sample days; else a live fetch. Exit code 0 = map made, 1 = no map (data unavailable);
bad input raises UsageError (exit 2 at the CLI edge).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.clock import default_clock
from reportgen.errors import ParseError, UsageError
from reportgen.liquidation.config import LiqConfig
from reportgen.liquidation.history import window_limits, without
from reportgen.liquidation.hyperliquid import aggregate, arrays_from_states, coin_name
from reportgen.liquidation.section import (
    SOURCES,
    LiquidationResult,
    build_liquidation_section,
    data_line,
    hl_caption,
)
from reportgen.liquidation.summary import MapSummary, summarise
from reportgen.models import RawPayload

if TYPE_CHECKING:
    from reportgen.settings import HttpSettings

VENUE_CHOICES = ("cex", "hyperliquid", "all")


@dataclass
class LiqmapOutcome:
    """What the command did: exit code, the maps, the check report, files written."""

    exit_code: int
    result: LiquidationResult | None = None
    check: dict[str, Any] | None = None
    written: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _config_for(config: LiqConfig, symbol: str, venue: str, bucket: float | None) -> LiqConfig:
    update: dict[str, Any] = {}
    if bucket is not None:
        if bucket <= 0:
            raise UsageError(f"--bucket must be a positive US$ amount, got {bucket}")
        update["bucket_size"] = {**config.bucket_size, symbol: float(bucket)}
    if venue == "cex":
        update["hyperliquid"] = False
    elif venue == "hyperliquid":
        update["venues"] = []
    return config.model_copy(update=update)


def load_raws_for(config: LiqConfig, day: date | None, now: datetime,
                  symbols: list[str] | None = None,
                  http_settings: HttpSettings | None = None) -> tuple[
        dict[str, list[RawPayload]], datetime, dict[str, str]]:
    """Payloads for `day` (sample days from the bundled sample, else live), their as-of, and
    the venues left out because their public history does not reach that far back.

    Today (in UTC, by the run's clock) is fetched as of `now`; a past day as of its end, from
    the venues whose history covers its window (Hyperliquid never: it publishes current
    positions only). Nothing left to ask is a usage error naming the limits.
    """
    from reportgen import sample

    if day is not None and sample.has_day(day):
        raws = {src: sample.load_raws(src, day) for src in SOURCES.values()}
        return raws, sample.fetched_at(day), {}
    today = now.astimezone(UTC).date()
    if day is not None and day > today:
        raise UsageError(f"--date {day} is in the future (now is {now:%Y-%m-%d %H:%M %Z})")
    end = now if day is None or day == today else \
        datetime.combine(day, time(0), tzinfo=UTC) + timedelta(days=1)
    limits = window_limits(config, end, now)
    asked = without(config, limits)
    if not asked.venues and not asked.hyperliquid:
        raise UsageError(f"--date {day}: no venue can answer for that day: "
                         + "; ".join(limits.values())
                         + f" (the bundled sample covers {sample.SAMPLE_FIRST} … "
                           f"{sample.SAMPLE_LAST})")
    from reportgen.clock import FixedClock
    from reportgen.http import Http
    from reportgen.liquidation.fetch import fetch_all
    from reportgen.settings import HttpSettings

    async def go() -> dict[str, list[RawPayload]]:
        async with Http(http_settings or HttpSettings(), clock=FixedClock(now)) as http:
            return await fetch_all(http, asked, end, symbols)

    return asyncio.run(go()), end, limits


class NoMapError(Exception):
    """The input was well-formed but holds nothing to map (exit 1, not 2)."""


def _states(positions_file: Path) -> list[dict[str, Any]]:
    """The clearinghouseState answers saved in `positions_file`, checked for their shape: any
    other JSON must not pass as an account without positions."""
    try:
        states = json.loads(Path(positions_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"--positions {positions_file}: cannot read JSON ({exc})") from None
    if isinstance(states, dict):
        states = [states]
    if not isinstance(states, list) or not states:
        raise UsageError(f"--positions {positions_file}: expected a JSON array of "
                         "clearinghouseState responses")
    for i, state in enumerate(states):
        positions = state.get("assetPositions") if isinstance(state, dict) else None
        if not isinstance(positions, list) or not all(
                isinstance(item, dict) and isinstance(item.get("position"), dict)
                and "coin" in item["position"] for item in positions):
            shown = json.dumps(state)[:80]
            raise UsageError(f"--positions {positions_file}: item {i} is not a "
                             f"clearinghouseState response (no assetPositions list): {shown}")
    return states


def positions_map(positions_file: Path, symbol: str, mark: float, config: LiqConfig,
                  as_of: datetime | None = None) -> MapSummary:
    """The Hyperliquid map from saved clearinghouseState responses (a JSON array).

    `symbol` is matched to the coins in the file as Hyperliquid spells them (kPEPE); a file
    with no position in it is "no map", not an empty one.
    """
    states = _states(positions_file)
    held = [item["position"]["coin"] for s in states for item in s["assetPositions"]]
    coin = coin_name(held, symbol)
    if coin is None:
        found = ", ".join(sorted(set(held), key=str.casefold)) or "none"
        raise NoMapError(f"no {symbol} position in the {len(states)} accounts of "
                         f"{positions_file} (coins held: {found})")
    try:
        pos = arrays_from_states(states, coin)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"--positions: not clearinghouseState responses ({exc!r})") from None
    size = config.bucket_for(symbol, mark)
    factor, width = config.grid_for(symbol, mark)
    m = aggregate(pos, coin, mark, size * factor, config.range_pct, accounts=len(states))
    return summarise(m, as_of=as_of, cluster_buckets=width,
                     cascade_pcts=config.cascade_pcts, coverage=m.extra)


def run_liqmap(
    *,
    symbol: str,
    venue: str = "all",
    day: date | None = None,
    bucket: float | None = None,
    json_path: Path | None = None,
    chart_path: Path | None = None,
    check_against: Path | None = None,
    horizon: float | None = None,
    positions: Path | None = None,
    mark: float | None = None,
    config: LiqConfig | None = None,
    raws_by_source: dict[str, list[RawPayload]] | None = None,
    as_of: datetime | None = None,
    now: datetime | None = None,
    http_settings: HttpSettings | None = None,
    echo: Callable[[str], None] = print,
) -> LiqmapOutcome:
    """Build, print and optionally save the liquidation map(s) of one symbol."""
    coin = symbol.strip()  # as typed: Hyperliquid spells some coins in mixed case (kPEPE)
    symbol = coin.upper()
    if venue not in VENUE_CHOICES:
        raise UsageError(f"--venue must be one of {', '.join(VENUE_CHOICES)}, got {venue!r}")
    if horizon is not None and not 0 < horizon <= 24 * 30:
        raise UsageError(f"--horizon must be hours between 0 and 720, got {horizon}")
    if chart_path is not None and chart_path.suffix.lower() not in (".svg", ".png", ".pdf"):
        raise UsageError(f"--chart must end in .svg, .png or .pdf, got {chart_path.name}")
    cfg = _config_for(config or LiqConfig(), symbol, venue, bucket)
    now = now or default_clock().now()
    outcome = LiqmapOutcome(exit_code=0)

    if positions is not None:
        if venue != "hyperliquid":
            raise UsageError("--positions needs --venue hyperliquid")
        if mark is None or mark <= 0:
            raise UsageError("--positions needs --mark PRICE (the current mark price)")
        try:
            summary = positions_map(positions, coin, mark, cfg, as_of)
        except NoMapError as exc:
            result = LiquidationResult(symbol=symbol, as_of=as_of or now,
                                       unavailable={"hyperliquid": str(exc)})
        else:
            result = LiquidationResult(symbol=symbol, as_of=as_of or now,
                                       hyperliquid=summary,
                                       captions={"hyperliquid": hl_caption(summary)})
    else:
        if mark is not None:
            raise UsageError("--mark goes with --positions only")
        limits: dict[str, str] = {}
        if raws_by_source is None:
            raws_by_source, fetched, limits = load_raws_for(cfg, day, now, [symbol],
                                                            http_settings)
            as_of = as_of or fetched
        elif as_of is None:
            as_of = (datetime.combine(day, time(0), tzinfo=UTC) + timedelta(days=1)
                     if day else now)
        result = build_liquidation_section(raws_by_source, coin, without(cfg, limits), as_of)
        result.unavailable.update(limits)
    outcome.result = result
    maps = [m for m in (result.cex, result.hyperliquid) if m is not None]
    for reason_key, reason in result.unavailable.items():
        outcome.lines.append(f"{reason_key}: unavailable ({reason})")
    if not maps:
        outcome.exit_code = 1
        outcome.lines.append(f"No liquidation map for {symbol}.")
        for line in outcome.lines:
            echo(line)
        return outcome
    for m in maps:
        outcome.lines.append(f"{m.symbol} · {m.venue} · {m.kind} · mark {m.mark_price:,.2f}")
        if m.kind == "estimated" and result.venues:
            outcome.lines.append(f"  {data_line(result.venues)}")
        outcome.lines += [f"  {s}" for s in m.sentences]

    if check_against is not None:
        from reportgen.liquidation.check import check_against as check_fn
        from reportgen.liquidation.check import parse_events

        try:
            events = parse_events(Path(check_against).read_text(encoding="utf-8"),
                                  cfg.okx_contract_value)
        except OSError as exc:
            raise UsageError(f"--check-against {check_against}: {exc}") from None
        except ParseError as exc:
            raise UsageError(f"--check-against {check_against}: {exc}") from None
        target = result.cex if venue != "hyperliquid" and result.cex else maps[0]
        if cfg.max_buckets is not None and positions is None and raws_by_source is not None:
            # scored at the model's own buckets, not the published (coarser) grid: "within
            # one bucket of a level" must not widen with the chart's bars
            fine = build_liquidation_section(
                raws_by_source, coin, without(cfg.model_copy(update={"max_buckets": None}),
                                              limits), result.as_of)
            target = (fine.cex if venue != "hyperliquid" and fine.cex else fine.hyperliquid) \
                or target
        report = check_fn(target, events, as_of=result.as_of,
                          horizon_hours=horizon or cfg.check_horizon_hours, mmr=cfg.mmr,
                          range_pct=cfg.range_pct, level_floor=cfg.check_level_floor)
        outcome.check = report.model_dump(mode="json")
        outcome.lines.append(f"Check against {Path(check_against).name}: {report.text}")

    if json_path is not None:
        # one map: the map's own JSON; both: the whole result ({"cex": …, "hyperliquid": …})
        chosen: Any = result if venue == "all" else maps[0]
        payload: dict[str, Any] = chosen.model_dump(mode="json")
        if venue != "all":  # what the map rests on, as the whole result carries it
            key = "hyperliquid" if maps[0].venue == "hyperliquid" else "cex"
            payload["caption"] = result.captions.get(key)
            payload["venues"] = {k: v.model_dump(mode="json") for k, v in result.venues.items()}
        if outcome.check is not None:
            payload["check"] = outcome.check
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        outcome.written.append(json_path)
    if chart_path is not None:
        from reportgen.liquidation.chart import render_map

        for i, m in enumerate(maps):
            path = chart_path if i == 0 else chart_path.with_name(
                f"{chart_path.stem}_{m.venue}{chart_path.suffix}")
            key = "hyperliquid" if m.venue == "hyperliquid" else "cex"
            outcome.written.append(render_map(m, path, result.captions.get(key, "")))
    for path in outcome.written:
        outcome.lines.append(f"wrote {path}")
    for line in outcome.lines:
        echo(line)
    return outcome
