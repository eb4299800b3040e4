"""`reportgen archive recover`: rebuild a damaged archive into a new file, keeping the old.

Two ways, the better first:

1. SQLite's own recovery, the sqlite3 shell's `.recover`: it reads every page it still can,
   rows that no longer hang from a valid b-tree included, and writes them out as SQL, which
   is loaded into the new file. It needs a shell built with the `sqlite_dbpage` table;
   Debian's (linked to the system library, built without it) fails with "SQL logic error".
2. Otherwise, a row salvage through Python's sqlite3: every table of the old file's schema is
   created anew, then its rows are copied in rowid order; where a damaged page stops the
   scan, each rowid past it is asked for alone, so rows under intact pages are still found.
   Rows on the damaged pages themselves are lost (SQLite's recovery may find some of them).

Either way the new file must pass PRAGMA integrity_check before it takes the archive's place;
the damaged file is kept beside it, renamed, with its journal. Nothing is deleted. It runs
while no other reportgen process works in the output folder (it holds every lock there), as
a write to the old file meanwhile would be lost.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from reportgen.archive import SCHEMA, damage
from reportgen.clock import Clock
from reportgen.errors import ArchiveError
from reportgen.locks import every_lock

# The shell that may carry SQLite's recovery (Debian/Ubuntu package: sqlite3).
SQLITE_SHELL = "sqlite3"
# Row salvage: rowids asked for one by one past a damaged page before giving up on a table
# (an archive's rowids are dense: a gap this long means the table has ended).
PROBE_GAP = 100_000
CHUNK = 500

Method = Literal["sqlite-recover", "row-salvage"]


@dataclass(frozen=True)
class Recovered:
    """What recovery did: the new archive, where the damaged one is kept, the damage found
    before, the method used, and how many rows each table holds now."""

    archive: Path
    kept: Path
    damage: list[str]
    method: Method
    rows: dict[str, int]
    unreadable: dict[str, int]  # row salvage: rowids that could not be read, per table


def recover(archive: Path, output: Path, clock: Clock) -> Recovered:
    """Rebuild `archive` (see the module docstring); ArchiveError when there is nothing to
    recover or no sound file could be made (the archive is then left as it was)."""
    if not archive.is_file():
        raise ArchiveError(f"no archive at {archive}: nothing to recover")
    with every_lock(output):
        found = damage(archive, full=True)
        stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
        rebuilt = archive.with_name(f"{archive.name}.recovered-{stamp}")
        kept = archive.with_name(f"{archive.name}.damaged-{stamp}")
        method: Method = "sqlite-recover"
        unreadable: dict[str, int] = {}
        why = _sqlite_recover(archive, rebuilt)
        if why is not None:
            rebuilt.unlink(missing_ok=True)
            method = "row-salvage"
            unreadable = _salvage(archive, rebuilt)
        after = damage(rebuilt, full=True)
        if after:
            rebuilt.unlink(missing_ok=True)
            raise ArchiveError(f"the rebuilt archive was not sound ({'; '.join(after[:5])}); "
                               f"{archive} was left as it was")
        os.chmod(rebuilt, 0o600)  # it holds raw upstream payloads, like the archive
        for suffix in ("-wal", "-shm"):  # the old file's journal belongs to it alone
            journal = archive.with_name(archive.name + suffix)
            if journal.exists():
                journal.rename(kept.with_name(kept.name + suffix))
        archive.rename(kept)
        rebuilt.rename(archive)
    return Recovered(archive=archive, kept=kept, damage=found, method=method,
                     rows=_counts(archive), unreadable=unreadable)


def _sqlite_recover(archive: Path, rebuilt: Path) -> str | None:
    """SQLite's `.recover` from the old file into `rebuilt`; None when it worked, else why not.
    The SQL streams from one shell into the other: a large archive is never in memory."""
    shell = shutil.which(SQLITE_SHELL)
    if shell is None:
        return f"no {SQLITE_SHELL} command"
    with tempfile.TemporaryFile() as dump_err, tempfile.TemporaryFile() as load_err:
        dump = subprocess.Popen([shell, str(archive), ".recover"], stdout=subprocess.PIPE,
                                stderr=dump_err)
        load = subprocess.run([shell, "-bail", str(rebuilt)], stdin=dump.stdout,
                              stderr=load_err, stdout=subprocess.DEVNULL, check=False)
        assert dump.stdout is not None
        dump.stdout.close()
        dump.wait()
        errors = [text for text in (_text(dump_err), _text(load_err)) if text]
    if dump.returncode or load.returncode or errors:
        return "; ".join(errors) or f"exit {dump.returncode}/{load.returncode}"
    return None


def _text(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode("utf-8", "replace").strip()[-300:]


def _salvage(archive: Path, rebuilt: Path) -> dict[str, int]:
    """Copy every row Python's sqlite3 can still read (see the module docstring); returns,
    per table, how many rowids below its last readable row could not be read."""
    old = sqlite3.connect(f"file:{archive}?mode=ro", uri=True)
    new = sqlite3.connect(rebuilt)
    unreadable: dict[str, int] = {}
    try:
        tables, indexes = _schema(old)
        with new:
            for sql in tables.values():
                new.execute(sql)
            for name in tables:
                columns = [r[1] for r in new.execute(f'PRAGMA table_info("{name}")')]
                listed = ", ".join(f'"{c}"' for c in columns)
                insert = (f'INSERT OR IGNORE INTO "{name}" (rowid, {listed}) '
                          f"VALUES ({', '.join('?' * (len(columns) + 1))})")
                lost = 0
                for row, missing in _rows(old, name, listed):
                    lost += missing
                    new.execute(insert, row)
                unreadable[name] = lost
            for sql in indexes:
                new.execute(sql)
    finally:
        old.close()
        new.close()
    return unreadable


def _schema(db: sqlite3.Connection) -> tuple[dict[str, str], list[str]]:
    """The old file's tables (name → CREATE) and index CREATEs; the archive's own SCHEMA when
    the old schema itself cannot be read."""
    try:
        rows = db.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                          "AND name NOT LIKE 'sqlite_%'").fetchall()
    except sqlite3.DatabaseError:
        fallback = sqlite3.connect(":memory:")
        fallback.executescript(SCHEMA)
        rows = fallback.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                                "AND name NOT LIKE 'sqlite_%'").fetchall()
        fallback.close()
    tables = {name: sql for kind, name, sql in rows if kind == "table"}
    indexes = [sql for kind, _, sql in rows if kind == "index"]
    return tables, indexes


def _rows(db: sqlite3.Connection, table: str, listed: str) -> Iterator[tuple[tuple[object, ...], int]]:
    """(rowid and values, unreadable rowids just before it) of every readable row, in rowid
    order: a scan while it lasts, then one rowid at a time past a damaged page."""
    last = 0
    while True:
        try:
            chunk = db.execute(f'SELECT rowid, {listed} FROM "{table}" WHERE rowid > ? '
                               f"ORDER BY rowid LIMIT {CHUNK}", (last,)).fetchall()
        except sqlite3.DatabaseError:
            found = _probe(db, table, listed, last)
            if found is None:
                return
            row, skipped = found
            last = int(row[0])  # type: ignore[call-overload]
            yield row, skipped
            continue
        if not chunk:
            return
        for row in chunk:
            yield tuple(row), 0
        last = int(chunk[-1][0])


def _probe(db: sqlite3.Connection, table: str, listed: str,
           after: int) -> tuple[tuple[object, ...], int] | None:
    """The first readable row past `after`, asked rowid by rowid, and how many rowids before
    it could not be read (rows lost on a damaged page); None after PROBE_GAP rowids with no
    row."""
    failed = 0
    for rowid in range(after + 1, after + PROBE_GAP + 1):
        try:
            row = db.execute(f'SELECT rowid, {listed} FROM "{table}" WHERE rowid = ?',
                             (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            failed += 1  # under a damaged page (a rowid that never was is no error)
            continue
        if row is not None:
            return tuple(row), failed
    return None


def _counts(archive: Path) -> dict[str, int]:
    db = sqlite3.connect(f"file:{archive}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {t: int(db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]) for t in tables}
    finally:
        db.close()
