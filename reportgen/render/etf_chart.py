"""The ETF section's chart: daily net flows of the last 30 trading days (bars) with the
running total since launch (line), one chart per asset, from the view-model alone.

Numbers on the chart format through `reportgen.numbers`, like every other format. matplotlib
is imported here only, so loading render does not pull it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen import numbers
from reportgen.view import EtfTable

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

    from reportgen.liquidation.chart import Look

# Same input, same bytes: without a fixed salt the SVG's clip-path ids are random.
RC: dict[RcKeyType, Any] = {"svg.hashsalt": "reportgen-etf", "text.parse_math": False,
                            "font.size": 9.5, "axes.labelsize": 9}
# As wide as the liquidation charts (WIDTH_IN: 9.5 pt labels stay >= 10 px shown 560 px
# wide; a phone gets the phone look), saved the same way (save_figure: fixed metadata).
HEIGHT_IN = 2.15
PHONE_HEIGHT_IN = 2.6  # the phone look: its title on two lines, a taller plot
SOURCE_LINE_IN = 0.15  # the source line under the axes


def running_totals(recent: list[tuple[date, float]], cumulative: float | None) -> list[float] | None:
    """The running total since launch after each day of `recent`, from the total through
    the last day (None when that is unknown)."""
    if cumulative is None:
        return None
    out = []
    later = 0.0
    for _day, flow in reversed(recent):
        out.append(cumulative - later)
        later += flow
    return list(reversed(out))


def draw(table: EtfTable, path: Path | Sequence[Path], *, sample: bool = False,
         dark: Sequence[Path] = (), look: Look | None = None) -> None:
    """One asset's chart into each of `path` (.svg or .png), then recoloured for dark pages
    into each of `dark`, at `look`'s width (the page's by default); a sample day's chart
    says so on the image, and every chart names its source."""
    import matplotlib
    from matplotlib.figure import Figure  # not pyplot: no global figure state in a worker
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    from reportgen.liquidation.chart import SAMPLE_MARK, Look, save_figure

    look = look or Look()
    height = PHONE_HEIGHT_IN if look.phone else HEIGHT_IN
    with matplotlib.rc_context(RC):
        recent = list(table.recent)
        days = [d for d, _v in recent]
        flows = [v for _d, v in recent]
        xs = list(range(len(days)))
        fig = Figure(figsize=(look.width_in, height), dpi=100)
        ax = fig.subplots()
        colours = ["#0a7f3f" if v > 0 else "#c0262d" if v < 0 else "#8a94a3" for v in flows]
        ax.bar(xs, flows, color=colours, width=0.75, label="Daily net flow")
        ax.axhline(0, color="#5b6472", linewidth=0.8)
        ax.set_ylabel("Daily, US$ M")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: numbers.millions(v)))
        ax.yaxis.set_major_locator(MaxNLocator(4))
        # Four dates fit the narrowest place the chart is shown (a half column of the PDF);
        # three on a phone.
        gaps = 2 if look.phone else 3
        ticks = (sorted({round(i * (len(xs) - 1) / gaps) for i in range(gaps + 1)})
                 if len(xs) > 1 else xs)
        ax.set_xticks(ticks, [numbers.day(days[i]) for i in ticks])
        ax.spines["top"].set_visible(False)
        running = running_totals(recent, table.cumulative)
        if running is not None:
            ax2 = ax.twinx()
            ax2.plot(xs, running, color="#1f4fd1", linewidth=1.6, label="Running total")
            ax2.set_ylabel("Running total, US$ M", color="#1f4fd1")
            ax2.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: numbers.grouped(v, 0)))
            ax2.yaxis.set_major_locator(MaxNLocator(4))
            ax2.tick_params(axis="y", colors="#1f4fd1")
            ax2.spines["top"].set_visible(False)
        ax.set_title(f"{table.asset} spot ETF net flows" + ("\n" if look.phone else " · ") +
                     f"{len(days)} trading days", loc="left", fontsize=10, fontweight="bold")
        if sample:
            ax.annotate("SAMPLE DATA", xy=(1, 1), xycoords="axes fraction", xytext=(0, 4),
                        textcoords="offset points", ha="right", va="bottom", fontsize=look.pt(8),
                        fontweight="bold", color="white",
                        bbox={"boxstyle": "round,pad=0.25", "fc": SAMPLE_MARK, "ec": "none"})
        fig.text(0.005, 0.01, "Source: Farside Investors · chart: reportgen", ha="left",
                 va="bottom", fontsize=look.pt(8), color="#5b6472")
        fig.tight_layout(pad=0.3, rect=(0, SOURCE_LINE_IN / height, 1, 1))
        save_figure(fig, [path] if isinstance(path, Path) else list(path), dark)
