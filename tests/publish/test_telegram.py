"""The Telegram channel against a fake Bot API on 127.0.0.1 (tests/publish/fakebotapi.py):
what each call asks (method, path, fields, files), the delivery log (never twice, an
unknown never reposted without --force), 429's retry_after, Telegram's HTML limits and
escaping, and the bot token kept out of every output."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from reportgen.archive import Archive
from reportgen.channels.base import Status
from reportgen.channels.telegram import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    caption,
    message_text,
    units,
)
from reportgen.cli import app
from reportgen.config import config_from_mapping
from reportgen.manifest import ReportManifest
from tests.conftest import write_config
from tests.importgraph import PACKAGE
from tests.publish.conftest import LAST
from tests.publish.fakebotapi import BotApi, serving

TOKEN = "7350012345:AAH-canary-TOKEN_0123456789abcdefXYZ"  # a canary: must appear nowhere
CHAT = "@reportgen_demo"
SITE = "https://briefs.example.org/daily/"


@pytest.fixture
def api() -> Iterator[BotApi]:
    with serving(BotApi(token=TOKEN)) as fake:
        yield fake
    assert fake.unmatched == []  # every request was one the Bot API serves


def _settings(api: BotApi, **telegram: Any) -> dict[str, Any]:
    return {"channels": {"telegram": {"enabled": True, "chat_id": CHAT, "api_url": api.url,
                                      **telegram}},
            "site": {"url": SITE}, "http": {"attempts": 3, "backoff_s": 0.01}}


def _send(output: Path, api: BotApi, *args: str, verbose: bool = False, **telegram: Any) -> Any:
    config = write_config(output.parent / "config.yaml",
                          {"output": str(output), **_settings(api, **telegram)})
    return CliRunner().invoke(app, [*(["--verbose"] if verbose else []), "-c", str(config),
                                    "send", "--date", LAST.isoformat(), "--sample", *args],
                              env={"TELEGRAM_BOT_TOKEN": TOKEN})


def _log(output: Path) -> dict[str, str]:
    with Archive(output / "archive.sqlite") as archive:
        return {key: d.outcome for key, d in archive.deliveries(LAST, "telegram").items()}


def test_a_day_is_posted_as_message_pdf_and_chart_album(output: Path, api: BotApi) -> None:
    result = _send(output, api)
    assert result.exit_code == 0, result.output
    assert api.methods() == ["sendMessage", "sendDocument", "sendMediaGroup"]
    assert all(c.http_method == "POST" and c.path == f"/bot{TOKEN}/{c.method}" for c in api.calls)
    manifest = json.loads((output / "reports" / LAST.isoformat() / "manifest.json").read_text())

    message, document, album = api.calls
    assert message.content_type.startswith("application/json")
    assert message.fields["chat_id"] == CHAT and message.fields["parse_mode"] == "HTML"
    text = message.fields["text"]
    title = manifest["title"]  # "… (sample data)": a sample day says so
    assert text.startswith(f"<i>{title}</i>\n\n<b>{manifest['lead']}</b>")  # nothing to escape
    assert manifest["summary"].startswith(manifest["lead"])  # said once, its head in bold
    assert manifest["summary"].removeprefix(manifest["lead"]) + "\n\n<a " in text
    assert "sample data" in title and "Sample data, not" not in text
    assert f'<a href="{SITE}2025/06/11/index.html">Read the full brief</a>' in text

    assert document.content_type.startswith("multipart/form-data")
    assert document.fields["chat_id"] == CHAT and document.fields["parse_mode"] == "HTML"
    assert document.fields["caption"].startswith(f"<b>{manifest['lead']}</b>")
    name, pdf, kind = document.files["document"]
    assert name == "brief-2025-06-11.pdf" and pdf.startswith(b"%PDF") and kind == "application/pdf"

    media = json.loads(album.fields["media"])
    assert [m["media"] for m in media] == [f"attach://chart{i}" for i in range(4)]
    assert all(m["type"] == "photo" for m in media) and "caption" in media[0]
    assert sorted(album.files) == [f"chart{i}" for i in range(4)]
    assert all(data.startswith(b"\x89PNG") and kind == "image/png"
               for _, data, kind in album.files.values())
    assert [f for f, _, _ in album.files.values()] == [
        "etf_btc-phone.png", "etf_eth-phone.png", "liqmap_btc-phone.png", "liqmap_eth-phone.png"]

    assert f"telegram {CHAT}: 3 posted" in result.output
    assert _log(output) == {f"{CHAT}#message": "sent", f"{CHAT}#document": "sent",
                            f"{CHAT}#charts": "sent"}


def test_a_rerun_never_posts_twice(output: Path, api: BotApi) -> None:
    assert _send(output, api).exit_code == 0
    again = _send(output, api)
    assert again.exit_code == 0, again.output
    assert len(api.calls) == 3  # nothing more
    assert "3 already done earlier" in again.output


def test_a_503_is_one_request_recorded_unknown_and_not_reposted_without_force(
        output: Path, api: BotApi) -> None:
    api.fail_next("sendMessage", 503, description="Service Unavailable")
    first = _send(output, api)
    assert first.exit_code == 1, first.output  # the channel's trouble is the command's
    assert api.methods() == ["sendMessage", "sendDocument", "sendMediaGroup"]  # one message POST
    assert _log(output)[f"{CHAT}#message"] == "unknown"
    assert "1 unknown (not reposted without --force)" in first.output
    assert "it may have been posted" in first.output

    again = _send(output, api)
    assert again.exit_code == 0, again.output
    assert len(api.calls) == 3  # the unknown message was left alone
    assert f"skipped: {CHAT}#message (unknown earlier)" in again.output

    forced = _send(output, api, "--force")
    assert forced.exit_code == 0, forced.output
    assert api.methods()[3:] == ["sendMessage", "sendDocument", "sendMediaGroup"]
    assert _log(output)[f"{CHAT}#message"] == "sent"


def _send_day(output: Path, api: BotApi, monkeypatch: pytest.MonkeyPatch,
              sleeps: list[float]) -> Any:
    from reportgen.pipeline import send_day

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    config = config_from_mapping({"output": str(output), **_settings(api)})
    return send_day(config, LAST, seams={"sleep": sleep})["telegram"]


def test_a_429_waits_retry_after_then_posts(output: Path, api: BotApi,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    api.fail_next("sendMessage", 429, description="Too Many Requests: retry after 3",
                  parameters={"retry_after": 3})
    sleeps: list[float] = []
    outcome = _send_day(output, api, monkeypatch, sleeps)
    assert sleeps == [3.0]
    assert api.methods() == ["sendMessage", "sendMessage", "sendDocument", "sendMediaGroup"]
    assert outcome.status is Status.OK and outcome.counts["posted"] == 3


def test_a_429_asking_longer_than_the_policy_waits_fails_for_the_next_run(
        output: Path, api: BotApi, monkeypatch: pytest.MonkeyPatch) -> None:
    api.fail_next("sendMessage", 429, description="Too Many Requests: retry after 3600",
                  parameters={"retry_after": 3600})
    sleeps: list[float] = []
    outcome = _send_day(output, api, monkeypatch, sleeps)
    assert sleeps == [] and api.methods().count("sendMessage") == 1
    assert outcome.status is Status.PARTIAL and outcome.counts["failed"] == 1
    assert _log(output)[f"{CHAT}#message"] == "failed"  # not taken: the next run posts it
    _send_day(output, api, monkeypatch, sleeps)
    assert api.methods()[3:] == ["sendMessage"]


def test_a_refused_request_is_not_retried(output: Path, api: BotApi) -> None:
    api.fail_next("sendMediaGroup", 403, description="Forbidden: bot is not a member of the "
                  "channel chat")
    result = _send(output, api)
    assert result.exit_code == 1
    assert api.methods() == ["sendMessage", "sendDocument", "sendMediaGroup"]
    assert "bot is not a member" in result.output and _log(output)[f"{CHAT}#charts"] == "refused"


def _manifest(lead: str, summary: str) -> ReportManifest:
    return ReportManifest(day=LAST, title="Brief", summary=summary, lead=lead, sample=True,
                          generated_at=datetime(2025, 6, 11, tzinfo=UTC), digest="0" * 64,
                          files=[])


def _only_telegram_markup(text: str) -> None:
    """Entities are only &lt; &gt; &amp; &quot;, tags only ours, each closed."""
    assert "&" not in re.sub(r"&(lt|gt|amp|quot);", "", text), text[-80:]
    tags = re.findall(r"</?[a-z]+[^>]*>", text)
    assert all(re.fullmatch(r'</?(b|i|a)( href="[^"<>]*")?>', t) for t in tags), tags
    assert [t for t in tags if not t.startswith("</")].__len__() == \
        [t for t in tags if t.startswith("</")].__len__()


def test_hostile_headline_and_summary_are_escaped() -> None:
    manifest = _manifest('<script>alert("x")</script> & <b>co', "AT&T <i>rallies</i> &amp; more")
    text = message_text(manifest, "https://example.org/a?x=1&y=<2>")
    assert "<script" not in text and "<b>co" not in text
    assert "<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;co</b>" in text
    assert "AT&amp;T &lt;i&gt;rallies&lt;/i&gt; &amp;amp; more" in text
    assert "<i>Sample data, not live figures.</i>" in text  # a sample day not titled so
    assert '<a href="https://example.org/a?x=1&amp;y=&lt;2&gt;">' in text
    _only_telegram_markup(text)


@pytest.mark.parametrize("unit", ["&<>", "é", "😀", "a"])
def test_a_long_text_is_cut_to_the_limits_without_breaking_an_entity(unit: str) -> None:
    manifest = _manifest(unit * 2000, unit * 6000)
    text = message_text(manifest, SITE)
    assert MESSAGE_LIMIT - 8 <= units(text) <= MESSAGE_LIMIT
    assert "…" in text and text.endswith("Read the full brief</a>")  # the link survives
    _only_telegram_markup(text)
    text.encode("utf-16-le").decode("utf-16-le")  # no half character
    short = caption(manifest, "2025-06-11 · PDF")
    assert CAPTION_LIMIT - 8 <= units(short) <= CAPTION_LIMIT
    _only_telegram_markup(short)


def test_a_hostile_headline_goes_out_escaped(output: Path, api: BotApi) -> None:
    path = output / "reports" / LAST.isoformat() / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["lead"] = "<script>alert(1)</script> BTC & ETH"
    path.write_text(json.dumps(manifest))
    assert _send(output, api).exit_code == 0
    text = api.calls[0].fields["text"]
    assert "\n\n<b>&lt;script&gt;alert(1)&lt;/script&gt; BTC &amp; ETH</b>\n\n" in text


def test_the_bot_token_appears_in_no_log_output_or_file(
        output: Path, api: BotApi, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api.fail_next("sendDocument", 503, description=f"Bad Gateway at /bot{TOKEN}/sendDocument")
    api.fail_next("sendMediaGroup", 400, description=f"Bad Request: bot{quote(TOKEN)} said no")
    result = _send(output, api, verbose=True)
    assert result.exit_code == 1
    assert "Bad Gateway at /bot***/sendDocument" in result.output  # the detail is kept, scrubbed
    for form in (TOKEN, quote(TOKEN, safe=""), TOKEN.split(":")[1]):
        assert form not in result.output and form not in caplog.text
        for file in output.rglob("*"):
            if file.is_file():
                assert form.encode() not in file.read_bytes(), file


def test_a_missing_token_or_a_bad_setting_is_a_config_error_naming_it(
        output: Path, api: BotApi) -> None:
    config = write_config(output.parent / "config.yaml",
                          {"output": str(output), **_settings(api)})
    missing = CliRunner().invoke(app, ["-c", str(config), "send", "--date", LAST.isoformat()],
                                 env={"TELEGRAM_BOT_TOKEN": ""})
    assert missing.exit_code == 2 and "TELEGRAM_BOT_TOKEN is not set" in missing.output
    short = CliRunner().invoke(app, ["-c", str(config), "send", "--date", LAST.isoformat()],
                               env={"TELEGRAM_BOT_TOKEN": "12:ab"})
    assert short.exit_code == 2 and "TELEGRAM_BOT_TOKEN is 5 characters" in short.output
    assert "12:ab" not in short.output
    bad = _send(output, api, chat_id="not a chat")
    assert bad.exit_code == 2 and "channels.telegram.chat_id" in bad.output
    assert api.calls == []


def test_no_other_module_or_template_names_the_channel() -> None:
    roots = [PACKAGE, PACKAGE.parent / "templates"]
    naming = sorted(str(p.relative_to(PACKAGE.parent)) for root in roots
                    for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                    and "telegram" in p.read_bytes().decode("utf-8", "replace").lower())
    assert naming == ["reportgen/channels/telegram.py"]


def test_run_renders_the_pdf_it_posts_and_records_the_outcome(tmp_path: Path, api: BotApi) -> None:
    output = tmp_path / "output"
    config = write_config(tmp_path / "config.yaml", {"output": str(output), **_settings(api)})
    result = CliRunner().invoke(app, ["-c", str(config), "run", "--sample", "--formats", "md"],
                                env={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert api.methods() == ["sendMessage", "sendDocument", "sendMediaGroup"]
    assert (output / "reports" / LAST.isoformat() / "brief.pdf").is_file()  # made for it
    assert f"telegram {CHAT}: 3 posted" in result.output
    with Archive(output / "archive.sqlite") as archive:
        [run] = archive.runs()
    assert run["channels"]["telegram"]["status"] == "ok"
    assert run["channels"]["telegram"]["counts"]["posted"] == 3
