"""`reportgen publish` with `site.target: s3://…`: the built site synced to a real S3 API
(moto's server on 127.0.0.1, the `s3` fixture), over the seven sample days."""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.config import config_from_mapping, load_config
from reportgen.errors import ConfigError, DeliveryError
from reportgen.publish import objectstore, publish_site
from reportgen.publish.objectstore import DAY_FILE, OWNERSHIP, SHARED, SHORT, make_client
from tests.publish.conftest import DAYS, LAST, day_path
from tests.publish.s3server import S3Server

URL = "https://briefs.example.org/daily/"
TARGET = "s3://briefs/daily/"
PREFIX = "daily/"


def _config(output: Path, target: str = TARGET, **http: Any) -> Any:
    return config_from_mapping({"output": str(output), "site": {"url": URL, "target": target},
                                "http": {"attempts": 3, "timeout_s": 5, "connect_s": 2, **http}})


def _cli(output: Path, *args: str, target: str = TARGET, verbose: bool = False) -> Any:
    return CliRunner().invoke(app, [*(["-v"] if verbose else []), "-o", str(output), "publish", *args],
                              env={"REPORTGEN_SITE_URL": URL, "REPORTGEN_SITE_TARGET": target})


def _objects(s3: S3Server) -> dict[str, datetime]:
    """Every key of the bucket and its LastModified."""
    answer = s3.client().list_objects_v2(Bucket="briefs")
    return {o["Key"]: o["LastModified"] for o in answer.get("Contents", [])}


def _site_files(output: Path) -> set[str]:
    """What a reader gets from the local build (not its .manifest.json / .nojekyll)."""
    site = output / "site"
    return {p.relative_to(site).as_posix() for p in site.rglob("*")
            if p.is_file() and p.name not in (".manifest.json", ".nojekyll")}


def _next_second() -> None:
    """S3's LastModified has one-second resolution: start the next publish in a later second,
    so an object uploaded again would show it."""
    time.sleep(1.05 - time.time() % 1)


def _day_files(day: Any) -> set[str]:
    return {f"{day:%Y/%m/%d}/{name}" for name in ("index.html", "brief.md", "brief.pdf")} | {
        f"{day:%Y/%m/%d}/charts/{kind}_{coin}{look}" for kind in ("liqmap", "etf")
        for coin in ("btc", "eth")  # each chart's looks: page width (light, dark), phone
        for look in (".svg", "-dark.svg", ".png", "-phone.png", "-phone-dark.png")} | {
        f"{day:%Y/%m/%d}/charts/liqmap_{coin}.json" for coin in ("btc", "eth")}


# The Liquidation Map pages and their data: new with every day.
LIQUIDATION_PAGES = {"liquidation/index.html", *(f"liquidation/{coin}/{name}" for coin in ("btc", "eth")
                                                 for name in ("index.html", "map.json"))}


