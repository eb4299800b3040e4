"""`reportgen sources`: is every upstream enabled, reachable and keyed, and can it go back?

One cheap request per upstream: HEAD of the URL its module names (`Source.probe_url`),
through `reportgen.http` (one attempt, the configured timeout). Any HTTP answer below 500
counts as reachable — a 404 or 405 on a bare API root still proves DNS, TLS and the server are fine; a 5xx, a
timeout or a refused connection is "down". Keys are reported present or missing by the
name of their environment variable; values are never read into the report.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from reportgen.config import Config
from reportgen.errors import FetchError
from reportgen.http import Http
from reportgen.registry import sources as registered
from reportgen.sources.base import Source

REACHABLE = frozenset(range(100, 500))


@dataclass(frozen=True)
class SourceCheck:
    name: str
    title: str
    required: bool
    enabled: bool
    why: str
    url: str | None
    reachable: bool | None  # None: not checked (disabled, or no URL known)
    status: int | None
    latency_ms: float | None
    error: str | None
    keys: dict[str, bool]  # env var → present
    supports_past: bool
    history: str

    @property
    def down(self) -> bool:
        """A required, enabled upstream that did not answer."""
        return self.required and self.enabled and self.reachable is False


async def _probe(http: Http, source: Source[Any], url: str) -> tuple[bool, int | None, float, str | None]:
    started = time.perf_counter()
    try:
        raw = await http.request("HEAD", source.name, url, ok_statuses=REACHABLE)
    except FetchError as exc:
        return False, exc.status, (time.perf_counter() - started) * 1000, str(exc)
    return True, raw.status, (time.perf_counter() - started) * 1000, None


async def check_sources(config: Config, env: Mapping[str, str] | None = None,
                        transport: httpx.AsyncBaseTransport | None = None) -> list[SourceCheck]:
    """Check every registered source concurrently; disabled ones are reported, not probed."""
    env = os.environ if env is None else env
    sources = registered(config)
    # A probe is asked once: a check reports what it sees instead of retrying it away.
    settings = config.http.model_copy(update={"attempts": 1, "backoff_s": 0.0})
    async with Http(settings, transport=transport) as http:

        async def one(source: Source[Any]) -> SourceCheck:
            enabled, why = source.enabled()
            url = source.probe_url()
            reachable, status, latency, error = None, None, None, None
            if enabled and url:
                reachable, status, latency, error = await _probe(http, source, url)
            elif enabled:
                error = "no base URL known"
            return SourceCheck(
                name=source.name, title=source.title, required=source.required, enabled=enabled,
                why=why, url=url, reachable=reachable, status=status, latency_ms=latency,
                error=error, keys={name: bool(env.get(name)) for name in source.secret_names()},
                supports_past=source.supports_past, history=source.history,
            )

        return list(await asyncio.gather(*(one(s) for s in sources)))


def run_checks(config: Config, env: Mapping[str, str] | None = None) -> list[SourceCheck]:
    """Synchronous entry point for the CLI."""
    return asyncio.run(check_sources(config, env))
