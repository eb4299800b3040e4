"""The one writer that owns the output folder.

Only this class creates files under the output root. Each write is atomic (a temporary file
in the same folder, fsync, then os.replace), so a reader — or a run killed mid-way — never
sees half a file. Writing the same path twice in one run is a bug and is refused.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class OutputWriter:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.written: list[Path] = []
        self._seen: set[Path] = set()

    def path(self, relative: str | Path) -> Path:
        """The absolute path of `relative` inside the root; refuses escapes ("../")."""
        target = (self.root / relative).resolve()
        if target != self.root and self.root not in target.parents:
            raise ValueError(f"refusing to write outside {self.root}: {relative}")
        return target

    def write_bytes(self, relative: str | Path, data: bytes) -> Path:
        target = self.path(relative)
        if target in self._seen:
            raise ValueError(f"{target} written twice in one run")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._seen.add(target)
        self.written.append(target)
        return target

    def write_text(self, relative: str | Path, text: str) -> Path:
        return self.write_bytes(relative, text.encode("utf-8"))
