"""Configuration validation and the CLI edge: messages that name the key, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.config import config_from_mapping, load_config, secrets_from_env
from reportgen.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("data, message", [
    ({"sources": {"coingecko": {"bogus": 1}}}, "sources.coingecko.bogus: unknown key"),
    ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone"),
    ({"http": {"timeout_s": "fast"}}, "http.timeout_s"),
    ({"http": {"attempts": 0}}, "http.attempts"),
    ({"sources": {"feargreed": {"base_url": "ftp://x"}}}, "sources.feargreed.base_url: URL must start"),
    ({"report": {"formats": ["html", "docx"]}}, "report.formats.1"),
    # a double port used to pass here and end in an IndexError that never named the URL
    ({"sources": {"coingecko": {"pro_base_url": "https://pro-api.coingecko.com:443:443/api/v3/"}}},
     "sources.coingecko.pro_base_url: URL has no valid port after the host: "
     "'pro-api.coingecko.com:443:443'"),
    ({"sources": {"feargreed": {"base_url": "https://:8080/fng/"}}},
     "sources.feargreed.base_url: URL must name a host before its port"),
    ({"email": {"list_unsubscribe_url": "http://example.com/unsubscribe"}},
     "email.list_unsubscribe_url: must be an https:// URL"),
])
def test_bad_config_names_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        config_from_mapping(data)


def test_repository_config_yaml_is_valid() -> None:
    config = load_config(REPO / "config.yaml", env={})
    assert config.timezone == "UTC"


def test_output_option_beats_env_beats_file(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    file.write_text("output: from-file\n")
    assert str(load_config(file, env={}).output) == "from-file"
    assert str(load_config(file, env={"REPORTGEN_OUTPUT": "from-env"}).output) == "from-env"
    assert str(load_config(file, output=Path("opt"), env={"REPORTGEN_OUTPUT": "e"}).output) == "opt"


def test_secrets_only_from_environment() -> None:
    assert secrets_from_env({"REPORTGEN_ETHERSCAN_KEY": "k", "OTHER": "x"}) == {"etherscan_key": "k"}
    with pytest.raises(ConfigError, match="unknown key"):
        config_from_mapping({"sources": {"gas": {"etherscan_key": "in-a-file"}}})


def test_not_yaml_mapping(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    file.write_text("- a list\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(file, env={})


def test_cli_bad_config_exits_2(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    file.write_text("sources:\n  coingeko: {}\n")
    result = CliRunner().invoke(app, ["--config", str(file), "run", "--sample"])
    assert result.exit_code == 2
    assert "sources.coingeko: unknown key" in result.output


@pytest.mark.parametrize("args, message", [
    (["run", "--date", "2025-13-01"], "is not a date"),
    (["run", "--sample", "--date", "2024-01-01"], "covers 2025-06-05 to 2025-06-11"),
    (["run", "--date", "2999-01-01"], "is in the future"),
    (["run", "--sample", "--formats", "html,docx"], "choose from html, pdf, md"),
])
def test_cli_bad_usage_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["--output", str(tmp_path), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_an_unknown_log_format_in_the_environment_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--output", str(tmp_path), "status"],
                                env={"REPORTGEN_LOG_FORMAT": "xml"})
    assert result.exit_code == 2, result.output
    assert "REPORTGEN_LOG_FORMAT='xml': choose one of text, json" in result.output


def test_every_command_has_help_text() -> None:
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help, f"command {name} has no help text"
        for param in command.params:
            if param.name != "help" and getattr(param, "help", None) is None:
                pytest.fail(f"{name} --{param.name} has no help text")


def test_render_without_archive_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--output", str(tmp_path), "render", "--date", "2025-06-11"])
    assert result.exit_code == 2
    assert "reportgen collect --date 2025-06-11" in result.output
