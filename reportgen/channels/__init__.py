"""The registry of delivery channels: every `Channel` subclass defined in a module of
`reportgen/channels/`, in their declared `order`.

Adding a channel is adding a module there (docs/adding-a-channel.md): nothing else names
it. `reportgen.config` adds the `channels:` keys from the settings models found here; the
publish phase, `reportgen send`, the CLI's summary and the run record iterate `channels()`.

Modules are found with `pkgutil` and imported on first use; channel modules import no
network, drawing or cloud library at module level, so this stays cheap.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from reportgen.channels.base import Channel, ChannelConfig, Command
from reportgen.plugins import find_plugins

# Modules of the package that hold no channel.
_HELPERS = frozenset({"base"})


@cache
def channel_classes() -> tuple[type[Channel[Any]], ...]:
    """Every registered channel class, in delivery order."""
    found: tuple[type[Channel[Any]], ...] = find_plugins(
        __name__, __path__, Channel, helpers=_HELPERS, kind="channels")
    return found


def channels(config: ChannelConfig, command: Command | None = None) -> list[Channel[Any]]:
    """One instance of every registered channel (of those running on `command`), enabled
    or not."""
    return [cls(config) for cls in channel_classes()
            if command is None or command in cls.commands]


def settings_models() -> list[tuple[str, type[BaseModel]]]:
    """(dotted config key, settings model) of every registered channel."""
    return [(cls.config_key(), cls.settings_model) for cls in channel_classes()]
