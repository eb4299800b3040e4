"""Configuration: `config.yaml` validated into typed settings.

Precedence: defaults in these models < the YAML file (`--config FILE`, `REPORTGEN_CONFIG`, or
`./config.yaml`) < environment overrides (`REPORTGEN_OUTPUT`, `REPORTGEN_SITE_URL`,
`REPORTGEN_SITE_TARGET`) < command-line options. Secrets (API keys, SMTP password) are never
read from the file: only from the environment, through `secrets_from_env`.

An unknown key, a wrong type or a bad value raises ConfigError naming the key, e.g.
`config.yaml: sources.coingecko.base_url: URL must start with http:// or https://`.

The settings of each source live in its own module (`reportgen/sources/`): `sources.<name>`,
or a top-level key for those with a section of their own (`liquidation`, `etf`, `news`).
Likewise each delivery channel's (`reportgen/channels/`): `channels.<name>`, except email's
and the site's, which are this module's `email:` and `site:` sections.
`config_model()` adds them to `Config` from the registries (`reportgen.registry`,
`reportgen.channels`); the modules it loads import no network or drawing library, so
loading the config stays light.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterator, Mapping
from email.utils import getaddresses, parseaddr
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from reportgen.errors import ConfigError
from reportgen.settings import (
    HttpSettings,
    Strict,
    check_url,
    check_zone,
    url_problem,
)

Format = Literal["html", "pdf", "md"]
ALL_FORMATS: tuple[Format, ...] = ("html", "pdf", "md")
T = TypeVar("T", bound=BaseModel)

# Environment variables holding secrets besides those the sources declare (`Source.secrets`);
# nothing else is read as a secret.
SECRET_ENV = {
    "smtp_password": "REPORTGEN_SMTP_PASSWORD",
    # signs each subscriber's unsubscribe link (reportgen.publish.unsubscribe); list mode only
    "unsubscribe_secret": "REPORTGEN_UNSUBSCRIBE_SECRET",
}

# Non-secret SMTP settings deployments set from the environment (→ the `email:` keys).
SMTP_ENV = {
    "smtp_host": "REPORTGEN_SMTP_HOST",
    "smtp_port": "REPORTGEN_SMTP_PORT",
    "smtp_user": "REPORTGEN_SMTP_USER",
    "smtp_tls": "REPORTGEN_SMTP_TLS",
}


def _url_keys(model: BaseModel, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str, str]]:
    """(dotted key, problem) for every key named `url` or `*_url`, in any section (those that
    sections declare elsewhere too: liquidation, etf, news feeds), whose value is not http(s)."""
    for name, value in model:
        where = (*path, name)
        items = list(enumerate(value)) if isinstance(value, list | tuple) else [(None, value)]
        for index, item in items:
            at = where if index is None else (*where, index)
            if isinstance(item, BaseModel):
                yield from _url_keys(item, at)
            elif isinstance(item, str) and (name == "url" or name.endswith("_url")):
                problem = url_problem(item)
                if problem:
                    yield ".".join(str(part) for part in at), problem


def address_problem(address: str) -> str | None:
    """Why `address` cannot be one recipient's email address (None when it can)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in address):
        return "contains a control character (a line break?): give one plain address"
    if len(getaddresses([address])) != 1:
        return "holds several addresses: give each its own entry (or --to)"
    if "@" not in parseaddr(address)[1]:
        return "is not an email address"
    return None


class ReportSettings(Strict):
    title: str = "Daily Crypto Research Brief"
    # the PDF's Author and the pages' <meta name="author">: your desk's or firm's name
    author: str = Field("reportgen", min_length=1, max_length=200)
    formats: list[Format] = Field(default_factory=lambda: list(ALL_FORMATS))
    original_url: str | None = Field(
        None, description="link to the original/public page of the brief, shown in the footer"
    )
    render_workers: int | None = Field(
        None, ge=0, le=16,
        description="processes drawing the charts and the PDF beside the main one (0: none, "
                    "all in the main process; default: one per core, at most 4)")

    @field_validator("original_url")
    @classmethod
    def _original_url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("formats")
    @classmethod
    def _formats_not_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one format is needed")
        return list(dict.fromkeys(value))


