"""The command line under an operator's mistakes and an upstream's odd text: one clear line
and the right exit code, never a traceback."""

from __future__ import annotations

import errno
import os
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.config import config_from_mapping, load_config
from reportgen.errors import ConfigError
from tests.conftest import live_config, only_sources, write_config
from tests.fakeupstream import Upstream

MARKUP = "[/] maintenance [bold red]back soon[/bold red"


def _cli(*args: str, **env: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400", **env})


def _clean_exit(result: Any, code: int) -> None:
    """Exit `code` through the CLI's own error path: one line, no traceback."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


# -- 6. upstream text is never rich markup --------------------------------------------------


def test_a_section_reason_with_rich_markup_does_not_crash_run_or_render(
        tmp_path: Path, upstream: Upstream) -> None:
    upstream.handle("https://stablecoins.llama.fi/stablecoins",
                    lambda _query, _body: (200, MARKUP.encode()))
    data = only_sources(live_config(upstream, tmp_path / "out"), "stablecoins")
    config = write_config(tmp_path / "config.yaml", data)
    env = {"REPORTGEN_NOW": "2025-06-11T12:00:00+00:00"}
    run = _cli("-c", str(config), "run", "--formats", "md", "--no-publish", "--no-send", **env)
    _clean_exit(run, 3)
    assert "[/] maintenance" in run.output  # shown as text
    brief = (tmp_path / "out" / "reports" / "2025-06-11" / "brief.md").read_text(encoding="utf-8")
    assert "maintenance" in brief

    render = _cli("-c", str(config), "render", "--date", "2025-06-11", "--formats", "md", **env)
    _clean_exit(render, 3)
    assert "[/] maintenance" in render.output


# -- 7. paths and dates ------------------------------------------------------------------------


def test_the_filesystem_root_is_not_an_output_folder() -> None:
    # Checked without running a command: code that accepts "/" would write /archive.sqlite.
    from reportgen.errors import UsageError
    from reportgen.writer import check_output

    with pytest.raises(ConfigError, match="output: / is the filesystem root"):
        config_from_mapping({"output": "/"})
    with pytest.raises(UsageError, match="filesystem root"):
        check_output(Path("/"))


def _bad_outputs(tmp_path: Path) -> list[tuple[str, str]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder\n")
    return [(str(a_file), "is a file"),
            (str(a_file / "sub"), "cannot be written"),
            ("/proc/reportgen-no-such-folder", "cannot be written"),
            ("/proc/self", "cannot be written")]


@pytest.mark.parametrize("command", [["collect", "--sample"], ["publish"], ["render"]])
def test_an_output_folder_that_cannot_be_one_is_bad_usage(tmp_path: Path, command: list[str]) -> None:
    for output, words in _bad_outputs(tmp_path):
        result = _cli("-o", output, *command)
        _clean_exit(result, 2)
        assert result.output.startswith("error:") and words in result.output, result.output
        assert result.output.count("\n") == 1, result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_an_unwritable_output_folder_is_bad_usage(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        result = _cli("-o", str(locked / "out"), "collect", "--sample")
    finally:
        locked.chmod(0o700)
    _clean_exit(result, 2)
    assert "cannot be written" in result.output


def test_a_full_disk_is_one_line_and_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen.archive import Archive
    from reportgen.writer import OutputWriter

    def no_space(self: OutputWriter, relative: Any, data: bytes) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path(relative)))

    monkeypatch.setattr(OutputWriter, "write_bytes", no_space)
    result = _cli("-o", str(tmp_path / "out"), "run", "--sample", "--formats", "md")
    _clean_exit(result, 1)
    assert "No space left on device" in result.output and "free some space" in result.output
    assert result.output.count("\n") <= 13  # the source lines, then one error line

    def db_full(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Archive, "add_payloads", db_full)
    result = _cli("-o", str(tmp_path / "out2"), "collect", "--sample")
    _clean_exit(result, 1)
    assert "database or disk is full" in result.output and "free some space" in result.output


@pytest.mark.parametrize("args", [
    ["run", "--date", "0001-01-01"],
    ["run", "--date", "1970-01-01", "--formats", "md"],
    ["collect", "--date", "2013-04-27"],
    ["render", "--date", "1999-12-31"],
    ["backfill", "--sample", "--from", "1970-01-01", "--to", "2025-06-11"],
])
def test_dates_before_any_source_are_refused_with_the_reason(tmp_path: Path, upstream: Upstream,
                                                             args: list[str]) -> None:
    # Every upstream is the loopback fake: code that accepts the date stays off the internet.
    config = write_config(tmp_path / "config.yaml", live_config(upstream, tmp_path / "out"))
    result = _cli("-c", str(config), *args, REPORTGEN_NOW="2025-06-11T12:00:00+00:00")
    _clean_exit(result, 2)
    assert "2013-04-28" in result.output and "CoinGecko" in result.output
    assert not (tmp_path / "out" / "reports").exists()


# -- 9. config: URLs and duplicate keys -----------------------------------------------------


@pytest.mark.parametrize(("key", "value"), [
    ("report.original_url", "javascript:alert(document.cookie)"),
    ("report.original_url", "data:text/html,<script>alert(1)</script>"),
    ("news.feeds.0.url", "/etc/passwd"),
    ("etf.farside_btc_url", "file:///etc/passwd"),
    ("liquidation.binance_url", "ftp://fapi.binance.com"),
    ("site.url", "javascript://briefs.example.org/"),
    ("email.list_unsubscribe_url", "https:///no-host"),
])
def test_every_url_key_takes_only_http_or_https(key: str, value: str) -> None:
    data: dict[str, Any] = {}
    if key.startswith("news.feeds"):
        data["news"] = {"feeds": [{"name": "Local", "kind": "rss", "url": value}]}
    else:
        section, name = key.split(".")
        data[section] = {name: value}
    refusal = r": (base )?URLs? (must )?(start with|name a host)"  # liquidation words it its way
    with pytest.raises(ConfigError, match=re.escape(key) + refusal):
        config_from_mapping(data)


def test_a_javascript_original_url_is_refused_by_the_cli(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yaml", {
        "output": str(tmp_path / "out"), "report": {"original_url": "javascript:alert(1)"}})
    result = _cli("-c", str(config), "run", "--sample", "--formats", "md")
    _clean_exit(result, 2)
    assert "report.original_url" in result.output


def test_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("output: /srv/briefs\ntimezone: UTC\noutput: /tmp/elsewhere\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"key 'output' is given twice \(lines 1 and 3\)"):
        load_config(path)
    path.write_text("output: out\nsite:\n  title: A\n  title: B\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"key 'title' is given twice \(lines 3 and 4\)"):
        load_config(path)
    path.write_text("base: &base {enabled: true, base_url: 'https://a.example/'}\n"
                    "sources:\n  coingecko:\n    <<: *base\n    base_url: 'https://b.example/'\n"
                    "output: out\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="base: unknown key"):  # merges still work
        load_config(path)


def test_an_address_with_a_line_break_in_the_config_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"email\.from_addr: .*control character"):
        config_from_mapping({"email": {"from_addr": "brief@example.org\r\nBcc: eve@example.org"}})
    with pytest.raises(ConfigError, match=r"email\.to\.0|email\.to: "):
        config_from_mapping({"email": {"to": ["a@example.org\nX-Injected: 1"]}})
