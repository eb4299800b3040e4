"""Data that crosses stage boundaries: raw payloads and snapshots.

`RawPayload` is what a source fetched (kept byte-for-byte in the archive);
`SourceSnapshot` is what a source's parser made of it for one report date, or why it could not.
Per-source parsed models live in each source module; the archive stores a snapshot's model as
its JSON and reads it back as that model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, field_validator

from reportgen.plain import printable

# How a figure was obtained; shown next to every figure in the brief.
Method = Literal["live", "history", "archive", "sample"]

METHOD_LABELS: dict[str, str] = {
    "live": "live endpoint",
    "history": "historical endpoint",
    "archive": "archived earlier",
    "sample": "bundled sample",
}


@dataclass(frozen=True)
class RawPayload:
    """One HTTP exchange with an upstream, as received (or as far as it got)."""

    source: str
    url: str
    status: int | None
    body: bytes
    fetched_at: datetime
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class SourceSnapshot(BaseModel):
    """What one source said about one report date: its parsed data, or why there is none."""

    source: str
    report_date: date
    ok: bool
    method: Method
    fetched_at: datetime | None = None  # when we asked the upstream (the run's clock)
    as_of: datetime | None = None  # the moment the data describes (row date, updated_at, block)
    reason: str | None = None
    data: BaseModel | None = None  # the source's parsed model (its own class)

    @field_validator("reason")
    @classmethod
    def _printable_reason(cls, reason: str | None) -> str | None:
        """A reason quotes upstreams and is printed in a table cell: one clean line."""
        return None if reason is None else printable(reason, one_line=True)

    @classmethod
    def unavailable(
        cls, source: str, report_date: date, reason: str, method: Method = "live",
        fetched_at: datetime | None = None,
    ) -> SourceSnapshot:
        return cls(
            source=source, report_date=report_date, ok=False, method=method,
            fetched_at=fetched_at, reason=reason,
        )


@dataclass(frozen=True)
class LiquidationFrame:
    """One message of a venue's public liquidation stream (or one OKX REST answer), as
    received: kept verbatim in the archive by the realised-liquidations recorder.

    `first_ms`/`last_ms` span the event times it carries (ms since the epoch; the receive
    time for a frame without events), so a report's window finds it; `error` says why a
    frame could not be read (it is kept, raw, for diagnosis)."""

    venue: str
    url: str
    received_at: datetime
    body: str
    first_ms: int
    last_ms: int
    error: str | None = None
