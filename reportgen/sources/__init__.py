"""The upstream sources, one module each (see `reportgen.sources.base` for what a module
declares, and `reportgen.registry`, which finds them)."""
