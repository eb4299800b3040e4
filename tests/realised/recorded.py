"""Live-path tests with realised liquidations: the archive as if the recorder had followed
the streams that day (the bundled sample's frames, each stored as the recorder stores it)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from reportgen import sample
from reportgen.archive import Archive
from reportgen.models import LiquidationFrame
from reportgen.realised.frames import parse_frame
from reportgen.sources.liquidation_realised import BUNDLE_TYPE, SECTION, VENUE_HEADER


def record_sample_day(archive_path: Path, day: date) -> int:
    """Write `day`'s sample stream frames into the archive's recorder table; returns how
    many. (The sample's OKX REST pages are served by the fake upstream instead.)"""
    frames = []
    for raw in sample.load_raws(SECTION, day):
        if raw.headers.get("content-type") != BUNDLE_TYPE:
            continue
        venue = raw.headers[VENUE_HEADER]
        for line in raw.text().splitlines():
            span = parse_frame(venue, line).span_ms()
            assert span is not None, line
            frames.append(LiquidationFrame(venue=venue, url=raw.url, received_at=raw.fetched_at,
                                           body=line, first_ms=span[0], last_ms=span[1]))
    with Archive(archive_path) as archive:
        return archive.add_liquidation_frames(frames)
