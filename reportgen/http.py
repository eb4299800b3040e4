"""HTTP client settings and the one fetch function every source uses.

One place for timeouts, headers, retries and the transport seam: `make_client(transport=...)`
lets tests swap the transport (httpx.MockTransport) for unit tests of one client, while
whole-pipeline tests point the configured base URLs at loopback servers.

Retries: httpx retries failed connections only, so `fetch` wraps each request in tenacity:
up to `attempts` tries on connection errors, timeouts, 429 and 5xx, with exponential backoff,
honouring a `Retry-After` header (seconds or HTTP date) when the server sends one. Every
attempt's final response is returned as a `RawPayload`, also on failure (attached to the
raised `FetchError.raw`) so the archive keeps what went wrong.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from reportgen.errors import FetchError
from reportgen.models import RawPayload

USER_AGENT = "reportgen/0.1 (+https://github.com/reportgen/reportgen)"
# Some sites (Farside) refuse non-browser clients; sources that need it pass these headers.
BROWSER_HEADERS = {
    "User-Agent": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0 Safari/537.36"
    ),
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.9",
}
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0


class RateLimiter:
    """Spaces requests so their total weight stays under `per_minute` (CoinGecko counts
    calls, weight 1; Hyperliquid counts weight, 1200 per minute per IP)."""

    def __init__(self, per_minute: int) -> None:
        self.per_s = per_minute / 60.0
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    async def take(self, weight: int = 1) -> None:
        async with self.lock:
            now = time.monotonic()
            wait = self.next_at - now
            self.next_at = max(now, self.next_at) + weight / self.per_s
        if wait > 0:
            await asyncio.sleep(wait)


class RetryableStatus(Exception):
    """Internal: a response whose status is worth another try."""

    def __init__(self, raw: RawPayload, retry_after: float | None) -> None:
        super().__init__(f"HTTP {raw.status}")
        self.raw = raw
        self.retry_after = retry_after


def make_client(
    *,
    timeout_s: float = 20.0,
    transport: httpx.AsyncBaseTransport | None = None,
    max_connections: int = 20,
) -> httpx.AsyncClient:
    """The shared async client: timeouts, connection limits, our User-Agent, no env proxies
    unless the caller's environment sets them (trust_env stays default)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
        limits=httpx.Limits(max_connections=max_connections),
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
        transport=transport,
        follow_redirects=True,
    )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, min(seconds, MAX_RETRY_AFTER_S))


# Query parameters that carry API keys; they are blanked in every URL we store or show.
SECRET_PARAMS = frozenset({"x_cg_demo_api_key", "x_cg_pro_api_key", "apikey", "api_key", "key"})


def redact_url(url: str) -> str:
    """`url` with the values of key-bearing query parameters replaced by '***'."""
    parsed = httpx.URL(url)
    if not parsed.query:
        return url
    params = [
        (k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parsed.params.multi_items()
    ]
    return str(parsed.copy_with(params=params))


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableStatus | httpx.TransportError)


def _wait(base: float) -> Any:
    exponential = wait_exponential(multiplier=base, max=30)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
            return exc.retry_after
        return exponential(state)

    return wait


_KEPT_HEADERS = (
    "content-type", "etag", "last-modified", "retry-after", "date", "total", "per-page",
    "x-ratelimit-remaining", "cache-control", "age",
)


def _raw(source: str, url: str, response: httpx.Response | None, body: bytes,
         error: str | None) -> RawPayload:
    headers: dict[str, str] = {}
    if response is not None:
        headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
    return RawPayload(
        source=source, url=url, status=response.status_code if response is not None else None,
        body=body, fetched_at=datetime.now(UTC), headers=headers, error=error,
    )


async def fetch(
    client: httpx.AsyncClient,
    source: str,
    url: str,
    *,
    method: str = "GET",
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
    attempts: int = 3,
    backoff_s: float = 0.5,
    ok_statuses: frozenset[int] = frozenset({200}),
) -> RawPayload:
    """Request `url` with retries; return the raw payload of a successful answer.

    Raises FetchError (with `.raw` set to the last response or error) when every attempt
    failed or the status is not in `ok_statuses`. Never logs query strings: they may hold keys.
    """
    request_url = str(httpx.URL(url, params=dict(params) if params else None))
    shown_url = redact_url(request_url)
    host = httpx.URL(url).host or url

    async def attempt() -> RawPayload:
        response = await client.request(method, request_url, json=json, headers=dict(headers or {}))
        body = await response.aread()
        raw = _raw(source, shown_url, response, body, None)
        if response.status_code in RETRY_STATUSES:
            raise RetryableStatus(raw, parse_retry_after(response.headers.get("retry-after")))
        return raw

    try:
        async for tried in AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=_wait(backoff_s),
            retry=retry_if_exception(_is_retryable),
            reraise=True,
        ):
            with tried:
                raw = await attempt()
    except RetryableStatus as exc:
        error = f"answered HTTP {exc.raw.status} after {attempts} attempts"
        failed = replace(exc.raw, error=error)
        raise _fetch_error(f"{host}: {error}", failed) from None
    except httpx.TimeoutException as exc:
        error = f"timed out after {attempts} attempts ({type(exc).__name__})"
        raise _fetch_error(f"{host}: {error}", _raw(source, shown_url, None, b"", error)) from None
    except httpx.TransportError as exc:
        error = f"connection failed after {attempts} attempts ({type(exc).__name__}: {exc})"
        raise _fetch_error(f"{host}: {error}", _raw(source, shown_url, None, b"", error)) from None

    if raw.status not in ok_statuses:
        error = f"answered HTTP {raw.status}"
        raise _fetch_error(f"{host}: {error}", replace(raw, error=error))
    return raw


def _fetch_error(message: str, raw: RawPayload) -> FetchError:
    err = FetchError(message, status=raw.status)
    err.raw = raw
    return err
