"""Helpers shared by the sample generators: write payload files and their index.json."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[2] / "reportgen" / "sample" / "data"


def write_source(day: date, source: str, payloads: list[dict[str, Any]]) -> None:
    """payloads: [{"file", "url", "body" (bytes|str|json-able), "status"?, "headers"?,
    "request"? ({"method", "json"}: the POST body this answer was recorded for)}]."""
    folder = DATA / day.isoformat() / source
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    index = []
    for p in payloads:
        body = p["body"]
        if isinstance(body, (dict, list)):
            body = json.dumps(body, separators=(",", ":"))
        if isinstance(body, str):
            body = body.encode("utf-8")
        (folder / p["file"]).write_bytes(body)
        entry = {"file": p["file"], "url": p["url"], "status": p.get("status", 200),
                 "headers": p.get("headers", {"content-type": "application/json"})}
        if "request" in p:
            entry["request"] = p["request"]
        index.append(entry)
    (folder / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
