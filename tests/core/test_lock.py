"""requirements.lock pins every dependency pyproject.toml declares, inside its range and with
hashes, and the environment the tests run in is the one the lock names (`make lock` refreshes it)."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
# One pinned requirement of the lock: "name==version ; marker \" followed by its --hash lines.
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)"
                  r"(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def _locked() -> dict[str, tuple[Version, Marker | None, int]]:
    """Each locked package: its version, its environment marker and how many hashes it has."""
    pins: dict[str, tuple[Version, Marker | None, int]] = {}
    current: str | None = None
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            current = canonicalize_name(match["name"])
            marker = Marker(match["marker"]) if match["marker"] else None
            pins[current] = (Version(match["version"]), marker, 0)
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            version, marker, hashes = pins[current]
            pins[current] = (version, marker, hashes + 1)
        elif line and not line.startswith((" ", "#")):
            raise AssertionError(f"requirements.lock: a line that is not a pin: {line!r}")
    return pins


def _declared() -> list[Requirement]:
    """What pyproject.toml asks for: run-time, the test extra and the build backend."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = [*project["project"]["dependencies"], *project["project"]["optional-dependencies"]["test"],
             *project["build-system"]["requires"]]
    return [Requirement(name) for name in names]


def test_every_declared_dependency_is_locked_inside_its_range() -> None:
    locked = _locked()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is not in requirements.lock: run `make lock`"
        version = locked[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside pyproject.toml's {requirement}: "
            "run `make lock`")


def test_every_pin_is_exact_and_hashed() -> None:
    locked = _locked()
    assert len(locked) > 50  # the whole tree, not just the direct dependencies
    unhashed = sorted(name for name, (_, _, hashes) in locked.items() if hashes == 0)
    assert not unhashed, f"pins without a hash: {unhashed}"


def test_the_tests_run_with_the_locked_versions() -> None:
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip(f"run from {sys.prefix}, not the project's own .venv (make setup)")
    mismatched = []
    for name, (version, marker, _) in _locked().items():
        if marker is not None and not marker.evaluate():
            continue  # for another platform or Python
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            mismatched.append(f"{name}: locked {version}, not installed")
            continue
        if installed != version:
            mismatched.append(f"{name}: locked {version}, installed {installed}")
    assert not mismatched, ("the venv differs from requirements.lock (run `make setup`): "
                            + "; ".join(mismatched))
