"""The built site on S3-compatible object storage (`site.target: s3://BUCKET/PREFIX/`).

The local build (reportgen.publish.site) stays the source: the site is built under
output/site as always, then that build is synced to the bucket through boto3, with its
standard credential chain (environment, profile, instance role) and `AWS_ENDPOINT_URL` for
R2, MinIO or B2. Nothing secret is read here or written anywhere.

Incremental: every object carries the sha256 of its bytes (`x-amz-meta-sha256`), and the
ownership manifest `PREFIX.reportgen-manifest.json` lists each key publish put there with
its sha256, Content-Type, Cache-Control and the ETag the store gave it. A publish reads that
one object and makes one LIST of the prefix (1,000 keys a page), then uploads the keys whose
record differs, and HEADs only keys it has never published that LIST shows taken (to make
sure it overwrites nothing it did not put there).

The bucket is checked, not trusted: an owned key missing from the LIST (deleted by hand, a
lifecycle rule) is uploaded again ("restored"); an owned key whose ETag is no longer the one
recorded now holds someone else's object, which publish will neither overwrite nor delete
(UsageError, exit 2, the keys named). A manifest written before ETags were recorded takes
them from the LIST once.

Order that never shows a broken site: the files pages point at (a day's charts, PDF and
Markdown; the stylesheets) first, then the day pages, then other pages, the feed and the
sitemap, and `index.html` last; then the deletions; the ownership manifest after everything.
A reader following links from any page, at any moment of a publish, finds its targets.

Never deletes what it did not publish: the only keys deleted are those the previous
ownership manifest lists and the new build no longer has. A key publish is about to create
that already holds an object not published by reportgen is refused (UsageError), as the
local site refuses foreign files.

Cache-Control (see docs/deployment.md, "The site on object storage"): pages, index, feed
and sitemap `public, max-age=300`; a day's charts, PDF and Markdown `public, max-age=86400`;
the stylesheets and favicon `public, max-age=3600`. Nothing is `immutable`: a day re-rendered
(`reportgen render --date D` after a source recovered) gets new bytes under the same name, so
the promise would be false. The sha256 tells which published keys changed
(`SyncResult.replaced`), for a CDN invalidation of exactly those.

Errors name the bucket and key: no such bucket, access denied and refused credentials are
ConfigError (exit 2: the configuration or the credentials must change); throttling, 5xx
after the retries and an unreachable endpoint are DeliveryError (exit 1: try again).
Retries follow `config.http` (attempts, connect and read timeouts) through botocore's
"standard" retry mode.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from reportgen.clock import Clock, default_clock
from reportgen.config import Config
from reportgen.errors import ConfigError, DeliveryError, ReportgenError, UsageError
from reportgen.publish.reports import read_bytes
from reportgen.publish.site import MANIFEST, SiteResult, site_build
from reportgen.publish.site import _lock as publish_lock  # the build's lock: one publisher at a time
from reportgen.settings import HttpSettings
from reportgen.writer import OutputWriter

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)
T = TypeVar("T")

OWNERSHIP = ".reportgen-manifest.json"  # under the prefix: which keys publish put there
OWNERSHIP_VERSION = 1
GENERATOR = "reportgen"  # x-amz-meta-generator of every object publish uploads
# Files of the local build that are not part of the site a reader gets: the build's own
# bookkeeping, and GitHub Pages' marker (meaningless on a bucket).
NOT_UPLOADED = frozenset({MANIFEST, ".nojekyll"})
UPLOAD_THREADS = 8

SHORT = "public, max-age=300"  # pages (and their data), index, feed, sitemap: a new day shows within 5 min
DAY_FILE = "public, max-age=86400"  # a day's charts/PDF/MD: rarely re-rendered, never immutable
SHARED = "public, max-age=3600"  # stylesheets, favicon: change with a reportgen upgrade
MANIFEST_CACHE = "no-cache"

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".pdf": "application/pdf",
    ".md": "text/markdown; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}
_NAMED = {"feed.xml": "application/atom+xml", "sitemap.xml": "application/xml",
          "CNAME": "text/plain; charset=utf-8", "_headers": "text/plain; charset=utf-8",
          "_redirects": "text/plain; charset=utf-8"}
_DAY = re.compile(r"^\d{4}/\d{2}/\d{2}/")

# Error codes (S3 and the compatible stores) that mean: the credentials or the policy.
_DENIED = frozenset({"AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidAccessKeyId",
                     "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
                     "InvalidClientTokenId", "UnauthorizedAccess"})
# The IAM action a policy must allow for each S3 operation we call: not always the operation's
# own name (a listing is allowed by s3:ListBucket, a HEAD by s3:GetObject).
_IAM_ACTION = {"GetObject": "s3:GetObject", "HeadObject": "s3:GetObject",
               "ListObjectsV2": "s3:ListBucket", "PutObject": "s3:PutObject",
               "DeleteObjects": "s3:DeleteObject"}


def content_type(key: str) -> str:
    """The Content-Type an object of the site is served with, from its name."""
    name = key.rsplit("/", 1)[-1]
    if key in _NAMED or name in ("CNAME", "_headers", "_redirects"):
        return _NAMED.get(key, "text/plain; charset=utf-8")
    suffix = Path(name).suffix.lower()
    return _TYPES.get(suffix, "application/octet-stream")


def cache_control(key: str) -> str:
    """Cache-Control by kind of object (see the module doc for why nothing is immutable)."""
    if key.endswith((".html", ".htm", ".xml")):
        return SHORT
    if key.endswith(".json") and not _DAY.match(key):
        return SHORT  # the Liquidation Map pages' data: new with each day, like the pages
    if _DAY.match(key):
        return DAY_FILE
    return SHARED


def rank(key: str) -> int:
    """Upload order: what pages point at, day pages, other pages, feed and sitemap, index."""
    if key == "index.html":
        return 4
    if key in ("feed.xml", "sitemap.xml"):
        return 3
    if _DAY.match(key) and key.endswith("/index.html"):
        return 1
    if key.endswith((".html", ".htm")):
        return 2
    return 0


@dataclass(frozen=True)
class SiteObject:
    """One file of the local build as the bucket will hold it."""

    key: str  # relative to the prefix, as in the build
    path: Path
    sha256: str
    md5: str  # base64, sent as Content-MD5 so the store rejects a body damaged in transit
    size: int
    content_type: str
    cache_control: str

    def record(self) -> dict[str, str]:
        """Its entry in the ownership manifest (the ETag is added once the store gives it)."""
        return {"sha256": self.sha256, "content_type": self.content_type,
                "cache_control": self.cache_control}

    def published_as(self, record: dict[str, str] | None) -> bool:
        """Whether `record` (an ownership manifest entry) describes these very bytes."""
        return record is not None and all(record.get(k) == v for k, v in self.record().items())


def local_objects(folder: Path) -> list[SiteObject]:
    """The files of the build in `folder` (those its .manifest.json lists: what the build
    made, extra_files included), in upload order."""
    try:
        manifest = json.loads(read_bytes(folder / MANIFEST))
        files = [f for f in manifest["files"] if isinstance(f, str)]
    except (OSError, ValueError, KeyError, TypeError, DeliveryError) as exc:
        raise DeliveryError(f"{folder / MANIFEST} cannot be read ({exc}): publish the site "
                            "again to rebuild it") from None
    objects = []
    for key in files:
        if key in NOT_UPLOADED:
            continue
        data = read_bytes(folder / key)
        objects.append(SiteObject(
            key=key, path=folder / key, sha256=hashlib.sha256(data).hexdigest(),
            md5=base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode(),
            size=len(data), content_type=content_type(key), cache_control=cache_control(key)))
    return sorted(objects, key=lambda o: (rank(o.key), o.key))


@dataclass
class SyncResult:
    """What a sync did (or, in a dry run, would do). Keys are full object keys."""

    target: str
    dry_run: bool = False
    uploaded: list[str] = field(default_factory=list)  # in upload order
    replaced: list[str] = field(default_factory=list)  # uploaded over other bytes we published
    restored: list[str] = field(default_factory=list)  # owned, found missing, uploaded again
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0
    manifest_written: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        """One line: counts and seconds."""
        verb = ("would upload", "would delete", "would leave") if self.dry_run else (
            "uploaded", "deleted", "left")
        restored = f", {len(self.restored)} restored" if self.restored else ""
        line = (f"{self.target}: {verb[0]} {len(self.uploaded)} objects "
                f"({len(self.replaced)} replaced{restored}, {self.bytes_uploaded / 1024:.1f} KiB), "
                f"{verb[1]} {len(self.deleted)}, {verb[2]} {len(self.unchanged)} unchanged")
        return line + (" (dry run: nothing changed)" if self.dry_run else f", {self.seconds:.2f}s")

    def lines(self) -> list[str]:
        """The summary, then one line per object uploaded or deleted."""
        replaced, restored = set(self.replaced), set(self.restored)
        verb = "would " if self.dry_run else ""

        def why(key: str) -> str:
            if key in restored:
                return " (restores: it was missing from the bucket)"
            return " (replaces)" if key in replaced else " (new)"

        return [self.summary(),
                *(f"  {verb}upload {key}{why(key)}" for key in self.uploaded),
                *(f"  {verb}delete {key}" for key in self.deleted)]

    def as_record(self) -> dict[str, Any]:
        """JSON-able outcome, for the run record (archive `runs.channels`)."""
        return {"ok": True, "summary": self.summary(), "warnings": [], "target": self.target,
                "dry_run": self.dry_run, "uploaded": len(self.uploaded),
                "replaced": self.replaced, "restored": self.restored, "deleted": self.deleted,
                "unchanged": len(self.unchanged), "bytes": self.bytes_uploaded}


# -- the client and its errors ----------------------------------------------------------------


def make_client(http: HttpSettings) -> S3Client:
    """An S3 client under the project's HTTP policy: `http.attempts` tries per request
    (botocore "standard" retries: throttling, 5xx, connection errors), `http.connect_s` to
    connect and `http.timeout_s` of silence while reading. Credentials, region and endpoint
    come from boto3's standard chain (AWS_* variables, ~/.aws, instance role;
    AWS_ENDPOINT_URL for a store other than AWS)."""
    import boto3  # only when a target is set: loading the config stays light
    from botocore.config import Config as BotoConfig

    config = BotoConfig(
        retries={"total_max_attempts": http.attempts, "mode": "standard"},
        connect_timeout=http.connect_s, read_timeout=http.timeout_s,
        # boto3 ≥ 1.36 adds CRC checksums by default, which some S3-compatible stores refuse;
        # every upload sends Content-MD5 instead, which all of them check.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        max_pool_connections=UPLOAD_THREADS,
    )
    return boto3.session.Session().client("s3", config=config)


def _endpoint(client: S3Client) -> str:
    """The endpoint's URL without any user:password part."""
    parts = urlsplit(client.meta.endpoint_url)
    return urlunsplit(parts._replace(netloc=parts.hostname or "")) if parts.username else \
        client.meta.endpoint_url


