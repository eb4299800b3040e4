"""Publish phase: the rendered brief to subscribers' inboxes (`send`) and to a static site
(`site`). Never touches the upstream network; SMTP is the only connection it opens.

Public names: `send_day`, `SendReport` (email) and `build_site`, `SiteResult`, `serve`
(static site). Modules: `email` (compose the MIME message), `mailer` (SMTP + delivery log),
`send` (the `reportgen send` use case), `site` (the atomic, incremental site build).
"""

from __future__ import annotations

from reportgen.publish.mailer import SendReport
from reportgen.publish.send import send_day
from reportgen.publish.site import SiteResult, build_site, serve

__all__ = ["SendReport", "SiteResult", "build_site", "send_day", "serve"]
