"""The whole pipeline over real loopback sockets: `reportgen run` on the live code path
against a fake upstream serving recorded payloads, healthy and with injected faults."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from html import unescape
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.config import load_config
from reportgen.registry import source_classes
from tests.conftest import live_config, only_sources, write_config
from tests.fakeupstream import Upstream
from tests.pdftext import garbled
from tests.realised.recorded import record_sample_day
from tests.sourcecontract import enabled_sources, labels_missing, shortfalls

DAY = date(2025, 6, 11)
NOW = "2025-06-11T23:58:00+00:00"
EXPECTED = ["17,411", "1,281", "US$3,754 B", "−1.70%", "US$140.2 B", "61.0%", "9.4%",
            "1.62 gwei", "31", "68", "Greed", "US$254.4 B", "+164.6", "+240.3",
            "HYPE surpasses $42"]


def _run(upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         *args: str, altseason: bool = True, liquidation: bool = True,
         recorded: bool = True, off: tuple[str, ...] = ()) -> tuple[int, str, Path]:
    output = tmp_path / "out"
    data = live_config(upstream, output)
    for name in off:
        data["sources"][name]["enabled"] = False
    # The index needs ~50 chart requests and the maps ~80 plus charts; fault tests of other
    # sources do without them.
    data["sources"]["altseason"]["enabled"] = altseason
    data["liquidation"]["enabled"] = liquidation
    config = write_config(tmp_path / "config.yaml", data)
    if recorded:  # the liquidation recorder followed the streams that day
        record_sample_day(output / "archive.sqlite", DAY)
    monkeypatch.setenv("REPORTGEN_NOW", NOW)
    result = CliRunner().invoke(app, ["--config", str(config), "run", *args])
    return result.exit_code, result.output, output


def _texts(output: Path) -> dict[str, str]:
    folder = output / "reports" / DAY.isoformat()
    pdf = PdfReader(folder / "brief.pdf")
    return {
        "html": unescape((folder / "brief.html").read_text()),
        "md": (folder / "brief.md").read_text(),
        "pdf": "\n".join(page.extract_text() for page in pdf.pages),
    }


def test_live_run_against_fake_upstream(upstream: Upstream, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    upstream.load_day(DAY)
    # Every CoinGecko request must carry the Demo key (pycoingecko sends it in the query).
    upstream.require_key("https://api.coingecko.com/", "x_cg_demo_api_key", "CG-demo-123")
    monkeypatch.setenv("REPORTGEN_COINGECKO_DEMO_KEY", "CG-demo-123")
    code, out, output = _run(upstream, tmp_path, monkeypatch)
    # Every registered source answered for the day, each of its figures and sections is in
    # the brief: the run is complete (exit 3 would mean a source fell short; say which, why).
    config = load_config(tmp_path / "config.yaml", env={})
    assert set(enabled_sources(config)) == {c.name for c in source_classes()}
    missing = [str(s) for s in shortfalls(config, DAY)]
    assert (code, missing) == (0, []), out
    # What was asked, not only what came back (the fixture also fails on any unrecorded one).
    coingecko = upstream.asked("api.coingecko.com")
    assert len(coingecko) >= 44
    assert all(("x_cg_demo_api_key", "CG-demo-123") in r["query"] for r in coingecko)
    charts = [dict(r["query"]) for r in coingecko if r["path"].endswith("/market_chart/range")]
    assert charts and all({"vs_currency", "from", "to"} <= set(q) for q in charts)
    (news,) = upstream.asked("api.theblockbeats.news")
    assert dict(news["query"]) == {"page": "1", "size": "50", "type": "push", "lang": "en"}
    rpc = [r["json"]["method"] for r in upstream.asked("ethereum-rpc.publicnode.com")]
    assert {"eth_gasPrice", "eth_feeHistory"} <= set(rpc)
    with sqlite3.connect(output / "archive.sqlite") as db:
        urls = [u for (u,) in db.execute("SELECT url FROM payloads")]
    assert not any("CG-demo-123" in u for u in urls)
    texts = _texts(output)
    assert "of longs between" in texts["md"] and "Hyperliquid" in texts["html"]
    assert [str(s) for s in labels_missing(config, texts)] == []
    assert garbled(texts["pdf"]) == []
    for fmt, text in texts.items():
        for figure in EXPECTED:
            assert figure in text, f"{figure!r} missing from {fmt}"
        assert "sample data" not in text.lower(), f"{fmt} claims sample data on a live run"
    # Every source that fetches over HTTP asked one of its own hosts over the socket.
    asked = {path.split("/")[1] for _, path in upstream.requests}
    data = yaml.safe_load((tmp_path / "config.yaml").read_text())
    silent = [c.name for c in source_classes() if _hosts(data, c.config_key())
              and not _hosts(data, c.config_key()) & asked]
    assert silent == []


FAULTS = ["timeout", "429", "500", "truncated", "malformed"]
# What a network fault must say in the brief; a body fault reads per format (JSON, an HTML
# page, a feed), so its words are the source's own reason, read from the archive.
REASONS = {"timeout": "timed out", "429": "HTTP 429", "500": "HTTP 500"}
# Off in the matrix but for its own row: the index asks ~50 charts, the maps ~80 requests.
SLOW = ("altseason", "liquidation")
# Off in a row whose faulted hosts they ask too: funding asks the venues the liquidation map
# and the realised liquidations ask (their rows fault www.okx.com and the rest).
SAME_HOSTS = {"liquidation": ("funding",), "liquidation_realised": ("funding",)}


def _hosts(config: dict[str, object], key: str) -> set[str]:
    """The upstream hosts a source's settings name (URLs point at the fake upstream as
    http://127.0.0.1:PORT/<host>/…)."""
    node: object = config
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else {}
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str) and value.startswith("http://127.0.0.1:"):
            found.add(value.split("/")[3])

    walk(node)
    return found


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("source", [c.name for c in source_classes() if c.name != "altseason"])
def test_one_faulty_source_leaves_the_rest(upstream: Upstream, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch, source: str,
                                           fault: str) -> None:
    """The fault matrix, over every registered source: one source's hosts fail, its figures
    and sections say why, every other source's are whole, the bad answer is archived."""
    upstream.load_day(DAY)
    if source == "liquidation":
        # OKX's current open interest, asked in place of an unreadable history page (the
        # sample records none; constructed in the documented shape): it fails the same way
        for coin, oi in (("BTC", "26000"), ("ETH", "180000")):
            upstream.add(f"https://www.okx.com/api/v5/public/open-interest?instType=SWAP"
                         f"&instId={coin}-USDT-SWAP", json.dumps({"code": "0", "msg": "", "data": [{
                             "instId": f"{coin}-USDT-SWAP", "instType": "SWAP", "oiCcy": oi,
                             "ts": "1749685800000"}]}).encode())
    cls = next(c for c in source_classes() if c.name == source)
    data = live_config(upstream, tmp_path / "out")
    for host in _hosts(data, cls.config_key()):
        upstream.faults[host] = fault
    upstream.hang_s = 1.6  # past the 1 s client timeout
    code, out, output = _run(upstream, tmp_path, monkeypatch, "--formats", "html,md",
                             altseason=False, liquidation=source == "liquidation",
                             # realised liquidations fail whole when nothing was recorded
                             recorded=source != "liquidation_realised",
                             off=SAME_HOSTS.get(source, ()))
    assert code == 3, out
    md = (output / "reports" / DAY.isoformat() / "brief.md").read_text()
    html = (output / "reports" / DAY.isoformat() / "brief.html").read_text()
    with sqlite3.connect(output / "archive.sqlite") as db:
        (reason,) = db.execute("SELECT reason FROM snapshots WHERE source=?", (source,)).fetchone()
        (sections,) = db.execute("SELECT sections FROM runs").fetchone()
        rows = db.execute(
            "SELECT status, error, length(body) FROM payloads WHERE (source=? OR"
            " (?='liquidation' AND source LIKE 'liq_%')) AND error IS NOT NULL",
            (source, source),
        ).fetchall()
    assert reason, "the failed source's snapshot says nothing"
    words = REASONS.get(fault) or reason[:40]
    assert words in reason and words in unescape(html), (words, reason)
    statuses = json.loads(sections)
    for other in source_classes():
        if (other.name in SLOW and other.name != source) or \
                other.name in SAME_HOSTS.get(source, ()):
            continue  # switched off in this test
        broken = other.name == source
        for spec in other.indicators:
            shown = statuses.get(spec.section, "")
            assert (spec.label in shown or shown.startswith("unavailable")) == broken, \
                (other.name, spec.label, shown)
        for section in other.sections:
            assert statuses[section.id].startswith("unavailable") == broken, (section.id, statuses)
    assert "unavailable" in md
    # The bad answer is kept for diagnosis (a timeout has no body, but its row is kept).
    assert rows, "the failed exchange was not archived"
    if fault in ("truncated", "malformed"):
        assert rows[-1][2] > 0


