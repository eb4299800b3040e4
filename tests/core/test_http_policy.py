"""The one HTTP client policy (reportgen.http.Http), exchange by exchange.

Loopback tests go over real sockets to the strict fake upstream; the redirect rules that need
a public-looking origin use httpx.MockTransport (a unit test of the one client)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.clock import FixedClock
from reportgen.config import HttpSettings
from reportgen.errors import FetchError, ParseError
from reportgen.http import FINAL_URL_HEADER, KEPT_ON_FAILURE, Http
from reportgen.models import RawPayload
from reportgen.sources._json import load_json
from tests.conftest import FIXTURES, live_config, only_sources, write_config
from tests.fakeupstream import Upstream

WHEN = FixedClock(__import__("datetime").datetime.fromisoformat("2025-06-11T23:58:00+00:00"))
FAST = {"timeout_s": 2.0, "connect_s": 1.0, "deadline_s": 3.0, "attempts": 2, "backoff_s": 0.01}


def _http(**settings: object) -> Http:
    return Http(HttpSettings(**{**FAST, **settings}), clock=WHEN)  # type: ignore[arg-type]


async def test_the_urls_own_query_is_sent(upstream: Upstream) -> None:
    """httpx.URL(url, params=None) dropped '?vs_currency=usd': keys and queries never left."""
    upstream.add("https://api.coingecko.com/api/v3/coins/markets?vs_currency=usd&page=1", b"[]")
    async with _http() as http:
        raw = await http.get("altseason", upstream.url_for(
            "https://api.coingecko.com/api/v3/coins/markets?vs_currency=usd"), params={"page": 1})
    assert raw.status == 200
    (asked,) = upstream.log
    assert asked["query"] == [("vs_currency", "usd"), ("page", "1")]


async def test_payload_time_comes_from_the_clock(upstream: Upstream) -> None:
    upstream.add("https://api.alternative.me/fng/?limit=2", b"{}")
    async with _http() as http:
        raw = await http.get("feargreed", upstream.url_for("https://api.alternative.me/fng/"),
                             params={"limit": 2})
    assert raw.fetched_at == WHEN.now()


async def test_key_parameters_are_blanked_in_stored_urls(upstream: Upstream) -> None:
    upstream.require_key("https://api.etherscan.io/v2/api", "apikey", "s3cret")
    upstream.add("https://api.etherscan.io/v2/api?module=gastracker", b"{}")
    async with _http() as http:
        raw = await http.get("gas", upstream.url_for("https://api.etherscan.io/v2/api"),
                             params={"module": "gastracker", "apikey": "s3cret"})
    assert "s3cret" not in raw.url and "apikey=%2A%2A%2A" in raw.url


async def test_endless_body_stops_at_the_cap_and_keeps_the_first_bytes(upstream: Upstream) -> None:
    upstream.faults["stablecoins.llama.fi"] = "endless"
    async with _http(max_body_mb=1) as http:
        with pytest.raises(FetchError, match="larger than the 1 MB cap") as err:
            await http.get("stablecoins", upstream.url_for("https://stablecoins.llama.fi/stablecoins"))
    raw = err.value.raw
    assert isinstance(raw, RawPayload) and raw.error
    assert raw.body.startswith(b'{"x": "aaa') and len(raw.body) == KEPT_ON_FAILURE


async def test_gzip_bomb_stops_at_the_cap_counted_after_decompression(upstream: Upstream) -> None:
    upstream.faults["stablecoins.llama.fi"] = "gzip-bomb"
    async with _http(max_body_mb=2) as http:
        with pytest.raises(FetchError, match="counted after decompression") as err:
            await http.get("stablecoins", upstream.url_for("https://stablecoins.llama.fi/stablecoins"))
    assert err.value.raw.body[:16] == bytes(16)  # what arrived, decoded, capped


async def test_corrupt_gzip_is_reported_with_the_raw_bytes_kept(upstream: Upstream) -> None:
    upstream.faults["stablecoins.llama.fi"] = "corrupt-gzip"
    async with _http() as http:
        with pytest.raises(FetchError, match="undecodable gzip body") as err:
            await http.get("stablecoins", upstream.url_for("https://stablecoins.llama.fi/stablecoins"))
    assert err.value.raw.body.startswith(b"\x1f\x8b")


async def test_trickle_stops_at_the_deadline_and_the_host_is_not_asked_again(
        upstream: Upstream) -> None:
    upstream.faults["stablecoins.llama.fi"] = "trickle"
    url = upstream.url_for("https://stablecoins.llama.fi/stablecoins")
    async with _http(deadline_s=2.5) as http:
        with pytest.raises(FetchError, match=r"within the 2\.5 s deadline") as err:
            await http.get("stablecoins", url)
        assert err.value.raw.body.strip() == b"" and b" " in err.value.raw.body  # bytes kept
        with pytest.raises(FetchError, match=r"not asked: passed the 2\.5 s deadline"):
            await http.get("stablecoins", url)
    assert len(upstream.log) == 1


async def test_configured_attempts_hold_for_every_source(upstream: Upstream) -> None:
    """News, ETF and liquidation used to retry 3x whatever `http.attempts` said."""
    upstream.faults["farside.co.uk"] = "429"
    async with _http(attempts=1) as http:
        with pytest.raises(FetchError, match="HTTP 429 after 1 attempts"):
            await http.get("etf_farside", upstream.url_for("https://farside.co.uk/bitcoin-etf-flow-all-data/"))
    assert len(upstream.log) == 1


def _mock(routes: dict[str, httpx.Response]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return routes[str(request.url)]
    return httpx.MockTransport(handler)


def _redirect(to: str) -> httpx.Response:
    return httpx.Response(302, headers={"location": to})


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:8080/admin", "http://10.0.0.5/"])
async def test_a_redirect_to_a_private_address_is_refused(target: str) -> None:
    transport = _mock({"http://api.example.com/a": _redirect(target)})
    settings = HttpSettings(redirect_hosts=("169.254.169.254", "127.0.0.1", "10.0.0.5"))
    async with Http(settings, clock=WHEN, transport=transport) as http:
        with pytest.raises(FetchError, match="refused a redirect to a private address") as err:
            await http.get("x", "http://api.example.com/a")
    assert err.value.raw.status == 302


async def test_a_redirect_to_another_host_needs_the_allowlist() -> None:
    routes = {"https://api.example.com/a": _redirect("https://cdn.example.net/a"),
              "https://cdn.example.net/a": httpx.Response(200, content=b"ok")}
    async with Http(HttpSettings(), clock=WHEN, transport=_mock(routes)) as http:
        with pytest.raises(FetchError, match="redirect to another host"):
            await http.get("x", "https://api.example.com/a")
    settings = HttpSettings(redirect_hosts=("cdn.example.net",))
    async with Http(settings, clock=WHEN, transport=_mock(routes)) as http:
        raw = await http.get("x", "https://api.example.com/a")
    assert raw.body == b"ok" and raw.url == "https://api.example.com/a"
    assert raw.headers[FINAL_URL_HEADER] == "https://cdn.example.net/a"


async def test_a_redirect_loop_is_an_error_with_the_payload_kept() -> None:
    routes = {"https://api.example.com/a": _redirect("https://api.example.com/b"),
              "https://api.example.com/b": _redirect("https://api.example.com/a")}
    async with Http(HttpSettings(), clock=WHEN, transport=_mock(routes)) as http:
        with pytest.raises(FetchError, match="more than 5 redirects") as err:
            await http.get("x", "https://api.example.com/a")
    assert err.value.raw.error and err.value.raw.status == 302


def test_a_5000_digit_integer_is_a_parse_error_not_an_internal_one() -> None:
    raw = RawPayload(source="coingecko", url="u", status=200, fetched_at=WHEN.now(),
                     body=b'{"data": {"markets": ' + b"9" * 5000 + b"}}")
    with pytest.raises(ParseError, match="malformed JSON"):
        load_json(raw)


@pytest.mark.parametrize("fault", ["trickle", "endless", "gzip-bomb"])
def test_a_hostile_upstream_costs_one_section_and_keeps_the_first_bytes(
        upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    """The whole run over loopback: that section unavailable with the reason, exit 3, the
    first bytes archived. (Time and memory at the default settings: bench/bench_hostile.py.)"""
    upstream.load_day(__import__("datetime").date(2025, 6, 11), ["coingecko", "feargreed"])
    upstream.faults["stablecoins.llama.fi"] = fault
    data = only_sources(live_config(upstream, tmp_path / "out"), "coingecko", "feargreed",
                        "stablecoins")
    data["http"] = {**FAST, "max_body_mb": 1}
    config = write_config(tmp_path / "c.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", "2025-06-11T23:58:00+00:00")
    result = CliRunner().invoke(app, ["--config", str(config), "run", "--formats", "md"])
    assert result.exit_code == 3, result.output
    md = (tmp_path / "out" / "reports" / "2025-06-11" / "brief.md").read_text()
    assert "17,411" in md  # CoinGecko still answered
    reason = {"trickle": "deadline", "endless": "cap", "gzip-bomb": "after decompression"}[fault]
    with sqlite3.connect(tmp_path / "out" / "archive.sqlite") as db:
        (ok, why) = db.execute("SELECT ok, reason FROM snapshots WHERE source='stablecoins'").fetchone()
        (body, error) = db.execute(
            "SELECT body, error FROM payloads WHERE source='stablecoins'").fetchone()
    assert not ok and reason in why and reason in error
    assert 0 < len(body) <= KEPT_ON_FAILURE


def test_etherscan_key_is_sent_and_its_http_200_error_is_shown(
        upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Etherscan answers errors with HTTP 200 and "status":"0" (a real recorded refusal)."""
    url = ("https://api.etherscan.io/v2/api?chainid=1&module=gastracker&action=gasoracle")
    upstream.require_key(url, "apikey", "k-123")
    upstream.add(url, (FIXTURES / "market" / "etherscan_notok_high_network_activity_2025-10-02.json")
                 .read_bytes())
    data = only_sources(live_config(upstream, tmp_path / "out"), "gas")
    config = write_config(tmp_path / "c.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", "2025-06-11T23:58:00+00:00")
    monkeypatch.setenv("REPORTGEN_ETHERSCAN_KEY", "k-123")
    upstream.load_day(__import__("datetime").date(2025, 6, 10), ["gas"])  # D − 1 lookups
    result = CliRunner().invoke(app, ["--config", str(config), "run", "--formats", "md"])
    assert result.exit_code == 3, result.output
    md = (tmp_path / "out" / "reports" / "2025-06-11" / "brief.md").read_text()
    assert "unusually high network activity" in md
    assert "k-123" not in md
    asked = upstream.asked("api.etherscan.io")
    assert len(asked) == 1 and ("apikey", "k-123") in asked[0]["query"]


