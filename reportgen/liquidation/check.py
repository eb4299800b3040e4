"""Realised vs predicted: did the forced liquidations after a map's as-of land where the map
put its notional, more than its own distance profile explains? Method, measured behaviour
and limits: docs/liquidation-check.md. Events come from `events.py`.

A score a guess cannot pass. Any map holds more notional near the mark than far from it,
and liquidations also happen near the mark more than far from it, so a map "captures"
events placed at random near the mark; the first baseline (notional spread evenly over the
whole range) rewarded exactly that. Here the baseline knows the map's distance profile: it
is what the map captures when each event is moved at random by up to ±`band_pct` of the
mark towards or away from it (reflected at the mark, so it stays on its side), i.e. the
map's own notional smoothed over a ±`band_pct` distance band. The lift is the captured
share over that expectation; the p-value is a randomisation test with the same moves
(seeded, so a score is reproducible): the share of `permutations` random moves of all
events that capture at least as much as the events did where they fell.

Why move the events rather than shuffle the map's buckets within bands: the map is smooth
over a few buckets, and shuffling buckets one by one destroys that, so shuffled maps vary
less than the real one and the p-values came out too small (with a ±2-bucket tolerance,
p < 0.05 for up to 15 % of random event sets). Moving events keeps the map as it is.

Like with like: the map holds liquidation prices, the feeds report bankruptcy prices, one
maintenance margin further; each event is placed at its estimated liquidation price
(`LiqEvent.liquidation_price`) with the venue's first-bracket MMR.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from reportgen.liquidation.buckets import bucket_index
from reportgen.liquidation.events import LiqEvent
from reportgen.liquidation.summary import MapSummary, fmt_usd

PRICE_BASIS = ("liquidation price estimated from the reported bankruptcy price: "
               "÷ (1 − MMR) for longs, ÷ (1 + MMR) for shorts, first-bracket MMR per venue")
DEFAULT_BAND_PCT = 0.02
DEFAULT_PERMUTATIONS = 999


def _default_mmr(_venue: str, _symbol: str) -> float:
    return 0.004


@dataclass(frozen=True)
class SideScore:
    """One side's score (longs below the mark, shorts above). `captured` is the notional-
    weighted mean, over the side's events, of the share of the map's notional on that side
    within one bucket of where the event was liquidated; `baseline` its expectation when
    each event is moved at random within the distance band; `lift` their ratio; `p_value`
    from the random moves (all None without events or map notional on this side)."""

    events: int
    realised_usd: float
    captured: float | None
    baseline: float | None
    lift: float | None
    p_value: float | None


@dataclass(frozen=True)
class EventCounts:
    """What happened to the events offered. `scored` lie in (as_of, as_of + horizon];
    less `wrong_side`, liquidated beyond the mark's bucket on the side where the map holds
    none of their side (a long above the mark: counted, not scored). Of the scored,
    `at_mark` lie in the mark's own bucket (scored against their side's notional there),
    `beyond_range` outside the map's range (scored; they capture nothing). `rejected`
    counts entries or lines left out by reason (malformed line, no price, …), as the
    caller read them; `offered` is everything, those included."""

    offered: int
    scored: int
    before: int
    after: int
    other_symbols: int
    at_mark: int
    wrong_side: int
    beyond_range: int
    rejected: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MapScore:
    """A map scored against realised liquidations (see the module docstring).

    `lift` and `p_value` are over both sides together (events weighted by notional);
    `long` and `short` give each side alone. A lift near 1 and a large p-value say the map
    knew no more than where its notional sits by distance from the mark."""

    symbol: str
    as_of: datetime
    horizon_hours: float
    mark_price: float
    bucket_size: float
    band_pct: float
    permutations: int
    seed: int
    captured: float | None
    baseline: float | None
    lift: float | None
    p_value: float | None
    long: SideScore
    short: SideScore
    events: EventCounts
    price_basis: str
    baseline_method: str
    notes: list[str]
    text: str

    def as_json(self) -> dict[str, Any]:
        """The score as JSON-ready data (what `liqmap --check-against --json` stores)."""
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat().replace("+00:00", "Z")
        return out


@dataclass
class _Sides:
    """The map's notional by distance from the mark, per side: `share[s][d]` is the share
    of side s's notional (0 long, 1 short) in the bucket d buckets from the mark's bucket
    towards that side's liquidations (0 = the mark's bucket), out to the range's edge and
    padded with zeros `pad` buckets beyond it."""

    km: int
    edge: tuple[int, int]            # the range's last bucket, per side, in distance
    share: tuple[np.ndarray, np.ndarray]

    def held(self, side: int) -> bool:
        return bool(self.share[side].sum() > 0)


def _sides(summary: MapSummary, pad: int) -> _Sides:
    m = summary.to_map()
    size = summary.bucket_size
    km = int(bucket_index(summary.mark_price, size))
    k_lo = int(bucket_index(summary.range_low + size / 2, size)) \
        if summary.range_low is not None else m.k0
    k_hi = int(bucket_index(summary.range_high - size / 2, size)) \
        if summary.range_high is not None else m.k0 + m.n - 1
    k_lo, k_hi = min(k_lo, m.k0, km), max(k_hi, m.k0 + m.n - 1, km)
    shares = []
    for values, ks in ((m.long_usd, np.arange(km, k_lo - 1 - pad, -1)),
                       (m.short_usd, np.arange(km, k_hi + 1 + pad))):
        rows = ks - m.k0
        inside = (rows >= 0) & (rows < m.n)
        v = np.zeros(len(ks))
        v[inside] = values[rows[inside]]
        total = v.sum()
        shares.append(v / total if total > 0 else v)
    return _Sides(km, (km - k_lo, k_hi - km), (shares[0], shares[1]))


def _near(share: np.ndarray) -> np.ndarray:
    """Per distance d: the side's share within one bucket of d (d − 1 … d + 1; nothing lies
    beyond the mark on this side)."""
    padded = np.r_[0.0, share, 0.0]
    out: np.ndarray = padded[:-2] + padded[1:-1] + padded[2:]
    return out


def _moved(d: np.ndarray, offsets: np.ndarray, last: int) -> np.ndarray:
    """Distances `d` moved by `offsets`, reflected at the mark (a move past it comes back on
    the same side) and kept on the padded grid."""
    out: np.ndarray = np.clip(np.abs(d + offsets), 0, last)
    return out


_CHUNK = 200_000  # cells of the random-move matrix drawn at once (bounds memory)


def _nears(sides_map: _Sides, side: np.ndarray, dist: np.ndarray, reach: int,
           weights: list[np.ndarray], permutations: int,
           seed: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Per event: the map's share within one bucket of where it fell, and its mean over the
    moves of up to ±`reach` buckets; per weight vector: the weighted capture of each of
    `permutations` random moves of every event (events on the wrong side have weight 0)."""
    rng = np.random.default_rng(seed)
    offsets = np.arange(-reach, reach + 1)
    near_obs = np.zeros(len(side))
    near_base = np.zeros(len(side))
    nulls = [np.zeros(permutations) for _ in weights]
    for s in (0, 1):
        sel = np.flatnonzero((side == s) & (dist >= 0))
        if not sel.size:
            continue
        near = _near(sides_map.share[s])
        last = len(near) - 1
        d = np.clip(dist[sel], 0, last)
        near_obs[sel] = np.where(dist[sel] <= last, near[d], 0.0)
        near_base[sel] = near[_moved(d[:, None], offsets[None, :], last)].mean(axis=1)
        step = max(1, _CHUNK // permutations)
        for at in range(0, sel.size, step):
            part = slice(at, at + step)
            drawn = rng.integers(-reach, reach + 1, size=(permutations, d[part].size))
            moved = near[_moved(d[part][None, :], drawn, last)]
            for null, w in zip(nulls, weights, strict=True):
                null += moved @ w[sel[part]]
    return near_obs, near_base, nulls


def _p(observed: float, null: np.ndarray) -> float:
    """One-sided randomisation p-value, counting the observed arrangement among the draws."""
    return float((1 + np.count_nonzero(null >= observed * (1 - 1e-12))) / (1 + len(null)))


def score_map_against_events(
    summary: MapSummary,
    events: Iterable[LiqEvent],
    *,
    as_of: datetime | None = None,
    horizon_hours: float = 24.0,
    mmr: Callable[[str, str], float] = _default_mmr,
    band_pct: float = DEFAULT_BAND_PCT,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    rejected: Mapping[str, int] | None = None,
    other_symbols: int = 0,
) -> MapScore:
    """Score `summary` (a map of one symbol) against realised liquidation `events`.

    Events of other symbols are counted and left out; of the rest, those in
    `(as_of, as_of + horizon_hours]` are scored, each at its estimated liquidation price
    (bankruptcy price and `mmr(venue, symbol)`) and weighted by its notional. `as_of`
    defaults to the map's own. `band_pct` is how far (share of the mark) the baseline and
    the randomisation test move each event; `permutations` random moves, seeded by
    `seed` (the smallest p-value is 1 / (permutations + 1)). `rejected` and
    `other_symbols` carry what the caller's reading left out (`events.read_events`), so the
    score reports every event offered. Score a map at its model's own buckets: on a
    coarser published grid "within one bucket" widens. Pure and deterministic.
    """
    as_of = as_of or summary.as_of
    if as_of is None:
        raise ValueError("score_map_against_events needs the map's as-of time")
    if not 0 < band_pct < 1:
        raise ValueError(f"band_pct must be a share of the mark between 0 and 1, got {band_pct}")
    if permutations < 1:
        raise ValueError(f"permutations must be at least 1, got {permutations}")
    start_ms = int(as_of.timestamp() * 1000)
    stop_ms = int((as_of + timedelta(hours=horizon_hours)).timestamp() * 1000)
    offered = list(events)
    mine = [e for e in offered if e.symbol.upper() == summary.symbol.upper()]
    inside = [e for e in mine if start_ms < e.ts_ms <= stop_ms]
    size = summary.bucket_size
    reach = max(1, round(band_pct * summary.mark_price / size))  # ±band in buckets
    sides_map = _sides(summary, reach + 2)
    km = sides_map.km
    side = np.array([0 if e.side == "long" else 1 for e in inside], dtype=np.int64)
    k = np.array([bucket_index(e.liquidation_price(mmr(e.venue, e.symbol)), size)
                  for e in inside], dtype=np.int64).reshape(-1)
    usd = np.array([e.usd for e in inside], dtype=float)
    dist = np.where(side == 0, km - k, k - km)   # buckets from the mark, towards the side
    wrong = dist < 0
    edge = np.array([sides_map.edge[s] for s in side.tolist()], dtype=np.int64)
    counts = EventCounts(
        offered=len(offered) + other_symbols + sum((rejected or {}).values()),
        scored=len(inside) - int(wrong.sum()), before=sum(e.ts_ms <= start_ms for e in mine),
        after=sum(e.ts_ms > stop_ms for e in mine),
        other_symbols=other_symbols + len(offered) - len(mine),
        at_mark=int(np.count_nonzero(dist == 0)), wrong_side=int(wrong.sum()),
        beyond_range=int(np.count_nonzero(dist > edge)),
        rejected=dict(sorted((rejected or {}).items())))

    groups = [~wrong & np.array([sides_map.held(s) for s in side.tolist()], dtype=bool),
              ~wrong & (side == 0), ~wrong & (side == 1)]
    weights = [np.where(g, usd, 0.0) for g in groups]
    near_obs, near_base, nulls = _nears(sides_map, side, dist, reach, weights, permutations,
                                        seed)
    scores: list[tuple[float | None, float | None, float | None, float | None]] = []
    for w, null in zip(weights, nulls, strict=True):
        total = float(w.sum())
        base = float(w @ near_base / total) if total > 0 else 0.0
        if base <= 0:
            scores.append((None, None, None, None))
            continue
        captured = float(w @ near_obs / total)
        scores.append((captured, base, captured / base, _p(captured, null / total)))
    sides = [SideScore(events=int(np.count_nonzero((side == s) & ~wrong)),
                       realised_usd=float(usd[(side == s) & ~wrong].sum()),
                       captured=scores[s + 1][0], baseline=scores[s + 1][1],
                       lift=scores[s + 1][2], p_value=scores[s + 1][3]) for s in (0, 1)]
    notes = []
    if any(e.venue == "binance" for e in inside):
        notes.append("Binance pushes at most one liquidation per symbol per second: its "
                     "events undercount.")
    method = (f"the map's own notional smoothed over ±{band_pct * 100:g} % of the mark by "
              f"distance from it, per side: what the map captures on average when each event "
              f"is moved at random by up to ±{band_pct * 100:g} % towards or away from the "
              f"mark; p from {permutations} such random moves (seed {seed})")
    score = MapScore(
        symbol=summary.symbol, as_of=as_of, horizon_hours=horizon_hours,
        mark_price=summary.mark_price, bucket_size=size, band_pct=band_pct,
        permutations=permutations, seed=seed, captured=scores[0][0], baseline=scores[0][1],
        lift=scores[0][2], p_value=scores[0][3], long=sides[0], short=sides[1],
        events=counts, price_basis=PRICE_BASIS, baseline_method=method, notes=notes, text="")
    return _with_text(score)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.2f}%"


