"""Each phase reads only the previous phase's output: render draws the liquidation charts
from the map results collect stored, never from raw payloads and never by running the model
again (issue 11)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reportgen.archive import Archive
from reportgen.cli import app
from reportgen.config import config_from_mapping
from reportgen.liquidation import chart
from reportgen.liquidation.result import StoredMap
from reportgen.liquidation.summary import MapSummary
from reportgen.pipeline import render_day, run

DAY = date(2025, 6, 11)


# The spy below sees drawings made in this process: no render workers.
IN_PROCESS = {"report": {"render_workers": 0}}


def _cli(output: Path, *args: str) -> Any:
    config = output.parent / "in-process.yaml"
    config.write_text("report:\n  render_workers: 0\n")
    result = CliRunner().invoke(app, ["-c", str(config), "-o", str(output), *args])
    assert result.exit_code in (0, 3), result.output
    return result


def _md_unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


# Each chart's files: SVG at the page's width, light and dark; PNG at the page's width
# (the PDF) and a phone's, light and dark (the email and a phone's web page).
LOOK_FILES = (".svg", "-dark.svg", ".png", "-phone.png", "-phone-dark.png")


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[MapSummary]:
    """Every map drawn into a chart panel (the CEX estimate and the Hyperliquid positions of
    each symbol's figure), once per figure built: SVG at the page's width, PNG at the page's
    and a phone's (a dark look is the same figure recoloured)."""
    seen: list[MapSummary] = []
    original = chart._panel

    def spy(ax: Any, s: MapSummary, *args: Any, **kwargs: Any) -> Any:
        seen.append(s)
        return original(ax, s, *args, **kwargs)

    monkeypatch.setattr(chart, "_panel", spy)
    return seen


def test_a_second_collection_is_not_counted_twice_in_the_chart(
        tmp_path: Path, drawn: list[MapSummary]) -> None:
    # The repro of issue 11: collect, collect again with --force, render. The chart used to be
    # remodelled from every archived payload of the day (both collections: 96 Hyperliquid
    # accounts, US$324 M of longs) while the text said 48 accounts (US$162 M).
    out = tmp_path / "out"
    _cli(out, "collect", "--sample", "--date", DAY.isoformat())
    _cli(out, "collect", "--sample", "--date", DAY.isoformat(), "--force")
    _cli(out, "render", "--date", DAY.isoformat(), "--formats", "md")

    markdown = _md_unescape((out / "reports" / DAY.isoformat() / "brief.md").read_text())
    in_text = set(re.findall(r"(\d+) accounts", markdown))
    hyperliquid = [s for s in drawn if s.venue == "hyperliquid"]
    assert len(hyperliquid) == 2 * 3  # BTC and ETH: SVG; PNG at two widths
    in_charts = {str(s.coverage["accounts"]) for s in hyperliquid}
    assert in_charts == in_text == {"48"}, (in_charts, in_text)
    # Not just the count: what each chart shows is what the brief says (its clusters, the
    # longs and shorts within each move).
    assert len(drawn) == 6 * 2
    for s in drawn:
        for line in [c.text for c in s.clusters] + [r.text for r in s.cascade]:
            assert line in markdown, line


def test_render_draws_from_the_stored_result_and_never_runs_the_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drawn: list[MapSummary]) -> None:
    config = config_from_mapping({"output": str(tmp_path / "out"),
                                  "liquidation": {"heatmaps": True}, **IN_PROCESS})
    run(config, DAY, sample=True, formats=["md"], send=False, publish=False)
    with Archive(config.archive_path) as archive:
        stored = archive.results(DAY, "liquidation", StoredMap)
    assert list(stored) == ["BTC", "ETH"]
    assert all(m.heatmap is not None and m.result.hyperliquid is not None for m in stored.values())

    from reportgen.liquidation import estimate, section

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("render ran the liquidation model")

    monkeypatch.setattr(section, "build_liquidation_section", refuse)
    monkeypatch.setattr(estimate, "estimate", refuse)
    drawn.clear()
    result = render_day(config, DAY, formats=["md"])
    charts = sorted(p.name for p in result.files if p.parent.name == "charts"
                    and not p.name.startswith("etf_"))  # ETF charts come from the view-model
    assert charts == sorted([*(f"{kind}_{sym}{look}" for sym in ("btc", "eth")
                               for kind in ("liqmap", "liqheat") for look in LOOK_FILES),
                             # and each map as data for the site, from the same stored result
                             "liqmap_btc.json", "liqmap_eth.json"])
    def maps(widths: int) -> list[Any]:
        return [s.model_dump() for m in stored.values() for _ in range(widths)
                for s in (m.result.cex, m.result.hyperliquid)]

    # the PNGs (each symbol at the page's width, then a phone's), then the SVGs
    assert [s.model_dump() for s in drawn] == maps(2) + maps(1)


