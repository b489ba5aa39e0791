"""Small helpers the components' `figure.py` files share: write/read `figure_data.npz`, ROC points.

torch-free and pickle-free: a figure reads plain numeric/string arrays only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

FIGURE_DATA = "figure_data.npz"


def save_arrays(folder: Path, **arrays: Any) -> None:
    """Write `figure_data.npz` (compressed) into an artifact folder."""
    with (Path(folder) / FIGURE_DATA).open("wb") as handle:
        np.savez_compressed(handle, **{k: np.asarray(v) for k, v in arrays.items()})


def load_arrays(folder: Path) -> dict[str, np.ndarray] | None:
    """The arrays of `figure_data.npz`, or None when the artifact has none."""
    path = Path(folder) / FIGURE_DATA
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def roc_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate) over every threshold, from the highest score down."""
    order = np.argsort(-scores, kind="stable")
    hits = labels[order].astype(float)
    tpr = np.concatenate([[0.0], np.cumsum(hits) / max(1.0, hits.sum())])
    fpr = np.concatenate([[0.0], np.cumsum(1 - hits) / max(1.0, (1 - hits).sum())])
    return fpr, tpr


def subsample(n: int, limit: int, seed: int = 0) -> np.ndarray:
    """At most `limit` sorted indices of range(n), the same for the same inputs."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))
