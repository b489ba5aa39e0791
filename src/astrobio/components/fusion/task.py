"""The fusion component as the trainer sees it: build, step, evaluate, export, and its `SPEC`.

`evaluate(model, data, split)` reports, on the held-out planets of `split`:
    <split>_accuracy                         four-class accuracy of the fused model (the headline)
    <split>_loss                             its cross-entropy
    <split>_wet_accuracy, <split>_ch4_accuracy   accuracy of each physical bit read off the class
    baseline_single_<modality>_<split>_accuracy  each modality alone, trained the same way (baselines.py)
    baseline_best_single_<split>_accuracy    the single modality that is best on val
    baseline_majority_<split>_accuracy       the most common training class
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from astrobio.components.fusion import baselines
from astrobio.components.fusion.config import FusionConfig
from astrobio.components.fusion.data import SPLITS, FusionData, build_data
from astrobio.components.fusion.model import FusionNet, build_fusion_net
from astrobio.components.fusion.planets import CLASS_NAMES, PARAM_NAMES
from astrobio.components.fusion import figure
from astrobio.catalog import component
from astrobio.spec import ComponentSpec
from astrobio.trainer.checkpoint import save_weights
from astrobio.trainer.update import move_to

EMBEDDINGS_FILE = "planet_embeddings.safetensors"


def build_model(cfg: FusionConfig, data: FusionData) -> FusionNet:
    """A fresh fusion network over every modality, its frozen encoders copied from the data."""
    return build_fusion_net(data, cfg.model)


def step(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy of the four habitability classes (float32 under AMP)."""
    logits = model(batch).float()
    loss = nn.functional.cross_entropy(logits, batch["label"])
    return loss, {"accuracy": float((logits.argmax(1) == batch["label"]).float().mean())}


def evaluate(model: nn.Module, data: FusionData, split: str) -> dict[str, float]:
    """Metrics of the fused model on `split` next to its baselines (see the module docstring)."""
    net: FusionNet = getattr(model, "module", model)  # unwrap DDP
    device = next(net.parameters()).device
    held = data.split(split)
    logits = baselines.predict(net, held, device)
    labels = held["label"]
    pred = logits.argmax(1)
    metrics = {f"{split}_accuracy": baselines.accuracy(logits, labels),
               f"{split}_loss": float(nn.functional.cross_entropy(logits, labels)),
               f"{split}_wet_accuracy": float(((pred // 2) == (labels // 2)).float().mean()),
               f"{split}_ch4_accuracy": float(((pred % 2) == (labels % 2)).float().mean()),
               f"baseline_majority_{split}_accuracy": baselines.majority_accuracy(data.split("train")["label"], labels)}
    if data.cfg.eval.baselines:
        single = baselines.single_modality(data, device)
        for m, acc in single.items():
            metrics[f"baseline_single_{m}_{split}_accuracy"] = acc[split]
        metrics[f"baseline_best_single_{split}_accuracy"] = single[baselines.best_single(single)][split]
    return metrics


@torch.no_grad()
def embeddings(model: nn.Module, data: FusionData, chunk: int = 1024) -> torch.Tensor:
    """[N, latent_dim] float32 embeddings of every planet, in planet order, eval mode."""
    net: FusionNet = getattr(model, "module", model)
    device = next(net.parameters()).device
    was = net.training
    net.eval()
    try:
        n = len(data.planets)
        rows = [net.embed(move_to({k: v[i:i + chunk] for k, v in data.obs.items()}, device)).float().cpu()
                for i in range(0, n, chunk)]
    finally:
        net.train(was)
    return torch.cat(rows)


def export_artifact(model: nn.Module, data: FusionData, folder: Path) -> None:
    """Write `planet_embeddings.safetensors`, which the LLM phase reads. One row per planet:
    tensors `params` [N, P] float32 (physical units, columns = metadata `param_names`),
    `embeddings` [N, latent_dim] float32, `labels` [N] int64 (metadata `class_names`) and `split`
    [N] int64 (0 train, 1 val, 2 test; metadata `split` has the codes and counts)."""
    split = np.zeros(len(data.planets), dtype=np.int64)
    for code, name in enumerate(SPLITS):
        split[data.idx[name]] = code
    tensors = {"params": torch.from_numpy(data.planets.params).float(), "embeddings": embeddings(model, data),
               "labels": torch.from_numpy(data.planets.labels).long(), "split": torch.from_numpy(split)}
    meta = {"component": "fusion", "param_names": json.dumps(list(PARAM_NAMES)), "class_names": json.dumps(list(CLASS_NAMES)),
            "split": json.dumps({"codes": {s: i for i, s in enumerate(SPLITS)}, **{s: int(len(data.idx[s])) for s in SPLITS}}),
            "latent_dim": str(tensors["embeddings"].shape[1]), "encoders": json.dumps(data.describe()["encoder_kind"])}
    save_weights(Path(folder) / EMBEDDINGS_FILE, tensors, metadata=meta)


_ROW = component("fusion")

SPEC = ComponentSpec(
    name="fusion",
    phase="integrate",
    config_cls=FusionConfig,
    build_data=build_data,
    build_model=build_model,
    step=step,
    evaluate=evaluate,
    image=_ROW.image,
    description=_ROW.description,
    upstream=("graph_vae", "datacube", "spectra", "causal"),
    export_artifact=export_artifact,
    figure_data=figure.save,
    figure=figure.draw,
)