def test_429_then_success_is_retried(upstream: Upstream, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    upstream.load_day(DAY)
    upstream.faults["api.alternative.me"] = "429-once"
    _code, _out, output = _run(upstream, tmp_path, monkeypatch, "--formats", "md", altseason=False,
                               liquidation=False)
    md = (output / "reports" / DAY.isoformat() / "brief.md").read_text()
    assert "68 (Greed)" in md
    fng_calls = [p for _, p in upstream.requests if p.startswith("/api.alternative.me/")]
    assert len(fng_calls) == 2


def test_render_uses_the_archive_only(upstream: Upstream, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    upstream.load_day(DAY)
    _code, _out, output = _run(upstream, tmp_path, monkeypatch, "--formats", "html,md",
                               altseason=False)
    first = (output / "reports" / DAY.isoformat() / "brief.md").read_text()
    upstream.close()  # the network is gone
    (output / "reports" / DAY.isoformat() / "brief.md").unlink()
    result = CliRunner().invoke(app, ["--config", str(tmp_path / "config.yaml"), "render",
                                      "--date", DAY.isoformat(), "--formats", "md"])
    assert result.exit_code in (0, 3), result.output
    assert (output / "reports" / DAY.isoformat() / "brief.md").read_text() == first


def test_altseason_reuses_archived_daily_prices(upstream: Upstream, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Charts fetched once feed the archive's daily prices; a re-collection of the same day
    asks CoinGecko only for the market list and computes the same index."""
    upstream.load_day(DAY, ["altseason", "coingecko"])
    data = only_sources(live_config(upstream, tmp_path / "out"), "altseason", "coingecko")
    config = write_config(tmp_path / "c.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", NOW)
    runner = CliRunner()
    assert runner.invoke(app, ["--config", str(config), "collect"]).exit_code == 0

    def charts() -> int:
        return sum("/market_chart/range" in path for _, path in upstream.requests)

    first = charts()
    assert first >= 42
    again = runner.invoke(app, ["--config", str(config), "collect", "--force"])
    assert again.exit_code == 0, again.output
    # every price came from the archive but BTC's and ETH's, always fetched: their 90 days of
    # closes give the brief's price moves
    assert charts() == first + 2
    with sqlite3.connect(tmp_path / "out" / "archive.sqlite") as db:
        (payload,) = db.execute("SELECT data FROM snapshots WHERE source='altseason'").fetchone()
        cached = db.execute("SELECT count(*) FROM payloads WHERE url LIKE 'archive:%'").fetchone()
    assert '"index": 31' in payload and cached[0] >= 42
