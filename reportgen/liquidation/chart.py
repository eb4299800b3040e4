"""Matplotlib charts of a symbol's liquidation maps and of the heatmap (SVG for web and
print, PNG at 2× for email). matplotlib is imported inside the functions so `reportgen
--help` stays fast; Figure objects are used without pyplot (no global state, Agg canvas).

One figure per symbol: the CEX estimate above the Hyperliquid positions, on one price axis
that spans exactly the maps' range (mark ± `range_pct`), so every cluster the text cites is
on the chart. Each bucket of the published map is one bar: the chart, the bullets and the
JSON share one price grid. Method notes are text beside the image (`figcaption`); the image
itself carries its title, a source line and, for sample data, a "SAMPLE DATA" mark.

Every figure comes in looks (`Look`): the page's width or a phone's (PHONE_WIDTH_IN, so
that its text stays >= 10 px on a 390 px screen), each light or dark (the light figure
recoloured by `to_dark`, for pages in dark mode; print stays light).

Same input, same bytes: a fixed `svg.hashsalt`, no dates in SVG/PDF metadata, fixed PNG
metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reportgen.liquidation.summary import MapSummary, cumulative, fmt_price, fmt_usd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine
    from matplotlib.typing import RcKeyType

    from reportgen.liquidation.result import Heatmap, LiquidationResult

# Leverage is ordinal: a sequential palette (viridis samples) whose lightness steps apart
# tiers for every kind of colour vision; no red-green pair carries meaning.
TIER_COLOURS = ["#cae11f", "#44bf70", "#228b8d", "#38588c", "#481769"]
HL_COLOURS = ["#bddf26", "#22a884", "#32648e", "#481769"]
CUMULATIVE = "#3a3f47"      # one dark line: longs sit left of the mark, shorts right
MUTED = "#4d5562"
SAMPLE_MARK = "#a34700"
WIDTH_IN = 6.4              # 640 px at 100 dpi: 9.5 pt ticks are ≥ 10 px at 560 px wide
RIGHT_TICK_PT = 9           # the cumulative axis: 10.9 px at the email's 560 px
BASE_DPI = 100
PNG_DPI = 175               # 1120 px: ~190 dpi at the PDF's 150 mm
# The phone look: 400 px at 100 dpi, shown about 350 px wide on a 390 px screen (0.87x), so
# its smallest text, PHONE_MIN_PT (11.8 px in the image), stays >= 10 px there; in the email
# (at most 480 px) it is shown larger. Its PNG is 960 px wide: 2x the email's 480 px.
PHONE_WIDTH_IN = 4.0
PHONE_MIN_PT = 8.5
PHONE_PNG_DPI = 240
# Dark look: the light figure's greys and blacks mapped to the dark page's (brief.css),
# white grounds to the dark panel; the data colours stay (the "SAMPLE DATA" mark is white
# on orange in both looks, so white *text* is kept).
DARK_GROUND = "#1a212a"
DARK_COLOURS = {
    "#000000": "#e6e9ee", "#111111": "#e6e9ee", "#222222": "#e6e9ee", "#333333": "#d6dbe1",
    "#3a3f47": "#d6dbe1", "#4d5562": "#aab3bf", "#5b6472": "#aab3bf", "#8a94a3": "#6b7685",
    "#c4cad3": "#4a5361", "#e6e9ee": "#2c3540", "#ffffff": DARK_GROUND,
    "#1f4fd1": "#8fb0ff", "#0a7f3f": "#3fbf78", "#c0262d": "#ff6b70",
}
RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "reportgen-liqmap",
    "svg.fonttype": "path",
    "text.parse_math": False,  # "$" in prices and labels is a currency sign, not TeX
    "font.size": 9.5,
    "axes.titlesize": 10,
    "axes.labelsize": 9.5,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "legend.fontsize": 9,
    "font.family": "DejaVu Sans",
    "axes.edgecolor": "#8a94a3",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
}
METADATA: dict[str, dict[str, Any]] = {
    "svg": {"Date": None, "Creator": "reportgen"},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": "reportgen", "Producer": None},
    "png": {"Software": "reportgen"},
}


def _constrained(fig: Figure) -> ConstrainedLayoutEngine:
    """The figure's constrained layout engine (the figures that use one are made with it)."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    engine = fig.get_layout_engine()
    assert isinstance(engine, ConstrainedLayoutEngine)
    return engine


