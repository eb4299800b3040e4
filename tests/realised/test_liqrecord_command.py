"""`reportgen liqrecord` as an operator runs it (a subprocess against the loopback venues):
stopped by SIGTERM, or by `--for`, it closes cleanly (exit 0) with every frame read
archived; `reportgen schedule`'s background recorder stops with the block around it."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
import yaml

from reportgen.archive import Archive
from reportgen.realised.recorder import recording_in_background
from reportgen.realised.settings import RealisedSettings
from tests.realised.test_frames import BINANCE, BYBIT, OKX_PUSH
from tests.realised.wsvenue import HOLD, WAIT_SUBSCRIBE, Venue, running, settings_for, until

ROOT = Path(__file__).resolve().parents[2]


def _count(archive: Path) -> int:
    try:
        with sqlite3.connect(archive, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM liquidation_frames").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


async def _start(tmp_path: Path, settings: dict[str, object], *args: str
                 ) -> asyncio.subprocess.Process:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"output": str(tmp_path / "out"),
                                      "sources": {"liquidation_realised": settings}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")}
    env["PYTHONPATH"] = str(ROOT)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "reportgen.cli", "--config", str(config), "liqrecord", *args,
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


def _venues() -> dict[str, Venue]:
    return {"binance": Venue([[BINANCE, HOLD]]), "bybit": Venue([[WAIT_SUBSCRIBE, BYBIT, HOLD]]),
            "okx": Venue([[WAIT_SUBSCRIBE, OKX_PUSH, HOLD]])}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_the_recorder_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    async with running(_venues()) as fake:
        proc = await _start(tmp_path, settings_for(fake))
        archive = tmp_path / "out" / "archive.sqlite"
        await until(lambda: _count(archive) == 3 or proc.returncode is not None, every=0.05)
        proc.send_signal(sig)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    for venue in ("Binance", "Bybit", "OKX"):
        assert f"{venue}: 1 frames archived" in text, text
    assert _count(archive) == 3


async def test_for_a_duration_it_stops_by_itself(tmp_path: Path) -> None:
    async with running({"okx": Venue([[WAIT_SUBSCRIBE, OKX_PUSH, HOLD]])}) as fake:
        proc = await _start(tmp_path, settings_for(fake, venues=["okx"]), "--for", "2s")
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert "OKX: 1 frames archived (1 liquidations, 0 unreadable)" in out.decode()


async def test_bad_duration_is_a_usage_error(tmp_path: Path) -> None:
    proc = await _start(tmp_path, {}, "--for", "soon")
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2 and "--for must be a duration" in err.decode()


async def test_the_schedules_background_recorder_stops_with_its_block(tmp_path: Path) -> None:
    archive = tmp_path / "archive.sqlite"
    async with running(_venues()) as fake:
        settings = RealisedSettings(**settings_for(fake))  # type: ignore[arg-type]
        block = recording_in_background(settings, archive)
        recorder = block.__enter__()
        assert recorder is not None
        await until(lambda: recorder.stats.written == 3)
        # leaving the block stops it and joins its thread (off this loop: the server runs here)
        await asyncio.to_thread(block.__exit__, None, None, None)
    with Archive(archive) as kept:
        assert kept.count_liquidation_frames() == 3


def test_recording_off_runs_nothing(tmp_path: Path) -> None:
    for settings in (RealisedSettings(record=False), RealisedSettings(enabled=False),
                     RealisedSettings(venues=[])):
        with recording_in_background(settings, tmp_path / "archive.sqlite") as recorder:
            assert recorder is None
    assert not (tmp_path / "archive.sqlite").exists()
