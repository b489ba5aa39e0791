"""`--set a.b=c` overrides applied to the raw YAML tree before validation.

Values are parsed as YAML scalars/flow collections, so `--set trainer.max_steps=10`,
`--set optim.betas=[0.9,0.95]`, `--set run.run_id=null` and `--set trainer.deterministic=false` are
typed the way a user expects; pydantic then checks them like values read from a file.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

import yaml

from astrobio.config.shape import check_tree
from astrobio.errors import UsageError

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+")


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split 'a.b=c' into (['a','b'], parsed c)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"--set '{text}': expected KEY=VALUE, e.g. --set optim.lr=3e-4")
    parts = key.split(".")
    if any(not p for p in parts):
        raise UsageError(f"--set '{text}': empty segment in key '{key}'")
    value = parse_value(raw)
    check_tree(value, f"--set '{key}' value")
    return parts, value


def parse_value(raw: str) -> Any:
    """YAML typing, plus numbers YAML 1.1 leaves as strings (`3e-4`, `1e5`); text that is not
    valid YAML stays the raw string, so validation reports it against the field's type."""
    text = raw.strip()
    if _NUMBER.fullmatch(text):
        return float(text)
    try:
        return yaml.safe_load(text) if text else ""
    except (yaml.YAMLError, RecursionError):
        return raw


def apply_overrides(tree: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a copy of `tree` with every override set (intermediate mappings created)."""
    out = copy.deepcopy(tree)
    for text in overrides:
        parts, value = parse_override(text)
        node = out
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                raise UsageError(f"--set '{text}': '{where}' is a value, not a section")
            node = child
        node[parts[-1]] = value
    return out


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Recursive merge, `over` wins; neither input is modified."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