def _verdict(p: float) -> str:
    if p < 0.01:
        return "the map placed notional where liquidations came, beyond its distance profile"
    if p < 0.05:
        return "weak evidence the map knew more than its distance profile"
    return "no better than the map's own distance profile"


def _left_out(c: EventCounts) -> str:
    parts = [f"{n} {what}" for n, what in ((c.before, "before the as-of"),
                                          (c.after, "after the horizon"),
                                          (c.other_symbols, "of other symbols")) if n]
    parts += [f"{n} rejected: {why}" for why, n in c.rejected.items()]
    return f" Left out: {'; '.join(parts)}." if parts else ""


def _placed(c: EventCounts) -> str:
    parts = [f"{n} {what}" for n, what in ((c.at_mark, "in the mark's bucket"),
                                          (c.beyond_range, "beyond the map's range")) if n]
    out = f" Of the scored: {', '.join(parts)}." if parts else ""
    if c.wrong_side:
        out += (f" Not scored: {c.wrong_side} on the far side of the mark, where the map "
                "holds none of their side.")
    return out


def _with_text(s: MapScore) -> MapScore:
    hours = f"{s.horizon_hours:g} h"
    c = s.events
    if not c.scored:
        text = (f"No {s.symbol} liquidation in the {hours} after the map's as-of: nothing to "
                f"score.{_left_out(c)}")
    elif s.lift is None or s.p_value is None:
        text = (f"{c.scored} {s.symbol} liquidations in the {hours}, none on a side where the "
                f"map holds notional: nothing to score.{_left_out(c)}")
    else:
        per_side = []
        for word, side in (("longs", s.long), ("shorts", s.short)):
            if side.lift is not None and side.p_value is not None:
                per_side.append(f"{word} {side.events} events, {fmt_usd(side.realised_usd)}, "
                                f"lift {side.lift:.2f}× (p = {side.p_value:.3f})")
            elif side.events:
                per_side.append(f"{word} {side.events} events, no map notional to score")
        text = (f"{c.scored} {s.symbol} liquidations in the {hours} after the map's as-of: "
                f"lift {s.lift:.2f}× over the map's notional spread evenly within "
                f"{s.band_pct * 100:g} % distance bands (captured {_pct(s.captured)} vs "
                f"{_pct(s.baseline)}), p = {s.p_value:.3f} from {s.permutations} shuffles "
                f"within the bands: {_verdict(s.p_value)}. " + "; ".join(per_side) + "."
                + _placed(c) + _left_out(c))
    text += "".join(f" {n}" for n in s.notes)
    return MapScore(**{**s.__dict__, "text": text})
