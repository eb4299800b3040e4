"""A fake upstream HTTP server on 127.0.0.1 serving recorded exchanges, with injected faults.

Every upstream host is mounted under its own path prefix: an exchange recorded from
`https://api.coingecko.com/api/v3/global` is served at
`http://127.0.0.1:PORT/api.coingecko.com/api/v3/global`, so a config only has to point each
base URL at `upstream.url_for("https://api.coingecko.com/api/v3/")`.

Strict: a recording answers only the request it records — method, path, the whole query (as
a multiset of parameters) and, for POST, the JSON body (JSON-RPC `method` and `params`;
Hyperliquid `type` and `user`; `id`/`jsonrpc` are not compared). A host can require an API
key (`require_key`), as a query parameter or header, which is then left out of the query
comparison. A request that nothing answers gets a 404 *and* is kept in `unmatched`; the
`upstream` fixture fails the test that made it, printing the request. Every request is kept
in `log` (method, path with query, body, headers) so tests can check what was asked.

Recordings come from `reportgen/sample/data/<day>/<source>/index.json` entries
`{file, url, status, headers, request?: {method, json}}` (Hyperliquid's older entries spell
the POST body as a URL fragment, `…/info#type=clearinghouseState&user=0x…`), or from `add`.

Faults, per host: "timeout" (sleep past the client's timeout), "429" (always), "429-once"
(429 with Retry-After: 1, then normal), "500", "truncated" (body cut in half), "malformed"
(a JSON body that does not parse), "delay" (answer after `delay_s`), "trickle" (one byte a
second), "endless" (a body that never ends), "gzip-bomb" (gzip that inflates to `bomb_mb` MB),
"corrupt-gzip", "redirect-private" (a redirect to 169.254.169.254). `path_faults` injects one
per request instead, keyed by an original URL: its path and the query parameters it names
(`https://fapi.binance.com/futures/data/openInterestHist?symbol=ETHUSDT` fails ETH only).
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from reportgen import sample as sample_data

SAMPLE_ROOT = Path(sample_data.__file__).parent / "data"
# JSON-RPC envelope fields that differ per call and say nothing about what was asked.
_ENVELOPE = ("id", "jsonrpc")


@dataclass
class Route:
    status: int
    body: bytes
    headers: dict[str, str]
    file: str
    method: str = "GET"
    query: Counter[tuple[str, str]] = field(default_factory=Counter)
    json_body: dict[str, Any] | None = None  # for POST: the body it answers

    def answers(self, method: str, query: Counter[tuple[str, str]], body: Any) -> bool:
        if method != self.method or query != self.query:
            return False
        if self.method != "POST":
            return True
        if not isinstance(body, dict) or self.json_body is None:
            return False
        asked = {k: v for k, v in body.items() if k not in _ENVELOPE}
        wanted = {k: v for k, v in self.json_body.items() if k not in _ENVELOPE}
        return _canon(asked) == _canon(wanted)


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _gzip_bomb(mb: int) -> bytes:
    """A gzip member about mb KB long that inflates to `mb` MB of zeros."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    return b"".join(packer.compress(block) for _ in range(mb)) + packer.flush()


