"""Logging set-up: one clear line per stage, more with --verbose, JSON when configured.

The format comes from `REPORTGEN_LOG_FORMAT` (text|json), which wins over `logging.format`
in the config file. JSON lines carry `ts`, `level`, `logger`, `message` and any `extra=`
fields, so a log shipper (journald, Loki, CloudWatch) can index them.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Any

from reportgen.errors import ConfigError

# Third-party loggers kept at WARNING even with --verbose; botocore's DEBUG lines would carry
# request headers (the signature, a session token), which never go into a log.
NOISY = ("httpx", "httpcore", "fontTools", "weasyprint", "matplotlib", "boto3", "botocore",
         "s3transfer", "urllib3")
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


LOG_FORMATS = ("text", "json")


def log_format(configured: str = "text") -> str:
    """The format to use: the environment's REPORTGEN_LOG_FORMAT, else the configured one."""
    value = os.environ.get("REPORTGEN_LOG_FORMAT", "").strip().lower()
    if not value:
        return configured
    if value not in LOG_FORMATS:
        raise ConfigError(f"REPORTGEN_LOG_FORMAT={value!r}: choose one of {', '.join(LOG_FORMATS)}")
    return value


def setup_logging(*, verbose: bool = False, fmt: str = "text", level: int | None = None) -> None:
    """(Re)configure logging. `level` defaults to WARNING (INFO with --verbose); long-running
    commands (schedule, backfill) pass INFO so each stage gets its line. --verbose also turns
    on reportgen's DEBUG detail, while third-party libraries stay at WARNING."""
    if level is None:
        level = logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._reportgen = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_reportgen", False):  # only ours: pytest's capture handlers stay
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("reportgen").setLevel(logging.DEBUG if verbose else level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)
    # The scheduler's own warnings ("run time of job … was missed") matter in a daemon log.
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.WARNING)
