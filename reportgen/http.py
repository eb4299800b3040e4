"""The one HTTP client policy every source uses: `Http`.

Built once per run from `config.http` and the run's clock, an `Http` applies the same rules to
every exchange, so no call site can forget one:

- timeouts: `connect_s` to connect, `timeout_s` of silence while reading, and `deadline_s` for
  the whole request, every retry and back-off wait included (a body trickled one byte a second
  never trips a read timeout; the deadline stops it);
- retries: `attempts` tries on connection errors, timeouts, 429 and 5xx, exponential back-off
  from `backoff_s`, honouring `Retry-After` (seconds or HTTP date); an answer asking for more
  than `MAX_RETRY_AFTER_S` fails at once, saying so, and its host is not asked again. A POST
  is not sent again once it may have been received (only a connection that never opened is
  retried) unless its caller marks it idempotent (a read, as every POST of ours is today);
- size: the body is streamed and counted *after* decompression (we decode gzip/deflate
  ourselves, in bounded steps), and the request is abandoned once it passes the source's cap,
  so an endless body or a gzip bomb costs at most the cap in memory;
- redirects: followed (at most `MAX_REDIRECTS`) only to the host and port asked or to a host
  (or host:port) listed in `redirect_hosts`, never to a private, loopback or link-local
  address unless the URL asked was itself one; the final URL is recorded in the payload's
  headers (`x-reportgen-final-url`);
- a host that timed out or passed the deadline is not asked again in the same run (its
  later requests fail at once with the first reason), which keeps a run bounded when one
  upstream hangs. A request made with `down_scope="path"` marks, and is stopped by, only
  its own endpoint (plus a host-wide mark), for sources whose fallbacks are other
  endpoints of the same host.

Every exchange becomes a `RawPayload` stamped with the clock's time, successful or not: on
failure it is attached to the raised `FetchError.raw` with what arrived (the first
`KEPT_ON_FAILURE` bytes), so the archive keeps it for diagnosis. URLs are stored with
key-bearing query parameters blanked.

Tests swap the transport (`Http(..., transport=httpx.MockTransport(...))`) to unit-test one
client; whole-pipeline tests point the configured base URLs at loopback servers instead.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import socket
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from reportgen.clock import Clock, SystemClock
from reportgen.errors import FetchError
from reportgen.models import RawPayload

if TYPE_CHECKING:
    from reportgen.settings import HttpSettings

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
MAX_REDIRECTS = 5
KEPT_ON_FAILURE = 64 * 1024  # bytes of a failed answer kept for diagnosis
FINAL_URL_HEADER = "x-reportgen-final-url"
# Files of a multipart POST: form field → (file name, content, content type).
Files = Mapping[str, tuple[str, bytes, str]]
# Query parameters that carry API keys; they are blanked in every URL we store or show.
SECRET_PARAMS = frozenset({"x_cg_demo_api_key", "x_cg_pro_api_key", "apikey", "api_key", "key"})
_KEPT_HEADERS = (
    "content-type", "etag", "last-modified", "retry-after", "date", "total", "per-page",
    "x-ratelimit-remaining", "cache-control", "age",
)


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


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date, measured
    from `now`, the run's clock), not capped: the caller decides whether to wait that long."""
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
        seconds = (when - now).total_seconds()
    return max(0.0, seconds)


