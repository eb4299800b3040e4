"""Snapshots → Brief. Pure: same snapshots in, same Brief out."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reportgen.brief.model import Brief, Direction, Figure, Section, SourceRef
from reportgen.clock import day_end
from reportgen.models import METHOD_LABELS, SourceSnapshot

SECTION_TITLES = {
    "indicators": "Indicators",
    "stablecoins": "Stablecoins",
    "liquidation": "Liquidation map",
    "etf": "Spot ETF flows",
    "macro": "Macro & policy",
    "highlights": "Market highlights",
}

# Upstream names and public URLs for the sources list.
SOURCE_INFO: dict[str, tuple[str, str]] = {
    "coingecko": ("CoinGecko /global", "https://www.coingecko.com/en/global-charts"),
    "gas": ("Ethereum JSON-RPC / Etherscan gas oracle", "https://etherscan.io/gastracker"),
    "altseason": ("Altcoin Season Index, computed from CoinGecko prices",
                  "https://www.coingecko.com/"),
    "feargreed": ("alternative.me Fear & Greed Index", "https://alternative.me/crypto/fear-and-greed-index/"),
    "stablecoins": ("DefiLlama stablecoins", "https://defillama.com/stablecoins"),
    "etf_farside": ("Farside Investors, US spot ETF flows", "https://farside.co.uk/"),
    "news": ("News feeds (CoinDesk, Cointelegraph, Decrypt, The Block, BlockBeats)", ""),
    "liquidation": ("Binance, Bybit, OKX and Hyperliquid public APIs", ""),
}


SectionBuilder = Callable[[date, SourceSnapshot | None, "_Refs"], Section]


class _Refs:
    """Numbers sources in order of first use, for footnotes and the sources list."""

    def __init__(self) -> None:
        self.refs: dict[str, SourceRef] = {}

    def get(self, snapshot: SourceSnapshot | None) -> SourceRef | None:
        if snapshot is None:
            return None
        if snapshot.source not in self.refs:
            name, url = SOURCE_INFO.get(snapshot.source, (snapshot.source, None))
            self.refs[snapshot.source] = SourceRef(
                key=len(self.refs) + 1, name=name, url=url or None, as_of=_as_of(snapshot),
                method=METHOD_LABELS.get(snapshot.method, snapshot.method),
            )
        return self.refs[snapshot.source]


def _as_of(snapshot: SourceSnapshot) -> datetime | None:
    """The moment the data describes (never the fetch time of a past day's data)."""
    if snapshot.as_of is not None:
        return snapshot.as_of
    # Snapshots archived before `as_of` existed: CoinGecko's updated_at, or the fetch time
    # of data that was current when fetched.
    updated = snapshot.data.get("updated_at") if snapshot.data else None
    if isinstance(updated, str):
        try:
            return datetime.fromisoformat(updated)
        except ValueError:
            pass
    return snapshot.fetched_at if snapshot.method in ("live", "sample") else None


def _stamp(when: datetime, zone: str) -> str:
    local = when.astimezone(ZoneInfo(zone))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or zone)


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


def stale_reason(snapshot: SourceSnapshot, day: date, zone: str,
                 limit: timedelta | None) -> str | None:
    """Why `snapshot`'s data cannot stand for `day`, or None when it can.

    Stale: its `as_of` is more than `limit` older than the reference, which is the day's
    cut-off, or the fetch time when the data was fetched before the cut-off (a run during
    the day). After the cut-off: it describes a later moment than the day's end."""
    as_of = _as_of(snapshot)
    if as_of is None or not snapshot.ok:
        return None
    cutoff = day_end(day, zone)
    if as_of > cutoff:
        return (f"the data is as of {_stamp(as_of, zone)}, after the end of {day}: "
                "it does not describe that day")
    if limit is None:
        return None
    fetched = snapshot.fetched_at
    reference, what = cutoff, f"the end of {day}"
    if fetched is not None and fetched < cutoff:
        reference, what = fetched, f"it was fetched ({_stamp(fetched, zone)})"
    age = reference - as_of
    if age <= limit:
        return None
    return (f"stale: the data is as of {_stamp(as_of, zone)}, {_span(age)} before {what}; "
            f"the limit for this source is {_span(limit)}")


def _vetted(day: date, zone: str, snapshots: Mapping[str, SourceSnapshot],
            stale_after: Mapping[str, timedelta | None]) -> dict[str, SourceSnapshot]:
    """The snapshots, with those whose data is stale (or describes a later moment) turned
    into unavailable ones that say so: a stale figure is never shown as the day's."""
    out: dict[str, SourceSnapshot] = {}
    for name, snapshot in snapshots.items():
        why = stale_reason(snapshot, day, zone, stale_after.get(name))
        out[name] = snapshot if why is None else snapshot.model_copy(
            update={"ok": False, "reason": why})
    return out


