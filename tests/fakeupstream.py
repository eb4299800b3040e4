"""A fake upstream HTTP server on 127.0.0.1 serving recorded payloads, with injected faults.

Every upstream host is mounted under its own path prefix: a payload recorded from
`https://api.coingecko.com/api/v3/global` is served at
`http://127.0.0.1:PORT/api.coingecko.com/api/v3/global`, so a config only has to point each
base URL at `upstream.url_for("https://api.coingecko.com/api/v3/")`. POST bodies (JSON-RPC,
Hyperliquid /info) pick the payload whose file name contains the request's "method"/"type".

Faults, per host: "timeout" (sleep past the client's timeout), "429" (always), "429-once"
(429 with Retry-After: 1, then normal), "500", "truncated" (body cut in half), "malformed"
(a JSON body that does not parse), "delay" (answer after `delay_s`).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from reportgen import sample as sample_data

SAMPLE_ROOT = Path(sample_data.__file__).parent / "data"


@dataclass
class Route:
    status: int
    body: bytes
    headers: dict[str, str]
    file: str
    # Recorded query parameters (and, for POST APIs, the URL fragment's "type=…&user=…"):
    # among routes of one path, the one matching most of the request's parameters answers.
    params: frozenset[tuple[str, str]] = frozenset()


@dataclass
class Upstream:
    server: ThreadingHTTPServer
    routes: dict[str, list[Route]] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    hang_s: float = 5.0
    requests: list[tuple[str, str]] = field(default_factory=list)
    # path → fn(query, body) -> (status, body): for answers that depend on the request
    handlers: dict[str, Any] = field(default_factory=dict)
    _fired: set[str] = field(default_factory=set)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url_for(self, original: str) -> str:
        """The loopback URL that serves what `original` would."""
        parts = urlsplit(original)
        return f"{self.base}/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def add(self, original_url: str, body: bytes, status: int = 200,
            headers: dict[str, str] | None = None, file: str = "") -> None:
        parts = urlsplit(original_url)
        key = f"/{parts.netloc}{parts.path}"
        params = frozenset(parse_qsl(parts.query) + parse_qsl(parts.fragment))
        self.routes.setdefault(key, []).append(
            Route(status, body, headers or {"content-type": "application/json"}, file, params)
        )

    def handle(self, original_url: str, fn: Any) -> None:
        """Answer requests to `original_url`'s path with fn(query, body) -> (status, body)."""
        parts = urlsplit(original_url)
        self.handlers[f"/{parts.netloc}{parts.path}"] = fn

    def load_day(self, day: date, sources: list[str] | None = None) -> None:
        """Serve every sample payload recorded for `day` (optionally only some sources)."""
        for folder in sorted((SAMPLE_ROOT / day.isoformat()).iterdir()):
            if sources is not None and folder.name not in sources:
                continue
            for entry in json.loads((folder / "index.json").read_text()):
                self.add(entry["url"], (folder / entry["file"]).read_bytes(),
                         entry.get("status", 200), entry.get("headers"), entry["file"])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_upstream() -> Upstream:
    upstream: Upstream

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _serve(self, body_in: bytes) -> None:
            path = urlsplit(self.path).path
            upstream.requests.append((self.command, self.path))
            host = path.split("/")[1] if path.count("/") >= 1 else ""
            fault = upstream.faults.get(host)
            if upstream.delay_s:
                time.sleep(upstream.delay_s)
            if fault == "timeout":
                time.sleep(upstream.hang_s)
            if fault == "429" or (fault == "429-once" and host not in upstream._fired):
                upstream._fired.add(host)
                return self._send(429, b'{"status":{"error_code":429,"error_message":"rate limited"}}',
                                  {"retry-after": "1", "content-type": "application/json"})
            if fault == "500":
                return self._send(500, b"<html><body>Internal Server Error</body></html>",
                                  {"content-type": "text/html"})
            if path in upstream.handlers:
                status, body = upstream.handlers[path](urlsplit(self.path).query, body_in)
                return self._send(status, body, {"content-type": "application/json"})
            routes = upstream.routes.get(path) or upstream.routes.get(path.rstrip("/") + "/") \
                or upstream.routes.get(path.rstrip("/"))
            if not routes:
                return self._send(404, b'{"error":"not found"}', {"content-type": "application/json"})
            route = routes[0]
            if len(routes) > 1:
                asked = set(parse_qsl(urlsplit(self.path).query))
                try:
                    request = json.loads(body_in) if body_in else {}
                except ValueError:
                    request = {}
                if isinstance(request, dict):
                    asked |= {(k, str(v)) for k, v in request.items() if not isinstance(v, (list, dict))}
                wanted = str(request.get("method") or "") if isinstance(request, dict) else ""
                route = max(routes, key=lambda r: (len(r.params & asked),
                                                   bool(wanted) and wanted in r.file))
            body = route.body
            if fault == "truncated":
                body = body[: len(body) // 2]
            elif fault == "malformed":
                body = b'{"data": {"total_market_cap": [1, 2,, }'
            self._send(route.status, body, route.headers)

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
