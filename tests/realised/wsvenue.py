"""A fake of the three venues' liquidation streams: a real WebSocket server (the websockets
library's) on 127.0.0.1, one path per venue, replaying scripted frames.

Each connection runs its venue's script for that connection number (1, 2, …): a script is a
list of steps — a frame to send (str), `WAIT_SUBSCRIBE` (wait for the client's subscribe
message before going on), `CLOSE` (drop the connection), or `HOLD` (stay open, answering
Bybit's {"op":"ping"} and OKX's "ping"). Everything a client sends is logged per venue with
its connection number, so tests check what was asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

WAIT_SUBSCRIBE = object()
CLOSE = object()
HOLD = object()
Step = Any  # str | one of the markers above | a callable returning an async iterator of str


@dataclass
class Venue:
    """The scripts (connection number → steps; the last script repeats) and the log."""

    scripts: list[list[Step]]
    received: list[tuple[int, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    connections: int = 0
    sent: int = 0


@dataclass
class FakeVenues:
    venues: dict[str, Venue]
    port: int = 0
    pongs: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def url(self, venue: str, tail: str = "") -> str:
        return f"ws://127.0.0.1:{self.port}/{venue}{tail}"

    def sent_by_client(self, venue: str) -> list[str]:
        return [text for _, text in self.venues[venue].received]


async def _answer_pings(name: str, ws: ServerConnection, venue: Venue,
                        pongs: dict[str, int]) -> None:
    async for message in ws:
        text = message if isinstance(message, str) else message.decode()
        venue.received.append((venue.connections, text))
        if text == "ping":
            await ws.send("pong")
            pongs[name] += 1
        elif text.startswith("{") and json.loads(text).get("op") == "ping":
            await ws.send(json.dumps({"success": True, "ret_msg": "pong", "op": "ping"}))
            pongs[name] += 1


@contextlib.asynccontextmanager
async def running(venues: dict[str, Venue]) -> AsyncIterator[FakeVenues]:
    fake = FakeVenues(venues)

    async def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else "/"
        name = path.strip("/").split("/")[0].split("?")[0]
        venue = fake.venues[name]
        venue.connections += 1
        venue.paths.append(path)
        number = venue.connections
        script = venue.scripts[min(number, len(venue.scripts)) - 1]
        listener: asyncio.Task[None] | None = None
        try:
            for step in script:
                if step is WAIT_SUBSCRIBE:
                    text = await ws.recv()
                    venue.received.append((number, str(text)))
                elif step is CLOSE:
                    await ws.close()
                    return
                elif step is HOLD:
                    listener = asyncio.create_task(_answer_pings(name, ws, venue, fake.pongs))
                    await ws.wait_closed()
                    return
                elif callable(step):
                    async for frame in step():
                        await ws.send(frame)
                        venue.sent += 1
                else:
                    await ws.send(step)
                    venue.sent += 1
            await ws.wait_closed()
        except ConnectionClosed:
            pass
        finally:
            if listener is not None:
                listener.cancel()

    async with serve(handler, "127.0.0.1", 0, ping_interval=None) as server:
        fake.port = server.sockets[0].getsockname()[1]  # type: ignore[index]
        yield fake


def settings_for(fake: FakeVenues, **overrides: Any) -> dict[str, Any]:
    """Settings (as a mapping) pointing every stream at the fake, with fast back-off."""
    base: dict[str, Any] = {
        "binance_ws": fake.url("binance", "/stream?streams=!forceOrder@arr"),
        "bybit_ws": fake.url("bybit", "/v5/public/linear"),
        "okx_ws": fake.url("okx", "/ws/v5/public"),
        "backoff_s": 0.01, "backoff_max_s": 0.05,
    }
    base.update(overrides)
    return base


async def until(predicate: Callable[[], bool], *, every: float = 0.01) -> None:
    """Wait until `predicate()` holds (the test's own timeout bounds the wait)."""
    while not predicate():
        await asyncio.sleep(every)
