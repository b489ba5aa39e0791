"""causal's report figure: the learned graph next to the true graph and the PC baseline's."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from astrobio.report.arrays import load_arrays, save_arrays

if TYPE_CHECKING:  # draw() runs in a report or KFP step process, which must not pay for torch
    import torch


def save(model: torch.nn.Module, data: Any, folder: Path) -> None:
    """Adjacency matrices (row -> column) of the learned DAG, the truth and PC, with variable names."""
    from astrobio.components.causal.baselines import pc_graph
    from astrobio.components.causal.model import read_graph

    net = getattr(model, "module", model)
    cfg = data.cfg
    learned, _ = read_graph(net, cfg.model.w_threshold)
    arrays = {"learned": learned.astype(np.int8), "names": np.array(data.names)}
    if data.true_adj is not None:
        arrays["true"] = np.asarray(data.true_adj).astype(np.int8)
        arrays["pc"] = np.asarray(pc_graph(data, cfg.eval.pc_alpha, cfg.eval.pc_max_cond)).astype(np.int8)
    save_arrays(folder, **arrays)


def draw(folder: Path) -> Any:
    """Adjacency heat maps: true (if known), learned (green = correct, red = wrong edge), PC."""
    arrays = load_arrays(folder)
    if arrays is None:
        return None
    import matplotlib.pyplot as plt

    names = [str(n) for n in arrays["names"]]
    panels = [(k, arrays[k]) for k in ("true", "learned", "pc") if k in arrays]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2), squeeze=False)
    for ax, (title, adj) in zip(axes[0], panels):
        shown = adj.astype(float)
        if "true" in arrays and title != "true":
            shown = np.where(adj == 1, np.where(arrays["true"] == 1, 1.0, -1.0), np.where(arrays["true"] == 1, -0.4, 0.0))
        ax.imshow(shown, cmap="RdYlGn", vmin=-1, vmax=1)
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_title(f"{title} graph ({int(adj.sum())} edges)", fontsize=9)
    fig.suptitle("cause (row) -> effect (column); green correct, red wrong, pale red missed", fontsize=9)
    fig.tight_layout()
    return fig