def _error(exc: Exception, client: S3Client, operation: str, bucket: str, key: str | None,
           attempts: int) -> ReportgenError:
    """A ReportgenError naming the bucket and key for a botocore failure."""
    from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

    where = f"s3://{bucket}/{key}" if key else f"s3://{bucket}"
    endpoint = _endpoint(client)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ConfigError(f"{operation} {where}: no credentials for the object store: set "
                           "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the "
                           "environment")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        tries = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
        if code == "NoSuchBucket":
            return ConfigError(f"{operation} {where}: the bucket {bucket!r} does not exist at "
                               f"{endpoint}: create it, or fix site.target (or "
                               "REPORTGEN_SITE_TARGET, AWS_ENDPOINT_URL)")
        if code in _DENIED or status == 403:
            return ConfigError(f"{operation} {where}: access denied ({code or status}) at "
                               f"{endpoint}: the credentials in the environment need "
                               f"{_IAM_ACTION.get(operation, 's3:' + operation)} on bucket "
                               f"{bucket!r} (check the key, its policy "
                               "and the bucket policy)")
        return DeliveryError(f"{operation} {where}: {code or 'error'} (HTTP {status}) from "
                             f"{endpoint} after {tries} attempt(s) (http.attempts = {attempts}); "
                             "nothing was lost: publish again later")
    return DeliveryError(f"{operation} {where}: cannot reach the object store at {endpoint}: "
                         f"{type(exc).__name__}: {exc} (after up to {attempts} attempt(s), "
                         "http.attempts); publish again when it is reachable")


