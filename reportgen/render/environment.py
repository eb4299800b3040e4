"""The one Jinja2 environment: autoescape for HTML/XML set explicitly, undefined variables
are errors, formatting filters from `reportgen.render.filters`."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reportgen.render.filters import FILTERS

_PACKAGE = Path(__file__).resolve().parent.parent


def templates_dir() -> Path:
    """`templates/` of a source checkout, or the copy packed into an installed wheel."""
    for candidate in (_PACKAGE.parent / "templates", _PACKAGE / "_templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("templates folder not found (neither ./templates nor reportgen/_templates)")


def assets_dir() -> Path:
    return templates_dir() / "assets"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=select_autoescape(
            enabled_extensions=("html", "xml", "html.j2", "xml.j2"),
            default_for_string=True, default=False,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env
