"""Builders for the sections fed by optional packages (liquidation, ETF flows, news).

Kept apart from `brief.build` so the core brief does not import them; each entry maps a
section id to a pure function (day, snapshot, refs) → Section.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reportgen.config import Config


def extra_sections(config: Config) -> dict[str, Callable[..., Any]]:
    return {}
