"""Yesterday's map, scored: the previous day's CEX liquidation map against the liquidations
recorded in the 24 h after its as-of.

`score_map` is the one adapter onto the liquidation check's public scoring function
(`reportgen.liquidation.check.check_against`): point it at a new scorer and nothing else
changes. The current check reports a lift per side against a naive baseline and no p-value;
the sentence says so rather than print a figure it does not have.

`scored_line` reads what it needs from the archive (the day's archived realised frames, the
previous day's stored map results) and returns the sentence the brief prints under the
realised liquidations; the build phase hands it to the (pure) brief builder.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel

from reportgen.realised.frames import RealisedLiquidation, base_coin, parse_frame

if TYPE_CHECKING:
    from reportgen.archive import Archive
    from reportgen.liquidation.config import LiqConfig
    from reportgen.liquidation.summary import MapSummary

HORIZON_HOURS = 24.0
# The source whose stored results hold each day's maps, and the realised one's payloads.
MAP_SOURCE = "liquidation"
REALISED_SOURCE = "liquidation_realised"


class MapScore(BaseModel):
    """One symbol's map scored: lift per side (None: no event on that side), the p-value when
    the scorer gives one, and the events scored."""

    symbol: str
    lift_long: float | None
    lift_short: float | None
    p_value: float | None
    events: int


def score_map(summary: MapSummary, events: Sequence[RealisedLiquidation],
              config: LiqConfig) -> MapScore:
    """The adapter: `summary` scored against `events` by the liquidation check's current
    public function (events of other symbols and outside the horizon are its to leave out)."""
    from reportgen.liquidation.check import LiqEvent, check_against

    liq = [LiqEvent(e.venue, base_coin(e.symbol), e.side, e.price, e.quantity,
                    int(e.time.timestamp() * 1000)) for e in events]
    report = check_against(summary, liq, as_of=summary.as_of, horizon_hours=HORIZON_HOURS,
                           mmr=config.mmr, range_pct=config.range_pct,
                           level_floor=config.check_level_floor)
    return MapScore(symbol=summary.symbol, lift_long=report.long.lift,
                    lift_short=report.short.lift,
                    p_value=None,  # the current CheckReport has none
                    events=report.events_in_horizon)


def _lift(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def score_sentence(scores: Sequence[MapScore], day: date) -> str:
    """"Yesterday's map, scored: BTC lift longs 1.62×, shorts 1.21× (212 events); …"."""
    if not scores:
        return (f"Yesterday's map, scored: unavailable (no CEX map of {day - timedelta(days=1)} "
                "in the archive, or no realised liquidation of its symbols).")
    parts = []
    for s in scores:
        p = "" if s.p_value is None else f", p = {s.p_value:.3f}"
        parts.append(f"{s.symbol} lift longs {_lift(s.lift_long)}, shorts "
                     f"{_lift(s.lift_short)}{p} ({s.events:,} events)")
    tail = ("" if any(s.p_value is not None for s in scores)
            else "; no p-value: the current check computes none")
    return ("Yesterday's map, scored against the liquidations of the 24 h after it: "
            + "; ".join(parts) + tail + ".")


def recorded_events(archive: Archive, day: date) -> list[RealisedLiquidation]:
    """Every liquidation in the realised payloads archived for `day` (stream bundles and OKX
    REST pages), each once."""
    seen: set[tuple[object, ...]] = set()
    out: list[RealisedLiquidation] = []
    for raw in archive.payloads(day, REALISED_SOURCE):
        venue = raw.headers.get("x-reportgen-venue", "")
        texts = raw.text().splitlines() if raw.headers.get("content-type") == \
            "application/x-ndjson" else [raw.text()]
        for text in texts:
            for event in parse_frame(venue, text).events:
                if event.key() not in seen:
                    seen.add(event.key())
                    out.append(event)
    return out


def scored_line(archive: Archive, day: date, config: LiqConfig) -> str | None:
    """The "yesterday's map, scored" sentence for `day`'s brief; None when the day has no
    realised liquidations to score with (the section already says why)."""
    from reportgen.liquidation.result import StoredMap

    snapshot = archive.snapshot(day, REALISED_SOURCE)
    if snapshot is None or not snapshot.ok:
        return None
    events = recorded_events(archive, day)
    scores = []
    for stored in archive.results(day - timedelta(days=1), MAP_SOURCE, StoredMap).values():
        summary = stored.result.cex
        if summary is None or summary.as_of is None:
            continue
        mine = [e for e in events if base_coin(e.symbol).upper() == summary.symbol.upper()]
        if mine:
            scores.append(score_map(summary, mine, config))
    return score_sentence(scores, day)