class _Store:
    """One bucket and prefix through one client; every call's failure becomes our error."""

    def __init__(self, client: S3Client, bucket: str, prefix: str, attempts: int) -> None:
        self.client, self.bucket, self.prefix, self.attempts = client, bucket, prefix, attempts

    def call(self, operation: str, key: str | None, fn: Callable[[], T]) -> T:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn()
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, self.client, operation, self.bucket, key, self.attempts) from None

    def not_found(self, exc: Exception) -> bool:
        from botocore.exceptions import ClientError

        if not isinstance(exc, ClientError):
            return False
        code = exc.response.get("Error", {}).get("Code", "")
        return code in ("NoSuchKey", "404", "NotFound")

    def get_manifest(self) -> dict[str, dict[str, str]] | None:
        """The previous ownership manifest's objects (None: publish never wrote one here)."""
        from botocore.exceptions import ClientError

        key = self.prefix + OWNERSHIP

        def get() -> bytes | None:
            try:
                return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except ClientError as exc:
                if self.not_found(exc):
                    return None
                raise

        body = self.call("GetObject", key, get)
        if body is None:
            return None
        try:
            data = json.loads(body)
            objects = data["objects"]
            if data.get("version") != OWNERSHIP_VERSION or not isinstance(objects, dict):
                raise ValueError(f"version {data.get('version')!r}")
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryError(f"s3://{self.bucket}/{key} is not an ownership manifest this "
                                f"reportgen can read ({exc}); publish will not guess which "
                                "objects it owns: move it away to publish everything again") from None
        return {k: v for k, v in objects.items() if isinstance(k, str) and isinstance(v, dict)}

    def head(self, key: str) -> dict[str, Any] | None:
        """The object's HEAD answer, None when there is none."""
        from botocore.exceptions import ClientError

        def head() -> dict[str, Any] | None:
            try:
                return dict(self.client.head_object(Bucket=self.bucket, Key=key))
            except ClientError as exc:
                if self.not_found(exc):
                    return None
                raise

        return self.call("HeadObject", key, head)

    def listing(self) -> dict[str, str]:
        """Every key under the prefix and its ETag (ListObjectsV2, 1000 a page)."""
        def list_keys() -> dict[str, str]:
            keys: dict[str, str] = {}
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    if "Key" in item:
                        keys[item["Key"]] = item.get("ETag", "").strip('"')
            return keys

        return self.call("ListObjectsV2", self.prefix, list_keys)

    def put(self, obj: SiteObject) -> str:
        """Upload `obj`; returns the ETag the store gave it."""
        key = self.prefix + obj.key
        data = read_bytes(obj.path)
        answer = self.call("PutObject", key, lambda: self.client.put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType=obj.content_type,
            CacheControl=obj.cache_control, ContentMD5=obj.md5,
            Metadata={"sha256": obj.sha256, "generator": GENERATOR}))
        return str(answer.get("ETag", "")).strip('"')

    def put_manifest(self, objects: dict[str, dict[str, str]], clock: Clock) -> None:
        key = self.prefix + OWNERSHIP
        body = json.dumps({"version": OWNERSHIP_VERSION, "generator": GENERATOR,
                           "published_at": clock.now().isoformat(timespec="seconds"),
                           "objects": dict(sorted(objects.items()))}, indent=1).encode()
        self.call("PutObject", key, lambda: self.client.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType="application/json",
            CacheControl=MANIFEST_CACHE,
            ContentMD5=base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode(),
            Metadata={"generator": GENERATOR}))

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):  # DeleteObjects takes 1000 keys a call
            batch = keys[start:start + 1000]

            def delete(batch: list[str] = batch) -> list[dict[str, Any]]:
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
                return [dict(e) for e in answer.get("Errors", [])]

            failed = self.call("DeleteObjects", batch[0], delete)
            if failed:
                first = failed[0]
                raise DeliveryError(
                    f"DeleteObjects s3://{self.bucket}/{first.get('Key')}: {first.get('Code')} "
                    f"({len(failed)} of {len(batch)} keys not deleted); they stay listed as "
                    "published, so the next publish tries again")


