"""Typed configuration: pydantic schema, YAML loading and `--set` overrides.

Names are resolved lazily so that a section module (e.g. `astrobio.config.kube`) can import
`astrobio.config.sections` without pulling in the root schema, which imports those sections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from astrobio.config.load import config_hash, load_config, to_yaml
    from astrobio.config.schema import AstrobioConfig

__all__ = ["AstrobioConfig", "config_hash", "load_config", "to_yaml"]


def __getattr__(name: str) -> Any:
    if name == "AstrobioConfig":
        from astrobio.config.schema import AstrobioConfig

        return AstrobioConfig
    if name in ("config_hash", "load_config", "to_yaml"):
        from astrobio.config import load

        return getattr(load, name)
    raise AttributeError(name)