@dataclass(frozen=True)
class Look:
    """One way a chart is drawn: at the page's width or a phone's, light or dark."""

    phone: bool = False
    dark: bool = False

    @property
    def suffix(self) -> str:
        """What the look adds to the file's stem: '', '-dark', '-phone', '-phone-dark'."""
        return ("-phone" if self.phone else "") + ("-dark" if self.dark else "")

    @property
    def width_in(self) -> float:
        return PHONE_WIDTH_IN if self.phone else WIDTH_IN

    def pt(self, size: float) -> float:
        """A text size for this look: the phone's smallest is PHONE_MIN_PT."""
        return max(size, PHONE_MIN_PT) if self.phone else size


LOOKS = (Look(), Look(dark=True), Look(phone=True), Look(phone=True, dark=True))


def look_paths(out_dir: Path, stem: str, formats: Sequence[str], looks: Sequence[Look],
               phone: bool) -> tuple[list[Path], list[Path]]:
    """The (light, dark) files of `stem` in each of `formats` for the looks of `looks` at
    the width `phone` says."""
    def paths(dark: bool) -> list[Path]:
        look = Look(phone, dark)
        return [out_dir / f"{stem}{look.suffix}.{fmt}" for fmt in formats] if look in looks else []

    return paths(False), paths(True)


def _dark_colour(colour: Any) -> Any:
    from matplotlib.colors import to_hex, to_rgba

    rgba = to_rgba(colour)
    if rgba[3] == 0:
        return colour
    new = DARK_COLOURS.get(to_hex(rgba))
    return colour if new is None else to_rgba(new, rgba[3])


def to_dark(fig: Figure) -> None:
    """Recolour a drawn light figure for a dark page: its ground, texts, lines, spines and
    patches through DARK_COLOURS (data colours not listed there stay as they are)."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text

    fig.patch.set_facecolor(DARK_GROUND)
    # Once each: an artist can be reached twice (a legend added with add_artist), and the
    # map is not idempotent (the light grid's grey is the dark text's).
    for obj in {id(o): o for o in fig.findobj()}.values():
        if isinstance(obj, Text):
            if _hex(obj.get_color()) != "#ffffff":
                obj.set_color(_dark_colour(obj.get_color()))
            box = obj.get_bbox_patch()
            if box is not None:
                box.set_facecolor(_dark_colour(box.get_facecolor()))
        elif isinstance(obj, Line2D):
            obj.set_color(_dark_colour(obj.get_color()))
            obj.set_markeredgecolor(_dark_colour(obj.get_markeredgecolor()))
        elif isinstance(obj, Patch) and obj is not fig.patch:
            obj.set_facecolor(_dark_colour(obj.get_facecolor()))
            obj.set_edgecolor(_dark_colour(obj.get_edgecolor()))
        elif isinstance(obj, Collection) and len(obj.get_edgecolor()):
            obj.set_edgecolor([_dark_colour(c) for c in obj.get_edgecolor()])


def _hex(colour: Any) -> str:
    from matplotlib.colors import to_hex

    return str(to_hex(colour))


def save_figure(fig: Figure, paths: list[Path], dark: Sequence[Path] = ()) -> list[Path]:
    """Write `fig` once per path (the format from the suffix: PNG at PNG_DPI, or at
    PHONE_PNG_DPI for a phone-width figure, others at BASE_DPI; fixed metadata so the same
    input gives the same bytes), then, recoloured by `to_dark`, once per path of `dark`.
    The layout is worked out by the first save and then frozen: constrained layout is most
    of a chart's drawing time. Every chart of the brief is written through here (ETF charts
    too)."""
    every = [*paths, *dark]
    for path in every:
        if path.suffix.lstrip(".").lower() not in METADATA:
            raise ValueError(f"chart format must be svg, pdf or png, got {path.suffix!r}")
    png_dpi = PHONE_PNG_DPI if fig.get_figwidth() < WIDTH_IN else PNG_DPI
    for i, path in enumerate(every):
        if i == len(paths):
            to_dark(fig)
        fmt = path.suffix.lstrip(".").lower()
        path.parent.mkdir(parents=True, exist_ok=True)
        dpi = png_dpi if fmt == "png" else BASE_DPI
        fig.savefig(path, format=fmt, dpi=dpi, metadata=METADATA[fmt])
        if i == 0:
            fig.set_layout_engine("none")
    return every


def _when(dt: datetime | None) -> str:
    """'2025-06-11 14:05 UTC'; a midnight cut-off reads as the close of the day before."""
    if dt is None:
        return "latest"
    utc = dt.astimezone(UTC)
    if (utc.hour, utc.minute, utc.second) == (0, 0, 0):
        return f"{(utc - timedelta(days=1)):%Y-%m-%d} close (UTC)"
    return utc.strftime("%Y-%m-%d %H:%M UTC")


def _span(s: MapSummary) -> str | None:
    a = s.assumptions or {}
    hours = a.get("data_hours")
    if hours is not None:  # the data the map rests on, not the window asked for
        return f"{hours / 24:.0f} d" if hours >= 23.5 else f"{hours:.0f} h"
    if a.get("window_days"):
        return f"{a['window_days']} d"
    return None


def venue_names(s: MapSummary) -> str:
    """'Binance+Bybit+OKX' for the estimate's venues, 'Hyperliquid'."""
    from reportgen.liquidation.result import VENUE_TITLES

    return "+".join(VENUE_TITLES.get(v, v) for v in s.venue.split("+"))


