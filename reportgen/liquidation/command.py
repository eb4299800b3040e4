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
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.clock import default_clock
from reportgen.errors import UsageError
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
from reportgen.liquidation.summary import MapSummary, fmt_price, fmt_usd, summarise
from reportgen.models import RawPayload

if TYPE_CHECKING:
    from reportgen.liquidation.check import MapScore
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
        update["max_buckets"] = None  # the JSON and text keep the buckets asked
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


@dataclass(frozen=True)
class _Built:
    """A result and what it was built from (to rebuild it at the model's own buckets)."""

    result: LiquidationResult
    raws: dict[str, list[RawPayload]] | None = None
    limits: dict[str, str] = field(default_factory=dict)


def _check_usage(venue: str, horizon: float | None, chart_path: Path | None,
                 positions: Path | None, mark: float | None) -> None:
    if venue not in VENUE_CHOICES:
        raise UsageError(f"--venue must be one of {', '.join(VENUE_CHOICES)}, got {venue!r}")
    if horizon is not None and not 0 < horizon <= 24 * 30:
        raise UsageError(f"--horizon must be hours between 0 and 720, got {horizon}")
    if chart_path is not None and chart_path.suffix.lower() not in (".svg", ".png", ".pdf"):
        raise UsageError(f"--chart must end in .svg, .png or .pdf, got {chart_path.name}")
    if positions is not None:
        if venue != "hyperliquid":
            raise UsageError("--positions needs --venue hyperliquid")
        if mark is None or mark <= 0:
            raise UsageError("--positions needs --mark PRICE (the current mark price)")
    elif mark is not None:
        raise UsageError("--mark goes with --positions only")


def _from_positions(positions: Path, coin: str, mark: float, cfg: LiqConfig,
                    as_of: datetime | None, now: datetime) -> _Built:
    symbol = coin.upper()
    try:
        summary = positions_map(positions, coin, mark, cfg, as_of)
    except NoMapError as exc:
        return _Built(LiquidationResult(symbol=symbol, as_of=as_of or now,
                                        unavailable={"hyperliquid": str(exc)}))
    return _Built(LiquidationResult(symbol=symbol, as_of=as_of or now, hyperliquid=summary,
                                    captions={"hyperliquid": hl_caption(summary)}))


def _from_venues(coin: str, cfg: LiqConfig, day: date | None, now: datetime,
                 raws_by_source: dict[str, list[RawPayload]] | None, as_of: datetime | None,
                 http_settings: HttpSettings | None) -> _Built:
    limits: dict[str, str] = {}
    if raws_by_source is None:
        raws_by_source, fetched, limits = load_raws_for(cfg, day, now, [coin.upper()],
                                                        http_settings)
        as_of = as_of or fetched
    elif as_of is None:
        as_of = datetime.combine(day, time(0), tzinfo=UTC) + timedelta(days=1) if day else now
    result = build_liquidation_section(raws_by_source, coin, without(cfg, limits), as_of)
    result.unavailable.update(limits)
    return _Built(result, raws_by_source, limits)


def _margin_line(m: MapSummary) -> str | None:
    """Hyperliquid's positions by margin mode, in words."""
    split = m.coverage.get("margin")
    if not split:
        return None
    parts = [f"{mode} {v['positions']} positions, {fmt_usd(v['long_usd'])} long / "
             f"{fmt_usd(v['short_usd'])} short ({fmt_usd(v['mapped_usd'])} on the map)"
             for mode, v in split.items()]
    return ("Margin: " + "; ".join(parts) + ". A cross position's liquidation price moves "
            "with its account's other positions.")


def _map_lines(result: LiquidationResult, maps: list[MapSummary]) -> list[str]:
    lines = []
    for m in maps:
        lines.append(f"{m.symbol} · {m.venue} · {m.kind} · mark {m.mark_price:,.2f} · "
                     f"{fmt_price(m.bucket_size, m.bucket_size)} buckets")
        if m.kind == "estimated" and result.venues:
            lines.append(f"  {data_line(result.venues)}")
        lines += [f"  {s}" for s in m.sentences]
        margin = _margin_line(m)
        if margin:
            lines.append(f"  {margin}")
    return lines


def _score(built: _Built, coin: str, venue: str, cfg: LiqConfig, events_path: Path,
           horizon: float | None) -> MapScore:
    """The map scored against the events recorded in `events_path`, at the model's own
    buckets (on the published, coarser grid "within one bucket" would widen)."""
    from reportgen.liquidation.check import score_map_against_events
    from reportgen.liquidation.events import read_events

    try:
        text = Path(events_path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"--check-against {events_path}: {exc}") from None
    result = built.result
    target = result.cex if venue != "hyperliquid" and result.cex else \
        (result.hyperliquid or result.cex)
    if cfg.max_buckets is not None and built.raws is not None:
        fine = build_liquidation_section(
            built.raws, coin, without(cfg.model_copy(update={"max_buckets": None}),
                                      built.limits), result.as_of)
        target = (fine.cex if venue != "hyperliquid" and fine.cex else fine.hyperliquid) \
            or target
    if target is None:
        raise NoMapError("no map to score")
    read = read_events(text, cfg.okx_contract_value, result.symbol)
    return score_map_against_events(
        target, read.events, as_of=result.as_of,
        horizon_hours=horizon or cfg.check_horizon_hours, mmr=cfg.mmr,
        band_pct=cfg.check_band_pct, permutations=cfg.check_permutations,
        rejected=read.rejected, other_symbols=read.other_symbols)