class EmailSettings(Strict):
    """Mailing the brief (reportgen.publish.mailer). SMTP host/port/user/TLS can be overridden
    by REPORTGEN_SMTP_HOST/_PORT/_USER/_TLS; the password comes only from REPORTGEN_SMTP_PASSWORD."""

    enabled: bool = False
    from_addr: str = Field("Crypto brief <brief@localhost>", description="From: header and envelope sender")
    to: list[str] = Field(default_factory=list, description="recipients shown in To: (one message each)")
    bcc: list[str] = Field(default_factory=list, description="recipients not shown in To:")
    subject_prefix: str = "Crypto brief"
    attach_pdf: bool = True
    list_unsubscribe_mailto: str | None = Field(None, description="e.g. unsubscribe@example.com")
    list_unsubscribe_url: str | None = Field(None, description="one-click unsubscribe URL (https)")
    smtp_host: str = "localhost"
    smtp_port: int | None = Field(None, ge=1, le=65535, description="default by TLS: 587, 465 or 25")
    smtp_user: str | None = None
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_timeout_s: float = Field(30.0, gt=0, le=600)
    attempts: int = Field(4, ge=1, le=10, description="tries per message on transient SMTP errors")
    backoff_s: float = Field(2.0, ge=0, le=300, description="first retry delay, doubles")
    # List mode (reportgen.publish.listmail): one message per subscriber, charts linked from
    # the site, a signed one-click unsubscribe link each.
    subscribers: str | None = Field(
        None, description="subscriber list: FILE.csv (an `email` column), FILE.txt (one "
        "address a line) or sqlite:///FILE.db?table=subscribers&column=email")
    list_id: str = Field("daily-brief", pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$",
                         description="the list's name: signed into unsubscribe links, List-Id")
    connections: int = Field(4, ge=1, le=8, description="SMTP connections used at once (list mode)")
    max_per_second: float = Field(10.0, gt=0, le=1000,
                                  description="messages per second across all connections")

    @field_validator("subscribers")
    @classmethod
    def _subscribers(cls, value: str | None) -> str | None:
        if value is not None:
            problem = subscribers_problem(value)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("list_unsubscribe_url")
    @classmethod
    def _unsub_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not check_url(value).lower().startswith("https://"):
            # RFC 8058: a one-click unsubscribe POST goes over HTTPS only.
            raise ValueError("must be an https:// URL (RFC 8058 one-click unsubscribe)")
        return value

    @field_validator("from_addr", "to", "bcc", "list_unsubscribe_mailto")
    @classmethod
    def _addresses(cls, value: str | list[str] | None) -> str | list[str] | None:
        for address in [value] if isinstance(value, str) else value or []:
            problem = address_problem(address)
            if problem:
                raise ValueError(f"{address!r} {problem}")
        return value


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Names S3 reserves for its own features (access points, directory buckets, demos).
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_problem(name: str) -> str | None:
    """Why `name` cannot be an S3 bucket (general-purpose bucket naming rules; R2, MinIO and
    B2 accept a subset of them), None when it can."""
    if not _BUCKET.match(name):
        return (f"bucket {name!r}: use 3 to 63 lowercase letters, digits, dots and hyphens, "
                "starting and ending with a letter or digit")
    if ".." in name:
        return f"bucket {name!r}: two dots in a row are not allowed"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return f"bucket {name!r}: a bucket name cannot look like an IP address"
    if name.startswith(_BUCKET_RESERVED_PREFIXES) or name.endswith(_BUCKET_RESERVED_SUFFIXES):
        return f"bucket {name!r}: S3 reserves that prefix or suffix"
    return None


