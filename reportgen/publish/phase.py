"""The pipeline's last phase: send the day's email and/or rebuild the site."""

from __future__ import annotations

from typing import Any

from reportgen.brief.model import Brief
from reportgen.clock import Clock
from reportgen.config import Config


def publish_phase(config: Config, brief: Brief, *, send: bool, site: bool,
                  clock: Clock) -> dict[str, Any]:
    """Publish `brief` (already rendered) on the channels asked for; returns each channel's
    outcome as a JSON-able record keyed "email" / "site" (the run record stores it). The
    site is built first, so the email's "view in browser" link points at a page that exists."""
    published: dict[str, Any] = {}
    if site:
        from reportgen.publish.site import build_site

        published["site"] = build_site(config).as_record()
    if send:
        from reportgen.publish.send import send_day

        published["email"] = send_day(config, brief.day, brief=brief, clock=clock).as_record()
    return published
