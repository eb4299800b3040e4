"""The archive: one SQLite file in the output folder holding every raw payload and each
day's parsed snapshot per source, so any day can be re-rendered without the network.

Writes are transactional (WAL journal), so a run killed mid-way leaves either the whole
write or none of it. Raw payloads are append-only: a failed fetch's body is kept too, for
diagnosis. Snapshots are one row per (report date, source), replaced when re-collected,
with the results the parser computed beside them (`put_results`: the liquidation maps the
charts are drawn from), replaced with them. The realised-liquidations recorder appends the
venues' stream frames as they arrive (`add_liquidation_frames`, table `liquidation_frames`,
found by their events' times), independent of report dates.

The delivery log (table `deliveries`) is every channel's idempotency record, one row per
(report date, channel, recipient): `claim_delivery` writes "sending" just before the first
moment the far side could accept a message, `mark_delivery` what happened then ("sent",
"refused", "failed" or "unknown": the message went out and the answer was lost). A channel
reads `deliveries` first and leaves alone whatever is in `DELIVERY_DONE`, so a re-run never
delivers twice. Archives written before channels existed hold email's rows without a
channel: they are kept, as email's, when the file is first opened by this version.

The file is private (0600, created so and tightened when found looser): raw payloads are
what upstreams said, and an error page may echo a request with its key. Secrets are also
blanked to "***" in everything stored — payload URL, headers, body and error, snapshot
reasons and data, run records — wherever they appear: the values of the environment's
REPORTGEN_*_KEY / _PASSWORD / _TOKEN / _SECRET variables, plus any handed to `protect`
(the collect phase passes the secrets it gives the sources).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, ValidationError

from reportgen.clock import Clock, default_clock
from reportgen.errors import ArchiveError
from reportgen.models import LiquidationFrame, RawPayload, SourceSnapshot

SCHEMA = """
CREATE TABLE IF NOT EXISTS payloads (
    id          INTEGER PRIMARY KEY,
    report_date TEXT NOT NULL,
    source      TEXT NOT NULL,
    url         TEXT NOT NULL,
    status      INTEGER,
    headers     TEXT NOT NULL,
    body        BLOB NOT NULL,
    fetched_at  TEXT NOT NULL,
    error       TEXT,
    sample      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS payloads_by_day ON payloads (report_date, source);
CREATE TABLE IF NOT EXISTS snapshots (
    report_date TEXT NOT NULL,
    source      TEXT NOT NULL,
    ok          INTEGER NOT NULL,
    method      TEXT NOT NULL,
    fetched_at  TEXT,
    as_of       TEXT,
    reason      TEXT,
    data        TEXT NOT NULL,
    sample      INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (report_date, source)
);
CREATE TABLE IF NOT EXISTS results (
    report_date TEXT NOT NULL,
    source      TEXT NOT NULL,
    name        TEXT NOT NULL,
    encoding    TEXT NOT NULL,
    body        BLOB NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (report_date, source, name)
);
CREATE TABLE IF NOT EXISTS daily_prices (
    coin        TEXT NOT NULL,
    day         TEXT NOT NULL,
    price       REAL NOT NULL,
    market_cap  REAL,
    PRIMARY KEY (coin, day)
);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY,
    report_date TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,
    sections    TEXT NOT NULL DEFAULT '{}',
    channels    TEXT NOT NULL DEFAULT '{}',
    sample      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS liquidation_frames (
    id          INTEGER PRIMARY KEY,
    venue       TEXT NOT NULL,
    url         TEXT NOT NULL,
    received_at TEXT NOT NULL,
    first_ms    INTEGER NOT NULL,
    last_ms     INTEGER NOT NULL,
    body        TEXT NOT NULL,
    error       TEXT,
    sample      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS liquidation_frames_by_time ON liquidation_frames (last_ms);
"""
# The delivery log of every channel: one row per (report date, channel, recipient). Created
# after _migrate has moved a one-channel table (no `channel` column: email's) aside.
DELIVERIES = """
CREATE TABLE IF NOT EXISTS deliveries (
    report_date TEXT NOT NULL,
    channel     TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (report_date, channel, recipient)
);
"""


log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
# A stored result larger than this (as JSON) is kept zlib-compressed: a symbol's liquidation
# heatmap is a few hundred kilobytes of numbers.
COMPRESS_OVER = 16 * 1024

# A delivery's outcomes; those in DELIVERY_DONE end that recipient's delivery for the day
# ("sending" and "unknown": it may have arrived, so it is never repeated blindly).
DELIVERY_OUTCOMES = ("sending", "sent", "refused", "unknown", "failed")
DELIVERY_DONE = ("sent", "refused", "unknown", "sending")

REDACTED = "***"
# Shorter values would match ordinary text (and corrupt payloads on the way in).
MIN_SECRET_LEN = 8
_SECRET_ENV = re.compile(r"^REPORTGEN_\w+_(KEY|PASSWORD|TOKEN|SECRET)$")


def secrets_in_env(env: dict[str, str] | None = None) -> set[str]:
    """The values of the environment's REPORTGEN_*_KEY/_PASSWORD/_TOKEN/_SECRET variables."""
    env = dict(os.environ) if env is None else env
    return {value for name, value in env.items() if _SECRET_ENV.match(name) and value}


def _private(path: Path) -> None:
    """Create `path` 0600, or tighten it (and its WAL files) when it is readable by others."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        return
    except FileExistsError:
        pass
    except OSError:
        return  # sqlite3 will say what is wrong with the path
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)
                log.info("made %s private (0600): it holds raw upstream payloads", file)
        except OSError:
            continue


class Archive:
    """A handle on the archive file. Use as a context manager or call close().

    `clock` stamps the rows' bookkeeping times (snapshot updates, run start and end); by
    default the system clock, or REPORTGEN_NOW's instant (`clock.default_clock`).
    `secrets` (and the environment's REPORTGEN_*_KEY/... values) are blanked in what is stored.
    `threads`: the handle may be used from several threads (its caller serialises the calls;
    mailer.DeliveryLog does, under its lock)."""

    def __init__(self, path: Path, *, secrets: Iterable[str] = (),
                 clock: Clock | None = None, read_only: bool = False,
                 threads: bool = False) -> None:
        self.path = path
        self.clock = clock or default_clock()
        self.read_only = read_only
        self._secrets: list[str] = []
        self.protect(secrets_in_env())
        self.protect(secrets)
        if read_only:
            self.db = _connect_read_only(path)
            self.db.row_factory = sqlite3.Row
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        _private(path)
        try:
            self.db = sqlite3.connect(path, timeout=30, check_same_thread=not threads)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL: commits written, not fsynced
            self.db.executescript(SCHEMA)
            _migrate(self.db)
            self.db.executescript(DELIVERIES)
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"cannot open archive {path}: {exc}") from None
        self.db.row_factory = sqlite3.Row

    def _now(self) -> str:
        return self.clock.now().isoformat()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # -- secrets ----------------------------------------------------------------------------

    def protect(self, secrets: Iterable[str | None]) -> None:
        """Blank these values (and their URL-encoded forms) in everything stored from now on."""
        values = set(self._secrets)
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LEN:
                values |= {secret, quote(secret, safe=""), quote_plus(secret)}
        self._secrets = sorted(values, key=len, reverse=True)  # longest first

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values blanked in what this handle stores."""
        return tuple(self._secrets)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def _redact_bytes(self, data: bytes) -> bytes:
        for secret in self._secrets:
            data = data.replace(secret.encode("utf-8"), REDACTED.encode())
        return data

    def _redact_json(self, value: Any, **dumps: Any) -> str:
        """`value` as JSON with secrets blanked in its strings (the JSON stays valid)."""
        def clean(item: Any) -> Any:
            if isinstance(item, str):
                return self.redact(item)
            if isinstance(item, dict):
                return {clean(k): clean(v) for k, v in item.items()}
            if isinstance(item, list | tuple):
                return [clean(v) for v in item]
            return item

        return json.dumps(clean(value) if self._secrets else value, **dumps)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All writes inside commit together or not at all."""
        with self.db:
            yield self.db

    # -- raw payloads -------------------------------------------------------------------

    def add_payloads(self, day: date, raws: Iterable[RawPayload], *, sample: bool = False) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO payloads (report_date, source, url, status, headers, body,"
                " fetched_at, error, sample) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        day.isoformat(), r.source, self.redact(r.url), r.status,
                        json.dumps({k: self.redact(v) for k, v in r.headers.items()}),
                        self._redact_bytes(r.body), r.fetched_at.isoformat(),
                        None if r.error is None else self.redact(r.error), int(sample),
                    )
                    for r in raws
                ],
            )

    def payloads(self, day: date, source: str, *, only_ok: bool = True) -> list[RawPayload]:
        """The payloads archived for (day, source), in fetch order; with only_ok, the
        ones of the latest successful collection (rows without an error)."""
        rows = self.db.execute(
            "SELECT * FROM payloads WHERE report_date=? AND source=? ORDER BY id",
            (day.isoformat(), source),
        ).fetchall()
        raws = [_raw_from_row(row) for row in rows]
        if only_ok:
            raws = [r for r in raws if r.error is None]
        return raws

    def latest_payloads(self, source: str, limit: int = 50) -> list[RawPayload]:
        """The most recent good payloads of `source`, any day (conditional GET validators)."""
        rows = self.db.execute(
            "SELECT * FROM payloads WHERE source=? AND error IS NULL AND sample=0"
            " ORDER BY id DESC LIMIT ?", (source, limit),
        ).fetchall()
        return [_raw_from_row(row) for row in reversed(rows)]

    # -- snapshots ----------------------------------------------------------------------

    def put_snapshot(self, snapshot: SourceSnapshot, *, sample: bool = False) -> None:
        """Store (replace) a snapshot: its parsed model as the model's JSON."""
        data = {} if snapshot.data is None else snapshot.data.model_dump(mode="json")
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO snapshots (report_date, source, ok, method, fetched_at,"
                " as_of, reason, data, sample, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    snapshot.report_date.isoformat(), snapshot.source, int(snapshot.ok),
                    snapshot.method,
                    snapshot.fetched_at.isoformat() if snapshot.fetched_at else None,
                    snapshot.as_of.isoformat() if snapshot.as_of else None,
                    None if snapshot.reason is None else self.redact(snapshot.reason),
                    self._redact_json(data, sort_keys=True),
                    int(sample), self._now(),
                ),
            )
            # What was computed with the snapshot it replaces is stale now (see put_results).
            db.execute("DELETE FROM results WHERE report_date=? AND source=?",
                       (snapshot.report_date.isoformat(), snapshot.source))

    def snapshot(self, day: date, source: str,
                 model: type[BaseModel] | None = None) -> SourceSnapshot | None:
        """The snapshot of (day, source), its data read back as `model` (see `snapshots`)."""
        row = self.db.execute(
            "SELECT * FROM snapshots WHERE report_date=? AND source=?", (day.isoformat(), source)
        ).fetchone()
        return _snapshot_from_row(row, model) if row else None

    def snapshots(self, day: date,
                  models: Mapping[str, type[BaseModel]] | None = None) -> dict[str, SourceSnapshot]:
        """The day's snapshots by source, each one's data read back as its model
        (`models`: source → model class, `reportgen.registry.models()`). Without a model
        the data is left out (status only). Data that no longer fits its model (archived
        by an older version) makes the snapshot unavailable, saying so."""
        rows = self.db.execute(
            "SELECT * FROM snapshots WHERE report_date=?", (day.isoformat(),)
        ).fetchall()
        return {row["source"]: _snapshot_from_row(row, (models or {}).get(row["source"]))
                for row in rows}

    def has_day(self, day: date) -> bool:
        """Whether anything was collected for `day`."""
        row = self.db.execute("SELECT 1 FROM snapshots WHERE report_date=? LIMIT 1",
                              (day.isoformat(),)).fetchone()
        return row is not None

    def is_sample_day(self, day: date) -> bool:
        row = self.db.execute(
            "SELECT MAX(sample) FROM snapshots WHERE report_date=?", (day.isoformat(),)
        ).fetchone()
        return bool(row and row[0])

    # -- computed results kept beside a snapshot -----------------------------------------

    def put_results(self, day: date, source: str, results: dict[str, BaseModel]) -> None:
        """Keep what `source`'s parser computed for `day` besides its snapshot, by name (the
        liquidation map's bucket arrays and heatmap per symbol), so later phases read it
        instead of computing it again. Replaces the source's earlier results for the day;
        `put_snapshot` drops them too, so call this after it. Secrets are blanked; large
        results are compressed."""
        rows = []
        for name, model in results.items():
            body = self._redact_json(model.model_dump(mode="json"),
                                     separators=(",", ":")).encode("utf-8")
            encoding = "json"
            if len(body) > COMPRESS_OVER:
                body, encoding = zlib.compress(body, 6), "json+zlib"
            rows.append((day.isoformat(), source, name, encoding, body, self._now()))
        with self.transaction() as db:
            db.execute("DELETE FROM results WHERE report_date=? AND source=?",
                       (day.isoformat(), source))
            db.executemany("INSERT INTO results (report_date, source, name, encoding, body,"
                           " updated_at) VALUES (?,?,?,?,?,?)", rows)

    def results(self, day: date, source: str, model: type[M]) -> dict[str, M]:
        """`source`'s results for `day` as `model`, by name, in the order they were stored.
        One that no longer reads as `model` (kept by another version) is left out, logged."""
        rows = self.db.execute(
            "SELECT name, encoding, body FROM results WHERE report_date=? AND source=?"
            " ORDER BY rowid", (day.isoformat(), source),
        ).fetchall()
        out: dict[str, M] = {}
        for row in rows:
            body = row["body"]
            if row["encoding"] == "json+zlib":
                body = zlib.decompress(body)
            try:
                out[row["name"]] = model.model_validate_json(body)
            except ValidationError as exc:
                log.warning("%s %s result %r unreadable as %s: %s", day, source, row["name"],
                            model.__name__, exc.errors()[0]["msg"])
        return out

    # -- daily prices (Altcoin Season Index) -------------------------------------------

    def prices(self, coin: str, days: list[date]) -> dict[date, tuple[float, float | None]]:
        marks = ",".join("?" * len(days))
        rows = self.db.execute(
            f"SELECT day, price, market_cap FROM daily_prices WHERE coin=? AND day IN ({marks})",
            (coin, *(d.isoformat() for d in days)),
        ).fetchall()
        return {date.fromisoformat(r["day"]): (r["price"], r["market_cap"]) for r in rows}

    def put_prices(self, rows: Iterable[tuple[str, date, float, float | None]]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO daily_prices (coin, day, price, market_cap) VALUES (?,?,?,?)",
                [(coin, day.isoformat(), price, cap) for coin, day, price, cap in rows],
            )

    # -- realised liquidations: the recorder's frames ------------------------------------

    def add_liquidation_frames(self, frames: Iterable[LiquidationFrame], *,
                               sample: bool = False) -> int:
        """Append frames of the venues' liquidation streams, in one transaction (the
        recorder calls it with what arrived since its last write, usually one frame).
        Returns how many were written."""
        rows = [(f.venue, self.redact(f.url), f.received_at.isoformat(), f.first_ms, f.last_ms,
                 f.body, f.error, int(sample)) for f in frames]
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO liquidation_frames (venue, url, received_at, first_ms, last_ms,"
                " body, error, sample) VALUES (?,?,?,?,?,?,?,?)", rows)
        return len(rows)

    def liquidation_frames(self, start: datetime, end: datetime) -> list[LiquidationFrame]:
        """The recorded frames whose events (or receive time) fall in [start, end), in the
        order they were written."""
        start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
        rows = self.db.execute(
            "SELECT * FROM liquidation_frames WHERE last_ms >= ? AND first_ms < ? ORDER BY id",
            (start_ms, end_ms),
        ).fetchall()
        return [LiquidationFrame(venue=r["venue"], url=r["url"],
                                 received_at=datetime.fromisoformat(r["received_at"]),
                                 body=r["body"], first_ms=r["first_ms"], last_ms=r["last_ms"],
                                 error=r["error"]) for r in rows]

    def count_liquidation_frames(self) -> int:
        """How many frames the recorder has archived (all time)."""
        row = self.db.execute("SELECT COUNT(*) FROM liquidation_frames").fetchone()
        return int(row[0])

    # -- the delivery log ------------------------------------------------------------------

    def deliveries(self, day: date, channel: str) -> dict[str, Delivery]:
        """recipient → its recorded delivery of `day` on `channel`."""
        rows = self.db.execute(
            "SELECT recipient, message_id, outcome, detail, updated_at FROM deliveries "
            "WHERE report_date=? AND channel=? ORDER BY recipient",
            (day.isoformat(), channel)).fetchall()
        return {row[0]: Delivery(*row) for row in rows}

    def claim_delivery(self, day: date, channel: str, recipient: str, ref: str) -> None:
        """Record `recipient` as "sending": written just before the first moment the far side
        could accept the message, so a process dying from then on never sends it again."""
        self.mark_delivery(day, channel, recipient, ref, "sending")

    def mark_delivery(self, day: date, channel: str, recipient: str, ref: str, outcome: str,
                      detail: str | None = None) -> None:
        """Record what happened to `recipient`'s delivery (`ref`: the message's id, for the
        operator); committed when this returns (to the WAL: see `sync`)."""
        if outcome not in DELIVERY_OUTCOMES:
            raise ValueError(f"unknown delivery outcome {outcome!r}")
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO deliveries (report_date, channel, recipient, message_id, "
                "outcome, detail, updated_at) VALUES (?,?,?,?,?,?,?)",
                (day.isoformat(), channel, recipient, ref, outcome,
                 None if detail is None else self.redact(detail), self._now()))

    def sync(self) -> None:
        """fsync the WAL: what was committed so far survives a power cut too (a commit alone
        survives a killed process; an fsync costs milliseconds, so callers batch them)."""
        wal = Path(f"{self.path}-wal")
        if wal.exists():
            fd = os.open(wal, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    # -- run records ---------------------------------------------------------------------

    def start_run(self, day: date, *, sample: bool = False) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO runs (report_date, started_at, status, sample) VALUES (?,?,?,?)",
                (day.isoformat(), self._now(), "running", int(sample)),
            )
            return int(cur.lastrowid or 0)

    def finish_run(
        self, run_id: int, status: str, sections: dict[str, Any], channels: dict[str, Any]
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished_at=?, status=?, sections=?, channels=? WHERE id=?",
                (self._now(), status, self._redact_json(sections), self._redact_json(channels),
                 run_id),
            )

    def finished_runs(self, day: date, statuses: Iterable[str]) -> list[dict[str, Any]]:
        """The channels record of each finished run of `day` with one of `statuses`, newest
        first."""
        wanted = tuple(statuses)
        rows = self.db.execute(
            f"SELECT channels FROM runs WHERE report_date=? AND finished_at IS NOT NULL AND "
            f"status IN ({','.join('?' * len(wanted))}) ORDER BY id DESC",
            (day.isoformat(), *wanted)).fetchall()
        return [json.loads(row[0]) for row in rows]

    def runs(self, since: date | None = None) -> list[dict[str, Any]]:
        """Run records started on or after `since` (any report date: backfills and sample
        runs make reports for old dates today)."""
        query = "SELECT * FROM runs"
        args: tuple[Any, ...] = ()
        if since is not None:
            query += " WHERE started_at >= ?"
            args = (since.isoformat(),)
        rows = self.db.execute(query + " ORDER BY id", args).fetchall()
        return [
            {**dict(r), "sections": json.loads(r["sections"]), "channels": json.loads(r["channels"])}
            for r in rows
        ]


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that writes nothing, not even WAL's shared-memory file: for an archive
    on read-only storage, or one owned by another user. When even that cannot open (a WAL
    archive in a read-only folder, whose -shm file cannot be made), the file is read as
    immutable: right as long as nothing writes to it meanwhile, which read-only storage
    ensures."""
    if not path.is_file():
        raise ArchiveError(f"no archive at {path}: run `reportgen collect` or `run` first")
    uri = "file:" + quote(str(path.resolve()))
    last: sqlite3.Error | None = None
    for mode in ("mode=ro", "mode=ro&immutable=1"):
        try:
            db = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=30)
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.Error as exc:
            last = exc
    raise ArchiveError(f"cannot open archive {path} to read: {last}")


# How many of SQLite's lines about a damaged file an error message quotes.
DAMAGE_SHOWN = 5


def damage(path: Path, *, full: bool = False) -> list[str]:
    """What SQLite finds wrong with the archive file at `path`: [] when it is sound.

    `full` runs PRAGMA integrity_check (every page, row and index: seconds for a large
    archive); otherwise PRAGMA quick_check (the same minus index-to-row consistency: about
    a tenth of the time), cheap enough to run before every command that writes or reports.
    A file that is not a database at all is damage too."""
    try:
        db = _connect_read_only(path)
    except ArchiveError as exc:
        return [str(exc)]
    try:
        pragma = "integrity_check" if full else "quick_check"
        rows = [str(r[0]) for r in db.execute(f"PRAGMA {pragma}(100)").fetchall()]
    except sqlite3.DatabaseError as exc:  # not a database, or its first page is gone
        return [f"{type(exc).__name__}: {exc}"]
    finally:
        db.close()
    if rows == ["ok"]:
        return []
    # One row may hold several lines, under a "*** in database main ***" heading.
    return [line for row in rows for line in row.splitlines()
            if line.strip() and not line.startswith("*** in database")]


def check_sound(path: Path) -> None:
    """Refuse a damaged archive (ArchiveError naming the damage and the way out) before a
    command reads or writes it; a missing archive is fine (it is created on first use)."""
    if not path.exists():
        return
    found = damage(path)
    if found:
        more = f" (and {len(found) - DAMAGE_SHOWN} more)" if len(found) > DAMAGE_SHOWN else ""
        raise ArchiveError(
            f"the archive {path} is damaged: " + "; ".join(found[:DAMAGE_SHOWN]) + more
            + ". Nothing was written to it. Run `reportgen archive check` for the full list and "
            "`reportgen archive recover` to rebuild it (the damaged file is kept)")


@dataclass(frozen=True)
class Delivery:
    """One recipient's recorded delivery of a day on a channel."""

    recipient: str
    ref: str  # the message's id (email's Message-ID, a chat message's part)
    outcome: str  # one of DELIVERY_OUTCOMES
    detail: str | None
    updated_at: str


def _migrate(db: sqlite3.Connection) -> None:
    """Bring an archive written by an older version up to SCHEMA (columns added since)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(snapshots)")}
    if "as_of" not in columns:
        with db:
            db.execute("ALTER TABLE snapshots ADD COLUMN as_of TEXT")
    _migrate_deliveries(db)


def _migrate_deliveries(db: sqlite3.Connection) -> None:
    """The one-channel delivery log (email's, keyed by date and recipient) becomes every
    channel's: its rows are kept as email's, so a message sent before the upgrade is never
    sent again after it. One transaction; a second process opening the file meanwhile waits,
    then finds it done."""
    def old_table() -> bool:
        columns = {row[1] for row in db.execute("PRAGMA table_info(deliveries)")}
        return bool(columns) and "channel" not in columns

    if not old_table():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if old_table():
            db.execute("ALTER TABLE deliveries RENAME TO deliveries_one_channel")
            db.execute(DELIVERIES.replace("IF NOT EXISTS ", ""))
            db.execute("INSERT INTO deliveries (report_date, channel, recipient, message_id, "
                       "outcome, detail, updated_at) SELECT report_date, 'email', recipient, "
                       "message_id, outcome, detail, updated_at FROM deliveries_one_channel")
            db.execute("DROP TABLE deliveries_one_channel")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _raw_from_row(row: sqlite3.Row) -> RawPayload:
    return RawPayload(
        source=row["source"], url=row["url"], status=row["status"], body=row["body"],
        fetched_at=datetime.fromisoformat(row["fetched_at"]),
        headers=json.loads(row["headers"]), error=row["error"],
    )


def _snapshot_from_row(row: sqlite3.Row, model: type[BaseModel] | None) -> SourceSnapshot:
    ok, reason = bool(row["ok"]), row["reason"]
    data: BaseModel | None = None
    if ok and model is not None:
        try:
            data = model.model_validate_json(row["data"])
        except ValidationError as exc:
            ok = False
            reason = (f"the archived {row['source']} data does not fit {model.__name__} any more "
                      f"(archived by an older version; collect again with --force): "
                      f"{exc.error_count()} problem(s), first: {exc.errors()[0]['msg']} at "
                      f"{'.'.join(str(p) for p in exc.errors()[0]['loc'])}")
    return SourceSnapshot(
        source=row["source"],
        report_date=date.fromisoformat(row["report_date"]),
        ok=ok,
        method=row["method"],
        fetched_at=datetime.fromisoformat(row["fetched_at"]) if row["fetched_at"] else None,
        as_of=datetime.fromisoformat(row["as_of"]) if row["as_of"] else None,
        reason=reason,
        data=data,
    )