def parse_s3_target(value: str) -> tuple[str, str]:
    """(bucket, prefix) of `s3://BUCKET/PREFIX/`; the prefix is "" or ends with "/". Raises
    ValueError saying what is wrong (a validator message)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() != "s3":
        raise ValueError(f"{value!r} is not an s3:// URL: use s3://BUCKET/PREFIX/ "
                         "(the endpoint, for R2, MinIO or B2, comes from AWS_ENDPOINT_URL)")
    bucket, _, prefix = rest.partition("/")
    problem = bucket_problem(bucket)
    if problem:
        raise ValueError(problem)
    parts = [part for part in prefix.split("/") if part]
    if any(part in (".", "..") for part in parts) or "//" in prefix.strip("/"):
        raise ValueError(f"prefix {prefix!r}: no empty, '.' or '..' segments")
    return bucket, "".join(f"{part}/" for part in parts)


def subscribers_problem(value: str) -> str | None:
    """Why `value` is not a subscriber list location (None when it is): a path, or
    sqlite:///relative.db / sqlite:////absolute.db with optional ?table=NAME&column=NAME."""
    from urllib.parse import parse_qs, urlsplit

    if not value.strip():
        return "give a file (.csv or .txt) or sqlite:///FILE.db?table=subscribers"
    if not value.startswith("sqlite:"):
        return None
    if not value.startswith("sqlite:///"):
        return ("use sqlite:///relative/path.db or sqlite:////absolute/path.db "
                "(three slashes, then the path)")
    parts = urlsplit(value)
    if not parts.path.lstrip("/"):
        return "names no database file: sqlite:///FILE.db?table=subscribers"
    options = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(options) - {"table", "column"})
    if unknown:
        return f"unknown option {unknown[0]!r}: only table= and column= are understood"
    for name in ("table", "column"):
        for ident in options.get(name, []):
            if not ident.isidentifier() or not ident.isascii():
                return f"{name}={ident!r} is not a plain SQL name (letters, digits, _)"
    return None


class SiteSettings(Strict):
    """The static site (reportgen.publish.site), built under output/site; with `target`, also
    synced to S3-compatible object storage (reportgen.publish.objectstore)."""

    enabled: bool = False
    url: str | None = Field(None, description="public base URL, for the feed, sitemap and OpenGraph")
    title: str = "Daily Crypto Research Brief"
    feed_entries: int = Field(30, ge=1, le=1000)
    extra_files: Path | None = Field(
        None, description="folder copied into every build (CNAME, robots.txt, _headers …)")
    lock_wait_s: float = Field(600, ge=0, le=86400,
                               description="wait this long for another publish to finish")
    target: str | None = Field(
        None, description="s3://BUCKET/PREFIX/: publish the built site there too "
                          "(or REPORTGEN_SITE_TARGET; the endpoint comes from AWS_ENDPOINT_URL)")

    @field_validator("url")
    @classmethod
    def _site_url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value).rstrip("/") + "/"

    @field_validator("target")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        if value is None:
            return None
        bucket, prefix = parse_s3_target(value)
        return f"s3://{bucket}/{prefix}"

    @property
    def bucket(self) -> str | None:
        """The bucket of `target` (None: the site stays in the local folder only)."""
        return parse_s3_target(self.target)[0] if self.target else None

    @property
    def prefix(self) -> str:
        """The key prefix of `target`: "" or ending with "/"."""
        return parse_s3_target(self.target)[1] if self.target else ""


