"""Publish phase: the rendered brief to subscribers' inboxes (`send`) and to a static site
(`site`). Never touches the upstream network; SMTP is the only connection it opens.

Publish reads what render wrote: each day's manifest and the files it lists (`reports`),
and, for the email, the view-model it is handed. It never imports the pipeline, a source or
the archive's raw payloads (tests/core/test_boundaries.py), and never renders or collects.

Public names: `send_brief`, `SendReport` (email), `build_site`, `SiteResult`, `serve`
(static site) and `publish_site`, `PublishResult`, `SyncResult` (the site, then its sync to
object storage). Modules: `email` (compose the MIME message), `mailer` (SMTP + delivery log),
`send` (mail one rendered day), `listmail` (the subscriber list over a pool of SMTP
connections), `subscribers` (read the list), `unsubscribe` (signed links and
`verify_unsubscribe` for the site's endpoint), `site` (the atomic, incremental site build),
`liqpages` (the site's Liquidation Map pages), `objectstore` (the built site synced to an
s3:// bucket), `reports` (read a day's manifest and files).
"""

from __future__ import annotations

from reportgen.publish.mailer import SendReport
from reportgen.publish.objectstore import PublishResult, SyncResult, publish_site
from reportgen.publish.send import send_brief
from reportgen.publish.site import SiteResult, build_site, serve

__all__ = ["PublishResult", "SendReport", "SiteResult", "SyncResult", "build_site", "publish_site",
           "send_brief", "serve"]
