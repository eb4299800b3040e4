"""Yesterday's map, scored: the previous day's CEX liquidation map against the liquidations
recorded in the 24 h after its as-of.

`score_map` is the one adapter onto the liquidation check's public scoring function
(`reportgen.liquidation.check.score_map_against_events`): lift against a baseline that knows
the map's distance profile, and a p-value from a seeded randomisation test
(docs/liquidation-check.md).

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
    """One symbol's map scored: the lift over both sides and per side (None: no event there),
    the p-value of the randomisation test, and the events scored."""

    symbol: str
    lift: float | None = None
    lift_long: float | None
    lift_short: float | None
    p_value: float | None
    events: int


def score_map(summary: MapSummary, events: Sequence[RealisedLiquidation],
              config: LiqConfig) -> MapScore:
    """The adapter: `summary` scored against `events` by the liquidation check's public
    scorer (`check.score_map_against_events`: a baseline that knows the map's distance
    profile, and a seeded randomisation test for the p-value). Events of other symbols and
    outside the horizon are the scorer's to leave out. Each event goes in at its bankruptcy
    price, which is what the check turns into a liquidation price."""
    from reportgen.liquidation.check import score_map_against_events
    from reportgen.liquidation.events import LiqEvent

    liq = [LiqEvent(e.venue, base_coin(e.symbol), e.side, e.bankruptcy, e.quantity,
                    int(e.time.timestamp() * 1000)) for e in events]
    score = score_map_against_events(summary, liq, as_of=summary.as_of,
                                     horizon_hours=HORIZON_HOURS, mmr=config.mmr,
                                     band_pct=config.check_band_pct,
                                     permutations=config.check_permutations)
    return MapScore(symbol=summary.symbol, lift=score.lift, lift_long=score.long.lift,
                    lift_short=score.short.lift, p_value=score.p_value,
                    events=score.long.events + score.short.events)


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
        parts.append(f"{s.symbol} lift {_lift(s.lift)} (longs {_lift(s.lift_long)}, shorts "
                     f"{_lift(s.lift_short)}){p} ({s.events:,} events)")
    return ("Yesterday's map, scored against the liquidations of the 24 h after it: "
            + "; ".join(parts) + ". A lift near 1× (or a large p) says the map knew no more "
            "than where its notional sits by distance from the price.")


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


def scores_for(archive: Archive, day: date, config: LiqConfig) -> list[MapScore] | None:
    """The previous day's stored CEX maps scored against `day`'s archived liquidations;
    None when the day has no realised liquidations to score with (the section says why)."""
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
    return scores


def scored_line(archive: Archive, day: date, config: LiqConfig) -> str | None:
    """The "yesterday's map, scored" sentence for `day`'s brief; None when the day has no
    realised liquidations to score with (the section already says why)."""
    scores = scores_for(archive, day, config)
    return None if scores is None else score_sentence(scores, day)