class ScheduleSettings(Strict):
    """`reportgen schedule` (reportgen.ops.schedule): when the daily run fires, and how it
    catches up and shares the output folder with other processes."""

    time: str = Field("07:00", description="HH:MM, local time in `timezone`, of the daily run")
    timezone: str | None = Field(None, description="zone of `time`/`cron` (default: the report zone)")
    cron: str | None = Field(None, description="crontab expression (5 fields); overrides `time`")
    catch_up_days: int = Field(3, ge=0, le=60, description="missed report days re-run on start-up")
    misfire_grace_time_s: int = Field(3600, ge=1, le=86400, description="how late a run may still start")
    lock_wait_s: float = Field(0, ge=0, le=86400,
                               description="wait this long for another process's date lock (0: refuse)")

    @field_validator("time")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        hour, _, minute = value.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError(f"{value!r} is not a time: use HH:MM, e.g. 07:00")
        return f"{int(hour):02d}:{int(minute):02d}"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)

    @field_validator("cron")
    @classmethod
    def _crontab(cls, value: str | None) -> str | None:
        if value is not None:
            from apscheduler.triggers.cron import CronTrigger  # only when a cron line is set

            try:
                CronTrigger.from_crontab(value)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a crontab expression: {exc}") from None
        return value


class LoggingSettings(Strict):
    format: Literal["text", "json"] = Field("text", description="json: one JSON object a line")


class Config(Strict):
    timezone: str = "UTC"
    output: Path = Path("output")
    http: HttpSettings = HttpSettings()
    report: ReportSettings = ReportSettings()
    email: EmailSettings = EmailSettings()
    site: SiteSettings = SiteSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    logging: LoggingSettings = LoggingSettings()
    calendar: Path | None = Field(
        None, description="YAML file of scheduled events for \"What to watch\" "
                          "(reportgen.agenda); relative to the working folder")

    _zone = field_validator("timezone")(check_zone)

    @field_validator("output")
    @classmethod
    def _not_the_root(cls, value: Path) -> Path:
        resolved = value.resolve()
        if resolved == Path(resolved.anchor):
            raise ValueError(f"{value} is the filesystem root: choose a folder of its own, "
                             "e.g. ./output")
        return value

    @model_validator(mode="after")
    def _list_mode_needs(self) -> Config:
        # List mode links the charts and the PDF from the site and signs one-click
        # unsubscribe links: without these, the messages would carry broken links.
        if self.email.subscribers is not None:
            if not self.site.url:
                raise ValueError("email.subscribers needs site.url (or REPORTGEN_SITE_URL): "
                                 "list mail links its charts and PDF from the published site")
            if not (self.email.list_unsubscribe_url or "").startswith("https://"):
                raise ValueError("email.subscribers needs email.list_unsubscribe_url, an "
                                 "https:// one-click unsubscribe endpoint (RFC 8058)")
        return self

    def settings_for(self, key: str, model: type[T]) -> T:
        """The settings model at dotted `key` (e.g. "sources.gas", "etf"); its defaults when
        this config has no such key (a `Config` made without `config_model()`)."""
        node: object = self
        for part in key.split("."):
            node = getattr(node, part, None)
            if node is None:
                return model()
        if not isinstance(node, model):
            raise TypeError(f"config key {key} holds {type(node).__name__}, not {model.__name__}")
        return node

    @property
    def archive_path(self) -> Path:
        return self.output / "archive.sqlite"

    @property
    def reports_dir(self) -> Path:
        return self.output / "reports"


