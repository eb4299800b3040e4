"""The pipeline's last phase: send the day's email and/or rebuild the site, from what the
phases before made (the view-model and the manifest render wrote)."""

from __future__ import annotations

from typing import Any

from reportgen.brief.model import Brief
from reportgen.clock import Clock
from reportgen.config import Config
from reportgen.manifest import ReportManifest
from reportgen.writer import OutputWriter


def publish_phase(config: Config, brief: Brief, manifest: ReportManifest, *, send: bool,
                  site: bool, clock: Clock, writer: OutputWriter) -> dict[str, Any]:
    """Publish `brief` (rendered as `manifest` says) on the channels asked for; returns each
    channel's outcome as a JSON-able record keyed "email" / "site" (the run record stores
    it). The site is built first, so the email's "view in browser" link points at a page
    that exists; with `site.target` the built site is then synced to the bucket ("object_store")."""
    published: dict[str, Any] = {}
    if site:
        from reportgen.publish.objectstore import publish_site

        outcome = publish_site(config, writer=writer, clock=clock)
        published["site"] = outcome.site.as_record()
        if outcome.remote is not None:
            published["object_store"] = outcome.remote.as_record()
    if send:
        from reportgen.publish.send import send_brief

        published["email"] = send_brief(config, brief, manifest, writer=writer,
                                        clock=clock).as_record()
    return published
