"""The built site synced to S3-compatible object storage (reportgen.publish.objectstore),
when `site.target` (or REPORTGEN_SITE_TARGET) names an s3:// bucket. Right after the site
channel has built it. Credentials come from boto3's standard chain (AWS_* variables).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from reportgen.channels.base import Channel, Delivery, Outcome, Status
from reportgen.config import Config, SiteSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ObjectStoreChannel(Channel[SiteSettings]):
    name = "object_store"
    title = "Object storage (S3)"
    order = 20
    settings_model = SiteSettings
    settings_key = "site"
    commands = frozenset({"run", "publish"})

    def secret_env(self) -> tuple[str, ...]:
        return ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")

    def enabled(self) -> tuple[bool, str]:
        if not self.settings.enabled:
            return False, "site.enabled is false"
        if not self.settings.target:
            return False, "no site.target (s3://BUCKET/PREFIX/)"
        return True, ""

    def deliver(self, job: Delivery) -> Outcome:
        from reportgen.publish.objectstore import sync_published

        client = cast("S3Client | None", job.seams.get("s3_client"))
        synced = sync_published(cast("Config", self.config), clock=job.clock, client=client)
        return Outcome(channel=self.name, status=Status.OK, summary=synced.summary(),
                       counts={"uploaded": len(synced.uploaded), "deleted": len(synced.deleted),
                               "unchanged": len(synced.unchanged)},
                       detail=synced.as_record())