def map_title(s: MapSummary) -> str:
    """'BTCUSDT · Binance+Bybit+OKX · estimated · as of … · 7 d'."""
    pair = s.symbol + ("USDT" if s.kind == "estimated" else "")
    parts = [pair, "Hyperliquid" if s.venue == "hyperliquid" else s.venue,
             "estimated" if s.kind == "estimated" else "reported positions",
             f"as of {_when(s.as_of)}"]
    span = _span(s)
    if span:
        parts.append(span)
    return " · ".join(parts)


def panel_title(s: MapSummary) -> str:
    """The line above one panel: what it is, from where, and the mark."""
    if s.kind == "estimated":
        span = _span(s)
        what = f"Estimated · {venue_names(s)} open interest" + (f", {span}" if span else "")
    else:
        accounts = s.coverage.get("accounts")
        what = "Reported · Hyperliquid positions" + (f", {accounts} accounts" if accounts else "")
    return f"{what} · mark {fmt_price(s.mark_price, s.bucket_size)}"


def source_line(maps: list[MapSummary]) -> str:
    """'Source: Binance, Bybit, OKX open interest (modelled) · Hyperliquid positions …'."""
    from reportgen.liquidation.result import VENUE_TITLES

    parts = []
    for s in maps:
        if s.kind == "estimated":
            names = ", ".join(VENUE_TITLES.get(v, v) for v in s.venue.split("+"))
            parts.append(f"{names} open interest and prices (modelled)")
        else:
            parts.append("Hyperliquid positions (reported)")
    return "Source: " + " · ".join(parts) + " · chart: reportgen"


class UsdFormatter:
    """Axis labels in one style per axis: '$0', '$20 M', '$40 M' (or '$2.5 M' for all).
    Ticks keep the short '$' (the axis label says US$, and the fixed layout has room for
    '$200 M', not 'US$200 M'); annotations print amounts as the text does."""

    def __new__(cls) -> Any:
        from matplotlib.ticker import Formatter

        class _Usd(Formatter):
            unit, div, decimals = "", 1.0, 0

            def set_locs(self, locs: Any) -> None:
                top = max((abs(v) for v in locs), default=0)
                self.div, self.unit = next(((d, u) for d, u in ((1e9, " B"), (1e6, " M"),
                                                                (1e3, " k")) if top >= d),
                                           (1.0, ""))
                scaled = [v / self.div for v in locs]
                # the fewest decimals that print every tick exactly (0.25 B is not "0.2 B")
                self.decimals = next((d for d in (0, 1, 2) if all(
                    abs(v * 10**d - round(v * 10**d)) < 1e-6 for v in scaled)), 2)

            def __call__(self, x: float, pos: int | None = None) -> str:
                if x == 0:
                    return "$0"
                return f"${x / self.div:,.{self.decimals}f}{self.unit}"

        return _Usd()


def _locator() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=5, steps=[1, 2, 5, 10])  # round steps: $50 M, not $25 M


def _price_formatter(size: float) -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _p: fmt_price(v, size))


