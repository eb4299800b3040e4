"""Shared fixtures for the publish tests: the seven sample days rendered once per session
(HTML and Markdown; the PDF only for the last day, where the email attaches it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from reportgen import sample as sample_data
from reportgen.config import config_from_mapping
from tests.publish.smtpserver import Inbox, serving

if TYPE_CHECKING:
    from tests.publish.s3server import S3Server

LAST = sample_data.SAMPLE_LAST
DAYS = [sample_data.SAMPLE_FIRST + timedelta(days=i)
        for i in range((LAST - sample_data.SAMPLE_FIRST).days + 1)]


def _render(out: Path, days: list[date]) -> Path:
    from reportgen.pipeline import run

    config = config_from_mapping({"output": str(out)})
    for day in days:
        formats = ["html", "md", "pdf"] if day == LAST else ["html", "md"]
        run(config, day, sample=True, formats=formats, send=False, publish=False)
    return out


@pytest.fixture(scope="session")
def rendered_last(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder with the last sample day rendered, PDF included (never modified)."""
    return _render(tmp_path_factory.mktemp("rendered-last") / "output", [LAST])


@pytest.fixture(scope="session")
def rendered_week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder with the seven sample briefs rendered (never modified by tests)."""
    return _render(tmp_path_factory.mktemp("rendered-week") / "output", DAYS)


@pytest.fixture
def output(rendered_last: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the last day's output, for tests that send."""
    copy = tmp_path / "output"
    shutil.copytree(rendered_last, copy, symlinks=True)
    yield copy


@pytest.fixture
def week(rendered_week: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the week's output, for tests that publish."""
    copy = tmp_path / "output"
    shutil.copytree(rendered_week, copy, symlinks=True)
    yield copy


def day_path(day: date) -> str:
    return f"{day:%Y/%m/%d}/index.html"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1: its inbox and port."""
    inbox = Inbox()
    with serving(inbox) as port:
        yield inbox, port


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[S3Server]:
    """A real S3 API (moto's server) on 127.0.0.1 holding an empty bucket `briefs`; boto3 is
    pointed at it the way a deployment points it at R2 or MinIO: AWS_ENDPOINT_URL and dummy
    keys in the environment, no profile or config file of the machine's."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL_S3",
                 "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask 169.254.169.254
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "dummy-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "dummy-secret-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from tests.publish.s3server import start_s3  # moto and boto3 only for the tests that use them

    server = start_s3()
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
    server.client().create_bucket(Bucket="briefs")
    try:
        yield server
    finally:
        server.require_auth(float("inf"))  # a test that switched IAM checks on leaves them off
        server.stop()
