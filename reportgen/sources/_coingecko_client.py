"""pycoingecko over our HTTP seam (imported by the CoinGecko sources inside `fetch`).

pycoingecko knows CoinGecko's endpoints, parameter spelling and key handling (pro key →
pro host, demo key → `x_cg_demo_api_key`), but it is built on `requests` and hides response
bodies and headers. We keep its endpoint knowledge and replace its transport: a `requests`
adapter hands each request to the run's `reportgen.http.Http` (its whole policy: deadline,
retries, Retry-After, body cap, raw capture) on the caller's event loop. pycoingecko runs in
a worker thread so its blocking calls stay concurrent with the other sources, and every
exchange is recorded as a RawPayload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from pycoingecko import CoinGeckoAPI
from requests.adapters import BaseAdapter

from reportgen.models import RawPayload
from reportgen.sources.base import FetchContext

T = TypeVar("T")
_LOOP_WAIT_S = 600


class _SeamAdapter(BaseAdapter):
    """A requests adapter that performs the request with the run's Http."""

    def __init__(self, ctx: FetchContext, source: str, loop: asyncio.AbstractEventLoop,
                 captured: list[RawPayload]) -> None:
        super().__init__()
        self.ctx, self.source, self.loop, self.captured = ctx, source, loop, captured

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: float | tuple[float, float] | tuple[float, None] | None = None,
             verify: bool | str = True, cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
             proxies: Mapping[str, str] | None = None) -> requests.Response:
        future = asyncio.run_coroutine_threadsafe(
            self.ctx.http.get(self.source, str(request.url)), self.loop,
        )
        try:
            raw = future.result(timeout=_LOOP_WAIT_S)
        except Exception as exc:
            failed = getattr(exc, "raw", None)
            if isinstance(failed, RawPayload):
                self.captured.append(failed)
            raise
        self.captured.append(raw)
        response = requests.Response()
        response.status_code = raw.status or 0
        response._content = raw.body
        response.headers.update(raw.headers)
        response.url = raw.url
        response.request = request
        return response

    def close(self) -> None:
        pass


class CoinGeckoSession:
    """A pycoingecko client wired to our seam; `captured` holds every payload it fetched."""

    def __init__(self, ctx: FetchContext, source: str, *, base_url: str, pro_base_url: str) -> None:
        self.api = CoinGeckoAPI(
            api_key=ctx.secrets.get("coingecko_pro_key", ""),
            demo_api_key=ctx.secrets.get("coingecko_demo_key", ""),
        )
        # pycoingecko picks the host from the key; our config decides the URL of each host.
        self.api.api_base_url = (
            pro_base_url if ctx.secrets.get("coingecko_pro_key") else base_url
        )
        if not self.api.api_base_url.endswith("/"):
            self.api.api_base_url += "/"
        self.captured: list[RawPayload] = []
        self._ctx, self._source = ctx, source

    async def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one pycoingecko method in a worker thread, its I/O on this event loop."""
        adapter = _SeamAdapter(self._ctx, self._source, asyncio.get_running_loop(), self.captured)
        session = requests.Session()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self.api.session = session
        return await asyncio.to_thread(method, *args, **kwargs)