def _direction(change: float | None) -> Direction | None:
    if change is None:
        return None
    if abs(change) < 1e-9:
        return "flat"
    return "up" if change > 0 else "down"


def _pct_change(now: float | None, before: float | None) -> float | None:
    if now is None or not before:
        return None
    return (now / before - 1.0) * 100.0


def _reason(day: date, snapshot: SourceSnapshot | None, what: str) -> str:
    if snapshot is None:
        return f"{what} unavailable for {day}: not collected"
    reason = snapshot.reason or "no data"
    return reason if reason.startswith(f"unavailable for {day}") else f"unavailable for {day}: {reason}"


def _get(snapshot: SourceSnapshot | None, key: str) -> Any:
    if snapshot is None or not snapshot.ok or key in _rejected(snapshot):
        return None
    return snapshot.data.get(key)


def _rejected(snapshot: SourceSnapshot | None) -> dict[str, str]:
    """Field → the plausibility rule its value broke (see reportgen.sources.checks)."""
    if snapshot is None or not snapshot.ok:
        return {}
    rejected = snapshot.data.get("rejected")
    return rejected if isinstance(rejected, dict) else {}


def _figure_reason(day: date, snapshot: SourceSnapshot | None, key: str, what: str) -> str:
    """Why the figure `key` is missing: the rule its value broke, or the source's reason."""
    rule = _rejected(snapshot).get(key)
    if rule:
        return f"unavailable for {day}: value rejected as implausible: {rule}"
    return _reason(day, snapshot, what)


def build_brief(
    day: date,
    snapshots: Mapping[str, SourceSnapshot],
    previous: Mapping[str, SourceSnapshot],
    *,
    title: str,
    zone: str,
    generated_at: datetime,
    sample: bool,
    original_url: str | None = None,
    author: str | None = None,
    extra_sections: Mapping[str, tuple[str, SectionBuilder]] | None = None,
    stale_after: Mapping[str, timedelta | None] | None = None,
    disabled: Collection[str] = (),
) -> Brief:
    """Build the brief's view-model for `day` from its snapshots and the previous day's.

    `extra_sections` maps the later section ids (liquidation, etf, macro, highlights) to the
    archive source they read and a pure builder; a section without one says it is unavailable.
    `stale_after` is each source's staleness limit (see `stale_reason`); a stale source's
    figures are unavailable and say why. Sources in `disabled` (switched off in config) are
    left out: their figures and sections are omitted, not reported missing.
    """
    refs = _Refs()
    builders = dict(extra_sections or {})
    snapshots = _vetted(day, zone, snapshots, stale_after or {})
    sections = [
        _indicators(day, snapshots, previous, refs, disabled),
        None if "stablecoins" in disabled else _stablecoins(day, snapshots.get("stablecoins"), refs),
    ]
    for section_id in ("liquidation", "etf", "macro", "highlights"):
        if section_id in builders:
            source, builder = builders[section_id]
            if source not in disabled:
                sections.append(builder(day, snapshots.get(source), refs))
        else:
            sections.append(_missing(section_id, day, None))
    return Brief(
        title=title, day=day, zone=zone, sample=sample, generated_at=generated_at,
        sections=[s for s in sections if s is not None],
        sources=sorted(refs.refs.values(), key=lambda r: r.key),
        original_url=original_url, author=author,
    )


def _missing(section_id: str, day: date, snapshot: SourceSnapshot | None) -> Section:
    title = SECTION_TITLES[section_id]
    return Section(id=section_id, title=title, reason=_reason(day, snapshot, title))


