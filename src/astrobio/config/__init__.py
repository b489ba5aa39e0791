"""Typed configuration: pydantic schema, YAML loading and `--set` overrides.

The sections every component builds on live one layer down, in `astrobio.sections`, so a component's
config class never imports this package (which imports the catalog, which names those classes).
"""

from __future__ import annotations

from astrobio.config.load import config_hash, load_config, to_yaml
from astrobio.config.schema import AstrobioConfig

__all__ = ["AstrobioConfig", "config_hash", "load_config", "to_yaml"]
