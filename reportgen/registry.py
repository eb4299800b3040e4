"""The registry of sources: every `Source` subclass defined in a module of
`reportgen/sources/`, in their declared `order`.

Adding a source is adding a module there (docs/adding-a-source.md): nothing else names it.
`reportgen.config` builds its `sources:` keys (and the top-level keys of sources with a section of their
own: `etf`, `news`, `liquidation`) from the settings models found here; the brief, the
collect phase, `reportgen sources`, the sample and the tests iterate `source_classes()`.

Modules are found with `pkgutil` and imported on first use; source modules import no network
or drawing library at module level, so this stays cheap.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

import reportgen.sources
from reportgen.plugins import find_plugins

if TYPE_CHECKING:
    from reportgen.sources.base import Source, SourceConfig

# Modules of the package that hold no source (shared helpers).
_HELPERS = frozenset({"base", "checks"})


@cache
def source_classes() -> tuple[type[Source[Any]], ...]:
    """Every registered source class, in brief order."""
    from reportgen.sources.base import Source

    found: tuple[type[Source[Any]], ...] = find_plugins(
        reportgen.sources.__name__, reportgen.sources.__path__, Source, helpers=_HELPERS,
        kind="sources")
    return found


def sources(config: SourceConfig) -> list[Source[Any]]:
    """One instance of every registered source, enabled or not."""
    return [cls(config) for cls in source_classes()]


def models() -> dict[str, type[BaseModel]]:
    """Source name → the class of its parsed model (how the archive reads snapshots back)."""
    return {cls.name: cls.model for cls in source_classes()}


def settings_models() -> list[tuple[str, type[BaseModel]]]:
    """(dotted config key, settings model) of every registered source."""
    return [(cls.config_key(), cls.settings_model) for cls in source_classes()]
