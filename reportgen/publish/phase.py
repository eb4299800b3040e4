"""The pipeline's last phase: deliver the day on every channel asked for, from what the
phases before made (the view-model and the manifest render wrote).

Channels come from the registry (`reportgen.channels`), in their declared order (the site
first, so the pages other channels link exist). This module names none of them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from typing import Any

from reportgen.channels import channels
from reportgen.channels.base import Channel, ChannelConfig, Command, Delivery, Outcome
from reportgen.errors import ConfigError, ReportgenError, UsageError

log = logging.getLogger(__name__)


def active_channels(config: ChannelConfig, command: Command, *, addressed: bool = False,
                    dry_run: bool = False, skip: Iterable[Command] = ()) -> list[Channel[Any]]:
    """The channels that deliver on `command` here: enabled (or, for `send`, asked for),
    and running on none of the `skip` commands (`run --no-send` skips the channels that run
    on `send`, `--no-publish` those that run on `publish`)."""
    skipped = frozenset(skip)
    return [channel for channel in channels(config, command)
            if not channel.commands & skipped
            and channel.ready_for(command, addressed=addressed, dry_run=dry_run)[0]]


def needed_formats(active: Iterable[Channel[Any]]) -> set[str]:
    """Formats the active channels need rendered besides the configured ones."""
    return {fmt for channel in active for fmt in channel.formats()}


def page_url(config: ChannelConfig, day: date) -> str | None:
    """The day's public page, from the channel that publishes pages (even when it is not
    delivering in this run: the page was published before)."""
    for channel in channels(config):
        url = channel.page_url(day)
        if url:
            return url
    return None


def publish_phase(active: Iterable[Channel[Any]], job: Delivery) -> dict[str, Outcome]:
    """Deliver `job` on each channel in turn; channel name → its outcome. A channel that
    fails outright becomes a failed outcome naming why, and the others still deliver; a
    configuration or usage error stops the phase (the operator must fix it)."""
    outcomes: dict[str, Outcome] = {}
    for channel in active:
        try:
            outcome = channel.deliver(job)
        except (ConfigError, UsageError):
            raise
        except ReportgenError as exc:
            log.warning("%s: %s failed: %s", job.brief.day, channel.name, exc)
            outcome = Outcome.failure(channel.name, str(exc))
        outcomes[channel.name] = outcome
    return outcomes
