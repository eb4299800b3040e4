"""A damaged archive is refused, named, checked and recovered; a read-only one can be read."""

from __future__ import annotations

import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportgen.archive import Archive, damage
from reportgen.cli import app

ROOT = Path(__file__).resolve().parents[2]
DAY = "2025-06-11"


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("produced") / "out"
    for day in ("2025-06-10", DAY):
        result = CliRunner().invoke(app, ["-o", str(output), "run", "--sample", "--date", day,
                                          "--formats", "md", "--no-send", "--no-publish"])
        assert result.exit_code in (0, 3), result.output  # 06-10's sample has no headlines
    return output


@pytest.fixture
def damaged(produced: Path, tmp_path: Path) -> Path:
    output = tmp_path / "out"
    shutil.copytree(produced, output)
    archive = output / "archive.sqlite"
    assert damage(archive) == []
    data = bytearray(archive.read_bytes())
    rng = random.Random(20250611)
    middle = len(data) // 2
    data[middle:middle + 8192] = rng.randbytes(8192)  # random bytes mid-file
    archive.write_bytes(bytes(data))
    return output


def _cli(output: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["-o", str(output), *args])
    return result.exit_code, result.output


def test_a_damaged_archive_is_refused_by_every_command_naming_the_damage(damaged: Path) -> None:
    before = (damaged / "archive.sqlite").read_bytes()
    for args in (["status"], ["render", "--date", DAY, "--formats", "md"],
                 ["run", "--sample", "--date", DAY, "--formats", "md", "--no-send", "--no-publish"],
                 ["send", "--date", DAY, "--dry-run"]):
        code, output = _cli(damaged, *args)
        assert code == 1, (args, output)
        assert f"the archive {damaged / 'archive.sqlite'} is damaged: " in output, (args, output)
        assert "reportgen archive recover" in output
    assert (damaged / "archive.sqlite").read_bytes() == before  # nothing written into it


def test_check_lists_the_damage_and_recover_rebuilds_keeping_the_old_file(damaged: Path) -> None:
    archive = damaged / "archive.sqlite"
    code, output = _cli(damaged, "archive", "check")
    assert code == 1 and "damaged" in output
    found = damage(archive, full=True)
    assert found and all(line in output for line in found[:3])
    code, output = _cli(damaged, "archive", "check", "--json")
    assert code == 1 and '"sound": false' in output

    original = archive.read_bytes()
    code, output = _cli(damaged, "archive", "recover")
    assert code == 0, output
    kept = [p for p in damaged.iterdir()
            if re.fullmatch(r"archive\.sqlite\.damaged-\d{8}T\d{6}Z", p.name)]
    assert len(kept) == 1 and kept[0].read_bytes() == original  # the damaged file, untouched
    assert damage(archive, full=True) == []
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert "payloads:" in output and "runs:" in output
    # the archive works again: status reads it, and a day renders from it
    code, output = _cli(damaged, "status", "--days", "100000")
    assert code == 0, output
    code, output = _cli(damaged, "archive", "check")
    assert code == 0 and output.startswith("sound: ")


def test_recover_refuses_while_a_run_holds_a_lock(damaged: Path) -> None:
    from reportgen.locks import date_lock

    held = subprocess.Popen(
        [sys.executable, "-c", "import sys, time, datetime, pathlib\n"
         "from reportgen.locks import date_lock\n"
         "with date_lock(pathlib.Path(sys.argv[1]), datetime.date(2025, 6, 11)):\n"
         "    print('held', flush=True); time.sleep(60)\n", str(damaged)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert held.stdout is not None
    try:
        assert held.stdout.readline().strip() == "held"
        code, output = _cli(damaged, "archive", "recover")
    finally:
        held.kill()
        held.wait()
        held.stdout.close()
    assert code == 1 and "2025-06-11 is being produced by another process" in output
    assert not [p for p in damaged.iterdir() if ".damaged-" in p.name]
    del date_lock


def _read_only(paths: list[Path], on: bool) -> bool:
    """Make `paths` read-only even for root (the immutable attribute: chattr), or writable
    again; as another user, plain permissions do. False when neither can be had here."""
    if os.geteuid() != 0:
        for path in paths:
            path.chmod((0o555 if path.is_dir() else 0o444) if on else 0o755)
        return True
    chattr = shutil.which("chattr")
    if chattr is None:
        return False
    done = subprocess.run([chattr, "+i" if on else "-i", *map(str, paths)], capture_output=True,
                          check=False)
    return done.returncode == 0


@pytest.fixture
def read_only_copy(produced: Path, tmp_path: Path) -> Iterator[Path]:
    """The archive in a folder nobody can write to, the file itself read-only too."""
    output = tmp_path / "out"
    output.mkdir()
    shutil.copy2(produced / "archive.sqlite", output / "archive.sqlite")
    paths = [output / "archive.sqlite", output]
    if not _read_only(paths, True):
        pytest.skip("no way to make a file read-only for root here (chattr)")
    try:
        yield output
    finally:
        _read_only(paths, False)


def test_status_reads_a_read_only_archive(read_only_copy: Path) -> None:
    with pytest.raises(OSError):  # really read-only, for this user
        (read_only_copy / "probe").write_text("x")
    code, output = _cli(read_only_copy, "status", "--days", "100000", "--json")
    assert code == 0, output
    assert '"report_date": "2025-06-11"' in output
    assert sorted(p.name for p in read_only_copy.iterdir()) == ["archive.sqlite"]  # nothing made


def test_read_only_archive_never_writes(produced: Path, tmp_path: Path) -> None:
    copy = tmp_path / "archive.sqlite"
    shutil.copy2(produced / "archive.sqlite", copy)
    before = copy.read_bytes()
    with Archive(copy, read_only=True) as archive:
        assert archive.runs()
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            archive.db.execute("DELETE FROM runs")
    assert copy.read_bytes() == before
