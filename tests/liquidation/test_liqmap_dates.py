"""`reportgen liqmap` takes "now" from the run's clock (REPORTGEN_NOW) and answers a past
day from the venues' history where it reaches, naming the limit where it does not."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from reportgen.errors import UsageError
from reportgen.liquidation import fetch as liq_fetch
from reportgen.liquidation.command import run_liqmap
from reportgen.liquidation.config import LiqConfig


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Record what the live fetch is asked for, answering nothing (no network)."""
    calls: list[dict] = []

    async def fake_fetch_all(client, config, end, symbols=None):
        calls.append({"config": config, "end": end, "symbols": symbols})
        return {}

    monkeypatch.setattr(liq_fetch, "fetch_all", fake_fetch_all)
    return calls


def test_cli_takes_now_from_reportgen_now(asked, monkeypatch) -> None:
    # The wall clock is months later; by the run's clock 2026-08-15 is today, not the past.
    from reportgen.cli import app

    monkeypatch.setenv("REPORTGEN_NOW", "2026-08-15T19:04:10+00:00")
    res = CliRunner().invoke(app, ["liqmap", "--date", "2026-08-15", "--venue", "cex"])
    assert res.exit_code == 1, res.output           # asked live, nothing answered: no map
    assert "in the past" not in res.output
    assert asked[0]["end"] == datetime(2026, 8, 15, 19, 4, 10, tzinfo=UTC)
    assert asked[0]["symbols"] == ["BTC"]            # only the symbol asked for


def test_default_day_is_today_by_the_clock(asked, monkeypatch) -> None:
    monkeypatch.setenv("REPORTGEN_NOW", "2026-08-15T19:04:10+00:00")
    run_liqmap(symbol="BTC", venue="cex", echo=lambda _s: None)
    assert asked[0]["end"] == datetime(2026, 8, 15, 19, 4, 10, tzinfo=UTC)


def test_past_day_within_history_is_asked_as_of_its_end(asked) -> None:
    out = run_liqmap(symbol="ETH", venue="all", day=date(2026, 8, 10), echo=lambda _s: None,
                     now=datetime(2026, 8, 20, 12, 0, tzinfo=UTC))
    call = asked[0]
    assert call["end"] == datetime(2026, 8, 11, tzinfo=UTC)
    assert call["config"].venues == ["binance", "bybit", "okx"]
    assert call["config"].hyperliquid is False       # current positions only
    assert "current positions only" in out.result.unavailable["hyperliquid"]


def test_past_day_beyond_binance_history_asks_the_others(asked) -> None:
    out = run_liqmap(symbol="BTC", venue="cex", day=date(2026, 6, 1), echo=lambda _s: None,
                     now=datetime(2026, 8, 20, 12, 0, tzinfo=UTC))
    assert asked[0]["config"].venues == ["bybit", "okx"]
    reason = out.result.unavailable["binance"]
    assert "last 30 days" in reason and "2026-07-21 12:00" in reason and "2026-05-26" in reason


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"venue": "cex", "day": date(2024, 1, 1), "config": LiqConfig(venues=["binance"])},
     "Binance keeps only the last 30 days"),
    ({"venue": "hyperliquid", "day": date(2026, 8, 19)}, "current positions only"),
    ({"venue": "cex", "day": date(2026, 8, 21)}, "in the future"),
])
def test_days_no_venue_can_answer_are_refused_with_the_limit(asked, kwargs, message) -> None:
    with pytest.raises(UsageError, match=message):
        run_liqmap(symbol="BTC", echo=lambda _s: None,
                   now=datetime(2026, 8, 20, 12, 0, tzinfo=UTC), **kwargs)
    assert asked == []
