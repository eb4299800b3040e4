from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from reportgen.models import RawPayload

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "liquidation"


def raw(source: str, url: str, body: bytes | str) -> RawPayload:
    data = body.encode() if isinstance(body, str) else body
    return RawPayload(source=source, url=url, status=200, body=data,
                      fetched_at=datetime(2025, 6, 11, 23, 55, tzinfo=UTC))


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