async def test_a_redirect_to_another_port_of_the_same_host_is_refused() -> None:
    # Another port is another server (an admin or debug port): not "the host asked".
    routes = {"https://api.example.com/a": _redirect("https://api.example.com:8443/a"),
              "https://api.example.com:8443/a": httpx.Response(200, content=b"ok")}
    async with Http(HttpSettings(), clock=WHEN, transport=_mock(routes)) as http:
        with pytest.raises(FetchError, match="redirect to another host or port: "
                                             r"https://api\.example\.com:8443/a"):
            await http.get("x", "https://api.example.com/a")
    settings = HttpSettings(redirect_hosts=("api.example.com:8443",))
    async with Http(settings, clock=WHEN, transport=_mock(routes)) as http:
        assert (await http.get("x", "https://api.example.com/a")).body == b"ok"
    # the scheme's default port spelled out is the same server
    same = {"https://api.example.com/a": _redirect("https://api.example.com:443/b"),
            "https://api.example.com/b": httpx.Response(200, content=b"same")}
    async with Http(HttpSettings(), clock=WHEN, transport=_mock(same)) as http:
        assert (await http.get("x", "https://api.example.com/a")).body == b"same"


async def test_a_retry_after_longer_than_we_wait_fails_at_once_and_says_so() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(429, headers={"retry-after": "3600"}, content=b"slow down")

    async with Http(HttpSettings(attempts=3), clock=WHEN, transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(FetchError, match=r"answered HTTP 429 with Retry-After 3600 s \(1 h 0 min\), "
                                             r"longer than the 60 s this run waits") as err:
            await http.get("x", "https://api.example.com/a")
        assert err.value.raw.body == b"slow down"  # kept for diagnosis
        with pytest.raises(FetchError, match="not asked: asked to wait 3600 s"):
            await http.get("x", "https://api.example.com/b")
    assert asked == ["https://api.example.com/a"]  # one request, no deadline spent waiting


def test_an_html_page_with_status_200_is_named_as_such() -> None:
    raw = RawPayload(source="feargreed", url="https://api.alternative.me/fng/", status=200,
                     fetched_at=WHEN.now(), headers={"content-type": "text/html; charset=UTF-8"},
                     body=b"<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>")
    with pytest.raises(ParseError, match=r"an HTML page titled 'Just a moment\.\.\.', not JSON, from "
                                         r"https://api\.alternative\.me/fng/ \(HTTP 200, Content-Type "
                                         r"text/html; charset=UTF-8\)"):
        load_json(raw)
    # JSON labelled text/html (some APIs do) is still JSON
    labelled = RawPayload(source="feargreed", url="u", status=200, fetched_at=WHEN.now(),
                          headers={"content-type": "text/html"}, body=b'{"data": []}')
    assert load_json(labelled) == {"data": []}


def test_escape_sequences_from_an_upstream_reach_no_output(upstream: Upstream, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = (b"<html><head><title>\x1b[2J\x1b]0;pwned\x07Maintenance \x1b[31mnow\x1b[0m\x07"
               b"</title></head></html>")
    upstream.handle("https://api.alternative.me/fng/", lambda query, body: (200, hostile))
    data = only_sources(live_config(upstream, tmp_path / "out"), "feargreed")
    config = write_config(tmp_path / "c.yaml", data)
    monkeypatch.setenv("REPORTGEN_NOW", "2025-06-11T23:58:00+00:00")
    result = CliRunner().invoke(app, ["--config", str(config), "run", "--formats", "html,md"])
    assert result.exit_code == 3, result.output
    assert "an HTML page titled 'Maintenance now', not JSON" in result.output
    folder = tmp_path / "out" / "reports" / "2025-06-11"
    for text in (result.output, (folder / "brief.html").read_text(), (folder / "brief.md").read_text()):
        assert "\x1b" not in text and "\x07" not in text and "pwned" not in text
    # the raw answer is kept as it came, for diagnosis
    with sqlite3.connect(tmp_path / "out" / "archive.sqlite") as db:
        bodies = [row[0] for row in db.execute("SELECT body FROM payloads WHERE source = 'feargreed'")]
    assert hostile in bodies


@pytest.mark.parametrize("answer", ["503", "429", "read-timeout"])
async def test_a_post_that_may_have_been_received_is_not_sent_again(answer: str) -> None:
    # A webhook answering 503 received 3 posts: a POST is sent once, unless marked idempotent.
    posts: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        posts.append(request.content)
        if answer == "read-timeout":
            raise httpx.ReadTimeout("no answer", request=request)
        return httpx.Response(int(answer), content=b"busy")

    settings = HttpSettings(attempts=3, backoff_s=0.01)
    async with Http(settings, clock=WHEN, transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(FetchError, match="not sent again: a POST may have been received") as err:
            await http.post("hook", "https://hooks.example.com/send", json={"text": "brief"})
    assert posts == [b'{"text":"brief"}']
    assert err.value.raw is not None  # what came back is kept
    assert err.value.maybe_received  # so its sender must not assume it was lost

    posts.clear()
    async with Http(settings, clock=WHEN, transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(FetchError):
            await http.post("rpc", "https://rpc.example.com/", json={"id": 1}, idempotent=True)
    assert len(posts) == 3  # a read is retried like a GET


async def test_a_post_whose_connection_never_opened_is_retried() -> None:
    tries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        tries.append("x")
        if len(tries) < 3:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, content=b"ok")

    settings = HttpSettings(attempts=3, backoff_s=0.01)
    async with Http(settings, clock=WHEN, transport=httpx.MockTransport(handler)) as http:
        raw = await http.post("hook", "https://hooks.example.com/send", json={"text": "brief"})
    assert raw.body == b"ok" and len(tries) == 3


async def test_a_post_whose_connection_never_opened_was_not_received() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    settings = HttpSettings(attempts=2, backoff_s=0.01)
    async with Http(settings, clock=WHEN, transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(FetchError) as err:
            await http.post("hook", "https://hooks.example.com/send", json={"text": "brief"})
    assert err.value.maybe_received is False


async def test_a_multipart_post_carries_its_fields_and_files() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"ok")

    async with Http(HttpSettings(), clock=WHEN, transport=httpx.MockTransport(handler)) as http:
        await http.post("hook", "https://hooks.example.com/upload", data={"chat_id": "42"},
                        files={"document": ("brief.pdf", b"%PDF-1.7", "application/pdf")})
    [request] = seen
    body = request.read()
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="chat_id"\r\n\r\n42' in body
    assert b'name="document"; filename="brief.pdf"' in body and b"%PDF-1.7" in body
