"""The static site: output/site rebuilt atomically from every rendered brief
(reportgen.publish.site). First in line: other channels link the day's page.

Settings are the config's `site:` section (`reportgen.config.SiteSettings`).
"""

from __future__ import annotations

from datetime import date
from typing import cast

from reportgen.channels.base import Channel, Delivery, Outcome, Status
from reportgen.config import Config, SiteSettings


class SiteChannel(Channel[SiteSettings]):
    name = "site"
    title = "Static site"
    order = 10
    settings_model = SiteSettings
    settings_key = "site"
    commands = frozenset({"run", "publish"})

    def page_url(self, job_day: date) -> str | None:
        if not self.settings.url:
            return None
        return f"{self.settings.url}{job_day:%Y/%m/%d}/index.html"

    def deliver(self, job: Delivery) -> Outcome:
        from reportgen.publish.site import build_site

        site = build_site(cast("Config", self.config), writer=job.writer)
        return Outcome(channel=self.name, status=Status.OK, summary=site.summary(),
                       counts={"days": len(site.days), "written": len(site.written),
                               "reused": len(site.reused)},
                       warnings=tuple(site.warnings), detail=site.as_record())