# -- the sync ---------------------------------------------------------------------------------


@dataclass
class _Plan:
    """What a sync will do, from the local build, the bucket's listing and the ownership
    manifest (keys here are relative to the prefix)."""

    objects: list[SiteObject]
    previous: dict[str, dict[str, str]] | None  # the ownership manifest (None: first publish)
    there: dict[str, str]  # full key → ETag, from the one LIST
    pending: list[SiteObject] = field(default_factory=list)  # to upload
    restored: set[str] = field(default_factory=set)  # owned, missing from the bucket
    unchanged: list[str] = field(default_factory=list)  # full keys left as they are
    gone: list[str] = field(default_factory=list)  # full keys to delete

    @property
    def owned(self) -> dict[str, dict[str, str]]:
        return self.previous or {}


def sync_site(config: Config, folder: Path, *, clock: Clock | None = None,
              client: S3Client | None = None, dry_run: bool = False) -> SyncResult:
    """Sync the site built in `folder` to `config.site.target`; see the module doc.
    `client` defaults to `make_client(config.http)` (tests pass one they instrument)."""
    started = time.perf_counter()
    if not config.site.target or not config.site.bucket:
        raise UsageError("no site.target to publish to: set site.target: s3://BUCKET/PREFIX/ "
                         "in the config or REPORTGEN_SITE_TARGET")
    store = _Store(client or make_client(config.http), config.site.bucket, config.site.prefix,
                   config.http.attempts)
    plan = _plan(store, local_objects(folder))
    result = _planned(plan, config.site.target, store.prefix, dry_run)
    if not dry_run:
        result.manifest_written = _carry_out(store, plan, clock or default_clock())
    result.seconds = time.perf_counter() - started
    if not dry_run:
        log.info(result.summary())
    return result