@dataclass
class Upstream:
    server: ThreadingHTTPServer
    routes: dict[str, list[Route]] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)
    path_faults: dict[str, str] = field(default_factory=dict)  # original URL → fault
    delay_s: float = 0.0
    hang_s: float = 5.0
    requests: list[tuple[str, str]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    strict: bool = True  # a test that probes unknown paths on purpose sets this False
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # host → (name, value)
    # path → fn(query, body) -> (status, body): for answers that depend on the request
    handlers: dict[str, Any] = field(default_factory=dict)
    # path → fn(query, body) -> (status, body) | None: asked only when no recording answers;
    # None leaves the request unmatched
    fallbacks: dict[str, Any] = field(default_factory=dict)
    _fired: set[str] = field(default_factory=set)
    bomb_mb: int = 64  # what the "gzip-bomb" fault inflates to
    _bomb: bytes = b""

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url_for(self, original: str) -> str:
        """The loopback URL that serves what `original` would."""
        parts = urlsplit(original)
        return f"{self.base}/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def add(self, original_url: str, body: bytes, status: int = 200,
            headers: dict[str, str] | None = None, file: str = "", *,
            method: str | None = None, json_body: dict[str, Any] | None = None) -> None:
        """Record an exchange: `original_url`'s query is what the request must carry."""
        parts = urlsplit(original_url)
        key = f"/{parts.netloc}{parts.path}"
        if parts.fragment and json_body is None:  # Hyperliquid's POST body spelled as a fragment
            json_body = dict(parse_qsl(parts.fragment))
        method = method or ("POST" if json_body is not None else "GET")
        self.routes.setdefault(key.rstrip("/") or "/", []).append(Route(
            status, body, headers or {"content-type": "application/json"}, file, method,
            Counter(parse_qsl(parts.query, keep_blank_values=True)), json_body))

    def require_key(self, original_url: str, name: str, value: str) -> None:
        """Requests to `original_url`'s host must carry `name`=`value` (query or header)."""
        self.keys[urlsplit(original_url).netloc] = (name, value)

    def handle(self, original_url: str, fn: Any) -> None:
        """Answer requests to `original_url`'s path with fn(query, body) -> (status, body)."""
        parts = urlsplit(original_url)
        self.handlers[f"/{parts.netloc}{parts.path}"] = fn

    def fallback(self, original_url: str, fn: Any) -> None:
        """Ask fn(query, body) for requests to `original_url`'s path that no recording
        answers; it returns (status, body), or None for a request it does not know either."""
        parts = urlsplit(original_url)
        self.fallbacks[f"/{parts.netloc}{parts.path}".rstrip("/")] = fn

    def load_day(self, day: date, sources: list[str] | None = None) -> None:
        """Serve every sample exchange recorded for `day` (optionally only some sources).

        With gas, the lookups that find an earlier day's last block (the previous-day
        figure) are answered by `chain_before`, a constructed chain whose head is `day`."""
        if sources is None or "gas" in sources:
            head = int(datetime.combine(day, time_of_day(23, 58), tzinfo=UTC).timestamp())
            self.fallback("https://ethereum-rpc.publicnode.com", chain_before(head))
        for folder in sorted((SAMPLE_ROOT / day.isoformat()).iterdir()):
            if sources is not None and folder.name not in sources:
                continue
            for entry in json.loads((folder / "index.json").read_text()):
                asked = entry.get("request") or {}
                self.add(entry["url"], (folder / entry["file"]).read_bytes(),
                         entry.get("status", 200), entry.get("headers"), entry["file"],
                         method=asked.get("method"), json_body=asked.get("json"))

    def asked(self, host: str) -> list[dict[str, Any]]:
        """The logged requests to `host`."""
        return [r for r in self.log if r["host"] == host]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


CHAIN_GENESIS = 1_438_269_973  # the constructed chain: one block every 12 s from here


def chain_before(head_ts: int) -> Any:
    """A constructed chain for block-by-time lookups of past days: one block every 12 s,
    head at `head_ts`, base fee 1.0 gwei and tip 0.5 gwei for any block asked by number.
    Answers eth_blockNumber, eth_getBlockByNumber and eth_feeHistory of a numbered block."""

    def answer(_query: str, body: bytes) -> tuple[int, bytes] | None:
        request = json.loads(body)
        method, params = request.get("method"), request.get("params") or []
        head = (head_ts - CHAIN_GENESIS) // 12
        if method == "eth_blockNumber":
            result: Any = hex(head)
        elif method == "eth_getBlockByNumber":
            result = {"number": params[0],
                      "timestamp": hex(CHAIN_GENESIS + 12 * int(params[0], 16))}
        elif method == "eth_feeHistory" and params[1] != "latest":
            count, newest = int(params[0], 16), int(params[1], 16)
            result = {"oldestBlock": hex(newest - count + 1),
                      "baseFeePerGas": [hex(10**9)] * (count + 1),
                      "gasUsedRatio": [0.5] * count, "reward": [[hex(5 * 10**8)]] * count}
        else:
            return None
        return 200, json.dumps({"jsonrpc": "2.0", "id": request.get("id"),
                                "result": result}).encode()

    return answer