def _format_errors(origin: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        else:
            message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{origin}: {key}: {message}")
    return "\n".join(lines)


def config_from_mapping(data: Mapping[str, Any], origin: str = "config") -> Config:
    """Validate a mapping (parsed YAML) into a Config, or raise ConfigError naming the key."""
    try:
        config = config_model().model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(_format_errors(origin, exc)) from None
    bad_urls = [f"{origin}: {key}: {problem}" for key, problem in _url_keys(config)]
    if bad_urls:
        raise ConfigError("\n".join(bad_urls))
    if config.calendar is not None:
        from reportgen.agenda import load_calendar

        try:
            load_calendar(config.calendar)
        except ConfigError as exc:
            raise ConfigError(f"{origin}: calendar: {exc}") from None
    return config


@cache
def _config_classes() -> dict[str, type[BaseModel]]:
    from reportgen.channels import settings_models as channel_settings
    from reportgen.registry import settings_models

    top: dict[str, Any] = {}
    nested: dict[str, Any] = {}
    for key, model in settings_models():
        group, name = (nested, key.removeprefix("sources.")) if key.startswith("sources.") \
            else (top, key)
        group[name] = (model, model())
    channels: dict[str, Any] = {}
    for key, model in channel_settings():
        if key.startswith("channels."):
            channels[key.removeprefix("channels.")] = (model, model())
        elif key not in Config.model_fields:  # `email`, `site`: Config's own sections
            top[key] = (model, model())
    sources = create_model("SourcesSettings", __base__=Strict, __module__=__name__, **nested)
    channel_group = create_model("ChannelsSettings", __base__=Strict, __module__=__name__,
                                 **channels)
    loaded = create_model("LoadedConfig", __base__=Config, __module__=__name__,
                          sources=(sources, sources()), channels=(channel_group, channel_group()),
                          **top)
    return {"SourcesSettings": sources, "ChannelsSettings": channel_group, "LoadedConfig": loaded}


def config_model() -> type[Config]:
    """`Config` with the `sources:` keys and the sections' top-level keys of every
    registered source. Its classes are kept under their names in this module, so a config
    pickles (backfill hands it to worker processes)."""
    loaded = _config_classes()["LoadedConfig"]
    assert issubclass(loaded, Config)
    return loaded


def __getattr__(name: str) -> type[BaseModel]:
    if name in ("SourcesSettings", "ChannelsSettings", "LoadedConfig"):
        return _config_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _DuplicateKey(yaml.YAMLError):
    pass


class _StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last
    silently, so a second `output:` further down would quietly win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` may be overridden by the keys beside it
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark.line)
            except TypeError:
                continue  # an unhashable key: SafeLoader reports it
            if first != key_node.start_mark.line:
                raise _DuplicateKey(f"key {key!r} is given twice (lines {first + 1} and "
                                    f"{key_node.start_mark.line + 1}): keep one")
        return super().construct_mapping(node, deep=deep)


def load_config(
    path: Path | None = None,
    *,
    output: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Load and validate the configuration.

    `path` None → `REPORTGEN_CONFIG` or `./config.yaml` if it exists, else built-in defaults.
    `output` (the `--output` option) wins over `REPORTGEN_OUTPUT`, which wins over the file.
    """
    env = os.environ if env is None else env
    if path is None and env.get("REPORTGEN_CONFIG"):
        path = Path(env["REPORTGEN_CONFIG"])
    if path is None and Path("config.yaml").is_file():
        path = Path("config.yaml")

    data: dict[str, Any] = {}
    origin = "defaults"
    if path is not None:
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        try:
            loaded = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
        except _DuplicateKey as exc:
            raise ConfigError(f"{path}: {exc}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of keys")
        data = loaded

    if output is not None:
        data["output"] = str(output)
    elif env.get("REPORTGEN_OUTPUT"):
        data["output"] = env["REPORTGEN_OUTPUT"]
    _apply_env_overrides(data, env)
    return config_from_mapping(data, origin)


def _apply_env_overrides(data: dict[str, Any], env: Mapping[str, str]) -> None:
    """Non-secret settings that deployments like to set from the environment."""
    for key, var in (("url", "REPORTGEN_SITE_URL"), ("target", "REPORTGEN_SITE_TARGET")):
        if env.get(var):
            site = data.setdefault("site", {})
            if isinstance(site, dict):
                site[key] = env[var]
    smtp = {key: env[var] for key, var in SMTP_ENV.items() if env.get(var)}
    if smtp:
        email = data.setdefault("email", {})
        if isinstance(email, dict):
            email.update(smtp)


def secret_env() -> dict[str, str]:
    """Every secret's environment variable, keyed by our name: the sources' and SMTP's."""
    from reportgen.registry import source_classes

    names = dict(SECRET_ENV)
    for cls in source_classes():
        names.update(dict(cls.secrets))
    return names


def secrets_from_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The secrets that are set, keyed by our name (values never logged or rendered)."""
    env = os.environ if env is None else env
    return {name: env[var] for name, var in secret_env().items() if env.get(var)}