def _extent(s: MapSummary) -> tuple[float, float]:
    """The map's price range (where its buckets may lie), as published."""
    if s.range_low is not None and s.range_high is not None:
        return s.range_low, s.range_high
    m = s.to_map()
    return float(m.price_low[0]), float(m.price_low[-1] + m.bucket_size)


def _bars(ax: Axes, s: MapSummary, colours: list[str]) -> float:
    """One bar per bucket, stacked by tier; returns the tallest stack (US$)."""
    from matplotlib.collections import PolyCollection

    m = s.to_map()
    x = m.price_low
    values = m.long_by_tier + m.short_by_tier  # a bucket holds longs or shorts, rarely both
    bottom = np.zeros(len(x))
    # One PolyCollection per tier instead of ax.bar: thousands of Rectangle patches (each
    # with its own transform) made a chart take ~0.5 s to draw.
    w = m.bucket_size * (0.84 if len(x) < 200 else 1.0)  # past ~200 bars a gap is noise
    for t, label in enumerate(m.tiers):
        heights = values[:, t]
        drawn = heights > 0
        x0, base = x[drawn], bottom[drawn]
        top = base + heights[drawn]
        quads = np.stack([np.c_[x0, base], np.c_[x0 + w, base],
                          np.c_[x0 + w, top], np.c_[x0, top]], axis=1)
        ax.add_collection(PolyCollection(list(quads), facecolors=colours[t % len(colours)],
                                         linewidths=0, label=label))
        bottom = bottom + heights
    return float(bottom.max()) if bottom.size else 0.0


def _cumulative(ax: Axes, s: MapSummary) -> Any:
    """Cumulative notional from the mark outwards, on a right-hand axis."""
    m = s.to_map()
    cum_l, cum_s = cumulative(m)
    mark = s.mark_price
    px = m.price_low + m.bucket_size / 2
    below, above = px <= mark + m.bucket_size, px >= mark - m.bucket_size
    ax2 = ax.twinx()
    ax2.plot(np.r_[px[below], mark], np.r_[cum_l[below], 0.0], color=CUMULATIVE, lw=1.3,
             label="Cumulative from the mark (right axis)")
    ax2.plot(np.r_[mark, px[above]], np.r_[0.0, cum_s[above]], color=CUMULATIVE, lw=1.3)
    top = max(float(cum_l.max(initial=0)), float(cum_s.max(initial=0)), 1.0)
    ax2.set_ylim(0, top * 1.08)
    ax2.yaxis.set_major_locator(_locator())
    ax2.yaxis.set_major_formatter(UsdFormatter())
    ax2.tick_params(axis="y", colors=MUTED, labelsize=RIGHT_TICK_PT, length=2)
    for side in ("top", "left", "bottom"):
        ax2.spines[side].set_visible(False)
    ax2.spines["right"].set_color("#c4cad3")
    return ax2


def _clusters(ax: Axes, s: MapSummary, top: float, look: Look) -> None:
    """A bracket over each cluster the text cites, with its notional."""
    m = s.to_map()
    stack = (m.long_by_tier + m.short_by_tier).sum(axis=1)
    for c in s.clusters:
        rows = (m.price_low + m.bucket_size / 2 >= c.price_low) & \
               (m.price_low + m.bucket_size / 2 <= c.price_high)
        y = (float(stack[rows].max()) if rows.any() else 0.0) + top * 0.05
        ax.plot([c.price_low, c.price_low, c.price_high, c.price_high],
                [y - top * 0.025, y, y, y - top * 0.025], color="#111111", lw=0.9)
        ax.annotate(fmt_usd(c.usd), xy=((c.price_low + c.price_high) / 2, y),
                    xytext=(0, 1.5), textcoords="offset points", ha="center", va="bottom",
                    fontsize=look.pt(8.5), fontweight="bold", color="#111111",
                    bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none",
                          "alpha": 0.85})


def _beyond(ax: Axes, s: MapSummary, look: Look) -> None:
    """What lies outside the range, written at the edge it lies past."""
    # a phone's axis has room for both edges' notes only in their short form
    below, above = ("◀ {} below", "{} above ▶") if look.phone else ("◀ {} more below",
                                                                    "{} more above ▶")
    for usd, x, ha, text in ((s.beyond_range_long_usd, 0.005, "left", below),
                             (s.beyond_range_short_usd, 0.995, "right", above)):
        if usd >= 1:  # float dust from sums is not money
            ax.text(x, 0.97, text.format(fmt_usd(usd)),
                    transform=ax.transAxes, ha=ha, va="top", fontsize=look.pt(8), color=MUTED,
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.85})


