"""What render wrote for a day, as publish reads it: the manifest, and the files it names.

Publish never parses the rendered HTML or Markdown back; it reads `reports/D/manifest.json`
(`reportgen.manifest.ReportManifest`) and copies or attaches the files listed there.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pydantic import ValidationError

from reportgen.errors import DeliveryError
from reportgen.manifest import MANIFEST_NAME, ReportManifest


def regular(path: Path) -> bool:
    """A regular file, not a symlink: publish copies only what render wrote, never what a
    link points at (a link under output/reports could name any file on the machine)."""
    return path.is_file() and not path.is_symlink()


def read_bytes(path: Path) -> bytes:
    """The bytes of regular file `path`; refuses a symlink even if one appeared since."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise DeliveryError(f"{path} is not a regular file")
        return handle.read()


def read_manifest(folder: Path) -> ReportManifest | None:
    """The manifest render wrote in `folder`, or None when there is none (never rendered,
    or rendered by a reportgen older than manifests). DeliveryError when it is unreadable."""
    path = folder / MANIFEST_NAME
    if not path.exists() and not path.is_symlink():
        return None
    try:
        return ReportManifest.model_validate_json(read_bytes(path))
    except (OSError, ValidationError) as exc:
        why = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise DeliveryError(f"{path} is not a manifest reportgen wrote ({why}): render the "
                            f"day again with `reportgen render --date {folder.name}`") from None
