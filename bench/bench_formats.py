"""How long each output format of the sample brief takes, against WeasyPrint alone.

Prints, for the 2025-06-11 sample day (medians of --repeat runs; nothing is asserted):

1. in one process, after a warm-up: collect + build, the charts (every format they are
   written in), then HTML, Markdown and PDF each on their own;
2. whole processes: `reportgen run --sample` (all formats), with its render workers (the
   default) and without (`report.render_workers: 0`), and the yardstick — WeasyPrint's own
   command line on the same brief.html with its images removed — and the ratio
   (issue 12 asks for at most 3×). The machine must be otherwise idle: the workers gain
   only from a free core.

Run: .venv/bin/python bench/bench_formats.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timing import median_of  # noqa: E402

from reportgen import sample  # noqa: E402
from reportgen.config import config_from_mapping  # noqa: E402

DAY = sample.SAMPLE_LAST
PYTHON = sys.executable


def in_process(tmp: Path, repeat: int) -> Path:
    from reportgen.archive import Archive
    from reportgen.clock import default_clock
    from reportgen.pipeline import build_phase, run, stored_maps
    from reportgen.render import render_html, render_markdown, render_pdf
    from reportgen.render.charts import chart_jobs
    from reportgen.render.pool import RenderPool

    config = config_from_mapping({"output": str(tmp)})
    start = time.perf_counter()
    run(config, DAY, sample=True, formats=["html", "md", "pdf"], send=False, publish=False)
    print(f"cold run --sample in this process (imports included): {time.perf_counter() - start:.2f} s")
    folder = tmp / "reports" / DAY.isoformat()

    with Archive(config.archive_path) as archive:
        brief = build_phase(config, DAY, archive, clock=default_clock())
        maps = stored_maps(DAY, archive)

    def charts() -> None:
        pool = RenderPool(workers=0)
        for fmt in ("png", "svg"):
            pool.run(chart_jobs(brief, maps, fmt)).wait()

    rows = {
        "build (view-model from the archive)": lambda: _build(config, build_phase),
        "charts (PNG and SVG, in this process)": charts,
        "html": lambda: render_html(brief),
        "md": lambda: render_markdown(brief),
        "pdf": lambda: render_pdf(brief, folder),
    }
    for name, fn in rows.items():
        print(f"  {name:<38} median {median_of(fn, repeat):.2f} s")
    return folder


def _build(config: object, build_phase: Callable[..., object]) -> None:
    from reportgen.archive import Archive
    from reportgen.clock import default_clock

    with Archive(config.archive_path) as archive:  # type: ignore[attr-defined]
        build_phase(config, DAY, archive, clock=default_clock())


def whole_process(folder: Path, repeat: int) -> None:
    html = (folder / "brief.html").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "brief-noimg.html"
        bare.write_text(re.sub(r"<img\b[^>]*>", "", html), encoding="utf-8")
        weasy = shutil.which("weasyprint", path=str(Path(PYTHON).parent)) or "weasyprint"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}

        in_process = Path(tmp) / "in-process.yaml"
        in_process.write_text("report:\n  render_workers: 0\n", encoding="utf-8")

        def reportgen_run(*config: str) -> None:
            out = Path(tmp) / "out"
            shutil.rmtree(out, ignore_errors=True)
            subprocess.run([PYTHON, "-m", "reportgen.cli", *config, "-o", str(out), "run",
                            "--sample"], check=False, capture_output=True, env=env)

        def reportgen_in_process() -> None:
            reportgen_run("-c", str(in_process))

        def weasyprint_alone() -> None:
            subprocess.run([weasy, str(bare), str(Path(tmp) / "bare.pdf")], check=True,
                           capture_output=True)

        reportgen_run(), weasyprint_alone()  # warm the disk cache
        a, b = median_of(reportgen_run, repeat), median_of(weasyprint_alone, repeat)
        c = median_of(reportgen_in_process, repeat)
    print(f"whole process, median of {repeat}:")
    print(f"  reportgen run --sample (html, pdf, md)  {a:.2f} s   (render workers: one per core)")
    print(f"  the same, render_workers: 0            {c:.2f} s   (all in one process)")
    print(f"  weasyprint brief.html without images    {b:.2f} s   (the yardstick)")
    print(f"  ratio                                   {a / b:.1f}×  (issue 12: at most 3×)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = in_process(Path(tmp), args.repeat)
        whole_process(folder, args.repeat)


if __name__ == "__main__":
    main()
