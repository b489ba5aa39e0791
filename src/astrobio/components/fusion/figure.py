"""fusion's report figure: the confusion matrix of the fused model on the held-out test planets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from astrobio.report.arrays import load_arrays, save_arrays

if TYPE_CHECKING:  # draw() runs in a report or KFP step process, which must not pay for torch
    import torch


def save(model: torch.nn.Module, data: Any, folder: Path) -> None:
    """Test labels and the fused model's predictions, with the class names."""
    from astrobio.components.fusion.baselines import predict
    from astrobio.components.fusion.planets import CLASS_NAMES

    net = getattr(model, "module", model)
    held = data.split("test")
    pred = predict(net, held, next(net.parameters()).device).argmax(1)
    save_arrays(folder, labels=held["label"].numpy().astype(np.int16), pred=pred.numpy().astype(np.int16),
                classes=np.array(CLASS_NAMES))


def confusion(labels: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """[k, k] counts, row = true class, column = predicted class."""
    out = np.zeros((k, k), dtype=int)
    np.add.at(out, (labels, pred), 1)
    return out


def draw(folder: Path) -> Any:
    arrays = load_arrays(folder)
    if arrays is None:
        return None
    import matplotlib.pyplot as plt

    classes = [str(c) for c in arrays["classes"]]
    matrix = confusion(arrays["labels"], arrays["pred"], len(classes))
    fig, ax = plt.subplots(figsize=(5, 4.4))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center", color="white" if count > matrix.max() / 2 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title=f"test confusion matrix (accuracy {np.trace(matrix) / matrix.sum():.3f})")
    fig.tight_layout()
    return fig
