"""`reportgen sources` against a loopback server; JSON logs; the date lock on manual runs."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.locks import date_lock
from reportgen.logs import JsonFormatter, log_format
from reportgen.registry import source_classes


class _Handler(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.send_response(503 if self.path.startswith("/down") else 200)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path, base: str, stablecoins: str) -> Path:
    data = {
        "output": str(tmp_path / "out"),
        "http": {"timeout_s": 2.0},
        "sources": {
            "coingecko": {"base_url": f"{base}/cg/"},
            "feargreed": {"base_url": f"{base}/fng/"},
            "stablecoins": {"base_url": stablecoins},
            "gas": {"rpc_url": f"{base}/rpc"},
        },
    }
    # Check just the core market sources: the others, which point at the internet by
    # default, are switched off (and reported so, not probed).
    for cls in source_classes():
        if cls.name not in CORE:
            node = data
            for part in cls.config_key().split("."):
                node = node.setdefault(part, {})
            node["enabled"] = False
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


CORE = {"coingecko", "gas", "altseason", "feargreed", "stablecoins"}


def test_sources_all_reachable(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTGEN_COINGECKO_DEMO_KEY", "secret-value-123")
    config = _config(tmp_path, server, f"{server}/llama")
    result = CliRunner().invoke(app, ["--config", str(config), "sources"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert sum("reachable HTTP 200" in line for line in lines) == 5
    assert "REPORTGEN_COINGECKO_DEMO_KEY set" in result.output
    assert "REPORTGEN_COINGECKO_PRO_KEY missing" in result.output
    assert "secret-value-123" not in result.output
    assert "history: archive only" in result.output and "history: yes" in result.output


def test_sources_required_down_fails(server: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path, server, f"http://127.0.0.1:{_closed_port()}")
    result = CliRunner().invoke(app, ["--config", str(config), "sources"])
    assert result.exit_code == 1, result.output
    assert "required upstream down: stablecoins" in result.output


def test_sources_5xx_is_down_and_disabled_is_explained(server: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = _config(tmp_path, server, f"{server}/down")
    data = yaml.safe_load(path.read_text())
    data["sources"]["feargreed"]["enabled"] = False
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["--config", str(path), "sources"])
    assert result.exit_code == 1
    assert "DOWN" in result.output and "disabled in config" in result.output


def test_sources_json_is_one_document_on_stdout(server: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTGEN_COINGECKO_DEMO_KEY", "secret-value-123")
    config = _config(tmp_path, server, f"http://127.0.0.1:{_closed_port()}")
    result = CliRunner().invoke(app, ["--config", str(config), "sources", "--json"])
    assert result.exit_code == 1, result.output  # the exit code is the table's
    answer = json.loads(result.stdout)
    by_name = {s["name"]: s for s in answer["sources"]}
    assert answer["required_down"] == ["stablecoins"]
    assert by_name["stablecoins"]["down"] is True and by_name["stablecoins"]["reachable"] is False
    assert by_name["coingecko"]["reachable"] is True and by_name["coingecko"]["status"] == 200
    assert by_name["coingecko"]["keys"]["REPORTGEN_COINGECKO_DEMO_KEY"] is True
    assert not by_name["etf_farside"]["enabled"]
    assert "secret-value-123" not in result.stdout


def test_json_formatter_one_object_per_line() -> None:
    record = logging.makeLogRecord({"name": "reportgen.pipeline", "levelno": logging.INFO,
                                    "levelname": "INFO", "msg": "%s: %s",
                                    "args": ("2025-06-11", "render"), "day": "2025-06-11"})
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "2025-06-11: render" and entry["level"] == "info"
    assert entry["day"] == "2025-06-11" and entry["logger"] == "reportgen.pipeline"


def test_log_format_env_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    assert log_format("json") == "json"
    monkeypatch.setenv("REPORTGEN_LOG_FORMAT", "json")
    assert log_format("text") == "json"


def test_manual_run_refused_while_the_date_is_locked(tmp_path: Path) -> None:
    output = tmp_path / "out"
    held, release = threading.Event(), threading.Event()

    def other_process() -> None:  # a thread stands in: the lock is per thread of a process
        with date_lock(output, date(2025, 6, 11)):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=other_process)
    holder.start()
    try:
        assert held.wait(30)
        result = CliRunner().invoke(app, ["-o", str(output), "run", "--sample", "--formats", "md"])
    finally:
        release.set()
        holder.join()
    assert result.exit_code == 1
    assert "being produced by another process" in result.output
    assert not (output / "reports" / "2025-06-11" / "brief.md").exists()
