"""Bitcoin hashrate (mempool.space): the parser on the API's real documented answer, the
period asked for a past date, the figure in the brief, and the sample's live path."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from reportgen.brief import build_brief
from reportgen.config import config_from_mapping
from reportgen.errors import ParseError
from reportgen.http import Http
from reportgen.models import RawPayload, SourceSnapshot
from reportgen.registry import source_classes
from reportgen.render.filters import figure_change, figure_value
from reportgen.sources.base import FetchContext
from reportgen.sources.hashrate import HashrateSource, parse_hashrate, period_for

FIXTURE = (Path(__file__).resolve().parents[1] / "fixtures" / "market"
           / "mempool_hashrate_3d_mainnet_docs_example_2022-05-16.json")
FETCHED = datetime(2022, 5, 16, 23, 58, tzinfo=UTC)


def _raw(body: bytes) -> RawPayload:
    return RawPayload(source="hashrate", url="https://mempool.space/api/v1/mining/hashrate/3d",
                      status=200, body=body, fetched_at=FETCHED)


def test_parses_the_documented_mainnet_answer_with_integers_beyond_2_64() -> None:
    body = FIXTURE.read_bytes()
    assert json.loads(body)["hashrates"][0]["avgHashrate"] > 2**64
    model = parse_hashrate(_raw(body), date(2022, 5, 16))
    # H/s as floats (17 significant digits hold these integers' printed digits).
    assert model.hashrate_hs == float(189877203506913000000)
    assert model.previous_hs == float(217473276787331300000)  # 15 May, from the same answer
    assert model.day == date(2022, 5, 16)
    assert model.as_of == datetime(2022, 5, 16, tzinfo=UTC)
    # A past date inside the answer picks its own row, and the row before it.
    older = parse_hashrate(_raw(body), date(2022, 5, 15))
    assert (older.hashrate_hs, older.previous_hs) == (float(217473276787331300000),
                                                      float(236499762108771800000))


def test_a_day_without_its_row_shows_the_newest_before_it_or_fails() -> None:
    body = FIXTURE.read_bytes()
    later = parse_hashrate(_raw(body), date(2022, 5, 17))
    assert later.day == date(2022, 5, 16)  # dated, so staleness can judge it
    with pytest.raises(ParseError, match="no hashrate row on or before 2022-05-13"):
        parse_hashrate(_raw(body), date(2022, 5, 13))


def test_implausible_hashrate_is_rejected_by_name() -> None:
    doc = json.loads(FIXTURE.read_bytes())
    doc["hashrates"][2]["avgHashrate"] = -5
    model = parse_hashrate(_raw(json.dumps(doc).encode()), date(2022, 5, 16))
    assert model.hashrate_hs is None and model.previous_hs is not None
    assert model.rejected == {"hashrate_hs": "Bitcoin hashrate (H/s) −5 is not above 0"}


@pytest.mark.parametrize("day, period", [
    (date(2025, 6, 11), "3d"), (date(2025, 6, 10), "3d"), (date(2025, 6, 9), "1w"),
    (date(2025, 6, 5), "1m"), (date(2025, 3, 1), "6m"), (date(2022, 7, 1), "3y"),
    (date(2020, 1, 1), ""),
])
def test_a_past_date_asks_the_shortest_period_reaching_the_day_before(day: date,
                                                                      period: str) -> None:
    assert period_for(day, today=date(2025, 6, 11)) == period


async def test_fetch_asks_the_period_url() -> None:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, content=FIXTURE.read_bytes())

    config = config_from_mapping({})
    async with Http(config.http, transport=httpx.MockTransport(answer)) as http:
        ctx = FetchContext(report_date=date(2025, 6, 1), today=date(2025, 6, 11),
                           config=config, http=http)
        raws = await HashrateSource(config).fetch(ctx)
    assert asked == ["https://mempool.space/api/v1/mining/hashrate/1m"]
    assert raws[0].status == 200


def test_registered_and_its_figure_reads_in_eh_per_second() -> None:
    assert HashrateSource in source_classes()
    config = config_from_mapping({})
    source = HashrateSource(config)
    assert source.enabled() == (True, "enabled") and source.supports_past
    assert not source.needs_previous_day  # the day before is in the same answer
    model = parse_hashrate(_raw(FIXTURE.read_bytes()), date(2022, 5, 16))
    snapshot = SourceSnapshot(source="hashrate", report_date=date(2022, 5, 16), ok=True,
                              method="live", fetched_at=FETCHED, as_of=model.as_of, data=model)
    brief = build_brief(date(2022, 5, 16), {"hashrate": snapshot}, {}, contributors=[source],
                        title="t", zone="UTC", generated_at=FETCHED, sample=False)
    (figure,) = brief.section("indicators").figures
    assert figure.label == "Bitcoin hashrate"
    assert figure_value(figure) == "190 EH/s"
    assert figure_change(figure) == "▼ −12.69%"
    assert figure.note == "daily average of 2022-05-16"
    assert brief.sources[0].name == "mempool.space, Bitcoin network hashrate"


def test_switched_off_in_config() -> None:
    config = config_from_mapping({"sources": {"hashrate": {"enabled": False}}})
    assert HashrateSource(config).enabled() == (False, "disabled in config "
                                                       "(sources.hashrate.enabled)")
