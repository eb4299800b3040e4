"""The bottom layer of the configuration: the strict base model, URL checks, the base of
every source's settings and the HTTP policy. `reportgen.config` assembles them (and each
source's settings, found by the registry) into `Config`; sources and `reportgen.http` import
from here, so none of them needs the config module.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator


def url_problem(value: str) -> str | None:
    """Why `value` is not an absolute http(s) URL (None when it is)."""
    if any(ord(c) <= 32 or ord(c) == 127 for c in value):
        return "URL must not contain spaces or control characters"
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not value.lower().startswith(("http://", "https://")):
        return "URL must start with http:// or https://"
    if not parts.netloc:
        return "URL must name a host (http://host/…)"
    try:
        parts.port  # noqa: B018 - parsing it is the check ("host:443:443", "host:99999")
    except ValueError:
        return f"URL has no valid port after the host: {parts.netloc!r} (host or host:PORT)"
    if not parts.hostname:
        return f"URL must name a host before its port: {parts.netloc!r}"
    return None


def check_url(value: str) -> str:
    """A validator: `value` unchanged when it is an absolute http(s) URL, else ValueError."""
    problem = url_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def zone_info(name: str) -> ZoneInfo:
    """The IANA time zone `name` ("Europe/London"); ValueError naming it when there is none
    (the one check of a zone the config, the schedule and the calendar file share)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name like Europe/London)") from None


def check_zone(value: str) -> str:
    """A validator: `value` unchanged when it names an IANA time zone, else ValueError."""
    zone_info(value)
    return value


class Strict(BaseModel):
    """Base for every config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpSettings(Strict):
    """The one HTTP client policy (reportgen/http.py applies it to every exchange)."""

    timeout_s: float = Field(20.0, gt=0, le=300, description="per read: the longest silence")
    connect_s: float = Field(10.0, gt=0, le=120, description="to open a connection")
    deadline_s: float = Field(45.0, gt=0, le=900,
                              description="whole request, every retry and wait included")
    attempts: int = Field(3, ge=1, le=10, description="tries per request (429/5xx/timeouts)")
    backoff_s: float = Field(0.5, ge=0, le=60, description="first retry delay, doubles")
    max_body_mb: float = Field(16.0, gt=0, le=1024,
                               description="largest answer kept, counted after decompression")
    max_body_mb_by_source: dict[str, float] = Field(
        default_factory=dict, description="per-source override of max_body_mb")
    redirect_hosts: tuple[str, ...] = Field(
        (), description="hosts a redirect may lead to besides the one asked")

    @field_validator("max_body_mb_by_source")
    @classmethod
    def _positive_caps(cls, value: dict[str, float]) -> dict[str, float]:
        for name, cap in value.items():
            if not cap > 0:
                raise ValueError(f"{name}: a body cap must be more than 0 MB")
        return value

    def max_body_bytes(self, source: str) -> int:
        """The body cap, in bytes, for one source's answers."""
        return int(self.max_body_mb_by_source.get(source, self.max_body_mb) * 1024 * 1024)


class SourceSettings(Strict):
    """Base of a source's settings (in its own module): every source can be switched off."""

    enabled: bool = True
