"""What every delivery channel module provides, and what it is handed.

A channel is one module in `reportgen/channels/` (see docs/adding-a-channel.md). Its
`Channel` subclass declares, as class attributes: its `name` (registry, delivery-log and
run-record key), `title`, `order` (channels deliver in this order: the site before what
links to it), its settings model and where it sits in the config (`channels.<name>`, or a
top-level key such as `email`), the `commands` it runs on (`run`, `send`, `publish`), and
whether `send --to ADDRESS` addresses it. At run time it says which environment variables
hold its secrets (`secret_env`), whether it is enabled (and why not), which formats it
needs rendered, and `deliver`s one rendered day, answering with a typed `Outcome`.

`reportgen.channels` finds every such class; the publish phase, `reportgen send`, the CLI's
summary and exit code and the run record iterate it, and name no channel.

Channel modules import no network, drawing or cloud library at module level (they import
the publish code they wrap inside `deliver`): the registry is read when the config loads.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel

from reportgen.settings import Strict

if TYPE_CHECKING:
    from reportgen.brief.model import Brief
    from reportgen.clock import Clock
    from reportgen.manifest import ReportManifest
    from reportgen.settings import HttpSettings
    from reportgen.writer import OutputWriter

S = TypeVar("S", bound=BaseModel)
T = TypeVar("T", bound=BaseModel)

Command = Literal["run", "send", "publish"]
# How many recipients an outcome names per kind of trouble (the delivery log keeps them all).
NAMES_KEPT = 50


class ChannelSettings(Strict):
    """Base of a channel's settings (in its own module): every channel is off until enabled."""

    enabled: bool = False


class ChannelConfig(Protocol):
    """What a channel sees of the configuration (`reportgen.config.Config` provides it)."""

    @property
    def output(self) -> Path: ...

    @property
    def archive_path(self) -> Path: ...

    @property
    def http(self) -> HttpSettings: ...

    def settings_for(self, key: str, model: type[T]) -> T:
        """The settings model at dotted `key` (its defaults when the config has none)."""
        ...


class Status(StrEnum):
    """How a channel's delivery of one day went."""

    OK = "ok"  # everything delivered (or already delivered earlier)
    PARTIAL = "partial"  # some delivered, some need a look
    FAILED = "failed"  # nothing delivered that should have been
    SKIPPED = "skipped"  # not attempted: a dry run, nothing to do


@dataclass(frozen=True)
class Outcome:
    """A channel's delivery of one day: the CLI's summary line and the run record's entry."""

    channel: str
    status: Status
    summary: str  # one line
    counts: Mapping[str, int] = field(default_factory=dict)  # "sent": 3, "skipped": 1 …
    # Recipients (addresses, chats, keys) needing a look → why; at most NAMES_KEPT per kind.
    needs_look: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()  # detail lines for the operator, under the summary
    files: tuple[str, ...] = ()  # files a dry run wrote
    detail: Mapping[str, Any] = field(default_factory=dict)  # JSON-able extras for the record

    @property
    def ok(self) -> bool:
        """False when something needs a look (the command then exits non-zero)."""
        return self.status in (Status.OK, Status.SKIPPED)

    def as_record(self) -> dict[str, Any]:
        """JSON-able, for the run record (archive `runs.channels`)."""
        return {**self.detail, "status": self.status.value, "ok": self.ok,
                "summary": self.summary, "counts": dict(self.counts),
                "needs_look": dict(self.needs_look), "warnings": list(self.warnings)}

    @classmethod
    def failure(cls, channel: str, why: str) -> Outcome:
        """A channel that could not deliver at all."""
        return cls(channel, Status.FAILED, f"{channel}: failed: {why}")


def status_of(delivered: int, troubled: int) -> Status:
    """OK when nothing needs a look, PARTIAL when some went, FAILED when none did."""
    if not troubled:
        return Status.OK
    return Status.PARTIAL if delivered else Status.FAILED


def first_names(by_name: Mapping[str, str]) -> dict[str, str]:
    """The first NAMES_KEPT entries, and how many more there are."""
    shown = dict(list(by_name.items())[:NAMES_KEPT])
    if len(by_name) > NAMES_KEPT:
        shown["…"] = f"and {len(by_name) - NAMES_KEPT} more, each in the archive's delivery log"
    return shown


@dataclass(frozen=True)
class Delivery:
    """One rendered day to deliver, and how (what the command line asked)."""

    command: Command
    brief: Brief
    manifest: ReportManifest
    writer: OutputWriter  # the run's one writer of the output folder
    clock: Clock
    page_url: str | None = None  # the brief's page on the public site, when there is one
    force: bool = False  # deliver again what the delivery log says was handled
    dry_run: bool = False  # deliver nothing; write or list what would go
    to: tuple[str, ...] = ()  # `send --to`: the only recipients, for channels that take them
    env: Mapping[str, str] | None = None  # where secrets are read (None: os.environ)
    # Test seams by name, each channel reading its own (an SMTP factory, an HTTP transport).
    seams: Mapping[str, object] = field(default_factory=dict)


class Channel(ABC, Generic[S]):
    """A delivery channel: one module's declaration (see the module docstring)."""

    name: ClassVar[str]  # "email", "site" …
    title: ClassVar[str]
    order: ClassVar[int] = 100  # delivery order: site 10, object store 20, email 30
    # The settings model (it must have `enabled: bool`), and its key in the config: None is
    # `channels.<name>`; "email" or "site" name a top-level key.
    settings_model: type[S]
    settings_key: ClassVar[str | None] = None
    commands: ClassVar[frozenset[Command]] = frozenset({"run"})
    takes_addresses: ClassVar[bool] = False  # `send --to ADDRESS` names its recipients

    def __init__(self, config: ChannelConfig) -> None:
        self.config = config
        self.settings: S = config.settings_for(self.config_key(), self.settings_model)

    @classmethod
    def config_key(cls) -> str:
        return cls.settings_key or f"channels.{cls.name}"

    def secret_env(self) -> tuple[str, ...]:
        """The environment variables holding its secrets (their values are never logged,
        recorded or shown)."""
        return ()

    def enabled(self) -> tuple[bool, str]:
        """(enabled, why not)."""
        if getattr(self.settings, "enabled", False):
            return True, ""
        return False, f"{self.config_key()}.enabled is false"

    def ready_for(self, command: Command, *, addressed: bool = False,
                  dry_run: bool = False) -> tuple[bool, str]:
        """Whether it delivers on `command` (and why not); `addressed`: `send --to` named
        the only recipients, which only a channel that `takes_addresses` can serve;
        `dry_run`: nothing will be delivered, only written or listed."""
        if command not in self.commands:
            return False, f"does not run on `{command}`"
        if addressed and not self.takes_addresses:
            return False, "--to names recipients of another channel"
        return self.enabled()

    def formats(self) -> frozenset[str]:
        """Formats render must make for it (e.g. "pdf" to attach)."""
        return frozenset()

    def page_url(self, job_day: date) -> str | None:
        """Where the public page of `job_day`'s brief is, for a channel that publishes
        pages (others link it: "view in browser"); None otherwise."""
        return None

    @abstractmethod
    def deliver(self, job: Delivery) -> Outcome:
        """Deliver `job`'s day; recipients already handled (the archive's delivery log) are
        skipped unless `job.force`. Trouble with some recipients is in the outcome; an error
        that stops the whole channel raises (a ReportgenError naming the fix)."""
