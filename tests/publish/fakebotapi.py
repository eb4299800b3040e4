"""A fake Telegram Bot API: a real HTTP server on 127.0.0.1 that records every call (HTTP
method, path, content type, form fields or JSON body, uploaded files) and answers as the
Bot API does: `{"ok": true, "result": …}`, or a scripted failure such as a 429 with
`parameters.retry_after` or a 503. Only POST /bot<TOKEN>/<known method> is served; any
other request is answered 404 and listed in `unmatched`, which a test asserts is empty."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto", "sendMediaGroup"})


@dataclass
class Call:
    """One request the fake received."""

    http_method: str
    path: str
    method: str  # the Bot API method: the path's last segment
    content_type: str
    fields: dict[str, str]  # form fields, or the JSON body's members as text
    files: dict[str, tuple[str, bytes, str]]  # field → (file name, bytes, content type)


@dataclass
class BotApi:
    """What the fake received, and what it answers next."""

    token: str
    calls: list[Call] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    # Bot API method → answers to give, first first: (HTTP status, JSON body)
    script: dict[str, list[tuple[int, dict[str, Any]]]] = field(
        default_factory=lambda: defaultdict(list))
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, method: str, status: int, **body: Any) -> None:
        """Answer the next call of `method` with `status` and an error body."""
        self.script[method].append((status, {"ok": False, "error_code": status, **body}))

    def methods(self) -> list[str]:
        return [call.method for call in self.calls]

    def answer(self, call: Call) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(call)
            scripted = self.script.get(call.method)
            if scripted:
                return scripted.pop(0)
        result: Any = {"message_id": len(self.calls), "chat": {"id": -1001234567890}}
        if call.method == "sendMediaGroup":
            media = json.loads(call.fields["media"])
            result = [{"message_id": len(self.calls) * 100 + i} for i in range(len(media))]
        return 200, {"ok": True, "result": result}


def _parse(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    if content_type.startswith("application/json"):
        data = json.loads(body)
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}, {}
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        fields, files = {}, {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename:
                files[str(name)] = (filename, payload, part.get_content_type())
            else:
                fields[str(name)] = payload.decode("utf-8")
        return fields, files
    raise ValueError(f"unexpected content type {content_type!r}")


@contextmanager
def serving(api: BotApi) -> Iterator[BotApi]:
    """Run the fake on 127.0.0.1 (a free port) until the block ends; `api.url` is its base."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            prefix = f"/bot{api.token}/"
            method = self.path.removeprefix(prefix)
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if not self.path.startswith(prefix) or method not in METHODS:
                api.unmatched.append(f"POST {self.path}")
                self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            content_type = self.headers.get("content-type", "")
            fields, files = _parse(content_type, body)
            status, answer = api.answer(Call("POST", self.path, method, content_type, fields, files))
            self._reply(status, answer)

        def do_GET(self) -> None:
            api.unmatched.append(f"GET {self.path}")
            self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})

        def _reply(self, status: int, answer: dict[str, Any]) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
