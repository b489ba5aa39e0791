"""The causal component as the trainer sees it: build, step, evaluate, and its `SPEC`.

`evaluate(model, data, split)` reports, with a true graph known (Sachs, pgmpy, the planetary SCM, or
a CSV given `data.graph`):

    <split>_shd, <split>_precision, <split>_recall    the read-out DAG vs the true graph
    <split>_edges                                      edges in the read-out DAG
    <split>_nll                                        held-out least-squares loss of the read-out SEM
    <split>_h                                          h of the penalised weights (0 = acyclic; see model.py)
    <split>_acyclic                                    1 if thresholding alone gave a DAG (no projection)
    baseline_pc_<split>_shd, _precision, _recall       PC (Fisher-z) on the training rows, same priors
    baseline_empty_<split>_shd, baseline_empty_<split>_nll   the empty graph
and on the planetary SCM also
    <split>_cf_rmse, baseline_obs_<split>_cf_rmse      counterfactual error vs the true SCM's answer;
                                                       the baseline predicts "nothing changes"
Without a true graph the graph scores and the PC baseline are left out. Graph scores do not depend
on the split; only nll and cf_rmse use held-out rows. PC is run once and cached on the data.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from astrobio.components.causal.baselines import pc_graph
from astrobio.components.causal.config import CausalConfig
from astrobio.components.causal.counterfactual import counterfactual, squared_error_off_target
from astrobio.components.causal.data import CausalData, build_data
from astrobio.components.causal.graphs import num_edges, precision_recall, shd
from astrobio.components.causal.model import NotearsBase, acyclicity, build_notears, read_graph
from astrobio.components.causal import figure
from astrobio.catalog import component
from astrobio.spec import ComponentSpec


def build_model(cfg: CausalConfig, data: CausalData) -> NotearsBase:
    """A NOTEARS model over the data's variables, with the priors' masks as buffers."""
    return build_notears(data.d, cfg.model, torch.from_numpy(data.allowed), torch.from_numpy(data.required))


def step(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Augmented-Lagrangian loss; logs the fit, h and the dual state so stalls are visible."""
    out = model(batch)
    net: NotearsBase = getattr(model, "module", model)
    return out["loss"], {"fit": float(out["fit"].detach()), "h": float(out["h"].detach()),
                         "rho": float(net.rho), "alpha": float(net.alpha)}


def graph_scores(pred: np.ndarray, true: np.ndarray, prefix: str) -> dict[str, float]:
    precision, recall = precision_recall(pred, true)
    return {f"{prefix}_shd": float(shd(pred, true)), f"{prefix}_precision": precision, f"{prefix}_recall": recall}


def evaluate(model: nn.Module, data: CausalData, split: str) -> dict[str, float]:
    """Graph scores vs the truth and baselines, held-out fit, and counterfactual error (see module doc)."""
    net: NotearsBase = getattr(model, "module", model)
    cfg: CausalConfig = data.cfg
    device = net.allowed.device
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            graph, raw_acyclic = read_graph(net, cfg.model.w_threshold)
            mask = torch.from_numpy(graph).to(device)
            x = data.x[split].to(device)
            nll = 0.5 * (x - net.predict(x, mask)).double().pow(2).sum(dim=1).mean()
            metrics = {f"{split}_edges": float(num_edges(graph)), f"{split}_nll": float(nll),
                       f"{split}_h": float(acyclicity(net.penalised_adjacency_sq())), f"{split}_acyclic": float(raw_acyclic),
                       f"baseline_empty_{split}_nll": float(0.5 * x.double().pow(2).sum(dim=1).mean())}
            if split in data.cf:
                metrics.update(_cf_metrics(net, data, split, mask))
    finally:
        net.train(was_training)
    if data.true_adj is not None:
        metrics.update(graph_scores(graph, data.true_adj, split))
        pc = pc_graph(data, cfg.eval.pc_alpha, cfg.eval.pc_max_cond)
        metrics.update(graph_scores(pc, data.true_adj, f"baseline_pc_{split}"))
        metrics[f"baseline_empty_{split}_shd"] = float(shd(np.zeros_like(data.true_adj), data.true_adj))
    return metrics


def _cf_metrics(net: NotearsBase, data: CausalData, split: str, mask: torch.Tensor) -> dict[str, float]:
    """RMSE (standardised units, non-intervened variables) of the model's and the no-change answers."""
    cf = data.cf[split]
    device = mask.device
    factual = cf.factual.to(device)
    model_sse = base_sse = 0.0
    count = 0
    for target, value, truth in cf.queries:
        pred = counterfactual(net, factual, target, value.to(device), mask).cpu()
        sse, n = squared_error_off_target(pred, truth, target)
        bsse, _ = squared_error_off_target(cf.factual, truth, target)
        model_sse, base_sse, count = model_sse + sse, base_sse + bsse, count + n
    return {f"{split}_cf_rmse": (model_sse / count) ** 0.5, f"baseline_obs_{split}_cf_rmse": (base_sse / count) ** 0.5}


_ROW = component("causal")

SPEC = ComponentSpec(
    name="causal",
    phase="pretrain",
    config_cls=CausalConfig,
    build_data=build_data,
    build_model=build_model,
    step=step,
    evaluate=evaluate,
    image=_ROW.image,
    description=_ROW.description,
    supports_ddp=_ROW.supports_ddp,
    figure_data=figure.save,
    figure=figure.draw,
)
