"""Matplotlib charts of a liquidation map and of the heatmap (SVG/PDF for web and print,
PNG at 2× for email). matplotlib is imported inside the functions so `reportgen --help`
stays fast; Figure objects are used without pyplot (no global state, Agg canvas).

Same input, same bytes: a fixed `svg.hashsalt`, no dates in SVG/PDF metadata, fixed PNG
metadata.
"""

from __future__ import annotations

import math
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reportgen.liquidation.buckets import LiqMap
from reportgen.liquidation.summary import MapSummary, cumulative, fmt_price, fmt_usd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from reportgen.liquidation.result import Heatmap, LiquidationResult

LONG_RED = "#d9024b"
SHORT_GREEN = "#45bf87"
TIER_COLOURS = ["#f6c744", "#f29a38", "#4c9be8", "#8e6bd6", "#20b2a5", "#c45ab3", "#7f8c8d"]
HL_COLOURS = ["#9ecae1", "#4292c6", "#2171b5", "#08306b"]
RC = {
    "svg.hashsalt": "reportgen-liqmap",
    "svg.fonttype": "path",
    "text.parse_math": False,  # "$" in prices and labels is a currency sign, not TeX
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9.5,
    "font.family": "DejaVu Sans",
}
METADATA: dict[str, dict[str, Any]] = {
    "svg": {"Date": None, "Creator": "reportgen"},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": "reportgen", "Producer": None},
    "png": {"Software": "reportgen"},
}
BASE_DPI = 100
MAX_BARS = 120  # more bars than this are merged for display: thin bars vanish on a phone


def _usd_axis(x: float, _pos: int | None = None) -> str:
    if x == 0:
        return "0"
    return fmt_usd(x).replace("US$", "$")


