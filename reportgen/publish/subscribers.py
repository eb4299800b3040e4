"""The subscriber list (`email.subscribers`), read as a stream: one address at a time, never
the whole list in memory (only the set of addresses already seen, to drop duplicates).

Three forms, chosen by the value:

    subscribers.csv                          a CSV file with a header row and an `email`
                                             column (any case); other columns are ignored
    subscribers.txt (any other name)         one address a line; blank lines and lines
                                             starting with # are ignored
    sqlite:///subscribers.db?table=subscribers&column=email
                                             a table of an SQLite database, opened read-only
                                             (sqlite:////abs/path.db for an absolute path;
                                             table and column default to subscribers, email)

Relative paths are taken from the working directory, like `output`. Each entry is checked
with `config.address_problem` and must be one bare address (local@domain, no display name);
an entry that is not is reported as `Invalid` (where it was and why) and never sent to.
The same address twice (the domain compared case-insensitively) is sent once.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from reportgen.config import address_problem
from reportgen.errors import ConfigError
from reportgen.publish.unsubscribe import canonical


@dataclass(frozen=True)
class Invalid:
    """An entry that is not one address: where it is (line or row) and why."""

    where: str
    value: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.value!r} {self.problem}"


def subscriber_problem(value: str) -> str | None:
    """Why `value` cannot be one subscriber (None when it can): `address_problem`, and the
    list wants the bare address, with both halves."""
    problem = address_problem(value)
    if problem:
        return problem
    name, bare = parseaddr(value)
    if name or bare != value.strip():
        return "is not a bare address: give local@domain only"
    local, _, domain = bare.rpartition("@")
    if not local or not domain or "." not in domain.strip(".") or " " in bare:
        return "is not an email address"
    return None


def _text_lines(path: Path) -> Iterator[tuple[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as lines:
        for number, line in enumerate(lines, 1):
            value = line.strip()
            if value and not value.startswith("#"):
                yield f"line {number}", value


def _csv_rows(path: Path, key: str) -> Iterator[tuple[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        header = [name.strip().lower() for name in next(reader, [])]
        if "email" not in header:
            raise ConfigError(f"{key}: {path} has no `email` column in its header row "
                              f"(found: {', '.join(header) or 'nothing'})")
        column = header.index("email")
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            yield f"line {reader.line_num}", row[column].strip() if column < len(row) else ""


def _sqlite_rows(location: str, key: str) -> Iterator[tuple[str, str]]:
    parts = urlsplit(location)
    path = Path(parts.path[1:])  # sqlite:///rel.db → "rel.db"; sqlite:////abs.db → "/abs.db"
    options = parse_qs(parts.query)
    table = options.get("table", ["subscribers"])[0]
    column = options.get("column", ["email"])[0]
    if not path.is_file():
        raise ConfigError(f"{key}: no database file {path}")
    db = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    try:
        # table and column are plain identifiers (checked in config), quoted all the same
        rows = db.execute(f'SELECT rowid, "{column}" FROM "{table}" ORDER BY rowid')
        for rowid, value in rows:
            yield f"row {rowid}", "" if value is None else str(value).strip()
    except sqlite3.Error as exc:
        raise ConfigError(f"{key}: cannot read {column} from table {table} of {path}: "
                          f"{exc}") from None
    finally:
        db.close()


def entries(location: str, key: str = "email.subscribers") -> Iterator[tuple[str, str]]:
    """(where, raw value) for each entry of the list at `location`, as stored."""
    if location.startswith("sqlite:"):
        yield from _sqlite_rows(location, key)
        return
    path = Path(location)
    if not path.is_file():
        raise ConfigError(f"{key}: no subscriber file {path}")
    yield from (_csv_rows(path, key) if path.suffix.lower() == ".csv" else _text_lines(path))


@dataclass
class ListStats:
    """What reading the list found besides good addresses."""

    read: int = 0
    duplicates: int = 0
    invalid: int = 0
    invalid_examples: list[str] | None = None

    def note_invalid(self, bad: Invalid, keep: int = 5) -> None:
        self.invalid += 1
        if self.invalid_examples is None:
            self.invalid_examples = []
        if len(self.invalid_examples) < keep:
            self.invalid_examples.append(str(bad))


def subscribers(location: str, stats: ListStats,
                key: str = "email.subscribers") -> Iterator[str]:
    """The list's addresses, canonical (`unsubscribe.canonical`), each once, in list order;
    invalid entries and duplicates are counted in `stats` and skipped."""
    seen: set[str] = set()
    for where, value in entries(location, key):
        stats.read += 1
        problem = subscriber_problem(value) if value else "is empty"
        if problem:
            stats.note_invalid(Invalid(where, value, problem))
            continue
        address = canonical(value)
        if address in seen:
            stats.duplicates += 1
            continue
        seen.add(address)
        yield address
