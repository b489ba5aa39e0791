"""Gather what the report shows of one component from its artifact (a local folder or a store URI).

An artifact holds `metrics.json` (held-out metrics and baselines), `metrics.jsonl` (the training
history), `model_card.md` and, for the component figure, the small files its evaluation saved
(`figure_data.npz`). Weights are never downloaded: from an s3:// store only the small files
are fetched into a temporary folder for the figure hook.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astrobio.store import KeyNotFound, open_store

SMALL_FILES = ("metrics.json", "metrics.jsonl", "model_card.md", "model_card.json", "figure_data.npz",
               "config.yaml", "llm_conditioning.json")
"""What the report may read from an artifact (never the weights)."""


@dataclass
class ArtifactFiles:
    """The small files of one artifact, as bytes, keyed by file name; `local_dir` if it is a folder."""

    uri: str
    files: dict[str, bytes] = field(default_factory=dict)
    local_dir: Path | None = None

    def text(self, name: str) -> str | None:
        return self.files[name].decode("utf-8", errors="replace") if name in self.files else None

    def history(self) -> list[dict[str, Any]]:
        """Rows of metrics.jsonl (one per logged step), bad lines skipped."""
        rows = []
        for line in (self.text("metrics.jsonl") or "").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and "step" in row:
                rows.append(row)
        return rows

    def card_link(self) -> str:
        """Where the model card lives: a file:// URL for a local artifact, else its store URI."""
        if self.local_dir is not None:
            return (self.local_dir / "model_card.md").as_uri()
        return f"{self.uri.rstrip('/')}/model_card.md"


def is_remote(uri: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", uri))


def read_artifact(uri: str, env: Mapping[str, str], workdir: Path | None = None) -> ArtifactFiles:
    """The small files of the artifact at `uri`; a missing history falls back to the training's own
    `workdir/metrics.jsonl` (artifacts published before metrics.jsonl was part of them)."""
    found = ArtifactFiles(uri, local_dir=None if is_remote(uri) else Path(uri))
    store = open_store(uri, env)
    for name in SMALL_FILES:
        try:
            found.files[name] = store.get_bytes(name)
        except KeyNotFound:
            continue
    local = workdir / "metrics.jsonl" if workdir is not None else None
    if "metrics.jsonl" not in found.files and local is not None and local.is_file():
        found.files["metrics.jsonl"] = local.read_bytes()
    return found


def figure_dir(files: ArtifactFiles, scratch: Path) -> Path:
    """A folder holding the artifact's small files for a figure hook: the artifact itself when local."""
    if files.local_dir is not None and files.local_dir.is_dir():
        return files.local_dir
    folder = scratch / re.sub(r"[^\w.-]", "_", files.uri)[-80:]
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.files.items():
        (folder / name).write_bytes(data)
    return folder