def _save(fig: Figure, path: Path) -> Path:
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in METADATA:
        raise ValueError(f"chart format must be svg, pdf or png, got {path.suffix!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    dpi = BASE_DPI * 2 if fmt == "png" else BASE_DPI
    fig.savefig(path, format=fmt, dpi=dpi, metadata=METADATA[fmt])
    return path


def _when(dt: datetime | None) -> str:
    """'2025-06-11 14:05 UTC'; a midnight cut-off reads as the close of the day before."""
    if dt is None:
        return "latest"
    utc = dt.astimezone(UTC)
    if (utc.hour, utc.minute, utc.second) == (0, 0, 0):
        return f"{(utc - timedelta(days=1)):%Y-%m-%d} close (UTC)"
    return utc.strftime("%Y-%m-%d %H:%M UTC")


def map_title(s: MapSummary) -> str:
    """'BTCUSDT · Binance+Bybit+OKX · estimated · as of … · 7 d'."""
    pair = s.symbol + ("USDT" if s.kind == "estimated" else "")
    parts = [pair, "Hyperliquid" if s.venue == "hyperliquid" else s.venue,
             "estimated" if s.kind == "estimated" else "reported positions",
             f"as of {_when(s.as_of)}"]
    a = s.assumptions or {}
    hours = a.get("data_hours")
    if hours is not None:  # the data the map rests on, not the window asked for
        parts.append(f"{hours / 24:.0f} d" if hours >= 23.5 else f"{hours:.0f} h")
    elif a.get("window_days"):
        parts.append(f"{a['window_days']} d")
    return " · ".join(parts)


def _display(m: LiqMap, lo: float, hi: float) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Rows within [lo, hi], merged so at most MAX_BARS bars show: (x_low, width, L, S)."""
    x = m.price_low
    keep = (x + m.bucket_size > lo) & (x < hi)
    rows = np.flatnonzero(keep)
    if rows.size == 0:
        return np.zeros(0), m.bucket_size, np.zeros((0, len(m.tiers))), np.zeros((0, len(m.tiers)))
    factor = max(1, math.ceil(rows.size / MAX_BARS))
    # merge on a grid aligned to multiples of factor × size so the bars stay round numbers
    k = m.k0 + rows
    group = k // factor
    uniq, inv = np.unique(group, return_inverse=True)
    L = np.zeros((uniq.size, len(m.tiers)))
    S = np.zeros_like(L)
    np.add.at(L, inv, m.long_by_tier[rows])
    np.add.at(S, inv, m.short_by_tier[rows])
    return uniq * factor * m.bucket_size, factor * m.bucket_size, L, S


def render_map(s: MapSummary, path: Path, caption: str = "", zoom_pct: float = 0.12) -> Path:
    """Bars per price bucket stacked by tier, cumulative long/short curves, mark line."""
    import matplotlib
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    m = s.to_map()
    mark = s.mark_price
    lo, hi = mark * (1 - zoom_pct), mark * (1 + zoom_pct)
    x, width, L, S = _display(m, lo, hi)
    cum_l, cum_s = cumulative(m)
    colours = HL_COLOURS if s.venue == "hyperliquid" else TIER_COLOURS
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(10, 6.2), dpi=BASE_DPI, layout="constrained")
        ax = fig.add_subplot()
        bottom = np.zeros(len(x))
        values = L + S  # each bucket holds longs (below mark) or shorts (above), rarely both
        # One PolyCollection per tier instead of ax.bar: thousands of Rectangle patches
        # (each with its own transform) made a chart take ~0.5 s to draw.
        bar_w = width * 0.92
        for t, label in enumerate(m.tiers):
            heights = values[:, t]
            drawn = heights > 0
            x0, base = np.asarray(x)[drawn], bottom[drawn]
            w0 = np.broadcast_to(bar_w, x.shape)[drawn] if np.ndim(bar_w) else bar_w
            top = base + heights[drawn]
            quads = np.stack([np.c_[x0, base], np.c_[x0 + w0, base],
                              np.c_[x0 + w0, top], np.c_[x0, top]], axis=1)
            ax.add_collection(PolyCollection(quads, facecolors=colours[t % len(colours)],
                                             linewidths=0, label=label))
            bottom = bottom + heights
        ax.set_xlim(lo, hi)
        ax.set_ylim(0, max(float(bottom.max()) if bottom.size else 0, 1) * 1.12)
        ax.yaxis.set_major_formatter(FuncFormatter(_usd_axis))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_price(v, s.bucket_size)))
        ax.xaxis.set_major_locator(MaxNLocator(7))
        step = fmt_price(width, s.bucket_size)
        ax.set_ylabel(f"Liquidation notional, US$ per {step} bucket")
        ax.set_xlabel(f"{s.symbol} price (US$)")
        ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top",):
            ax.spines[side].set_visible(False)
        ax2 = ax.twinx()
        px = m.price_low + m.bucket_size / 2
        below = px <= mark + m.bucket_size
        above = px >= mark - m.bucket_size
        ax2.plot(np.r_[px[below], mark], np.r_[cum_l[below], 0.0], color=LONG_RED, lw=2.2,
                 label="Cumulative longs (liquidated as price falls)")
        ax2.fill_between(np.r_[px[below], mark], np.r_[cum_l[below], 0.0], color=LONG_RED,
                         alpha=0.06, lw=0)
        ax2.plot(np.r_[mark, px[above]], np.r_[0.0, cum_s[above]], color=SHORT_GREEN, lw=2.2,
                 label="Cumulative shorts (liquidated as price rises)")
        ax2.fill_between(np.r_[mark, px[above]], np.r_[0.0, cum_s[above]], color=SHORT_GREEN,
                         alpha=0.06, lw=0)
        top = max(float(cum_l.max(initial=0)), float(cum_s.max(initial=0)), 1.0)
        ax2.set_ylim(0, top * 1.12)
        ax2.set_xlim(lo, hi)
        ax2.yaxis.set_major_formatter(FuncFormatter(_usd_axis))
        ax2.set_ylabel("Cumulative, US$")
        ax2.spines["top"].set_visible(False)
        ax.axvline(mark, color="#333333", ls="--", lw=1.4)
        ax.annotate(f"Mark {fmt_price(mark, s.bucket_size)}", xy=(mark, 1.0),
                    xycoords=("data", "axes fraction"), xytext=(0, -4),
                    textcoords="offset points", ha="center", va="top", fontsize=10.5,
                    fontweight="bold", bbox={"boxstyle": "round,pad=0.3", "fc": "white",
                                             "ec": "#333333", "lw": 0.8})
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        tier_title = "Leverage band" if s.venue == "hyperliquid" else "Leverage tier"
        leg = ax.legend(h1, l1, title=tier_title, loc="upper left", ncols=1, frameon=True,
                        framealpha=0.9)
        ax.add_artist(leg)
        ax2.legend(h2, l2, loc="upper right", frameon=True, framealpha=0.9)
        ax.set_title(map_title(s), loc="left", fontweight="bold")
        if caption:
            lines = textwrap.wrap(caption, 150)
            fig.text(0.01, 0.0, "\n".join(lines), ha="left", va="bottom", fontsize=8.5,
                     color="#555555")
            # room for the caption's lines (8.5 pt ≈ 2.4 % of the figure's height each)
            bottom = 0.015 + 0.024 * len(lines)
            fig.get_layout_engine().set(rect=(0, bottom, 1, 1 - bottom))
        return _save(fig, path)


def render_heatmap(h: Heatmap, symbol: str, venue: str, path: Path,
                   zoom_pct: float = 0.12) -> Path:
    """Time × price heat of estimated live liquidation levels (US$), price path overlaid."""
    import matplotlib
    from matplotlib.colors import PowerNorm
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    values = np.asarray(h.values, dtype=float)
    times = np.array([t.astimezone(UTC).replace(tzinfo=None) for t in h.times],
                     dtype="datetime64[s]")
    price = np.asarray(h.price, dtype=float)
    n_b = values.shape[1] if values.ndim == 2 else 0
    edges_y = h.price_low0 + np.arange(n_b + 1) * h.bucket_size
    mark = float(price[-1]) if price.size else 0.0
    lo, hi = mark * (1 - zoom_pct), mark * (1 + zoom_pct)
    sel = np.flatnonzero((edges_y[:-1] + h.bucket_size > lo) & (edges_y[:-1] < hi))
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(10, 5.6), dpi=BASE_DPI, layout="constrained")
        ax = fig.add_subplot()
        if sel.size and times.size > 1:
            step = np.median(np.diff(times).astype(np.int64)).astype("timedelta64[s]")
            edges_x = np.r_[times - step, times[-1:]]
            v = values[:, sel[0]: sel[-1] + 1]
            vmax = max(float(np.quantile(v[v > 0], 0.995)) if (v > 0).any() else 1.0, 1.0)
            mesh = ax.pcolormesh(edges_x, edges_y[sel[0]: sel[-1] + 2], v.T, cmap="viridis",
                                 norm=PowerNorm(0.5, vmin=0, vmax=vmax), shading="flat",
                                 rasterized=True)
            cb = fig.colorbar(mesh, ax=ax, pad=0.01)
            cb.set_label(f"US$ per {fmt_price(h.bucket_size, h.bucket_size)} bucket")
            cb.formatter = FuncFormatter(_usd_axis)
            cb.update_ticks()
            ax.plot(times, price, color="white", lw=1.6, label=f"{symbol} mark")
            ax.plot(times, price, color="#222222", lw=0.6)
            ax.set_xlim(edges_x[0], edges_x[-1])
        ax.set_ylim(lo, hi)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _p: fmt_price(y, h.bucket_size)))
        locator = AutoDateLocator(minticks=4, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.set_xlabel("UTC")
        ax.set_ylabel(f"{symbol} price (US$)")
        days = (times[-1] - times[0]).astype(np.int64) / 86400 + 1 / 24 if times.size > 1 else 0
        ax.set_title(f"{symbol} estimated liquidation levels · {venue} · {days:.0f} d to "
                     f"{_when(h.times[-1] if h.times else None)}", loc="left", fontsize=11,
                     fontweight="bold")
        return _save(fig, path)


def render_charts(result: LiquidationResult, out_dir: Path,
                  formats: tuple[str, ...] = ("svg", "png")) -> list[Path]:
    """Every chart of `result` in every format; returns the written paths."""
    out_dir = Path(out_dir)
    sym = result.symbol.lower()
    written: list[Path] = []
    for fmt in formats:
        if result.cex is not None:
            written.append(render_map(result.cex, out_dir / f"liqmap_{sym}_cex.{fmt}",
                                      result.captions.get("cex", "")))
        if result.hyperliquid is not None:
            written.append(render_map(result.hyperliquid,
                                      out_dir / f"liqmap_{sym}_hyperliquid.{fmt}",
                                      result.captions.get("hyperliquid", "")))
        if result.heatmap is not None and result.cex is not None:
            written.append(render_heatmap(result.heatmap, result.symbol, result.cex.venue,
                                          out_dir / f"liqheat_{sym}.{fmt}"))
    return written
