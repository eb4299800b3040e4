"""Finding plugin classes in a package: what the source registry (`reportgen.registry`) and
the channel registry (`reportgen.channels`) share.

A plugin is a concrete subclass of a base class defined in a module of the package; the
package's helper modules (those holding no plugin) are skipped by name.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable
from typing import Any


def find_plugins(package: str, path: Iterable[str], base: type, *,
                 helpers: frozenset[str], kind: str) -> tuple[Any, ...]:
    """Every concrete subclass of `base` defined in a module of `package` (searched on
    `path`, its `__path__`), sorted by (order, name). Raises RuntimeError when two share a
    name (`kind` names them in the message: "sources", "channels"). Each class declares
    `name` and `order`; the caller gives the tuple its element type."""
    found: list[Any] = []
    for info in pkgutil.iter_modules(path):
        if info.name.startswith("_") or info.name in helpers:
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (issubclass(cls, base) and cls.__module__ == module.__name__
                    and not inspect.isabstract(cls)):
                found.append(cls)
    names = [cls.name for cls in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise RuntimeError(f"two {kind} are named {', '.join(twice)}")
    return tuple(sorted(found, key=lambda cls: (cls.order, cls.name)))