def start_upstream() -> Upstream:
    upstream: Upstream

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _serve(self, body_in: bytes) -> None:
            split = urlsplit(self.path)
            path = split.path
            host = path.split("/")[1] if path.count("/") >= 1 else ""
            query = parse_qsl(split.query, keep_blank_values=True)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                body = json.loads(body_in) if body_in else None
            except ValueError:
                body = None
            upstream.requests.append((self.command, self.path))
            upstream.log.append({"method": self.command, "host": host, "path": path,
                                 "query": query, "json": body, "headers": headers})
            fault, fired = upstream.faults.get(host), host
            for original, path_fault in upstream.path_faults.items():
                parts = urlsplit(original)
                if path == f"/{parts.netloc}{parts.path}" and \
                        Counter(parse_qsl(parts.query)) <= Counter(query):
                    fault, fired = path_fault, original  # a "-once" fault fires once per key
            if upstream.delay_s:
                time.sleep(upstream.delay_s)
            if fault == "timeout":
                time.sleep(upstream.hang_s)
            if fault == "429" or (fault == "429-once" and fired not in upstream._fired):
                upstream._fired.add(fired)
                return self._send(429, b'{"status":{"error_code":429,"error_message":"rate limited"}}',
                                  {"retry-after": "1", "content-type": "application/json"})
            if fault == "500":
                return self._send(500, b"<html><body>Internal Server Error</body></html>",
                                  {"content-type": "text/html"})
            if fault in ("trickle", "endless", "gzip-bomb", "corrupt-gzip", "redirect-private"):
                return self._hostile(fault)

            if host in upstream.keys:
                name, value = upstream.keys[host]
                sent = dict(query).get(name) or headers.get(name.lower())
                if sent != value:
                    return self._unmatched(f"API key {name} not sent (got {sent!r})", body_in)
                query = [(k, v) for k, v in query if k != name]

            if path in upstream.handlers:
                status, answer = upstream.handlers[path](split.query, body_in)
                return self._send(status, answer, {"content-type": "application/json"})
            routes = upstream.routes.get(path.rstrip("/") or "/", [])
            asked = Counter(query)
            route = next((r for r in routes if r.answers(self.command, asked, body)), None)
            fallback = upstream.fallbacks.get(path.rstrip("/"))
            if route is None and fallback is not None:
                answered = fallback(split.query, body_in)
                if answered is not None:
                    return self._send(answered[0], answered[1], {"content-type": "application/json"})
            if route is None:
                return self._unmatched("no recording answers it" if routes else
                                       "no recording for this path", body_in,
                                       recorded=fault != "timeout")
            answer = route.body
            if fault == "truncated":
                answer = answer[: len(answer) // 2]
            elif fault == "malformed":
                answer = b'{"data": {"total_market_cap": [1, 2,, }'
            self._send(route.status, answer, route.headers)

        def _unmatched(self, why: str, body_in: bytes, recorded: bool = True) -> None:
            """404 for a request nothing answers, kept in `unmatched` unless it timed out
            (the client has given up: asking a fallback the recording lacks is the test's
            point, not a mistake)."""
            shown = f"{self.command} {self.path}"
            if body_in:
                shown += f" body={body_in[:300]!r}"
            if recorded:
                upstream.unmatched.append(f"{shown}: {why}")
            self._send(404, json.dumps({"error": f"fake upstream: {why}"}).encode(),
                       {"content-type": "application/json"})

        def _hostile(self, fault: str) -> None:
            try:
                if fault == "redirect-private":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if fault in ("gzip-bomb", "corrupt-gzip"):
                    if fault == "gzip-bomb" and not upstream._bomb:
                        upstream._bomb = _gzip_bomb(upstream.bomb_mb)
                    # corrupt: a gzip header followed by bytes that are not deflate data
                    body = (upstream._bomb if fault == "gzip-bomb"
                            else b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 90)
                    self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                started = time.monotonic()
                while time.monotonic() - started < 300:  # bounded: the client gives up first
                    if fault == "trickle":
                        self.wfile.write(b"1\r\n \r\n")
                        self.wfile.flush()
                        time.sleep(1.0)
                    else:
                        chunk = b'{"x": "' + b"a" * 65_000 + b'"},'
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "content-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_GET(self) -> None:
            self._serve(b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self._serve(self.rfile.read(length) if length else b"")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    upstream = Upstream(server=server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return upstream
