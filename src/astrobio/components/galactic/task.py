"""The galactic component as the trainer sees it: build, step, evaluate, the averaging hook, `SPEC`.

`evaluate(model, data, split)` scores the federated global model on the pooled held-out planets of
every observatory (each seen through its own instrument):
    <split>_accuracy, <split>_loss                  the global model
    <split>_worst_observatory_accuracy              its accuracy on the hardest observatory's planets
    <split>_bytes_per_round                         2 x K x trainable parameter bytes (up + down)
    baseline_local_<split>_accuracy                 mean over observatories of local-only models
    baseline_central_<split>_accuracy               one model on the pooled data
    baseline_majority_<split>_accuracy              the most common training class
(baselines.py says how the baselines are trained). The global model is the last averaged one, so
choose trainer.max_steps as a multiple of federated.local_steps.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from astrobio.components.fusion.baselines import accuracy, majority_accuracy, predict
from astrobio.components.fusion.encoders import load_into
from astrobio.components.fusion.model import build_fusion_net
from astrobio.components.galactic import baselines
from astrobio.components.galactic.config import GalacticConfig
from astrobio.components.galactic.data import GalacticData, build_data
from astrobio.components.galactic.model import FederatedFusion, on_step_end
from astrobio.components.galactic import figure
from astrobio.catalog import component
from astrobio.spec import ComponentSpec
from astrobio.trainer.checkpoint import load_weights, save_weights

GLOBAL_FILE = "global_model.safetensors"


def build_model(cfg: GalacticConfig, data: GalacticData) -> FederatedFusion:
    """Global model (from the fusion artifact's weights when given) and K identical client copies.
    The initial weights are kept on `data` so the baselines start from the very same point."""
    def make() -> nn.Module:
        net = build_fusion_net(data, data.cfg.model)
        if data.init_weights is not None:
            load_into("components.galactic.inputs.fusion", net, load_weights(data.init_weights))
        return net

    model = FederatedFusion(make, cfg.federated.observatories, torch.tensor(data.shard_sizes(), dtype=torch.float32),
                            cfg.federated.mu if cfg.federated.algorithm == "fedprox" else 0.0, cfg.federated.local_steps)
    data.memo["init_state"] = {k: v.detach().clone() for k, v in model.global_model.state_dict().items()}
    return model


def step(model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
    """Sum of the clients' local losses (+ FedProx term): one local step on every observatory."""
    out = model(batch)
    metrics = {f"client{k}_loss": float(v) for k, v in enumerate(out["client_losses"])}
    return out["loss"], {**metrics, "prox": float(out["prox"])}


def evaluate(model: nn.Module, data: GalacticData, split: str) -> dict[str, float]:
    """Metrics of the federated global model next to its baselines (see the module docstring)."""
    fed: FederatedFusion = getattr(model, "module", model)
    net = fed.global_model
    device = next(net.parameters()).device
    held = data.split(split)
    logits = predict(net, held, device)
    per_obs = []
    for k in range(data.cfg.federated.observatories):
        own = data.split(split, k)
        if len(own["label"]):
            per_obs.append(accuracy(predict(net, own, device), own["label"]))
    metrics = {f"{split}_accuracy": accuracy(logits, held["label"]),
               f"{split}_loss": float(nn.functional.cross_entropy(logits, held["label"])),
               f"{split}_worst_observatory_accuracy": min(per_obs),
               f"{split}_bytes_per_round": float(fed.bytes_per_round()),
               f"baseline_majority_{split}_accuracy": majority_accuracy(data.split("train")["label"], held["label"])}
    if data.cfg.eval.baselines:
        base = baselines.local_and_central(data, device)
        metrics[f"baseline_local_{split}_accuracy"] = base["local"][split]
        metrics[f"baseline_central_{split}_accuracy"] = base["central"][split]
    return metrics


def export_artifact(model: nn.Module, data: GalacticData, folder: Path) -> None:
    """`global_model.safetensors`: the federated global FusionNet alone (what production serves);
    it loads into the fusion architecture described in the model card."""
    fed: FederatedFusion = getattr(model, "module", model)
    save_weights(Path(folder) / GLOBAL_FILE, fed.global_model.state_dict(),
                 metadata={"component": "galactic", "rounds": str(int(fed.rounds))})


_ROW = component("galactic")

SPEC = ComponentSpec(
    name="galactic",
    phase="galactic",
    config_cls=GalacticConfig,
    build_data=build_data,
    build_model=build_model,
    step=step,
    evaluate=evaluate,
    image=_ROW.image,
    description=_ROW.description,
    supports_ddp=_ROW.supports_ddp,  # False: the clients are simulated inside one process
    upstream=("fusion",),
    export_artifact=export_artifact,
    on_step_end=on_step_end,
    figure_data=figure.save,
    figure=figure.draw,
)