def _legend_rows(look: Look, entries: int) -> int:
    """Rows of a panel's legend: one at the page's width, three entries a row on a phone."""
    return -(-entries // 3) if look.phone else 1


def _panel_title_lines(s: MapSummary, look: Look) -> list[str]:
    import textwrap

    return textwrap.wrap(panel_title(s), 40) if look.phone else [panel_title(s)]


def _panel(ax: Axes, s: MapSummary, lo: float, hi: float, *, xlabels: bool,
           look: Look = Look()) -> None:
    colours = HL_COLOURS if s.venue == "hyperliquid" else TIER_COLOURS
    top = max(_bars(ax, s, colours), 1.0)
    ax.set_xlim(lo, hi)
    # headroom for the cluster labels under the edge notes (more on a phone's short axis)
    ax.set_ylim(0, top * (1.45 if look.phone else 1.22))
    ax.yaxis.set_major_locator(_locator())
    ax.yaxis.set_major_formatter(UsdFormatter())
    ax.grid(axis="y", color="#e6e9ee", linewidth=0.7)
    ax.set_axisbelow(True)
    ax.spines["top"].set_visible(False)
    ax.tick_params(axis="x", labelbottom=xlabels)
    ax.axvline(s.mark_price, color="#333333", ls=(0, (4, 2)), lw=1.1)
    _clusters(ax, s, top, look)
    _beyond(ax, s, look)
    ax2 = _cumulative(ax, s)
    ax.set_zorder(ax2.get_zorder() + 1)  # bars and labels over the (secondary) curve
    ax.patch.set_visible(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    word = "Band" if s.venue == "hyperliquid" else "Tier"
    labels = [f"{word} {label}" if i == 0 else label for i, label in enumerate(l1)] + l2
    if look.phone:
        labels[-1] = "Cumulative (right axis)"
    rows = _legend_rows(look, len(labels))
    leg = ax.legend(h1 + h2, labels, loc="lower left", bbox_to_anchor=(0, 1.0),
                    ncols=-(-len(labels) // rows), frameon=False, handlelength=1.0,
                    handletextpad=0.35, columnspacing=0.8, borderaxespad=0.15, borderpad=0.1,
                    fontsize=look.pt(8.5))
    ax.add_artist(leg)
    ax.set_title("\n".join(_panel_title_lines(s, look)), loc="left", fontsize=9.5,
                 fontweight="bold", pad=4 + 12 * rows)


def _title_lines(title: str, look: Look) -> list[str]:
    """The figure's title: one line, or on a phone two (what, then as of when)."""
    what, sep, when = title.partition(" · ")
    return [what, when] if look.phone and sep else [title]


def _frame(fig: Figure, title: str, source: str, sample: bool, height_in: float,
           look: Look = Look()) -> float:
    """Title, source line and sample mark; returns the figure fraction the source takes."""
    fig.suptitle("\n".join(_title_lines(title, look)), x=0.01, y=1 - 0.07 / height_in,
                 ha="left", va="top", fontsize=11, fontweight="bold")
    lines = _wrap(source, look)
    small = look.pt(8)
    fig.text(0.01, 0.006, "\n".join(lines), ha="left", va="bottom", fontsize=small,
             color=MUTED, linespacing=1.25)
    if sample:
        fig.text(0.995, 1 - 0.06 / height_in, "SAMPLE DATA", ha="right", va="top", fontsize=9,
                 fontweight="bold", color="white",
                 bbox={"boxstyle": "round,pad=0.3", "fc": SAMPLE_MARK, "ec": "none"})
    # lines of `small` pt at 1.25 spacing, in inches, as a fraction
    return (0.06 + 0.145 * small / 8 * len(lines)) / height_in


def render_pair(result: LiquidationResult, path: Path, *, sample: bool = False) -> Path | None:
    """The symbol's figure: the CEX estimate above the Hyperliquid positions, one price axis."""
    written = _pair(result, [path], [], sample)
    return written[0] if written else None


def _pair(result: LiquidationResult, paths: list[Path], dark: list[Path], sample: bool,
          look: Look = Look()) -> list[Path]:
    import matplotlib
    from matplotlib.figure import Figure

    maps = [s for s in (result.cex, result.hyperliquid) if s is not None]
    if not maps:
        return []
    lo = min(_extent(s)[0] for s in maps)
    hi = max(_extent(s)[1] for s in maps)
    size = maps[0].bucket_size
    with matplotlib.rc_context(RC):
        # A fixed layout in inches (no layout engine: constrained layout cost more than the
        # drawing). Labels are short by construction: '$200 M', '$1.5 B', '$100,000'.
        n = len(maps)
        source = source_line(maps)
        title = f"{result.symbol} liquidation map · as of {_when(result.as_of)}"
        mark = maps[0].mark_price
        xlabel = (f"{result.symbol} price (US$)" + ("\n" if look.phone else " · ") +
                  f"the maps' whole range, mark ± {int(min(mark - lo, hi - mark) / mark * 100)} %")
        # x ticks, x label, source lines (at the look's smallest size)
        foot = 0.5 + 0.16 * xlabel.count("\n") + 0.135 * look.pt(8) / 8 * len(_wrap(source, look))
        top = 0.12 + 0.18 * len(_title_lines(title, look))  # the suptitle
        panel, gap = 1.72, 0.1
        # each panel's title (9.5 pt lines) and legend rows above it
        headers = [0.11 + 0.165 * len(_panel_title_lines(s, look)) +
                   0.165 * _legend_rows(look, len(s.to_map().tiers) + 1) for s in maps]
        height = top + sum(headers) + n * panel + (n - 1) * gap + foot
        width = look.width_in
        fig = Figure(figsize=(width, height), dpi=BASE_DPI)
        left, right = (0.8, 0.55) if look.phone else (0.88, 0.6)
        axes: list[Axes] = []
        y = height - top
        for i, s in enumerate(maps):
            y -= headers[i] + panel + (gap if i else 0)
            ax = fig.add_axes((left / width, y / height, (width - left - right) / width,
                               panel / height), sharex=axes[0] if axes else None)
            axes.append(ax)
            _panel(ax, s, lo, hi, xlabels=i == n - 1, look=look)
            ax.set_ylabel(f"US$ per {fmt_price(s.bucket_size, s.bucket_size)}", labelpad=3)
        axes[0].xaxis.set_major_formatter(_price_formatter(size))
        if look.phone:  # three prices fit the phone's axis; five would touch
            from matplotlib.ticker import MaxNLocator

            axes[0].xaxis.set_major_locator(MaxNLocator(nbins=3, steps=[1, 2, 2.5, 5, 10]))
        axes[-1].set_xlabel(xlabel, labelpad=2)
        _frame(fig, title, source, sample, height, look)
        return save_figure(fig, paths, dark)


def _wrap(text: str, look: Look = Look()) -> list[str]:
    import textwrap

    return textwrap.wrap(text, 56 if look.phone else 104)


def render_map(s: MapSummary, path: Path, caption: str = "", *, sample: bool = False,
               bars_note: str = "") -> Path:
    """One map alone (the `liqmap` command): bars by tier, cumulative curves, clusters.
    `caption` (the method note) is printed under the chart: a file on its own has no page
    to carry it. `bars_note` (e.g. that the bars are coarser than the buckets asked) is
    printed in bold under the price axis."""
    import textwrap

    import matplotlib
    from matplotlib.figure import Figure

    lo, hi = _extent(s)
    with matplotlib.rc_context(RC):
        lines = textwrap.wrap(caption, 118) if caption else []
        height = 4.2 + 0.13 * len(lines)
        fig = Figure(figsize=(WIDTH_IN, height), dpi=BASE_DPI, layout="constrained")
        ax = fig.add_subplot()
        _panel(ax, s, lo, hi, xlabels=True)
        ax.xaxis.set_major_formatter(_price_formatter(s.bucket_size))
        ax.set_ylabel(f"US$ per {fmt_price(s.bucket_size, s.bucket_size)}")
        ax.set_xlabel(f"{s.symbol} price (US$)" + (f"\n{bars_note}" if bars_note else ""),
                      fontweight="bold" if bars_note else "normal")
        foot = _frame(fig, map_title(s), source_line([s]), sample, height)
        if lines:
            fig.text(0.01, foot, "\n".join(lines), ha="left", va="bottom", fontsize=7.5,
                     color=MUTED)
            foot += 0.125 * len(lines) / height
        _constrained(fig).set(rect=(0, foot, 1, 1 - foot))
        return save_figure(fig, [path])[0]


def render_heatmap(h: Heatmap, symbol: str, venue: str, path: Path | list[Path], *,
                   range_pct: float = 0.12, sample: bool = False, dark: Sequence[Path] = (),
                   look: Look = Look()) -> list[Path]:
    """Time × price heat of estimated live liquidation levels (US$), price path overlaid,
    written to each of `path` (one path or several formats of one figure), then recoloured
    to each of `dark`."""
    import matplotlib
    from matplotlib.colors import PowerNorm
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    values = np.asarray(h.values, dtype=float)
    times = np.array([t.astimezone(UTC).replace(tzinfo=None) for t in h.times],
                     dtype="datetime64[s]")
    price = np.asarray(h.price, dtype=float)
    n_b = values.shape[1] if values.ndim == 2 else 0
    edges_y = h.price_low0 + np.arange(n_b + 1) * h.bucket_size
    mark = float(price[-1]) if price.size else 0.0
    lo, hi = mark * (1 - range_pct), mark * (1 + range_pct)
    sel = np.flatnonzero((edges_y[:-1] + h.bucket_size > lo) & (edges_y[:-1] < hi))
    with matplotlib.rc_context(RC):
        height = 3.3 + (0.5 if look.phone else 0)  # the phone's title and source wrap
        fig = Figure(figsize=(look.width_in, height), dpi=BASE_DPI, layout="constrained")
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
            cb.set_label(f"US$ per {fmt_price(h.bucket_size, h.bucket_size)}")
            cb.formatter = UsdFormatter()
            cb.update_ticks()
            ax.plot(times, price, color="white", lw=1.6, label=f"{symbol} mark")
            ax.plot(times, price, color="#222222", lw=0.6)
            ax.set_xlim(edges_x[0], edges_x[-1])
        ax.set_ylim(lo, hi)
        ax.yaxis.set_major_formatter(_price_formatter(h.bucket_size))
        # matplotlib.dates' constructors are unannotated in its stubs.
        locator = AutoDateLocator(minticks=4, maxticks=7)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        ax.set_xlabel("UTC")
        days = (times[-1] - times[0]).astype(np.int64) / 86400 + 1 / 24 if times.size > 1 else 0
        foot = _frame(fig, f"{symbol} estimated liquidation levels over {days:.0f} d · to "
                           f"{_when(h.times[-1] if h.times else None)}",
                      f"Source: {venue} open interest and prices (modelled) · chart: reportgen",
                      sample, height, look)
        top = 0.18 * (len(_title_lines("a · b", look)) - 1) / height
        _constrained(fig).set(rect=(0, foot, 1, 1 - foot - top))
        return save_figure(fig, [path] if isinstance(path, Path) else list(path), dark)


def chart_names(symbol: str, heatmap: bool = False) -> list[str]:
    """File stems `render_charts` writes for `symbol` (the pair first)."""
    sym = symbol.lower()
    return [f"liqmap_{sym}"] + ([f"liqheat_{sym}"] if heatmap else [])


def render_charts(result: LiquidationResult, out_dir: Path,
                  formats: tuple[str, ...] = ("svg", "png"), *, sample: bool = False,
                  heatmap: bool = False, looks: Sequence[Look] = (Look(),)) -> list[Path]:
    """The symbol's figure (and, with `heatmap`, its heatmap) in every format and each of
    `looks` (named by `Look.suffix`); returns the written paths. Each figure is built once
    per width and saved in every format, light then dark."""
    out_dir = Path(out_dir)
    pair, *rest = chart_names(result.symbol, heatmap)
    written: list[Path] = []
    for phone in sorted({look.phone for look in looks}):
        look = Look(phone=phone)
        light, dark = look_paths(out_dir, pair, formats, looks, phone)
        written += _pair(result, light, dark, sample, look)
        if rest and result.heatmap is not None and result.cex is not None:
            light, dark = look_paths(out_dir, rest[0], formats, looks, phone)
            written += render_heatmap(result.heatmap, result.symbol, venue_names(result.cex),
                                      light, sample=sample, dark=dark, look=look)
    return written
