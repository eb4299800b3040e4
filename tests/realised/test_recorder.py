"""The recorder against a real WebSocket server on 127.0.0.1 replaying real recorded frames:
what it sends (subscribe messages, heartbeats), reconnecting after a drop, malformed frames
kept raw and counted, a flood archived without loss through a bounded queue, and a clean
stop."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reportgen.archive import Archive
from reportgen.realised.recorder import Recorder, backoff, streams
from reportgen.realised.settings import RealisedSettings
from tests.realised.test_frames import BINANCE, BYBIT, OKX_PUSH
from tests.realised.wsvenue import CLOSE, HOLD, WAIT_SUBSCRIBE, Venue, running, settings_for, until

WINDOW = (datetime(2026, 10, 9, tzinfo=UTC), datetime(2026, 10, 10, tzinfo=UTC))


def _archived(path: Path) -> list[tuple[str, str, str | None]]:
    with Archive(path) as archive:
        return [(f.venue, f.body, f.error) for f in archive.liquidation_frames(*WINDOW)]


async def test_subscribes_per_venue_docs_records_and_reconnects(tmp_path: Path) -> None:
    venues = {
        # Binance: subscribed by the URL; first connection delivers a frame, a malformed one,
        # then drops; the second delivers the frame again and stays.
        "binance": Venue([[BINANCE, '{"stream":"!forceOrder@arr","data":{"e":', CLOSE],
                          [BINANCE, HOLD]]),
        "bybit": Venue([[WAIT_SUBSCRIBE, BYBIT, HOLD]]),
        "okx": Venue([[WAIT_SUBSCRIBE, OKX_PUSH, HOLD]]),
    }
    archive_path = tmp_path / "archive.sqlite"
    async with running(venues) as fake:
        settings = RealisedSettings(**settings_for(
            fake, bybit_symbols=[f"SYM{i}USDT" for i in range(12)], bybit_ping_s=0.05,
            okx_ping_s=0.05))
        recorder = Recorder(settings, archive_path, rng=random.Random(1))
        task = asyncio.create_task(recorder.run())
        await until(lambda: recorder.stats.written >= 5 and fake.pongs["bybit"] >= 2
                    and fake.pongs["okx"] >= 1)
        recorder.stop()
        stats = await asyncio.wait_for(task, 30)

    # What was asked: Binance by its stream URL; Bybit's topics in messages of at most 10;
    # OKX's channel for every swap; then the venues' own heartbeats.
    assert venues["binance"].paths[0] == "/binance/stream?streams=!forceOrder@arr"
    bybit_sent = fake.sent_by_client("bybit")
    assert [json.loads(m) for m in bybit_sent[:1]] == [
        {"op": "subscribe", "args": [f"allLiquidation.SYM{i}USDT" for i in range(10)]}]
    assert json.loads(bybit_sent[1]) == {
        "op": "subscribe", "args": ["allLiquidation.SYM10USDT", "allLiquidation.SYM11USDT"]}
    assert '{"op": "ping"}' in bybit_sent[2:]
    okx_sent = fake.sent_by_client("okx")
    assert json.loads(okx_sent[0]) == {
        "op": "subscribe", "args": [{"channel": "liquidation-orders", "instType": "SWAP"}]}
    assert "ping" in okx_sent[1:]
    assert fake.sent_by_client("binance") == []  # nothing to send: the URL subscribes

    # Reconnected after the drop, and went on recording.
    assert venues["binance"].connections == 2 and stats.drops["binance"] >= 1
    assert stats.connects["binance"] == 2
    # Every frame archived as received, the malformed one raw with its reason.
    rows = _archived(archive_path)
    assert [v for v, _, _ in rows].count("binance") == 2  # the two good frames
    assert sorted(v for v, _, _ in rows) == ["binance", "binance", "bybit", "okx"]
    with Archive(archive_path) as archive:
        assert archive.count_liquidation_frames() == 5 == stats.written
    assert stats.rejected["binance"] == 1
    assert stats.control["bybit"] >= 2 and stats.control["okx"] >= 1  # pongs, not archived


async def test_malformed_frames_are_kept_raw_and_counted(tmp_path: Path) -> None:
    bad = ["{not json", '{"topic":"allLiquidation.BTCUSDT","data":[{"S":"Up"}]}',
           '{"success":false,"ret_msg":"Invalid symbol","op":"subscribe"}', "\x00binary?"]
    venues = {"bybit": Venue([[WAIT_SUBSCRIBE, *bad, BYBIT, HOLD]])}
    archive_path = tmp_path / "archive.sqlite"
    async with running(venues) as fake:
        settings = RealisedSettings(**settings_for(fake, venues=["bybit"]))
        recorder = Recorder(settings, archive_path)
        task = asyncio.create_task(recorder.run())
        await until(lambda: recorder.stats.written >= 5)
        recorder.stop()
        stats = await asyncio.wait_for(task, 30)
    assert stats.rejected["bybit"] == 4 and stats.events["bybit"] == 2
    assert stats.drops["bybit"] == 0  # a bad frame is not a reason to reconnect
    with Archive(archive_path) as archive:
        rows = archive.liquidation_frames(datetime(2000, 1, 1, tzinfo=UTC),
                                          datetime(2100, 1, 1, tzinfo=UTC))
    kept = {r.body: r.error for r in rows}
    assert set(bad) <= set(kept) and all(kept[b] for b in bad)
    assert kept[BYBIT] is None


FLOOD = 10_000


async def _flood() -> AsyncIterator[str]:
    doc = json.loads(BINANCE)
    for i in range(FLOOD):
        doc["data"]["o"]["T"] = 1791565602120 + i  # distinct liquidations
        yield json.dumps(doc, separators=(",", ":"))


async def test_a_flood_is_archived_without_loss_through_a_bounded_queue(tmp_path: Path) -> None:
    venues = {"binance": Venue([[_flood, HOLD]])}
    archive_path = tmp_path / "archive.sqlite"
    async with running(venues) as fake:
        settings = RealisedSettings(**settings_for(fake, venues=["binance"], queue_frames=64))
        recorder = Recorder(settings, archive_path)
        task = asyncio.create_task(recorder.run())
        await until(lambda: venues["binance"].sent == FLOOD
                    and recorder.stats.frames["binance"] == FLOOD, every=0.05)
        recorder.stop()
        stats = await asyncio.wait_for(task, 60)
    assert stats.written == FLOOD == stats.events["binance"]
    assert stats.queue_peak <= 64  # bounded: readers waited instead of piling up frames
    with Archive(archive_path) as archive:
        assert archive.count_liquidation_frames() == FLOOD


async def test_stop_while_reconnecting_returns_promptly_and_writes_what_was_read(
        tmp_path: Path) -> None:
    venues = {"okx": Venue([[WAIT_SUBSCRIBE, OKX_PUSH, CLOSE]])}
    async with running(venues) as fake:
        settings = RealisedSettings(**settings_for(fake, venues=["okx"], backoff_s=30,
                                                   backoff_max_s=30))
        recorder = Recorder(settings, tmp_path / "archive.sqlite", rng=random.Random(3))
        task = asyncio.create_task(recorder.run())
        await until(lambda: recorder.stats.drops["okx"] >= 1)
        recorder.stop()  # it is waiting out a back-off of up to 30 s
        stats = await asyncio.wait_for(task, 10)
    assert stats.written == 1


def test_backoff_is_capped_and_jittered() -> None:
    rng = random.Random(7)
    waits = [backoff(attempt, 1.0, 60.0, rng) for attempt in range(40)]
    assert all(0 <= w <= 60.0 for w in waits)
    assert all(w <= 2.0 ** a for a, w in enumerate(waits[:6]))
    assert len({round(w, 6) for w in waits[10:]}) == 30  # jittered, not one fixed cap


def test_streams_follow_the_configured_venues() -> None:
    settings = RealisedSettings(venues=["okx"])
    assert [s.venue for s in streams(settings)] == ["okx"]
    assert [s.venue for s in streams(RealisedSettings())] == ["binance", "bybit", "okx"]


@pytest.mark.parametrize("url", ["https://fstream.binance.com/ws", "wss://", "fstream"])
def test_stream_urls_must_be_websocket_urls(url: str) -> None:
    with pytest.raises(ValueError, match="wss://"):
        RealisedSettings(binance_ws=url)
