"""The one writer that owns the output folder.

Only this class creates files under the output root. Each write is atomic (a temporary file
in the same folder, fsync, then os.replace), so a reader — or a run killed mid-way — never
sees half a file. Writing the same path twice in one run is a bug and is refused.

Files are created with mode 0666 minus the umask, like any normal program (0644 under the
usual 022), so a web server running as another user can read output/reports directly. The
archive, which holds raw payloads, is the exception: reportgen.archive keeps it 0600.
"""

from __future__ import annotations

import errno
import os
import secrets
import tempfile
from pathlib import Path

from reportgen.errors import UsageError

_WHERE = "set --output, REPORTGEN_OUTPUT or `output:` in the config"


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

    def within(self, relative: str | Path) -> OutputWriter:
        """This writer for a folder inside its root (the site's new build): paths relative to
        that folder, and the same record of what was written in this run."""
        child = OutputWriter.__new__(OutputWriter)
        child.root = self.path(relative)
        child.written, child._seen = self.written, self._seen
        return child

    def write_bytes(self, relative: str | Path, data: bytes) -> Path:
        target = self.path(relative)
        if target in self._seen:
            raise ValueError(f"{target} written twice in one run")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temp(target)
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


def _create_temp(target: Path) -> tuple[int, str]:
    """A new `.<name>.<random>.tmp` beside `target`, opened for writing.

    Not tempfile.mkstemp: that makes the file 0600 whatever the umask, and os.replace keeps
    the mode, so every report would be readable by its owner only."""
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                           0o666), str(tmp)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {target}")


def check_output(root: Path) -> None:
    """Make sure the output folder is, or can become, a folder this process can write to;
    else UsageError naming it. (A full disk is not a usage error: its OSError goes on.)"""
    where = root.resolve()
    if where == Path(where.anchor):
        raise UsageError(f"output folder {root} is the filesystem root: choose a folder of its "
                         f"own, e.g. ./output ({_WHERE})")
    try:
        where.mkdir(parents=True, exist_ok=True)
        if not where.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(where))
        with tempfile.TemporaryFile(dir=where):
            pass
    except FileExistsError:
        raise UsageError(f"output folder {root} is a file, not a folder ({_WHERE})") from None
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise UsageError(f"output folder {root} cannot be written: "
                         f"{exc.strerror or exc} ({_WHERE})") from None