def _plan(store: _Store, objects: list[SiteObject]) -> _Plan:
    """Read the bucket (manifest, one LIST, a HEAD per unknown key) and decide."""
    plan = _Plan(objects=objects, previous=store.get_manifest(), there=store.listing())
    owned, prefix = plan.owned, store.prefix
    _refuse_changed_by_others(owned, plan.there, store.bucket, prefix)
    # Owned and unchanged stays; owned but missing from the bucket is restored.
    plan.restored = {o.key for o in objects if o.key in owned and prefix + o.key not in plan.there}
    for obj in objects:
        if obj.key not in plan.restored and obj.published_as(owned.get(obj.key)):
            plan.unchanged.append(prefix + obj.key)
        else:
            plan.pending.append(obj)
    _adopt_or_refuse(store, plan)
    local = {o.key for o in objects}
    plan.gone = sorted(prefix + key for key in owned if key not in local)
    return plan


def _adopt_or_refuse(store: _Store, plan: _Plan) -> None:
    """A key never published (by the manifest) may hold an object already: ours, from a
    publish stopped before its manifest was written (then it is adopted, uploaded again
    only if different), or someone else's (then nothing is touched: UsageError)."""
    prefix, foreign = store.prefix, []
    unknown = [o for o in plan.pending if o.key not in plan.owned and prefix + o.key in plan.there]
    for obj in unknown:
        head = store.head(prefix + obj.key)
        if head is None:
            continue
        if head.get("Metadata", {}).get("generator") != GENERATOR:
            foreign.append(prefix + obj.key)
        elif _same_object(head, obj):
            plan.pending.remove(obj)
            plan.unchanged.append(prefix + obj.key)
    if foreign:
        raise UsageError(f"s3://{store.bucket}/ already holds objects that `reportgen publish` "
                         f"did not put there, at keys the site needs: {_some(foreign)}; publish "
                         "never overwrites those: move them, or choose another prefix in "
                         "site.target")


