"""galactic's report figure: accuracy of the federated model per observatory, next to the baselines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from astrobio.report.arrays import load_arrays, save_arrays

if TYPE_CHECKING:  # draw() runs in a report or KFP step process, which must not pay for torch
    import torch


def save(model: torch.nn.Module, data: Any, folder: Path) -> None:
    """Test accuracy of the federated global model on each observatory's own planets, and their counts."""
    from astrobio.components.fusion.baselines import accuracy, predict

    net = getattr(model, "module", model).global_model
    device = next(net.parameters()).device
    acc, count = [], []
    for k in range(data.cfg.federated.observatories):
        own = data.split("test", k)
        count.append(len(own["label"]))
        acc.append(accuracy(predict(net, own, device), own["label"]) if len(own["label"]) else float("nan"))
    save_arrays(folder, accuracy=np.array(acc, np.float32), planets=np.array(count, np.int32))


def draw(folder: Path) -> Any:
    """Bars per observatory; dashed lines: local-only and centralised baselines (metrics.json)."""
    arrays = load_arrays(folder)
    if arrays is None:
        return None
    import matplotlib.pyplot as plt

    metrics_file = Path(folder) / "metrics.json"
    metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
    k = len(arrays["accuracy"])
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.bar([f"obs {i}\n({n} planets)" for i, n in enumerate(arrays["planets"])], arrays["accuracy"], color="#1f77b4")
    for name, style in (("local", "--"), ("central", ":"), ("majority", "-.")):
        value = metrics.get(f"baseline_{name}_test_accuracy")
        if isinstance(value, (int, float)):
            ax.axhline(value, linestyle=style, color="#444", label=f"{name} baseline {value:.3f}")
    ax.set(ylim=(0, 1), ylabel="test accuracy", title=f"federated model per observatory ({k} observatories)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig
