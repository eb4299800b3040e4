"""`reportgen sources`: is every upstream enabled, reachable and keyed, and can it go back?

One cheap request per upstream: HEAD of its configured base URL, through `reportgen.http`
(one attempt, the configured timeout). Any HTTP answer below 500 counts as reachable — a
404 or 405 on a bare API root still proves DNS, TLS and the server are fine; a 5xx, a
timeout or a refused connection is "down". Keys are reported present or missing by the
name of their environment variable; values are never read into the report.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reportgen.config import Config
from reportgen.errors import FetchError
from reportgen.http import Http
from reportgen.sources import all_sources
from reportgen.sources.base import Source

REACHABLE = frozenset(range(100, 500))


def _first_url(settings: Any) -> str | None:
    """The first *url field of a settings model (or the first feed's url), if any."""
    if settings is None:
        return None
    for key, value in dict(settings).items():
        if key.endswith("url") and isinstance(value, str):
            return value
    feeds = getattr(settings, "feeds", None)
    if feeds:
        return getattr(feeds[0], "url", None)
    return None


# Where each registered source lives, when its settings do not say it in a *url field first.
PROBES: dict[str, Callable[[Config], str | None]] = {
    "coingecko": lambda c: c.sources.coingecko.base_url,
    "altseason": lambda c: c.sources.coingecko.base_url,  # market_chart on the same API
    "gas": lambda c: c.sources.gas.rpc_url,
}


def probe_url(source: Source, config: Config) -> str | None:
    """The URL `reportgen sources` checks for `source`."""
    own = getattr(source, "probe_url", None)
    if callable(own):
        return own()
    if source.name in PROBES:
        return PROBES[source.name](config)
    settings = getattr(config.sources, source.name, None) or getattr(config, source.name, None)
    if settings is None and hasattr(source, "settings"):
        settings = source.settings()
    return _first_url(settings)


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


async def _probe(http: Http, source: Source, url: str) -> tuple[bool, int | None, float, str | None]:
    started = time.perf_counter()
    try:
        raw = await http.request("HEAD", source.name, url, ok_statuses=REACHABLE)
    except FetchError as exc:
        return False, exc.status, (time.perf_counter() - started) * 1000, str(exc)
    return True, raw.status, (time.perf_counter() - started) * 1000, None


async def check_sources(config: Config, env: Mapping[str, str] | None = None,
                        transport: Any = None) -> list[SourceCheck]:
    """Check every registered source concurrently; disabled ones are reported, not probed."""
    env = os.environ if env is None else env
    sources = all_sources(config)
    # A probe is asked once: a check reports what it sees instead of retrying it away.
    settings = config.http.model_copy(update={"attempts": 1, "backoff_s": 0.0})
    async with Http(settings, transport=transport) as http:

        async def one(source: Source) -> SourceCheck:
            enabled, why = source.enabled()
            url = probe_url(source, config)
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
