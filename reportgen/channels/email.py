"""Email: the brief over SMTP (reportgen.publish.send), to `email.to`/`bcc` and the
subscriber list, each recipient at most once per day (the archive's delivery log).

Settings are the config's `email:` section (`reportgen.config.EmailSettings`); the SMTP
password and the list's unsubscribe secret come from the environment only.
"""

from __future__ import annotations

from typing import cast

from reportgen.channels.base import Channel, Command, Delivery, Outcome, Status, status_of
from reportgen.config import SECRET_ENV, Config, EmailSettings


class EmailChannel(Channel[EmailSettings]):
    name = "email"
    title = "Email (SMTP)"
    order = 30  # after the site: the message links its page ("view in browser")
    settings_model = EmailSettings
    settings_key = "email"
    commands = frozenset({"run", "send"})
    takes_addresses = True

    def secret_env(self) -> tuple[str, ...]:
        return tuple(SECRET_ENV.values())

    def formats(self) -> frozenset[str]:
        return frozenset({"pdf"}) if self.settings.attach_pdf else frozenset()

    def ready_for(self, command: Command, *, addressed: bool = False,
                  dry_run: bool = False) -> tuple[bool, str]:
        # `reportgen send` never needed email.enabled: recipients in the config (or --to) are
        # the operator asking for mail, and a dry run writes the message to look at. `run`
        # sends only when enabled.
        if command == "send" and (addressed or dry_run or self.settings.to or self.settings.bcc
                                  or self.settings.subscribers):
            return True, ""
        return super().ready_for(command, addressed=addressed, dry_run=dry_run)

    def deliver(self, job: Delivery) -> Outcome:
        from reportgen.publish.mailer import SmtpFactory, connect
        from reportgen.publish.send import send_brief

        factory = cast("SmtpFactory", job.seams.get("smtp_factory", connect))
        report = send_brief(cast("Config", self.config), job.brief, job.manifest,
                            writer=job.writer, to=list(job.to) or None, dry_run=job.dry_run,
                            force=job.force, clock=job.clock, factory=factory)
        record = report.as_record()
        troubled = len(report.refused) + len(report.failed) + len(report.unknown)
        status = Status.SKIPPED if job.dry_run else status_of(len(report.sent), troubled)
        return Outcome(
            channel=self.name, status=status, summary=report.summary(),
            counts={"sent": len(report.sent), "refused": len(report.refused),
                    "failed": len(report.failed), "unknown": len(report.unknown),
                    "skipped": len(report.skipped)},
            needs_look={**record["refused"], **record["failed"], **record["unknown"]},
            lines=tuple(report.lines()), files=tuple(report.dry_run_files), detail=record)
