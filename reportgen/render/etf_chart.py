"""The ETF section's chart: daily net flows of the last 30 trading days (bars) with the
running total since launch (line), one chart per asset, from the view-model alone.

Numbers on the chart format through `reportgen.numbers`, like every other format. matplotlib
is imported here only, so loading render does not pull it in.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen import numbers
from reportgen.view import EtfTable

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

METADATA = {
    "svg": {"Date": None, "Creator": "reportgen"},
    "png": {"Software": "reportgen"},
}
# Same input, same bytes: without a fixed salt the SVG's clip-path ids are random.
RC: dict[RcKeyType, Any] = {"svg.hashsalt": "reportgen-etf", "text.parse_math": False}


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


def draw(table: EtfTable, paths: list[Path]) -> None:
    """One asset's chart, drawn once and saved to each of `paths` (.svg or .png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    with matplotlib.rc_context(RC):
        recent = list(table.recent)
        days = [d for d, _v in recent]
        flows = [v for _d, v in recent]
        xs = range(len(days))
        fig, ax = plt.subplots(figsize=(9, 2.6), dpi=100)
        colours = ["#0a7f3f" if v > 0 else "#c0262d" if v < 0 else "#8a94a3" for v in flows]
        ax.bar(xs, flows, color=colours, width=0.75, label="Daily net flow")
        ax.axhline(0, color="#5b6472", linewidth=0.8)
        ax.set_ylabel("Daily net flow (US$ M)")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: numbers.millions(v)))
        step = max(1, len(days) // 8)
        ax.set_xticks(list(xs)[::step], [numbers.day(d) for d in days][::step], fontsize=8)
        running = running_totals(recent, table.cumulative)
        if running is not None:
            ax2 = ax.twinx()
            ax2.plot(list(xs), running, color="#1f4fd1", linewidth=1.6, label="Running total")
            ax2.set_ylabel("Running total since launch (US$ M)")
            ax2.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: numbers.grouped(v, 0)))
        ax.set_title(f"{table.asset} spot ETFs: daily net flows, {numbers.day(days[0])} to "
                     f"{numbers.day(days[-1])} ({len(days)} trading days)", loc="left", fontsize=10)
        fig.tight_layout()
        for path in paths:
            fmt = path.suffix.lstrip(".")
            fig.savefig(path, format=fmt, metadata=METADATA.get(fmt, {}),
                        dpi=100 if fmt == "svg" else 200)
        plt.close(fig)
