"""A real S3 API on 127.0.0.1 (moto's server, in a thread) for the object-storage tests and
the bench: no in-process mock, boto3 talks HTTP to it like to any S3-compatible store."""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer


@dataclass
class S3Server:
    server: ThreadedMotoServer
    endpoint: str

    def client(self, **keys: str) -> Any:
        """A plain boto3 client of this server (for looking at the bucket, not publishing)."""
        return boto3.session.Session().client("s3", endpoint_url=self.endpoint,
                                              region_name="us-east-1", **keys)

    def require_auth(self, after: float) -> None:
        """moto's switch for IAM checks: every request after the next `after` is authorised
        against IAM (float("inf"): never)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset-auth",
                                         data=str(after).encode(), method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request) as answer:
            json.load(answer)

    def reset(self) -> None:
        """Empty every bucket: moto keeps its state per process, not per server."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request) as answer:
            json.load(answer)

    def stop(self) -> None:
        self.server.stop()


def start_s3() -> S3Server:
    """moto's server on a free port of 127.0.0.1, empty."""
    # werkzeug logs each request, to a stream of its own that pytest may have closed by then.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    s3 = S3Server(server=server, endpoint=f"http://{host}:{port}")
    s3.reset()
    return s3
