"""Deterministic YAML for Kubernetes objects.

Sorted keys (apiVersion, kind, metadata, spec happen to sort in the conventional order) and no
line wrapping, so the same object always gives the same bytes: generated manifests can be
compared byte for byte, and a dry run prints exactly what a later render writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def dump_yaml(obj: Any) -> str:
    """One YAML document."""
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, width=1 << 16, allow_unicode=True)


def write_files(root: Path, files: dict[str, str]) -> list[Path]:
    """Write generated files (path relative to `root` -> text) in sorted order; returns their paths."""
    written = []
    for rel, text in sorted(files.items()):
        path = Path(root) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def commented(text: str) -> str:
    """Every line prefixed with '# ': a YAML file that `kubectl apply -f <dir>` skips."""
    return "".join(f"# {line}\n" if line else "#\n" for line in text.splitlines())
