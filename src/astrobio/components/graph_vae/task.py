"""The graph_vae component as the trainer sees it: build, step, evaluate, and its `SPEC`.

`evaluate` scores the held-out positives and negatives with the model (mu, no sampling) and with
each heuristic on the same pairs and the same training graph, so every reported AUC/AP sits next
to the baselines it must beat. Common neighbours and Adamic-Adar are left out on a bipartite
graph: a metabolite and a reaction never share a neighbour there, so both would score zero.
"""

from __future__ import annotations

import torch
from torch import nn

from astrobio.components.graph_vae.baselines import baseline_names, average_precision, baseline_scores, roc_auc
from astrobio.components.graph_vae.config import GraphVAEConfig
from astrobio.components.graph_vae.data import GraphBatch, GraphVAEData, build_data
from astrobio.components.graph_vae.model import GraphVAE, kl_loss, recon_loss
from astrobio.components.graph_vae import figure
from astrobio.catalog import component
from astrobio.spec import ComponentSpec


def build_model(cfg: GraphVAEConfig, data: GraphVAEData) -> GraphVAE:
    """A fresh model sized to the data's feature width (fixed for chemistry, #nodes for identity)."""
    return GraphVAE(data.feature_dim, cfg.model)


def step(model: nn.Module, batch: GraphBatch) -> tuple[torch.Tensor, dict[str, float]]:
    """VGAE loss on one batch: reconstruction + KL / num_nodes (torch_geometric's convention)."""
    out = model(batch)
    recon = recon_loss(out)
    kl = kl_loss(out)
    loss = recon + kl / batch.num_nodes
    return loss, {"recon": float(recon.detach()), "kl": float(kl.detach())}


def _baseline_metrics(data: GraphVAEData, split: str) -> dict[str, float]:
    """Baseline AUC/AP of `split`; they depend only on the data, so they are computed once."""
    key = f"baselines_{split}"
    if key not in data.memo:
        pos, neg = data.eval_pairs(split)
        pairs = torch.cat([pos, neg], dim=1)
        scores = baseline_scores(data.split.train_pos, data.num_nodes, pairs, baseline_names(data))
        k = pos.shape[1]
        metrics: dict[str, float] = {}
        for name, s in scores.items():
            metrics[f"baseline_{name}_{split}_auc"] = roc_auc(s[:k], s[k:])
            metrics[f"baseline_{name}_{split}_ap"] = average_precision(s[:k], s[k:])
        data.memo[key] = metrics
    return dict(data.memo[key])


def evaluate(model: nn.Module, data: GraphVAEData, split: str) -> dict[str, float]:
    """`<split>_auc`, `<split>_ap` of the model, and `baseline_<name>_<split>_<auc|ap>`."""
    pos, neg = data.eval_pairs(split)
    net: GraphVAE = getattr(model, "module", model)  # unwrap DDP
    was_training = net.training
    device = next(net.parameters()).device
    net.eval()
    try:
        with torch.no_grad():
            z = net.encode_eval(data.x.to(device), data.mp_edge_index.to(device))
            scores = net.decode(z, torch.cat([pos, neg], dim=1).to(device)).float().cpu()
    finally:
        net.train(was_training)
    k = pos.shape[1]
    metrics = {f"{split}_auc": roc_auc(scores[:k], scores[k:]), f"{split}_ap": average_precision(scores[:k], scores[k:])}
    metrics.update(_baseline_metrics(data, split))
    return metrics


_ROW = component("graph_vae")

SPEC = ComponentSpec(
    name="graph_vae",
    phase="pretrain",
    config_cls=GraphVAEConfig,
    build_data=build_data,
    build_model=build_model,
    step=step,
    evaluate=evaluate,
    image=_ROW.image,
    description=_ROW.description,
    figure_data=figure.save,
    figure=figure.draw,
)
