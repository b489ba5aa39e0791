"""Typed configuration: pydantic schema, YAML loading and `--set` overrides."""

from astrobio.config.load import config_hash, load_config, to_yaml
from astrobio.config.schema import AstrobioConfig

__all__ = ["AstrobioConfig", "config_hash", "load_config", "to_yaml"]
