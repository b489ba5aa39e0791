"""Figures drawn for a run's report ahead of it, kept so `astrobio run` does not draw them twice.

Inside `astrobio run`, each finished step's section (curves, model vs baselines, the component's
own figure) is drawn by the run's drawer thread while the next step trains (phases/drawing.py);
before that, the steps drew it for their KFP HTML output, and the run report at the end drew the
same 16 SVGs again (2.7 s of the parent's 3.1 s report on the pipeline benchmark, measured
2026-12-03). The report takes what is kept here and draws only what it does not find.

A section's figures are a pure function of the component name, its held-out metrics and the
artifact's small files (`collect.SMALL_FILES`: every figure hook reads only those), so they are
kept under the SHA-256 of exactly those inputs (and the astrobio version): a changed artifact is
a new key and is drawn again, never shown stale. The folder is made by `astrobio run` at its start
and removed after its report; a step leaves its figures to the run only when the run's variable
names this folder (`pipeline.steps.RUN_DRAWS_ENV`), so a step outside such a run (a cluster, a
pipeline run by hand) draws its own and leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astrobio import __version__
from astrobio.report.collect import ArtifactFiles
from astrobio.store.atomic import atomic_write_bytes

DRAWN_DIR = ".drawn-figures"
"""Under the run folder (`<output_root>/<run_id>/`): where a local run keeps its drawings."""
FAILED_NOTE = "component figure failed"
"""A drawing with this note is not kept: the failure may be the drawer's own, not the artifact's."""


def drawn_folder(run_dir: Path) -> Path:
    """The folder of kept drawings of the run whose folder is `run_dir`."""
    return run_dir / DRAWN_DIR


@dataclass
class Drawn:
    """One component section's figures, already rendered: (caption, svg) pairs and notes."""

    figures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def drawn_key(name: str, metrics: Mapping[str, Any], files: ArtifactFiles) -> str:
    """SHA-256 of everything the section's figures are drawn from."""
    digest = hashlib.sha256()
    head = {"astrobio": __version__, "component": name,
            "metrics": json.dumps(dict(metrics), sort_keys=True, default=str),
            "files": {n: hashlib.sha256(data).hexdigest() for n, data in sorted(files.files.items())}}
    digest.update(json.dumps(head, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()


def load_drawn(folder: Path, key: str) -> Drawn | None:
    """The drawing kept under `key`, or None when there is none (or it cannot be read back whole)."""
    path = folder / f"{key}.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Drawn([(str(c), str(s)) for c, s in data["figures"]], [str(n) for n in data["notes"]])
    except (OSError, ValueError, KeyError, TypeError):  # a damaged entry is drawn again, not shown
        return None


def keep_drawn(folder: Path, key: str, drawn: Drawn) -> None:
    """Keep a drawing under `key` (atomically: a reader sees all of it or none); one that records a
    failed component figure is not kept, so the run report draws that figure itself."""
    if any(note.startswith(FAILED_NOTE) for note in drawn.notes):
        return
    data = {"figures": [list(f) for f in drawn.figures], "notes": drawn.notes}
    atomic_write_bytes(folder / f"{key}.json", json.dumps(data).encode("utf-8"))