def _indicators(day: date, snaps: Mapping[str, SourceSnapshot],
                prev: Mapping[str, SourceSnapshot], refs: _Refs,
                disabled: Collection[str] = ()) -> Section | None:
    cg, cg_prev = snaps.get("coingecko"), prev.get("coingecko")
    gas, gas_prev = snaps.get("gas"), prev.get("gas")
    alt, alt_prev = snaps.get("altseason"), prev.get("altseason")
    fng, fng_prev = snaps.get("feargreed"), prev.get("feargreed")
    cg_reason = _reason(day, cg, "CoinGecko market data")

    def cg_figure(label: str, key: str, unit: Any, decimals: int = 0, *,
                  change_key: str | None = None, points: bool = False) -> Figure:
        value = _get(cg, key)
        if value is None:
            reason = _figure_reason(day, cg, key, "CoinGecko market data")
            return Figure(label=label, unit=unit, value=None, decimals=decimals,
                          reason=reason if key in _rejected(cg) else cg_reason)
        before = _get(cg_prev, key)
        change_pct = _get(cg, change_key) if change_key else None
        change_pts = None
        if change_pct is None and before is not None:
            if points:
                change_pts = value - before
            else:
                change_pct = _pct_change(value, before)
        return Figure(
            label=label, unit=unit, value=float(value), decimals=decimals,
            change_pct=change_pct, change_pts=change_pts,
            direction=_direction(change_pts if points else change_pct), source=refs.get(cg),
        )

    figures: list[Figure] = []
    if "coingecko" not in disabled:
        figures += [
            cg_figure("Listed currencies", "active_cryptocurrencies", "count"),
            cg_figure("Exchanges (markets)", "markets", "count"),
            cg_figure("Total market cap", "total_market_cap_usd", "usd", 0,
                      change_key="market_cap_change_24h_pct"),
            cg_figure("24 h volume", "total_volume_usd", "usd", 2),
            cg_figure("BTC dominance", "btc_dominance_pct", "pct", 1, points=True),
            cg_figure("ETH dominance", "eth_dominance_pct", "pct", 1, points=True),
        ]
    if "gas" not in disabled:
        figures.append(_simple("Ethereum gas", "gas", gas, gas_prev, "gas_gwei", "gwei", 2, day,
                               refs, relative=True))
    if "altseason" not in disabled:
        figures.append(_simple("Altcoin Season Index", "altseason", alt, alt_prev, "index",
                               "index", 0, day, refs, note_key="label",
                               previous_key="previous_index"))
    if "feargreed" not in disabled:
        figures.append(_simple("Fear & Greed Index", "feargreed", fng, fng_prev, "value", "index",
                               0, day, refs, note_key="label", previous_key="previous_value"))
    if not figures:
        return None
    return Section(id="indicators", title=SECTION_TITLES["indicators"], figures=figures,
                   data={"altseason": alt.data if alt and alt.ok else None,
                         "gas": gas.data if gas and gas.ok else None})


def _simple(label: str, what: str, snap: SourceSnapshot | None, prev: SourceSnapshot | None,
            key: str, unit: Any, decimals: int, day: date, refs: _Refs, *,
            relative: bool = False, note_key: str | None = None,
            previous_key: str | None = None) -> Figure:
    value = _get(snap, key)
    if value is None:
        return Figure(label=label, unit=unit, value=None, decimals=decimals,
                      reason=_figure_reason(day, snap, key, label))
    before = _get(prev, key)
    if before is None and previous_key:
        before = _get(snap, previous_key)
    change_pct = _pct_change(value, before) if relative and before is not None else None
    change_pts = value - before if not relative and before is not None else None
    return Figure(
        label=label, unit=unit, value=float(value), decimals=decimals,
        change_pct=change_pct, change_pts=change_pts,
        direction=_direction(change_pct if relative else change_pts),
        note=_get(snap, note_key) if note_key else None, source=refs.get(snap),
    )


def _stablecoins(day: date, snap: SourceSnapshot | None, refs: _Refs) -> Section:
    title = SECTION_TITLES["stablecoins"]
    total = _get(snap, "total_usd")
    if total is None:
        return Section(id="stablecoins", title=title,
                       reason=_figure_reason(day, snap, "total_usd", title))
    ref = refs.get(snap)
    change_24h = _pct_change(total, _get(snap, "prev_day_usd"))
    change_7d = _pct_change(total, _get(snap, "prev_week_usd"))
    rejected = _rejected(snap)

    def why(key: str) -> str:
        rule = rejected.get(key)
        return f"value rejected as implausible: {rule}" if rule else "not in the upstream answer"

    figures = [
        Figure("USD-stablecoin market cap", "usd", float(total), 1, change_pct=change_24h,
               direction=_direction(change_24h), source=ref),
        Figure("24 h change", "change", change_24h, 2, direction=_direction(change_24h),
               reason=None if change_24h is not None else why("prev_day_usd"), source=ref),
        Figure("7 d change", "change", change_7d, 2, direction=_direction(change_7d),
               reason=None if change_7d is not None else why("prev_week_usd"), source=ref),
    ]
    return Section(id="stablecoins", title=title, figures=figures, source=ref,
                   data={"endpoint": _get(snap, "endpoint")})
