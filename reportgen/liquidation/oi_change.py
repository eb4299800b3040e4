"""Open interest over the 24 h before the map's as-of, from the history the map downloads.

No request of its own: the OI rows are the ones `reportgen.liquidation.parsers.parse_venue`
read for the map (Bybit counted once by the same rule). The last reading at or before the
as-of (during the day: the last one fetched) is compared with the last one at or before
24 h earlier; a reading further than `TOLERANCE` from that moment does not stand for it (a
gap in the history is said, not bridged).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from reportgen.liquidation.parsers import VenueData
from reportgen.liquidation.result import OpenInterestDay, problems_text

WINDOW = timedelta(hours=24)
TOLERANCE = timedelta(hours=2)


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def open_interest_day(data: VenueData, as_of: datetime) -> OpenInterestDay:
    """`data`'s open interest at the last reading before `as_of` and 24 h before it."""
    out = OpenInterestDay(venue=data.venue)
    if data.oi is None or not len(data.oi.ts):
        why = problems_text(data.problems) if data.problems else "no open-interest history"
        return out.model_copy(update={"reason": why})
    stop = int(as_of.timestamp() * 1000)
    ts, oi = data.oi.ts, data.oi.oi
    i = int(np.searchsorted(ts, stop, side="right")) - 1
    if i < 0:
        return out.model_copy(update={"reason": "no open-interest reading before the cut-off"})
    now_ms, coins = int(ts[i]), float(oi[i])
    usd = None
    if data.series is not None and len(data.series.close):
        usd = coins * float(data.series.close[-1])
    out = out.model_copy(update={"coins": coins, "at": _when(now_ms), "usd": usd})
    target = now_ms - WINDOW // timedelta(milliseconds=1)
    j = int(np.searchsorted(ts, target, side="right")) - 1
    if j < 0 or target - int(ts[j]) > TOLERANCE // timedelta(milliseconds=1):
        return out.model_copy(update={"reason": "the history does not reach 24 h back"})
    return out.model_copy(update={"coins_before": float(oi[j]), "before_at": _when(int(ts[j]))})