def test_a_new_snapshot_replaces_the_stored_maps(tmp_path: Path) -> None:
    config = config_from_mapping({"output": str(tmp_path / "out")})
    run(config, DAY, sample=True, formats=["md"], send=False, publish=False)
    with Archive(config.archive_path) as archive:
        failed = archive.snapshot(DAY, "liquidation").model_copy(
            update={"ok": False, "reason": "no venue answered", "data": None})
        archive.put_snapshot(failed)
        assert archive.results(DAY, "liquidation", StoredMap) == {}
    result = render_day(config, DAY, formats=["md"])  # the section says why; no chart drawn
    assert not [p for p in result.files if p.parent.name == "charts"
                and not p.name.startswith("etf_")]


def test_an_archive_without_stored_maps_names_the_command_that_fixes_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _cli(out, "collect", "--sample", "--date", DAY.isoformat())
    with Archive(out / "archive.sqlite") as archive, archive.transaction() as db:
        db.execute("DELETE FROM results")  # as an archive collected before maps were stored
    result = CliRunner().invoke(app, ["-o", str(out), "render", "--date", DAY.isoformat()])
    assert result.exit_code == 1, result.output
    assert f"reportgen collect --sample --date {DAY} --force" in result.output
    assert "Traceback" not in result.output


def test_one_output_writer_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen.writer import OutputWriter

    made: list[Path] = []
    original = OutputWriter.__init__

    def count(self: OutputWriter, root: Path) -> None:
        made.append(root)
        original(self, root)

    monkeypatch.setattr(OutputWriter, "__init__", count)
    config = config_from_mapping({"output": str(tmp_path / "out"), "site": {"enabled": True}})
    result = run(config, DAY, sample=True, formats=["html", "md"], send=False)
    assert result.published["site"].ok
    assert len(made) == 1, made  # render and the site build share the run's writer
    assert (tmp_path / "out" / "site" / "index.html").is_file()


def test_stored_results_are_compressed_when_large_and_keep_no_secret(tmp_path: Path) -> None:
    from pydantic import BaseModel

    class Note(BaseModel):
        text: str
        values: list[float] = []

    secret = "sk-live-0123456789abcdef"
    with Archive(tmp_path / "archive.sqlite", secrets=[secret]) as archive:
        archive.put_results(DAY, "demo", {
            "small": Note(text=f"failed: GET /x?key={secret}"),
            "large": Note(text="heatmap", values=[i / 7 for i in range(20_000)]),
        })
        rows = {r["name"]: (r["encoding"], bytes(r["body"])) for r in archive.db.execute(
            "SELECT name, encoding, body FROM results")}
        assert rows["small"][0] == "json" and rows["large"][0] == "json+zlib"
        assert secret.encode() not in rows["small"][1]
        back = archive.results(DAY, "demo", Note)
    assert list(back) == ["small", "large"]
    assert back["small"].text == "failed: GET /x?key=***"
    assert len(back["large"].values) == 20_000