def _same_object(head: dict[str, Any], obj: SiteObject) -> bool:
    """Whether a HEAD answer describes exactly `obj` as publish would upload it."""
    return (head.get("Metadata", {}).get("sha256") == obj.sha256
            and head.get("ContentType") == obj.content_type
            and head.get("CacheControl") == obj.cache_control)


def _planned(plan: _Plan, target: str, prefix: str, dry_run: bool) -> SyncResult:
    pending = plan.pending
    return SyncResult(
        target=target, dry_run=dry_run, uploaded=[prefix + o.key for o in pending],
        replaced=[prefix + o.key for o in pending
                  if o.key in plan.owned and o.key not in plan.restored],
        restored=[prefix + o.key for o in pending if o.key in plan.restored],
        deleted=plan.gone, unchanged=plan.unchanged,
        bytes_uploaded=sum(o.size for o in pending))


def _carry_out(store: _Store, plan: _Plan, clock: Clock) -> bool:
    """Upload rank by rank (a page goes up only once everything it points at is there),
    delete what is gone, then write the manifest if anything changed; True if it was."""
    owned, prefix = plan.owned, store.prefix
    etags = {o.key: owned.get(o.key, {}).get("etag") or plan.there.get(prefix + o.key, "")
             for o in plan.objects}
    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS, thread_name_prefix="s3-upload") as pool:
        for level in sorted({rank(o.key) for o in plan.pending}):
            batch = [o for o in plan.pending if rank(o.key) == level]
            etags.update(zip((o.key for o in batch), pool.map(store.put, batch), strict=True))
    if plan.gone:
        store.delete(plan.gone)
    records = {o.key: {**o.record(), "etag": etags[o.key]} for o in plan.objects}
    if (plan.pending or plan.gone or plan.previous is None
            or records != {k: owned.get(k) for k in records}):
        store.put_manifest(records, clock)  # (also when ETags were first learnt from LIST)
        return True
    return False


def _some(keys: list[str]) -> str:
    """The first five keys, and how many more."""
    return ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def _refuse_changed_by_others(owned: dict[str, dict[str, str]], there: dict[str, str],
                              bucket: str, prefix: str) -> None:
    """UsageError when an owned key now holds an object other than the one publish put there
    (its ETag is not the one recorded): publish would overwrite or delete someone's object."""
    changed = sorted(prefix + key for key, record in owned.items()
                     if record.get("etag") and prefix + key in there
                     and there[prefix + key] != record["etag"])
    if changed:
        raise UsageError(f"s3://{bucket}/ holds objects at keys this site published that someone "
                         f"else has changed since: {_some(changed)} (their ETags are not the ones "
                         "publish recorded); publish will neither overwrite nor delete them: move "
                         "them away (or delete them) and publish again")


# -- build, then sync ---------------------------------------------------------------------------


@dataclass
class PublishResult:
    """The local build and, with a site.target, the sync of it."""

    site: SiteResult
    remote: SyncResult | None = None


def publish_site(config: Config, *, writer: OutputWriter | None = None, dry_run: bool = False,
                 clock: Clock | None = None, client: S3Client | None = None) -> PublishResult:
    """Build output/site (reportgen.publish.site), then sync it to `site.target` when one is
    set, holding the publish lock throughout so two publishers never interleave their
    uploads. With `dry_run` nothing changes: the build is made aside and removed, and the
    bucket is only read."""
    with site_build(config, writer=writer, dry_run=dry_run) as site:
        remote = None
        if config.site.target:
            remote = sync_site(config, site.build_dir, clock=clock, client=client, dry_run=dry_run)
    return PublishResult(site=site, remote=remote)


def sync_published(config: Config, *, clock: Clock | None = None,
                   client: S3Client | None = None) -> SyncResult:
    """Sync the live site (output/site, as the last build left it) to `site.target`, holding
    the publish lock so no build replaces it meanwhile (the run's object-store channel,
    after its site channel has built it)."""
    output = config.output.resolve()
    lock = publish_lock(output, config.site.lock_wait_s)
    try:
        live = output / "site"
        if not live.is_dir():
            raise DeliveryError(f"no site in {live} to sync to {config.site.target}: build it "
                                "first (`reportgen publish`)")
        return sync_site(config, live.resolve(), clock=clock, client=client)
    finally:
        lock.release()
