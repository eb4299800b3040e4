"""The one exception tree of reportgen.

    ReportgenError                 base; never raised itself
    ├── ConfigError                bad config file, key, value or environment  → exit 2
    ├── UsageError                 bad command-line input (dates, options)     → exit 2
    ├── SourceError                an upstream could not answer usefully
    │   ├── FetchError             transport failure, timeout, HTTP error status
    │   └── ParseError             body received but not in the expected shape
    ├── ArchiveError               the SQLite archive is unreadable or missing data
    ├── RenderError                a template or the PDF engine failed          → exit 1
    ├── LockError                  another process holds the date or scheduler lock → exit 1
    └── DeliveryError              SMTP or site publication failed              → exit 1

Exit codes are decided only at the CLI edge (`reportgen.cli`); library code raises.
A SourceError never aborts a run: the pipeline turns it into an "unavailable" section.
"""

from __future__ import annotations

from reportgen.plain import printable


class ReportgenError(Exception):
    """Base of every error reportgen raises on purpose. Its message often quotes an upstream
    (an error body, a header): escape sequences and control characters are removed here, so
    no message can reach a terminal, a log or a brief with them (reportgen.plain)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(printable(a) if isinstance(a, str) else a for a in args))


class ConfigError(ReportgenError):
    """The configuration (file, key, value or environment variable) is wrong."""


class UsageError(ReportgenError):
    """The command line asked for something impossible (a bad date, an unknown format)."""


class SourceError(ReportgenError):
    """An upstream source could not give a usable answer.

    `raw` holds the offending payload (a RawPayload) when there was one, so the archive
    can keep it for diagnosis.
    """

    raw: object | None = None
    raws: list[object] | None = None  # when one source made several failed exchanges


class FetchError(SourceError):
    """The request failed: connection, timeout, or an HTTP error status. `maybe_received`:
    whether the server may have received the request (False only when it was never sent or
    its connection never opened), which decides whether sending it again could repeat it."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.maybe_received = True


class ParseError(SourceError):
    """The upstream answered, but the body is not what the parser expects."""


class ArchiveError(ReportgenError):
    """The archive cannot be read or lacks what was asked for."""


class LockError(ReportgenError):
    """Another process is producing the same date (or another scheduler is running)."""


class RenderError(ReportgenError):
    """A template or the PDF engine failed."""


class DeliveryError(ReportgenError):
    """Mail could not be sent or the site could not be published."""