def test_seven_days_every_object_with_its_type_and_cache_control(week: Path, s3: S3Server) -> None:
    result = _cli(week)
    assert result.exit_code == 0, result.output
    assert "s3://briefs/daily/: uploaded" in result.output
    local = _site_files(week)
    assert {day_path(d) for d in DAYS} <= local and {"feed.xml", "sitemap.xml", "index.html"} <= local
    assert set(_objects(s3)) == {PREFIX + k for k in local} | {PREFIX + OWNERSHIP}

    expected = {
        "index.html": ("text/html; charset=utf-8", SHORT),
        day_path(DAYS[0]): ("text/html; charset=utf-8", SHORT),
        "feed.xml": ("application/atom+xml", SHORT),
        "sitemap.xml": ("application/xml", SHORT),
        f"{LAST:%Y/%m/%d}/brief.pdf": ("application/pdf", DAY_FILE),
        f"{LAST:%Y/%m/%d}/brief.md": ("text/markdown; charset=utf-8", DAY_FILE),
        f"{DAYS[0]:%Y/%m/%d}/charts/liqmap_btc.svg": ("image/svg+xml", DAY_FILE),
        f"{DAYS[0]:%Y/%m/%d}/charts/etf_eth.png": ("image/png", DAY_FILE),
        "assets/site.css": ("text/css; charset=utf-8", SHARED),
        "favicon.svg": ("image/svg+xml", SHARED),
    }
    client = s3.client()
    for key in sorted(local):
        head = client.head_object(Bucket="briefs", Key=PREFIX + key)
        data = (week / "site" / key).read_bytes()
        assert head["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest(), key
        assert head["ContentLength"] == len(data), key
        if key in expected:
            assert (head["ContentType"], head["CacheControl"]) == expected[key], key
        else:  # every other object is one of the kinds above
            assert head["CacheControl"] in (SHORT, DAY_FILE, SHARED), key
            assert head["ContentType"] != "application/octet-stream", key
    page = client.get_object(Bucket="briefs", Key=PREFIX + day_path(LAST))["Body"].read()
    assert page == (week / "site" / day_path(LAST)).read_bytes()


def test_one_more_day_uploads_thirty_five_objects_and_leaves_the_rest(week: Path, s3: S3Server) -> None:
    aside = week / "later"
    shutil.move(week / "reports" / LAST.isoformat(), aside)
    config = _config(week)
    first = publish_site(config).remote
    assert first is not None and len(first.uploaded) == len(_site_files(week))
    before = _objects(s3)

    shutil.move(aside, week / "reports" / LAST.isoformat())
    _next_second()
    client = make_client(config.http)
    puts: list[str] = []
    client.meta.events.register("before-send.s3.PutObject",
                                lambda request, **_: puts.append(request.url.split("/briefs/", 1)[1]))
    second = publish_site(config, client=client).remote
    assert second is not None

    neighbour = day_path(DAYS[-2])  # its "next" link now points at the new day
    month = f"{LAST:%Y/%m}/index.html"  # its month's archive page lists the new day
    new = {PREFIX + k for k in _day_files(LAST) | LIQUIDATION_PAGES
           | {neighbour, month, "index.html", "feed.xml", "sitemap.xml"}}
    assert len(second.uploaded) <= 35
    assert set(second.uploaded) == new and len(new) == 35
    assert set(second.replaced) == {PREFIX + k for k in (neighbour, month, "feed.xml", "sitemap.xml",
                                                         "index.html", *LIQUIDATION_PAGES)}
    assert not second.deleted
    # The bucket agrees: exactly those objects (and the ownership manifest) are new; every
    # other object keeps its LastModified.
    after = _objects(s3)
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == new | {PREFIX + OWNERSHIP}
    assert all(after[k] == before[k] for k in before if k not in changed)
    # ... and the requests agree, in an order that never shows a broken page: the new day's
    # files, then its page and its neighbour's, then feed and sitemap, index, manifest.
    assert sorted(puts) == sorted([*new, PREFIX + OWNERSHIP])
    assert puts[-2:] == [PREFIX + "index.html", PREFIX + OWNERSHIP]
    pages = [i for i, k in enumerate(puts) if k.endswith("/index.html") and k != PREFIX + "index.html"]
    assets = [i for i, k in enumerate(puts) if k.startswith(f"{PREFIX}{LAST:%Y/%m/%d}/")
              and not k.endswith("index.html")]
    feeds = [puts.index(PREFIX + "feed.xml"), puts.index(PREFIX + "sitemap.xml")]
    assert max(assets) < min(pages) and max(pages) < min(feeds)


def test_nothing_changed_nothing_uploaded(week: Path, s3: S3Server) -> None:
    config = _config(week)
    publish_site(config)
    before = _objects(s3)
    _next_second()
    again = publish_site(config).remote
    assert again is not None and not again.uploaded and not again.deleted
    assert not again.manifest_written and _objects(s3) == before


def test_only_what_the_manifest_owns_is_deleted(week: Path, s3: S3Server) -> None:
    config = _config(week)
    publish_site(config)
    client = s3.client()
    first_day = f"{DAYS[0]:%Y/%m/%d}/"
    hand_placed = [PREFIX + "notes/readme.txt", PREFIX + first_day + "annotations.txt",
                   "elsewhere/index.html"]
    for key in hand_placed:
        client.put_object(Bucket="briefs", Key=key, Body=b"placed by hand")

    shutil.rmtree(week / "reports" / DAYS[0].isoformat())  # the day is gone locally
    result = publish_site(config).remote
    assert result is not None
    gone = {PREFIX + k for k in _day_files(DAYS[0]) if not k.endswith(".pdf")}  # PDF: last day only
    assert set(result.deleted) == gone  # the day's page, Markdown and charts: it published them
    remaining = set(_objects(s3))
    assert not gone & remaining
    assert set(hand_placed) <= remaining  # even the one inside the removed day's folder
    assert client.get_object(Bucket="briefs", Key=hand_placed[1])["Body"].read() == b"placed by hand"
    owned = client.get_object(Bucket="briefs", Key=PREFIX + OWNERSHIP)["Body"].read().decode()
    assert first_day not in owned and "notes/readme.txt" not in owned


def test_an_object_not_published_by_reportgen_is_never_overwritten(week: Path, s3: S3Server) -> None:
    s3.client().put_object(Bucket="briefs", Key=PREFIX + "index.html", Body=b"<p>hand-made</p>")
    result = _cli(week)
    assert result.exit_code == 2, result.output
    assert "s3://briefs/" in result.output and "daily/index.html" in result.output
    assert set(_objects(s3)) == {PREFIX + "index.html"}  # nothing uploaded
    body = s3.client().get_object(Bucket="briefs", Key=PREFIX + "index.html")["Body"].read()
    assert body == b"<p>hand-made</p>"


def test_an_object_deleted_by_hand_is_restored_by_the_next_publish(week: Path, s3: S3Server) -> None:
    config = _config(week)
    publish_site(config)
    chart = f"{PREFIX}{LAST:%Y/%m/%d}/charts/liqmap_btc.svg"
    s3.client().delete_object(Bucket="briefs", Key=chart)  # the page still links it
    _next_second()
    result = _cli(week)
    assert result.exit_code == 0, result.output
    assert "uploaded 1 objects (0 replaced, 1 restored" in result.output
    body = s3.client().get_object(Bucket="briefs", Key=chart)["Body"].read()
    assert body == (week / "site" / chart.removeprefix(PREFIX)).read_bytes()
    again = publish_site(config).remote  # and then it is whole: nothing more to do
    assert again is not None and not again.uploaded and not again.manifest_written


@pytest.mark.parametrize("then", ["unchanged", "day-removed"])
def test_an_owned_key_overwritten_by_someone_else_is_refused(week: Path, s3: S3Server,
                                                             then: str) -> None:
    config = _config(week)
    publish_site(config)
    first_page = f"{PREFIX}{DAYS[0]:%Y/%m/%d}/index.html"
    s3.client().put_object(Bucket="briefs", Key=first_page, Body=b"<p>someone else's page</p>")
    if then == "day-removed":  # publish would delete it: someone else's object, so no
        shutil.rmtree(week / "reports" / DAYS[0].isoformat())
    _next_second()
    before = _objects(s3)
    result = _cli(week)
    assert result.exit_code == 2, result.output
    assert "someone else has changed since" in result.output and first_page in result.output
    assert _objects(s3) == before  # nothing uploaded, deleted or rewritten
    body = s3.client().get_object(Bucket="briefs", Key=first_page)["Body"].read()
    assert body == b"<p>someone else's page</p>"


def test_dry_run_lists_and_changes_nothing(week: Path, s3: S3Server) -> None:
    aside = week / "later"
    shutil.move(week / "reports" / LAST.isoformat(), aside)
    publish_site(_config(week))
    shutil.move(aside, week / "reports" / LAST.isoformat())
    before, live = _objects(s3), (week / "site").resolve()
    builds = sorted(p.name for p in week.glob(".site-*"))

    result = _cli(week, "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "s3://briefs/daily/: would upload 35 objects (10 replaced" in out
    assert "would delete 0, would leave" in out and "(dry run: nothing changed)" in out
    assert f"would upload daily/{day_path(LAST)} (new)" in out
    assert "would upload daily/index.html (replaces)" in out
    assert "(dry run, left as it is)" in out
    assert _objects(s3) == before
    assert (week / "site").resolve() == live and sorted(p.name for p in week.glob(".site-*")) == builds
    assert not (week / "site" / day_path(LAST)).exists()


def test_dry_run_without_a_target_says_so(week: Path) -> None:
    result = CliRunner().invoke(app, ["-o", str(week), "publish", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "no site.target set" in result.output and not (week / "site").exists()


def test_missing_bucket_is_named_and_exits_2(week: Path, s3: S3Server) -> None:
    result = _cli(week, target="s3://no-such-bucket/site/")
    assert result.exit_code == 2, result.output
    assert "the bucket 'no-such-bucket' does not exist" in result.output
    assert "s3://no-such-bucket/site/.reportgen-manifest.json" in result.output


def test_access_denied_names_bucket_and_key_exits_2(week: Path, s3: S3Server,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # A real refusal from the server: an IAM user allowed to read only, then moto's IAM
    # checks switched on (the fixture switches them off again).
    import boto3

    iam = boto3.session.Session().client("iam", endpoint_url=s3.endpoint, region_name="us-east-1")
    iam.create_user(UserName="reader")
    iam.put_user_policy(UserName="reader", PolicyName="read-only", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]}'))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    s3.require_auth(0)
    result = _cli(week, verbose=True)
    assert result.exit_code == 2, result.output
    assert key["SecretAccessKey"] not in result.output  # no secret in the output, even verbose
    # Where the refusal comes depends on the server: AWS allows ListObjectsV2 under
    # s3:ListBucket and refuses the first upload; moto 5.2 checks ListObjectsV2 on its own and
    # refuses the listing. Either way the error names the operation, the bucket, the key (or
    # the prefix listed) and the IAM action the policy lacks.
    refused = re.search(r"(PutObject|ListObjectsV2) s3://briefs/(\S*): access denied "
                        r"\(AccessDenied\) at \S+: the credentials in the environment need "
                        r"(s3:\w+) on bucket 'briefs'", result.output)
    assert refused, result.output
    operation, key_named, action = refused.groups()
    if operation == "PutObject":
        assert key_named.startswith("daily/")
        assert key_named.removeprefix("daily/") in _site_files(week)
        assert action == "s3:PutObject"
    else:
        assert key_named == "daily/"
        assert action == "s3:ListBucket"


class _Canned:
    """A raw HTTP body botocore can read."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def _slow_down(client: Any, key: str, times: float) -> list[str]:
    """Answer the first `times` PutObject of `key` with 503 SlowDown (a 'before-send' hook:
    the request never reaches the server); later ones go through. Returns the sends seen."""
    from botocore.awsrequest import AWSResponse

    sends: list[str] = []

    def hook(request: Any, **_: Any) -> Any:
        if not request.url.endswith("/briefs/" + key):
            return None
        sends.append(key)
        if len(sends) > times:
            return None
        body = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                b"<Message>Please reduce your request rate.</Message></Error>")
        return AWSResponse(request.url, 503, {"Content-Type": "application/xml"}, _Canned(body))

    client.meta.events.register("before-send.s3.PutObject", hook)
    return sends


def test_slow_down_is_retried_per_http_attempts(week: Path, s3: S3Server) -> None:
    config = _config(week, attempts=3)
    client = make_client(config.http)
    sends = _slow_down(client, PREFIX + "index.html", times=2)
    result = publish_site(config, client=client).remote
    assert result is not None and PREFIX + "index.html" in result.uploaded
    assert len(sends) == 3  # two 503s, then the upload: http.attempts = 3 tries
    assert PREFIX + "index.html" in _objects(s3)


def test_slow_down_past_the_attempts_names_the_key_and_exits_1(
        week: Path, s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    hooked: list[list[str]] = []  # the sends each client made saw

    def throttled(http: Any) -> Any:
        client = make_client(http)
        hooked.append(_slow_down(client, PREFIX + "feed.xml", times=float("inf")))
        return client

    monkeypatch.setattr(objectstore, "make_client", throttled)
    result = CliRunner().invoke(app, ["-o", str(week), "publish"], env={
        "REPORTGEN_SITE_URL": URL, "REPORTGEN_SITE_TARGET": TARGET})
    assert result.exit_code == 1, result.output
    assert "PutObject s3://briefs/daily/feed.xml: SlowDown (HTTP 503)" in result.output
    assert "after 3 attempt(s)" in result.output  # the default http.attempts
    assert len(hooked[0]) == 3
    objects = _objects(s3)
    assert PREFIX + "index.html" not in objects and PREFIX + OWNERSHIP not in objects  # never broken
    assert PREFIX + day_path(LAST) in objects  # pages before the feed were already there


def test_unreachable_endpoint_names_it_and_exits_1(week: Path, s3: S3Server,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(DeliveryError, match=rf"GetObject s3://briefs/daily/.reportgen-manifest.json: "
                                            rf"cannot reach the object store at http://127.0.0.1:{port}"):
        publish_site(_config(week, attempts=2))


@pytest.mark.parametrize(("target", "problem"), [
    ("https://briefs.example.org/", "is not an s3:// URL"),
    ("s3://Briefs/", "lowercase letters"),
    ("s3://br/", "3 to 63"),
    ("s3://a..b/", "two dots"),
    ("s3://10.0.0.1/", "IP address"),
    ("s3://briefs/a/../b/", "'..' segments"),
])
def test_site_target_is_validated(target: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=r"site\.target: .*" + re.escape(problem)):
        config_from_mapping({"site": {"target": target}})


def test_site_target_prefix_normalised_and_env_wins(tmp_path: Path) -> None:
    config = config_from_mapping({"site": {"target": "s3://briefs/daily"}})
    assert (config.site.target, config.site.bucket, config.site.prefix) == \
        ("s3://briefs/daily/", "briefs", "daily/")
    assert config_from_mapping({"site": {"target": "s3://briefs"}}).site.prefix == ""
    path = tmp_path / "deploy.yaml"  # not ./config.yaml, which load_config(None) would read
    path.write_text("site:\n  target: s3://from-file/x/\n", encoding="utf-8")
    assert load_config(path, env={}).site.target == "s3://from-file/x/"
    assert load_config(path, env={"REPORTGEN_SITE_TARGET": "s3://from-env/y"}).site.target == \
        "s3://from-env/y/"
    assert load_config(None, env={}).site.target is None  # default: the local folder only


def test_the_daily_run_publishes_to_the_target(tmp_path: Path, s3: S3Server) -> None:
    config = tmp_path / "deploy.yaml"
    config.write_text(f"output: {tmp_path / 'output'}\nsite:\n  enabled: true\n  url: {URL}\n"
                      f"  target: {TARGET}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["-c", str(config), "run", "--sample", "--date", LAST.isoformat(),
                                      "--formats", "html,md", "--no-send"])
    assert result.exit_code in (0, 3), result.output
    assert "s3://briefs/daily/: uploaded" in result.output
    assert PREFIX + day_path(LAST) in _objects(s3) and PREFIX + "index.html" in _objects(s3)
