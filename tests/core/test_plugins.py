"""The plugin finder both registries use: concrete subclasses of the base, in (order, name)
order, helper and private modules skipped, a name used twice refused."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reportgen.plugins import find_plugins

BASE = '''
import abc

class Base(abc.ABC):
    name = ""
    order = 0

    @abc.abstractmethod
    def run(self) -> None: ...
'''


def _plugin(name: str, order: int) -> str:
    return (f"from plugpkg.base import Base\n\nclass P(Base):\n    name = {name!r}\n"
            f"    order = {order}\n\n    def run(self) -> None: ...\n")


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "plugpkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "base.py").write_text(BASE)
    sys.path.insert(0, str(tmp_path))
    yield root
    sys.path.remove(str(tmp_path))
    for module in [m for m in sys.modules if m == "plugpkg" or m.startswith("plugpkg.")]:
        del sys.modules[module]


def _find(root: Path) -> tuple[Any, ...]:
    import plugpkg.base  # type: ignore[import-not-found]

    return find_plugins("plugpkg", [str(root)], plugpkg.base.Base, helpers=frozenset({"base"}),
                        kind="things")


def test_plugins_come_in_order_then_name_and_helpers_are_skipped(package: Path) -> None:
    (package / "b.py").write_text(_plugin("beta", 2))
    (package / "a.py").write_text(_plugin("alpha", 2))
    (package / "c.py").write_text(_plugin("gamma", 1))
    (package / "_private.py").write_text(_plugin("hidden", 0))
    assert [cls.name for cls in _find(package)] == ["gamma", "alpha", "beta"]


def test_a_name_used_twice_is_refused(package: Path) -> None:
    (package / "a.py").write_text(_plugin("same", 1))
    (package / "b.py").write_text(_plugin("same", 2))
    with pytest.raises(RuntimeError, match="two things are named same"):
        _find(package)