def _write_json(path: Path, result: LiquidationResult, maps: list[MapSummary], venue: str,
                check: dict[str, Any] | None) -> Path | None:
    """The map JSON at `path`; `-` writes it to stdout (returns None: no file written)."""
    # one map: the map's own JSON; both: the whole result ({"cex": …, "hyperliquid": …})
    chosen: Any = result if venue == "all" else maps[0]
    payload: dict[str, Any] = chosen.model_dump(mode="json")
    if venue != "all":  # what the map rests on, as the whole result carries it
        key = "hyperliquid" if maps[0].venue == "hyperliquid" else "cex"
        payload["caption"] = result.captions.get(key)
        payload["venues"] = {k: v.model_dump(mode="json") for k, v in result.venues.items()}
    if check is not None:
        payload["check"] = check
    text = json.dumps(payload, indent=1) + "\n"
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def chart_grid(m: MapSummary, max_buckets: int | None, cfg: LiqConfig) -> tuple[MapSummary, str]:
    """The map as the chart draws it: summed `factor` buckets at a time when it has more than
    `max_buckets` over its range, with the note the chart prints ("" when unchanged)."""
    from reportgen.liquidation.buckets import grid_factor, regrid

    span = (m.range_high or m.mark_price) - (m.range_low or m.mark_price)
    factor = grid_factor(round(span / m.bucket_size), max_buckets)
    if factor <= 1:
        return m, ""
    coarse = summarise(regrid(m.to_map(), factor), as_of=m.as_of,
                       cluster_buckets=max(1, round(cfg.cluster_buckets / factor)),
                       cascade_pcts=cfg.cascade_pcts, assumptions=m.assumptions,
                       coverage=m.coverage)
    coarse = coarse.model_copy(update={"range_low": m.range_low, "range_high": m.range_high})
    size, asked = fmt_price(coarse.bucket_size, m.bucket_size), fmt_price(m.bucket_size,
                                                                          m.bucket_size)
    return coarse, f"Bars of {size} = {factor} × the {asked} buckets asked (JSON, text: {asked})"


def _write_charts(path: Path, result: LiquidationResult, maps: list[MapSummary],
                  max_buckets: int | None, cfg: LiqConfig) -> tuple[list[Path], list[str]]:
    from reportgen.liquidation.chart import render_map

    written, notes = [], []
    for i, m in enumerate(maps):
        out = path if i == 0 else path.with_name(f"{path.stem}_{m.venue}{path.suffix}")
        key = "hyperliquid" if m.venue == "hyperliquid" else "cex"
        drawn, note = chart_grid(m, max_buckets, cfg)
        written.append(render_map(drawn, out, result.captions.get(key, ""), bars_note=note))
        if note:
            notes.append(f"{out.name}: {note}")
    return written, notes


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
    """Build, print and optionally save the liquidation map(s) of one symbol.

    With `bucket`, the JSON and the text use exactly that bucket size; the chart may sum
    buckets to stay legible (at most `max_buckets` bars) and says so on the image."""
    coin = symbol.strip()  # as typed: Hyperliquid spells some coins in mixed case (kPEPE)
    _check_usage(venue, horizon, chart_path, positions, mark)
    base = config or LiqConfig()
    cfg = _config_for(base, coin.upper(), venue, bucket)
    now = now or default_clock().now()
    if positions is not None and mark is not None:
        built = _from_positions(positions, coin, mark, cfg, as_of, now)
    else:
        built = _from_venues(coin, cfg, day, now, raws_by_source, as_of, http_settings)
    result = built.result
    outcome = LiqmapOutcome(exit_code=0, result=result)
    maps = [m for m in (result.cex, result.hyperliquid) if m is not None]
    outcome.lines += [f"{key}: unavailable ({why})" for key, why in result.unavailable.items()]
    if not maps:
        outcome.exit_code = 1
        outcome.lines.append(f"No liquidation map for {result.symbol}.")
    else:
        outcome.lines += _map_lines(result, maps)
        if check_against is not None:
            score = _score(built, coin, venue, cfg, check_against, horizon)
            outcome.check = score.as_json()
            outcome.lines.append(f"Check against {Path(check_against).name}: {score.text}")
        if json_path is not None:
            written = _write_json(json_path, result, maps, venue, outcome.check)
            outcome.written += [written] if written is not None else []
        if chart_path is not None:
            charts, notes = _write_charts(chart_path, result, maps, base.max_buckets, cfg)
            outcome.written += charts
            outcome.lines += notes
        outcome.lines += [f"wrote {path}" for path in outcome.written]
    for line in outcome.lines:
        echo(line)
    return outcome
