"""graph_vae's report figure: ROC curves of the model and each link heuristic on held-out pairs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from astrobio.report.arrays import load_arrays, roc_points, save_arrays, subsample

if TYPE_CHECKING:  # draw() runs in a report or KFP step process, which must not pay for torch
    import torch

MAX_PAIRS = 2000


def save(model: torch.nn.Module, data: Any, folder: Path) -> None:
    """Scores of (at most MAX_PAIRS each) held-out test positives and negatives, model and baselines."""
    import torch

    from astrobio.components.graph_vae.baselines import baseline_scores
    from astrobio.components.graph_vae.baselines import baseline_names

    pos, neg = data.eval_pairs("test")
    pos, neg = pos[:, subsample(pos.shape[1], MAX_PAIRS)], neg[:, subsample(neg.shape[1], MAX_PAIRS, 1)]
    pairs = torch.cat([pos, neg], dim=1)
    net = getattr(model, "module", model)
    device = next(net.parameters()).device
    net.eval()
    with torch.no_grad():
        z = net.encode_eval(data.x.to(device), data.mp_edge_index.to(device))
        scores = net.decode(z, pairs.to(device)).float().cpu().numpy()
    base = baseline_scores(data.split.train_pos, data.num_nodes, pairs, baseline_names(data))
    labels = np.r_[np.ones(pos.shape[1], np.int8), np.zeros(neg.shape[1], np.int8)]
    save_arrays(folder, labels=labels, model=scores.astype(np.float32),
                **{f"baseline_{k}": np.asarray(v, dtype=np.float32) for k, v in base.items()})


def draw(folder: Path) -> Any:
    """ROC curves on the held-out test pairs (legend: area under each curve)."""
    arrays = load_arrays(folder)
    if arrays is None:
        return None
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    for key in ["model", *sorted(k for k in arrays if k.startswith("baseline_"))]:
        fpr, tpr = roc_points(arrays["labels"], arrays[key])
        ax.plot(fpr, tpr, label=f"{key.removeprefix('baseline_')} (AUC {np.trapezoid(tpr, fpr):.3f})",
                linewidth=2 if key == "model" else 1)
    ax.plot([0, 1], [0, 1], linestyle=":", color="#999")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="held-out link prediction ROC")
    ax.legend(fontsize=8)
    return fig