def redact_url(url: str) -> str:
    """`url` with the values of key-bearing query parameters replaced by '***'."""
    parsed = httpx.URL(url)
    if not parsed.query:
        return url
    params = [
        (k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parsed.params.multi_items()
    ]
    return str(parsed.copy_with(params=params))


def request_url(url: str, params: Mapping[str, Any] | None = None) -> httpx.URL:
    """`url` with `params` added to the query it already has (which is kept, never dropped)."""
    parsed = httpx.URL(url)
    if not params:
        return parsed
    return parsed.copy_merge_params({k: _param(v) for k, v in params.items()})


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class _Refused(Exception):
    """Internal: an answer we will not retry (too large, undecodable, bad redirect)."""

    def __init__(self, reason: str, response: httpx.Response | None, body: bytes) -> None:
        super().__init__(reason)
        self.reason, self.response, self.body = reason, response, body


class _RetryableStatus(Exception):
    """Internal: a response whose status is worth another try."""

    def __init__(self, response: httpx.Response, body: bytes, retry_after: float | None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response, self.body, self.retry_after = response, body, retry_after


@dataclass
class _Progress:
    """What the current attempt has received so far (kept if the deadline cuts it off)."""

    response: httpx.Response | None = None
    body: bytearray = field(default_factory=bytearray)
    final_url: str | None = None


class _BoundedDecoder:
    """Decodes a gzip/deflate (or identity) body chunk by chunk, never producing more than
    `limit` bytes in total: one compressed chunk of a bomb cannot inflate past the cap."""

    def __init__(self, encoding: str, limit: int) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self.inflater = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            # 32 + MAX_WBITS reads a gzip or zlib header, whichever comes.
            self.inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)
        else:
            raise ValueError(f"unsupported content-encoding {encoding!r}")
        self.limit = limit
        self.size = 0

    def feed(self, chunk: bytes) -> bytes:
        """Decoded bytes of `chunk`; at most one byte past the limit, so `exceeded` tells."""
        if self.inflater is None:
            out = chunk
        else:
            room = self.limit - self.size + 1
            out = self.inflater.decompress(chunk, room)
        self.size += len(out)
        return out

    @property
    def exceeded(self) -> bool:
        return self.size > self.limit

    def flush(self) -> bytes:
        if self.inflater is None:
            return b""
        out = self.inflater.flush()
        if not self.inflater.eof:
            raise zlib.error("compressed body ended early")
        self.size += len(out)
        return out


def _port(url: httpx.URL) -> int | None:
    """The port `url` connects to (the scheme's default when it names none)."""
    return url.port or {"http": 80, "https": 443}.get(url.scheme)


def _authority(url: httpx.URL) -> tuple[str, int | None]:
    return url.host.lower(), _port(url)


def _is_private(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified)


async def _host_is_private(host: str) -> bool:
    """Whether `host` is, or resolves to, an address that is not public."""
    if host.lower() in ("localhost", "localhost.localdomain") or _is_private(host):
        return True
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False  # unresolvable: the request itself will fail and say so
    return any(_is_private(str(info[4][0])) for info in infos)


class Http:
    """The run's HTTP client: one policy for every request (see the module docstring).

    Use as `async with Http(config.http, clock=clock) as http:` and call `get`/`post`.
    `secrets` are values blanked from stored URLs besides the known key parameters.
    """

    def __init__(self, settings: HttpSettings, *, clock: Clock | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 max_connections: int = 20) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout_s, connect=settings.connect_s),
            limits=httpx.Limits(max_connections=max_connections),
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            transport=transport,
            follow_redirects=False,  # we follow them ourselves, to check where they lead
        )
        self.down: dict[str, str] = {}  # host (or host+path) → why it is not asked again
        self.exchanges: list[tuple[str, str, float]] = []  # (source, host+path, seconds)

    async def __aenter__(self) -> Http:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def get(self, source: str, url: str, *, params: Mapping[str, Any] | None = None,
                  headers: Mapping[str, str] | None = None,
                  ok_statuses: frozenset[int] = frozenset({200}),
                  down_scope: str = "host") -> RawPayload:
        """GET `url` (its own query kept, `params` added) under the policy."""
        return await self.request("GET", source, url, params=params, headers=headers,
                                  ok_statuses=ok_statuses, down_scope=down_scope)

    async def post(self, source: str, url: str, *, json: Any = None,
                   data: Mapping[str, str] | None = None, files: Files | None = None,
                   params: Mapping[str, Any] | None = None,
                   headers: Mapping[str, str] | None = None,
                   ok_statuses: frozenset[int] = frozenset({200}),
                   idempotent: bool = False) -> RawPayload:
        """POST to `url` under the policy: a JSON body, or form fields (`data`) with file
        uploads (`files`: field → (file name, bytes, content type), sent as
        multipart/form-data). Not sent again once it may have been received (only a
        connection that never opened is retried), unless the caller says the POST is
        `idempotent` (a read: a JSON-RPC call, an info query; never a message sent)."""
        return await self.request("POST", source, url, params=params, json=json, data=data,
                                  files=files, headers=headers, ok_statuses=ok_statuses,
                                  idempotent=idempotent)

    async def request(self, method: str, source: str, url: str, *,
                      params: Mapping[str, Any] | None = None, json: Any = None,
                      data: Mapping[str, str] | None = None, files: Files | None = None,
                      headers: Mapping[str, str] | None = None,
                      ok_statuses: frozenset[int] = frozenset({200}),
                      down_scope: str = "host", idempotent: bool | None = None) -> RawPayload:
        """One request with retries, deadline, body cap and redirect rules.

        Returns the raw payload of an answer whose status is in `ok_statuses`; otherwise
        raises FetchError with `.raw` holding what arrived and `.maybe_received` saying
        whether the server may have received the request (False only when it was never
        sent, or its connection never opened). A timeout marks the host down
        for the rest of the run, or with `down_scope="path"` only this endpoint.
        `idempotent` (default: GET and HEAD are, anything else is not): whether the request
        may be sent again after the server may have received it; if not, only a connection
        that never opened is retried, and a 5xx, a 429 or a lost answer fails at once."""
        repeatable = method in ("GET", "HEAD") if idempotent is None else idempotent
        once = "" if repeatable else (f"; not sent again: a {method} may have been received "
                                      "(the upstream's side of it is unknown)")
        target = request_url(url, params)
        shown = redact_url(str(target))
        host = target.host or url
        settings = self.settings
        down_key = f"{host}{target.path}" if down_scope == "path" else host
        known = self.down.get(host) or self.down.get(down_key)
        if known is not None:
            error = f"not asked: {known} earlier in this run"
            raise _fetch_error(f"{host}: {error}", self._raw(source, shown, None, b"", error),
                               maybe_received=False)

        progress = _Progress()
        cap = settings.max_body_bytes(source)
        request = self.client.build_request(method, target, json=json, data=data,
                                            files=dict(files) if files else None,
                                            headers=dict(headers or {}))
        started = time.monotonic()

        async def attempt() -> RawPayload:
            progress.response, progress.body, progress.final_url = None, bytearray(), None
            response, body = await self._exchange(request, cap, progress)
            if response.status_code in RETRY_STATUSES:
                retry_after = parse_retry_after(response.headers.get("retry-after"),
                                                self.clock.now())
                if retry_after is not None and retry_after > MAX_RETRY_AFTER_S:
                    # Asked to come back later than this run waits: say so now, rather than
                    # sleep into the deadline and report a timeout.
                    self.down[host] = f"asked to wait {_duration(retry_after)}"
                    raise _Refused(f"answered HTTP {response.status_code} with Retry-After "
                                   f"{_duration(retry_after)}, longer than the "
                                   f"{MAX_RETRY_AFTER_S:g} s this run waits", response, body)
                raise _RetryableStatus(response, body, retry_after)
            return self._raw(source, shown, response, body, None, progress.final_url)

        attempts = settings.attempts
        try:
            async with asyncio.timeout(settings.deadline_s):
                async for tried in AsyncRetrying(
                    stop=stop_after_attempt(attempts),
                    wait=_wait(settings.backoff_s),
                    retry=retry_if_exception(_is_retryable if repeatable else _never_received),
                    reraise=True,
                ):
                    with tried:
                        raw = await attempt()
        except TimeoutError:
            received = len(progress.body)
            error = (f"no complete answer within the {settings.deadline_s:g} s deadline "
                     f"({received:,} bytes received)")
            self.down[down_key] = f"passed the {settings.deadline_s:g} s deadline"
            failed = self._raw(source, shown, progress.response, bytes(progress.body[:KEPT_ON_FAILURE]),
                               error, progress.final_url)
            raise _fetch_error(f"{host}: {error}", failed) from None
        except _Refused as exc:
            failed = self._raw(source, shown, exc.response, exc.body[:KEPT_ON_FAILURE], exc.reason,
                               progress.final_url)
            raise _fetch_error(f"{host}: {exc.reason}", failed) from None
        except _RetryableStatus as exc:
            error = (f"answered HTTP {exc.response.status_code} after {attempts} attempts"
                     if repeatable else f"answered HTTP {exc.response.status_code}{once}")
            failed = self._raw(source, shown, exc.response, exc.body[:KEPT_ON_FAILURE], error,
                               progress.final_url)
            raise _fetch_error(f"{host}: {error}", failed) from None
        except httpx.TimeoutException as exc:
            error = (f"timed out after {attempts} attempts ({type(exc).__name__})" if repeatable
                     or isinstance(exc, httpx.ConnectTimeout)
                     else f"timed out ({type(exc).__name__}){once}")
            self.down[down_key] = "timed out"
            failed = self._raw(source, shown, progress.response,
                               bytes(progress.body[:KEPT_ON_FAILURE]), error)
            raise _fetch_error(f"{host}: {error}", failed,
                               maybe_received=not _never_received(exc)) from None
        except httpx.TransportError as exc:
            error = (f"connection failed after {attempts} attempts ({type(exc).__name__}: {exc})"
                     if repeatable or isinstance(exc, httpx.ConnectError)
                     else f"connection failed ({type(exc).__name__}: {exc}){once}")
            failed = self._raw(source, shown, progress.response,
                               bytes(progress.body[:KEPT_ON_FAILURE]), error)
            raise _fetch_error(f"{host}: {error}", failed,
                               maybe_received=not _never_received(exc)) from None
        finally:
            self.exchanges.append((source, f"{host}{target.path}", time.monotonic() - started))

        if raw.status not in ok_statuses:
            error = f"answered HTTP {raw.status}"
            raise _fetch_error(f"{host}: {error}", replace(raw, body=raw.body[:KEPT_ON_FAILURE],
                                                          error=error))
        return raw

    async def _exchange(self, request: httpx.Request, cap: int,
                        progress: _Progress) -> tuple[httpx.Response, bytes]:
        """Send `request`, following allowed redirects; read the body under the cap."""
        origin = request.url
        for _hop in range(MAX_REDIRECTS + 1):
            response = await self.client.send(request, stream=True)
            progress.response = response
            try:
                if response.is_redirect and response.next_request is not None:
                    await self._check_redirect(origin, response)
                    request = response.next_request
                    progress.final_url = redact_url(str(request.url))
                    continue
                return response, await self._read(response, cap, progress)
            finally:
                await response.aclose()
        raise _Refused(f"more than {MAX_REDIRECTS} redirects", progress.response, b"")

    async def _check_redirect(self, origin: httpx.URL, response: httpx.Response) -> None:
        target = response.next_request.url if response.next_request else origin
        where = redact_url(str(target))
        if origin.scheme == "https" and target.scheme != "https":
            raise _Refused(f"refused a redirect from https to {where}", response, b"")
        if (_authority(target) != _authority(origin)
                and target.host not in self.settings.redirect_hosts
                and f"{target.host}:{_port(target)}" not in self.settings.redirect_hosts):
            # Another port of the same host is another server (an admin or debug port).
            raise _Refused(f"refused a redirect to another host or port: {where} "
                           "(allow it in http.redirect_hosts)", response, b"")
        if await _host_is_private(target.host) and not await _host_is_private(origin.host):
            raise _Refused(f"refused a redirect to a private address: {where}", response, b"")

    async def _read(self, response: httpx.Response, cap: int, progress: _Progress) -> bytes:
        if response.is_stream_consumed:  # built in memory (httpx.MockTransport): already read
            if len(response.content) > cap:
                raise _Refused(f"answer larger than the {cap / 1024 / 1024:g} MB cap for this "
                               "source", response, response.content[:KEPT_ON_FAILURE])
            return response.content
        try:
            decoder = _BoundedDecoder(response.headers.get("content-encoding", ""), cap)
        except ValueError as exc:
            raise _Refused(str(exc), response, b"") from None
        raw_received = bytearray()
        try:
            async for chunk in response.aiter_raw():
                if len(raw_received) < KEPT_ON_FAILURE:
                    raw_received += chunk[: KEPT_ON_FAILURE - len(raw_received)]
                progress.body += decoder.feed(chunk)
                if decoder.exceeded:
                    raise OverflowError
            progress.body += decoder.flush()
            if decoder.exceeded:
                raise OverflowError
        except OverflowError:
            raise _Refused(f"answer larger than the {cap / 1024 / 1024:g} MB cap for this source "
                           "(cut off; counted after decompression)", response,
                           bytes(progress.body[:KEPT_ON_FAILURE])) from None
        except zlib.error as exc:
            raise _Refused(f"undecodable {response.headers.get('content-encoding')} body ({exc})",
                           response, bytes(raw_received)) from None
        return bytes(progress.body)

    def _raw(self, source: str, url: str, response: httpx.Response | None, body: bytes,
             error: str | None, final_url: str | None = None) -> RawPayload:
        headers: dict[str, str] = {}
        if response is not None:
            headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
        if final_url and final_url != url:
            headers[FINAL_URL_HEADER] = final_url
        return RawPayload(
            source=source, url=url, status=response.status_code if response is not None else None,
            body=body, fetched_at=self.clock.now(), headers=headers, error=error,
        )


def _duration(seconds: float) -> str:
    """3600 → '3600 s (1 h 0 min)': the header's figure, and what it means."""
    if seconds < 120:
        return f"{seconds:g} s"
    minutes = round(seconds / 60)
    return f"{seconds:g} s ({minutes // 60} h {minutes % 60} min)" if minutes >= 60 else \
        f"{seconds:g} s ({minutes} min)"


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, _RetryableStatus | httpx.TransportError)


def _never_received(exc: BaseException) -> bool:
    """The request cannot have reached the server: its connection never opened."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)


def _wait(base: float) -> Any:
    exponential = wait_exponential(multiplier=base, max=30)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryableStatus) and exc.retry_after is not None:
            return exc.retry_after
        return float(exponential(state))

    return wait


def _fetch_error(message: str, raw: RawPayload, *, maybe_received: bool = True) -> FetchError:
    err = FetchError(message, status=raw.status)
    err.raw = raw
    err.maybe_received = maybe_received
    return err
